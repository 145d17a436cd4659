"""`lenet selftest`: the board's bring-up checks, run here on the model device and on the RTL."""

from __future__ import annotations

import pytest

from lenet_pynq import blob, mnist
from lenet_pynq.cli import main
from lenet_pynq.host import selftest
from lenet_pynq.host.errors import LenetDeviceError
from lenet_pynq.ip_model import DeviceModel
from lenet_pynq.sim.model_overlay import ModelStream, open_model_overlay
from lenet_pynq.sim.seam import SeamDevice

ORDER = ["pynq", "files", "design", "clock", "weights", "vectors", "error", "throughput", "summary"]


def lines(out: str) -> list[tuple[str, str, str]]:
    return [tuple(line.split(maxsplit=2)) for line in out.splitlines()]


@pytest.fixture(scope="module")
def vectors():
    return mnist.load("test")[0][:20]


def test_selftest_on_the_model_device_passes_every_check_in_order(capsys):
    assert main(["selftest", "--backend", "model", "--count", "20"]) == 0
    got = lines(capsys.readouterr().out)
    assert [name for _, name, _ in got] == ORDER
    status = {name: s for s, name, _ in got}
    # off the board there is no PL clock and the stand-in design has no build record: said, not passed
    assert status == {**dict.fromkeys(ORDER, "PASS"), "clock": "SKIP"}  # the seam's .hwh has its build record
    text = {name: t for _, name, t in got}
    assert "logits identical to the golden model's" in text["vectors"] and "0xdeadbeef" in text["vectors"]
    assert "BAD_CRC" in text["error"] and "not the board's speed" in text["throughput"]


def test_a_corrupted_blob_fails_with_one_line_and_a_nonzero_exit(capsys, tmp_path):
    data = bytearray(blob.shipped_path().read_bytes())
    data[1000] ^= 1
    bad = tmp_path / "lenet_int8.bin"
    bad.write_bytes(data)
    assert main(["selftest", "--backend", "model", "--weights", str(bad)]) == 1
    got = lines(capsys.readouterr().out)
    failed = [(name, t) for s, name, t in got if s == "FAIL"]
    assert failed[0][0] == "weights" and "BAD_CRC" in failed[0][1] and "lenet quantize" in failed[0][1]
    assert [name for name, _ in failed] == ["weights", "summary"]
    assert {name: s for s, name, _ in got}["vectors"] == "SKIP"


def test_the_sentinel_keeps_stale_results_from_passing(tmp_path, vectors):
    """A receive that never reaches the host (no invalidate) leaves the last job's words in the buffer."""
    ol = open_model_overlay(tmp_path)
    q = blob.load(blob.shipped_path())
    ol.lenet.load_weights(blob.shipped_path())
    assert selftest.check_vectors(ol.lenet, q, vectors).status == "PASS"
    ol.device.memory.invalidate = lambda *args: None  # the host now sees its cache, never the DMA's writes
    # without the sentinel the buffer would still hold the first run's words, the right ones: a PASS
    with pytest.raises(LenetDeviceError, match="without the trailer word"):
        selftest.check_vectors(ol.lenet, q, vectors)


class NoTlast(ModelStream):
    def receive(self):
        words, _ = super().receive()
        return words, False


def test_a_timeout_is_a_fail_line_with_the_status_decoded_and_the_probable_causes(tmp_path, vectors):
    model = DeviceModel()
    ol = open_model_overlay(tmp_path, device=SeamDevice(model, NoTlast(model)))
    ol.lenet.timeout_s, ol.lenet.timeout_per_image_s = 0.2, 0.0
    checks = selftest.run_checks(ol.lenet, blob.shipped_path(), vectors, on_board=False)
    weights = next(c for c in checks if c.name == "weights")
    assert weights.status == "FAIL" and "S2MM transfer not finished" in weights.text
    assert "S2MM_DMASR 0x00000000 (running)" in weights.text and "lacks TLAST" in weights.text
    assert [c.status for c in checks if c.name in ("vectors", "error", "throughput")] == ["SKIP"] * 3


def test_without_pynq_the_selftest_names_the_extra(capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pynq" else real(name, *a))
    assert main(["selftest", "--backend", "model"]) == 1
    out = capsys.readouterr().out
    assert "FAIL overlay    --backend model needs pynq" in out and "lenet-pynq[model]" in out


def test_selftest_on_the_rtl_runs_the_same_checks_in_simulation(capsys):
    assert main(["selftest", "--backend", "rtl", "--count", "2"]) == 0
    got = lines(capsys.readouterr().out)
    assert [name for _, name, _ in got] == ORDER
    assert {name: s for s, name, _ in got}["vectors"] == "PASS"
    assert "RTL simulation" in dict((n, t) for _, n, t in got)["throughput"]

