"""Post-training quantization: scale choice at its boundaries, and the integer net tracking the float one."""

import numpy as np
import pytest

from lenet_pynq import contract as C
from lenet_pynq import golden
from lenet_pynq.errors import LenetError
from lenet_pynq.train import model, quantize


def test_round_away_from_zero():
    np.testing.assert_array_equal(quantize.round_away([0.5, 1.5, -0.5, -2.5, 2.4999]), [1, 2, -1, -3, 2])


@pytest.mark.parametrize("wmax, frac", [(1.0, 6), (127 / 128, 7), (127.5 / 128, 6), (0.01, 13)])
def test_weight_frac_is_the_largest_that_fits_int8(wmax, frac):
    w = np.array([0.001, -wmax / 2, wmax])
    assert quantize.weight_frac(w) == frac
    assert quantize.to_fixed(w, frac, quantize.INT8).max() <= 127
    assert quantize.round_away(w * 2.0 ** (frac + 1)).max() > 127


def test_weight_frac_allows_minus_128():
    assert quantize.weight_frac(np.array([-1.0, 0.5])) == 7  # -1.0 * 2**7 = -128 fits


@pytest.mark.parametrize("level, frac", [(1.0, 7), (255.0, 0), (255.49, 0), (255.5, -1), (1000.0, -2), (0.003, 16)])
def test_output_frac_keeps_the_level_at_most_255(level, frac):
    assert quantize.output_frac(level) == frac
    assert quantize.round_away(level * 2.0**frac) <= 255 < quantize.round_away(level * 2.0 ** (frac + 1))


@pytest.fixture(scope="module")
def quantized():
    rng = np.random.default_rng(0)
    images = ((rng.random((300, 28, 28)) < 0.25) * rng.integers(0, 256, (300, 28, 28))).astype(np.uint8)
    net = model.LeNet5(seed=3)
    net.params = {k: v + (0.05 if k.endswith(".b") else 0) for k, v in net.params.items()}  # non-zero biases
    q, report = quantize.quantize(net.params, images[:200])
    return net, q, report, images[200:]


def test_scales_follow_section_5(quantized):
    net, q, report, _ = quantized
    for layer in C.LAYERS:
        f = q.fracs[layer.name]
        w = net.params[f"{layer.name}.w"].astype(np.float64) / (255 if layer.name == "conv1" else 1)
        assert f.w_frac == quantize.weight_frac(w)
        np.testing.assert_allclose(q.tensors[f"{layer.name}.w"] * 2.0**-f.w_frac, w, atol=2.0 ** -(f.w_frac + 1))
        b = net.params[f"{layer.name}.b"]
        bias_frac = f.in_frac + f.w_frac
        np.testing.assert_allclose(q.tensors[f"{layer.name}.b"] * 2.0**-bias_frac, b, atol=2.0 ** -(bias_frac + 1))
        if layer.requantized:
            assert q.shifts[layer.name] == f.in_frac + f.w_frac - f.out_frac == report[layer.name]["shift"]
    assert q.fracs["conv1"].in_frac == 0


def test_integer_net_tracks_the_float_net_on_unseen_images(quantized):
    net, q, report, images = quantized
    ftrace, itrace = {}, {}
    flogits = net.forward(model.preprocess(images), ftrace)
    golden.run(q, images, itrace)
    fracs = q.activation_fracs()
    lsb = 2.0 ** -fracs["conv1"]
    err = np.abs(itrace["conv1"] * lsb - np.minimum(ftrace["conv1"], 255 * lsb))
    assert err.mean() < 0.3 * lsb and err.max() < 3 * lsb  # rounding of the output and of 25 weights
    logits = itrace["fc3"] * 2.0 ** -fracs["fc3"]
    assert np.corrcoef(logits.ravel(), flogits.ravel())[0, 1] > 0.99
    assert (golden.classify(itrace["fc3"]) == flogits.argmax(1)).mean() >= 0.95
    assert report["agreement"] >= 0.95
    assert all(report[layer.name]["acc_peak"] < 2**24 for layer in C.LAYERS)


def test_rejects_a_bad_percentile(quantized):
    net, *_ = quantized
    with pytest.raises(LenetError, match="percentile"):
        quantize.quantize(net.params, np.zeros((1, 28, 28), np.uint8), percentile=0)


def test_lenet_test_int_uses_the_golden_model_in_real_units(tmp_path):
    from lenet_pynq import blob
    from lenet_pynq.train import evaluate

    q = blob.random_model(1)
    path, _ = blob.save(q, tmp_path / "m_int8.bin")
    images = np.random.default_rng(2).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    args = type("Args", (), {"int": "", "weights_dir": str(tmp_path), "model_name": "m"})()
    logits_fn, source = evaluate.model_logits(args)
    assert str(path) in source
    np.testing.assert_array_equal(logits_fn(images), golden.run(q, images) * 2.0 ** -q.fracs["fc3"].out_frac)


def test_quantize_command_writes_a_loadable_blob(tmp_path, capsys):
    from lenet_pynq import blob, cli
    from lenet_pynq.train import checkpoint

    checkpoint.save(model.LeNet5(seed=4).params, tmp_path, "m")
    out = tmp_path / "m_int8.bin"
    argv = ["quantize", "--weights-dir", str(tmp_path), "--model-name", "m", "--out", str(out),
            "--calibration-images", "50"]
    assert cli.main(argv) == 0
    q = blob.load(out)
    assert q.info["calibration_images"] == 50 and q.fracs["conv1"].in_frac == 0
    assert f"CRC {blob.crc_word(q):#010x}" in capsys.readouterr().out
