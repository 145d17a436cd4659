"""The HLS C++ IP in g++ C-simulation: bit-exact against the golden model, and the contract's protocol.

The weights are a briefly trained and quantized LeNet-5 (so the activations
and logits look like the real ones) and random blobs (for the corners of the
arithmetic); the images are MNIST test images. `make csim-full` runs all
10,000 of them; here a few hundred keep the suite quick.
"""

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lenet_pynq import blob, cli, compare, export, golden, mnist
from lenet_pynq import contract as C
from lenet_pynq.errors import LenetError
from lenet_pynq.ip_model import DeviceModel, pack_images
from lenet_pynq.sim import csim
from lenet_pynq.train import model, quantize, trainer

ROOT = Path(__file__).resolve().parent.parent
N_IMAGES = 300


@pytest.fixture(scope="module")
def data():
    train_images, train_labels = mnist.load("train")
    test_images, test_labels = mnist.load("test")
    return train_images, train_labels, test_images, test_labels


@pytest.fixture(scope="module")
def trained(data):
    """A LeNet-5 trained for one epoch on 8,000 images (about 92% accurate), quantized: realistic integers."""
    train_images, train_labels, test_images, test_labels = data
    net = model.LeNet5(seed=0)
    for _ in trainer.fit(net, train_images[:8000], train_labels[:8000], test_images[:200], test_labels[:200],
                         trainer.Config(epochs=1), progress=False):
        pass
    q, _ = quantize.quantize(net.params, train_images[8000:8500])
    return q


@pytest.fixture(scope="module")
def vectors(trained, data, tmp_path_factory):
    _, _, test_images, test_labels = data
    out = tmp_path_factory.mktemp("vectors")
    export.write_vectors(trained, test_images[:N_IMAGES], test_labels[:N_IMAGES], list(range(N_IMAGES)), out)
    return out


@pytest.fixture()
def ip(trained):
    device = csim.CsimLenet()
    device.load_weights(trained)
    return device


