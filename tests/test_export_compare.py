"""`lenet export` writes vectors the device model replays; `lenet compare` finds the first difference."""

import json
import shutil

import numpy as np
import pytest

from lenet_pynq import blob, cli, compare, dumps, export, golden
from lenet_pynq import contract as C
from lenet_pynq.errors import LenetError
from lenet_pynq.ip_model import DeviceModel


@pytest.fixture(scope="module")
def vectors(tmp_path_factory):
    rng = np.random.default_rng(11)
    images = ((rng.random((6, 28, 28)) < 0.3) * rng.integers(0, 256, (6, 28, 28))).astype(np.uint8)
    labels = rng.integers(0, 10, 6).astype(np.uint8)
    q = blob.random_model(5)
    out = tmp_path_factory.mktemp("vectors")
    doc = export.write_vectors(q, images, labels, [10, 11, 12, 13, 14, 15], out)
    return q, images, labels, out, doc


def _words(path):
    return np.fromfile(path, dtype="<u4")


def test_vectors_have_the_documented_files_and_sizes(vectors):
    q, images, labels, out, doc = vectors
    assert json.loads((out / "vectors.json").read_text()) == doc
    assert doc["count"] == 6 and doc["indices"] == [10, 11, 12, 13, 14, 15]
    assert (out / "weights.bin").read_bytes() == blob.encode(q)
    assert blob.load(out / "weights.bin").fracs == q.fracs
    np.testing.assert_array_equal(np.fromfile(out / "images.bin", np.uint8).reshape(6, 28, 28), images)
    np.testing.assert_array_equal(np.fromfile(out / "labels.bin", np.uint8), labels)
    assert _words(out / "load_in.bin").tobytes() == blob.encode(q)
    assert _words(out / "load_out.bin").tolist() == [C.trailer(C.ERR_OK, 0)]
    assert _words(out / "infer_in.bin").size == 6 * C.IMAGE_WORDS
    infer_out = _words(out / "infer_out.bin")
    assert infer_out.size == 6 * C.RESULT_WORDS + 1 and infer_out[-1] == C.trailer(C.ERR_OK, 6)
    load, infer = doc["jobs"]
    assert load["expected"] == {"STATUS": 0, "WEIGHTS_CRC": f"{blob.crc_word(q):#010x}", "IMAGES_DONE": 0}
    assert infer["expected"]["IMAGES_DONE"] == 6 and infer["output_words"] == infer_out.size


def test_a_fresh_device_model_replays_the_vectors(vectors):
    _, _, _, out, doc = vectors
    dev = DeviceModel()
    for job in doc["jobs"]:
        got = dev.run_job(job["command"], _words(out / job["input"]), count=job["count"])
        np.testing.assert_array_equal(got, _words(out / job["output"]))
        assert dev.read(C.REG_STATUS) == job["expected"]["STATUS"]
        assert f"{dev.read(C.REG_WEIGHTS_CRC):#010x}" == job["expected"]["WEIGHTS_CRC"]
        assert dev.read(C.REG_IMAGES_DONE) == job["expected"]["IMAGES_DONE"]


def test_layer_dumps_are_the_golden_trace_with_fracs(vectors):
    q, images, _, out, _ = vectors
    layers, fracs, _ = dumps.read(out / "layers")
    assert list(layers) == [n for n, _ in C.ACTIVATIONS] + ["class"]
    logits = golden.run(q, images)
    np.testing.assert_array_equal(layers["fc3"], logits)
    np.testing.assert_array_equal(layers["class"], golden.classify(logits))
    assert fracs == q.activation_fracs() and "input" not in fracs
    infer_out = _words(out / "infer_out.bin")[:-1].reshape(6, C.RESULT_WORDS)
    np.testing.assert_array_equal(infer_out[:, 1:].view(np.int32), layers["fc3"])


def _copy_layers(vectors, tmp_path):
    dst = tmp_path / "b"
    shutil.copytree(vectors[3] / "layers", dst)
    return dst


def test_compare_identical_dumps_exits_0(vectors, tmp_path, capsys):
    b = _copy_layers(vectors, tmp_path)
    assert cli.main(["compare", str(vectors[3] / "layers"), str(b)]) == 0
    assert "identical" in capsys.readouterr().out


def test_compare_names_the_first_layer_and_element_that_differ(vectors, tmp_path, capsys):
    layers, fracs, _ = dumps.read(vectors[3] / "layers")
    layers = {k: v.copy() for k, v in layers.items()}
    layers["conv2"][4, 3, 2, 1] += 1  # the first difference, in network order ...
    layers["fc2"][0, 0] += 1  # ... even though this one comes first in image order
    b = dumps.write(tmp_path / "b", layers, fracs)
    results, _ = compare.compare_dirs(vectors[3] / "layers", b)
    first = next(r for r in results if r.count)
    assert (first.name, first.first) == ("conv2", (4, 3, 2, 1))
    assert first.b - first.a == 1
    assert cli.main(["compare", str(vectors[3] / "layers"), str(b)]) == 1
    assert "first difference: layer conv2, image 4, element [3, 2, 1]" in capsys.readouterr().out


def test_compare_float_against_integer_at_scale(vectors, tmp_path):
    layers, fracs, _ = dumps.read(vectors[3] / "layers")
    real = {k: (np.ldexp(v.astype(np.float64), -fracs[k]).astype(np.float32) if k in fracs else v)
            for k, v in layers.items()}
    real["input"] = layers["input"].astype(np.float32) / 255  # what the float model sees
    fdir = dumps.write(tmp_path / "float", real)
    results, notes = compare.compare_dirs(fdir, vectors[3] / "layers")
    assert all(r.count == 0 for r in results) and [r.units for r in results][:2] == ["real", "real"]
    assert any(n.startswith("input: not compared") for n in notes)
    step = 0.1 * float(real["fc1"].max())
    real["fc1"][2, 7] += step
    fdir = dumps.write(tmp_path / "float2", real)
    results, _ = compare.compare_dirs(fdir, vectors[3] / "layers")  # default: 5% of the layer's range
    first = next(r for r in results if r.count)
    assert (first.name, first.first, first.count) == ("fc1", (2, 7), 1)
    results, _ = compare.compare_dirs(fdir, vectors[3] / "layers", atol=1.01 * step)
    assert all(r.count == 0 for r in results)


def test_compare_takes_the_leading_images_both_dumps_hold(vectors, tmp_path):
    layers, fracs, _ = dumps.read(vectors[3] / "layers")
    short = {k: v[:2].copy() for k, v in layers.items()}
    results, notes = compare.compare_dirs(vectors[3] / "layers", dumps.write(tmp_path / "short", short, fracs))
    assert all(r.count == 0 for r in results) and "compared the first 2 images (A has 6, B has 2)" in notes
    short["pool1"][1, 0, 0, 0] ^= 1
    results, _ = compare.compare_dirs(vectors[3] / "layers", dumps.write(tmp_path / "short2", short, fracs))
    assert next(r for r in results if r.count).first == (1, 0, 0, 0)


def test_compare_rejects_mismatched_shapes_and_disjoint_dumps(vectors, tmp_path):
    layers, fracs, _ = dumps.read(vectors[3] / "layers")
    cropped = dumps.write(tmp_path / "cropped", {k: v[..., :2] for k, v in layers.items()}, fracs)
    with pytest.raises(LenetError, match="shape"):
        compare.compare_dirs(vectors[3] / "layers", cropped)
    other = dumps.write(tmp_path / "other", {"something": np.zeros((1, 2), np.int32)})
    with pytest.raises(LenetError, match="nothing in common"):
        compare.compare_dirs(vectors[3] / "layers", other)
    assert cli.main(["compare", str(vectors[3] / "layers"), str(tmp_path / "none")]) == 1


def test_parse_indices():
    assert export.parse_indices("3, 7,10-12") == [3, 7, 10, 11, 12]
    with pytest.raises(LenetError, match="ranges"):
        export.parse_indices("a-b")


def test_export_command_takes_the_requested_test_images(tmp_path, capsys):
    from lenet_pynq import mnist

    path, _ = blob.save(blob.random_model(2), tmp_path / "w_int8.bin")
    out = tmp_path / "v"
    assert cli.main(["export", "--blob", str(path), "--out", str(out), "--count", "3", "--first", "2"]) == 0
    doc = json.loads((out / "vectors.json").read_text())
    images, labels = mnist.load("test")
    assert doc["indices"] == [2, 3, 4]
    np.testing.assert_array_equal(np.fromfile(out / "images.bin", np.uint8), images[2:5].reshape(-1))
    np.testing.assert_array_equal(np.fromfile(out / "labels.bin", np.uint8), labels[2:5])
    assert cli.main(["export", "--blob", str(path), "--out", str(out), "--indices", "9999,0"]) == 0
    assert json.loads((out / "vectors.json").read_text())["indices"] == [9999, 0]
    assert cli.main(["export", "--blob", str(path), "--out", str(out), "--indices", "10000"]) == 1
    assert "outside the test set" in capsys.readouterr().err


def test_compare_says_when_the_integer_side_is_clamped(tmp_path):
    f = dumps.write(tmp_path / "f", {"fc1": np.array([[1.0, 9.0]], np.float32)})
    i = dumps.write(tmp_path / "i", {"fc1": np.array([[32, 255]], np.uint8)}, {"fc1": 5})
    results, _ = compare.compare_dirs(f, i)
    assert results[0].first == (0, 1) and "B at the uint8 clamp" in results[0].note