def test_testbench_passes_on_the_exported_vectors(vectors):
    tb = csim.build("tb")
    result = subprocess.run([str(tb), str(vectors)], check=False, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"tb_lenet: {N_IMAGES} images, 0 mismatches" in result.stdout
    assert "malformed jobs checked" in result.stdout and "tb_lenet: PASS" in result.stdout


def test_testbench_fails_on_a_wrong_expected_logit(vectors, tmp_path):
    for f in vectors.iterdir():
        if f.is_file():
            (tmp_path / f.name).write_bytes(f.read_bytes())
    words = np.fromfile(tmp_path / "infer_out.bin", "<u4")
    words[C.RESULT_WORDS * 7 + 3] += 1  # image 7, logit 2
    words.tofile(tmp_path / "infer_out.bin")
    result = subprocess.run([str(csim.build("tb")), str(tmp_path)], check=False, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 1
    assert f"tb_lenet: {N_IMAGES} images, 1 mismatches" in result.stdout and "FAILED" in result.stdout


def test_library_gives_the_golden_words_classes_and_logits(ip, trained, vectors):
    images = np.fromfile(vectors / "images.bin", np.uint8).reshape(-1, C.IMAGE_BYTES)
    expected = np.fromfile(vectors / "infer_out.bin", "<u4")[:-1]
    got = ip.classify(images, batch_size=128)  # three jobs
    assert got.batch_sizes == [128, 128, len(images) - 256]
    np.testing.assert_array_equal(golden.result_words(got.logits), expected)
    np.testing.assert_array_equal(got.classes, golden.classify(got.logits))
    want = golden.run(trained, images)
    np.testing.assert_array_equal(got.logits, want)
    np.testing.assert_array_equal(got.classes, golden.classify(want))
    assert ip.weights_crc == blob.crc_word(trained)


def test_every_layer_matches_the_golden_trace_and_compares_clean(ip, trained, data, tmp_path):
    images = data[2][:40]
    layers = ip.layers(images)
    trace = {}
    logits = golden.run(trained, images, trace)
    for name, _ in C.ACTIVATIONS:
        assert layers[name].dtype == trace[name].dtype, name
        np.testing.assert_array_equal(layers[name], trace[name], err_msg=name)
    np.testing.assert_array_equal(layers["class"], golden.classify(logits))
    ip.dump(images, tmp_path / "csim", trained.activation_fracs())
    export.write_vectors(trained, images, data[3][:40], list(range(40)), tmp_path / "golden")
    results, _ = compare.compare_dirs(tmp_path / "golden" / "layers", tmp_path / "csim")
    assert [r.name for r in results][:8] == [name for name, _ in C.ACTIVATIONS]
    assert all(r.count == 0 and r.max_diff == 0 for r in results)


@pytest.mark.parametrize("seed, shifts", [
    (1, {"conv1": 8, "conv2": 10, "fc1": 10, "fc2": 9}),
    (2, {"conv1": 0, "conv2": 31, "fc1": 1, "fc2": 0}),  # no rounding term; the largest shift
    (3, {"conv1": 13, "conv2": 14, "fc1": 12, "fc2": 11}),
])
def test_random_blobs_agree_with_golden_in_every_layer(data, seed, shifts):
    q = blob.random_model(seed)
    q.shifts = shifts
    q.fracs = None
    if seed == 3:  # biases at the ends of int32: the accumulation and the rounding add must wrap
        rng = np.random.default_rng(seed)
        for name in ("conv1.b", "conv2.b", "fc1.b", "fc2.b", "fc3.b"):
            b = q.tensors[name].astype(np.int64)
            q.tensors[name] = np.where(rng.random(b.shape) < 0.5, 2**31 - 1 - abs(b) % 1000,
                                       -(2**31) + abs(b) % 1000).astype(np.int32)
    images = data[2][100:140]
    device = csim.CsimLenet()
    device.load_weights(blob.encode(q))
    layers = device.layers(images)
    trace = {}
    golden.run(q, images, trace)
    for name, _ in C.ACTIVATIONS:
        np.testing.assert_array_equal(layers[name], trace[name], err_msg=f"seed {seed}: {name}")


def _bad_jobs(good_blob: np.ndarray, image_words: np.ndarray) -> list[tuple]:
    """(name, command, count, words, last) for every error of contract section 6, each followed by a good job."""
    W, B = C.IMAGE_WORDS, C.BLOB_WORDS

    def blob_with(index, value, n=B):
        w = np.resize(good_blob, max(n, B)).copy()[:n]
        w[B:] = 0xDEADBEEF
        if index < n:
            w[index] = value
        return w

    good_load = ("load", C.CMD_LOAD_WEIGHTS, 0, good_blob, None)
    good_infer = ("infer 3", C.CMD_INFER, 3, image_words[:3 * W], None)
    jobs = [("infer before any load", C.CMD_INFER, 1, image_words[:W], None), good_load, good_infer]
    bad = [
        ("command 0", 0, 1, image_words[:W], None),
        ("command 7", 7, 0, image_words[:5], None),
        ("count 0", C.CMD_INFER, 0, image_words[:W], None),
        ("count 65536", C.CMD_INFER, C.MAX_COUNT + 1, image_words[:W], None),
        ("TLAST inside image 2 of 3", C.CMD_INFER, 3, image_words[:W + 50], None),
        ("TLAST after image 2 of 3", C.CMD_INFER, 3, image_words[:2 * W], None),
        ("TLAST after 2 of 2 images plus 4 words", C.CMD_INFER, 2, image_words[:2 * W + 4], None),
        ("TLAST on word 11 of image 1 of 2", C.CMD_INFER, 2, image_words[:11], None),
        ("bad magic", C.CMD_LOAD_WEIGHTS, 0, blob_with(0, 0x4C454E36), None),
        ("bad magic, TLAST on it", C.CMD_LOAD_WEIGHTS, 0, blob_with(0, 0, 1), None),
        ("bad version", C.CMD_LOAD_WEIGHTS, 0, blob_with(1, 2), None),
        ("bad length", C.CMD_LOAD_WEIGHTS, 0, blob_with(2, B + 1), None),
        ("bad shift word", C.CMD_LOAD_WEIGHTS, 0, blob_with(3, int(good_blob[3]) | 1 << 31), None),
        ("bad CRC", C.CMD_LOAD_WEIGHTS, 0, blob_with(B - 1, int(good_blob[-1]) ^ 0x100), None),
        ("bad CRC without TLAST", C.CMD_LOAD_WEIGHTS, 0, blob_with(B - 1, int(good_blob[-1]) ^ 1, B + 3), None),
        ("blob ends early", C.CMD_LOAD_WEIGHTS, 0, blob_with(0, int(good_blob[0]), 4000), None),
        ("blob ends late", C.CMD_LOAD_WEIGHTS, 0, blob_with(0, int(good_blob[0]), B + 1), None),
    ]
    for job in bad:
        jobs += [job, good_infer] if job[1] == C.CMD_INFER or job[1] not in (1, 2) else \
            [job, ("infer without weights", C.CMD_INFER, 1, image_words[:W], None), good_load, good_infer]
    return jobs


def test_every_malformed_job_behaves_as_the_device_model(trained, data):
    """Output words, TLAST flags and registers job by job, against the device model (lenet_pynq/ip_model.py)."""
    good_blob = np.frombuffer(blob.encode(trained), "<u4")
    image_words = pack_images(data[2][:3])
    device, model_ = csim.CsimLenet(), DeviceModel()
    errors_seen = set()
    for name, command, count, words, last in _bad_jobs(good_blob, image_words):
        got = device.job(command, count, words, last)
        want, want_last = model_.run_job(command, words, count=count, last=last, with_last=True)
        np.testing.assert_array_equal(got.words, want, err_msg=name)
        np.testing.assert_array_equal(got.last, want_last, err_msg=name)
        assert got.last[-1] and not got.last[:-1].any(), f"{name}: TLAST must be on the trailer only"
        assert (got.status, got.weights_crc, got.images_done) == (
            model_.read(C.REG_STATUS), model_.read(C.REG_WEIGHTS_CRC), model_.read(C.REG_IMAGES_DONE)), name
        assert got.unread == 0, f"{name}: the IP must consume its input up to TLAST"
        assert C.parse_trailer(int(got.words[-1])) == (got.status, got.images_done), name
        errors_seen.add(got.status)
    assert errors_seen == set(C.ERROR_TEXT), "every error code of contract section 6 is exercised"


def test_the_ip_stops_reading_at_the_first_tlast(ip, data):
    words = pack_images(data[2][:2])
    last = np.zeros(words.size, bool)
    last[C.IMAGE_WORDS - 1] = last[-1] = True  # two jobs' worth: TLAST after each image
    first = ip.job(C.CMD_INFER, 1, words, last)
    assert (first.status, first.images_done, first.unread) == (C.ERR_OK, 1, C.IMAGE_WORDS)


def test_library_refuses_misuse_with_clear_errors(trained):
    device = csim.CsimLenet()
    with pytest.raises(LenetError, match="NO_WEIGHTS.*load weights first"):
        device.classify(np.zeros((1, 784), np.uint8))
    with pytest.raises(LenetError, match="BAD_CRC"):
        data = bytearray(blob.encode(trained))
        data[100] ^= 1
        device.load_weights(bytes(data))
    with pytest.raises(LenetError, match="no such weights blob"):
        device.load_weights(ROOT / "missing.bin")
    with pytest.raises(LenetError, match="cannot read the weights blob"):
        device.load_weights(ROOT)
    with pytest.raises(ValueError, match="no TLAST"):
        device.job(C.CMD_INFER, 1, np.zeros(C.IMAGE_WORDS), np.zeros(C.IMAGE_WORDS, bool))
    with pytest.raises(LenetError, match="uint8"):
        device.classify(np.zeros((1, 784), np.float32))
    device.load_weights(trained)
    good = device.job(C.CMD_INFER, 1, np.zeros(C.IMAGE_WORDS))
    short = good._replace(words=good.words[:-1], last=good.last[:-1])  # an IP that drops its trailer
    device.job = lambda *args: short
    with pytest.raises(LenetError, match=r"STATUS is OK but the output ends with 0x[0-9a-f]{8}, not the trailer"):
        device.classify(np.zeros((1, 784), np.uint8))


def test_command_line_takes_data_dir_and_refuses_bad_arguments(trained, tmp_path, monkeypatch, capsys):
    data_dir = mnist.default_data_dir().resolve()
    path_bin, _ = blob.save(trained, tmp_path / "w.bin")
    monkeypatch.chdir(tmp_path)  # no data/mnist here, and no $LENET_MNIST_DIR: only --data-dir finds MNIST
    monkeypatch.delenv(mnist.ENV_VAR, raising=False)
    monkeypatch.setattr(mnist, "download", lambda d, name: pytest.fail(f"tried to download {name}"))
    assert cli.main(["csim", "dump", "--blob", str(path_bin), "--count", "2", "--data-dir", str(data_dir),
                      "--out", str(tmp_path / "dump")]) == 0
    assert (tmp_path / "dump" / "manifest.json").is_file()
    assert cli.main(["csim", "dump", "--blob", str(path_bin), "--vectors", str(tmp_path / "none")]) == 1
    assert "no images.bin" in capsys.readouterr().err
    for what in ("full", "dump"):
        for count in ("0", "-1"):  # -1 used to mean "all but the last", 0 a ZeroDivisionError
            with pytest.raises(SystemExit):
                cli.main(["csim", what, "--count", count])


def test_pragmas_put_the_registers_at_the_contract_offsets():
    # clang-format writes pragma options as `port = x`; Vitis HLS reads both spellings.
    source = re.sub(r"[ ]*=[ ]*", "=", (ROOT / "hls_src" / "lenet.cpp").read_text())
    offsets = {port: int(off, 16) for port, off in
               re.findall(r"#pragma HLS INTERFACE mode=s_axilite port=(\w+) offset=(0x[0-9a-fA-F]+)", source)}
    assert offsets == {"command": C.REG_COMMAND, "count": C.REG_COUNT, "status": C.REG_STATUS,
                       "weights_crc": C.REG_WEIGHTS_CRC, "images_done": C.REG_IMAGES_DONE}
    assert "#pragma HLS INTERFACE mode=ap_ctrl_hs port=return" in source
    header = (ROOT / "hls_src" / "lenet.h").read_text()
    assert "typedef hls::axis<ap_uint<32>, 0, 0, 0> lenet_beat_t;" in header  # TLAST survives synthesis
    assert f"void {C.TOP_NAME}(hls::stream<lenet_beat_t> &in, hls::stream<lenet_beat_t> &out," in header


def test_reset_invalidates_the_loaded_weights_in_synthesis():
    # Contract section 3: ap_rst_n makes the weights invalid. Vitis HLS's default
    # (config_rtl -reset control) does not reset globals, so each global that
    # holds this state needs its own RESET pragma; C-sim cannot see a reset.
    source = re.sub(r"[ ]*=[ ]*", "=", (ROOT / "hls_src" / "lenet.cpp").read_text())
    for state in ("weights_valid", "weights_crc_reg"):
        assert re.search(rf"^\s*(bool|word_t) {state}=", source, re.M), state
        assert f"#pragma HLS RESET variable={state}\n" in source, state
    tcl = (ROOT / "hls_src" / "run_hls.tcl").read_text()
    assert "-reset none" not in tcl


def test_run_hls_tcl_takes_part_clock_and_vlnv_from_the_contract():
    tcl = (ROOT / "hls_src" / "run_hls.tcl").read_text()
    for var in ("LENET_PART", "LENET_CLOCK_MHZ", "LENET_VLNV_HLS", "LENET_TOP_NAME"):
        assert f"$::{var}" in tcl
    assert C.PART not in tcl and C.VLNV_HLS not in tcl  # never retyped
    for step in ("csim_design -argv $vectors", "csynth_design", "cosim_design -argv $vectors",
                 "export_design -format ip_catalog"):
        assert step in tcl
    assert "csim_shim" not in tcl.replace("hls_src/csim_shim is deliberately absent", "")


def _loops(path: Path) -> dict[str, str]:
    """{label: "1" (PIPELINE II = 1) | "unrolled" | "–"} for every loop of an HLS source, from its first line."""
    lines = path.read_text().splitlines()
    loops, in_constexpr = {}, False
    for i, line in enumerate(lines):
        if line.startswith("constexpr "):
            in_constexpr = True  # compile-time helpers: C++14 allows no labels there, nothing is synthesized
        elif line.startswith("}"):
            in_constexpr = False
        if in_constexpr or not re.match(r"\s*(for|while) \(", line):
            continue
        label = re.fullmatch(r"(\w+):", lines[i - 1].strip())
        assert label, f"{path.name}:{i + 1}: unlabelled loop (label every loop, so reports read like the code)"
        pragma = lines[i + 1].strip()
        ii = re.fullmatch(r"#pragma HLS PIPELINE II = (\d+)", pragma)
        loops[label.group(1)] = ii.group(1) if ii else "unrolled" if pragma == "#pragma HLS UNROLL" else "–"
    return loops


def test_every_loop_is_labelled_and_has_its_row_in_docs_hls_md():
    loops = {**_loops(ROOT / "hls_src" / "lenet.cpp"), **_loops(ROOT / "hls_src" / "lenet_layers.h")}
    rows = {}
    for first, _, ii in re.findall(r"^\| ([^|]+) \| ([^|]+) \| ([^|]+) \|", (ROOT / "docs" / "hls.md").read_text(),
                                   re.M):
        for name in re.findall(r"`(\w+)`", first):
            rows[name] = ii.strip()
    assert len(loops) > 30
    for label, ii in loops.items():
        assert label in rows, f"docs/hls.md has no row for loop {label}"
        assert rows[label] == ii, f"docs/hls.md gives {label} target II {rows[label]!r}, the code {ii!r}"
