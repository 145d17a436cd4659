"""The Verilog IP under cocotb (tests/cocotb_lenet.py), from pytest.

Verilator runs the whole cocotb suite; Icarus a smoke test of the same
testbench. The test vectors come from `lenet export`'s write_vectors on the
first MNIST test images, with the trained blob if `make quantize` has made
one, else a fixed random model (still checked word for word against the
golden model through the device model). ``IP=hls`` (environment) runs the
same suite on the Vitis HLS export instead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lenet_pynq.errors import LenetError
from lenet_pynq.host import rtl_sim

TESTS = Path(__file__).resolve().parent
IP = os.environ.get("IP", "rtl")
IMAGES = int(os.environ.get("LENET_SIM_IMAGES", "256"))
TRAINED_BLOB = rtl_sim.ROOT / "weights" / "lenet_int8.bin"


def make_vectors(count: int) -> Path:
    """A `lenet export` directory of the first ``count`` test images (cached under build/sim)."""
    from lenet_pynq.train import blob, export, mnist

    if TRAINED_BLOB.is_file() and blob.manifest_path(TRAINED_BLOB).is_file():
        q, source = blob.load(TRAINED_BLOB), f"{TRAINED_BLOB.name}"
    else:
        q, source = blob.random_model(0), "random_model(0)"
    out = rtl_sim.BUILD_ROOT / f"vectors-{count}"
    doc_path = out / "vectors.json"
    if doc_path.is_file():
        doc = json.loads(doc_path.read_text())
        if doc.get("source") == source and doc.get("weights_crc") == f"{blob.crc_word(q):#010x}":
            return out
    images, labels = mnist.load("test")
    export.write_vectors(q, images[:count], labels[:count], list(range(count)), out, source=source)
    return out


@pytest.fixture(scope="module")
def vectors() -> Path:
    return make_vectors(IMAGES)


def test_cocotb_suite_verilator(vectors):
    res = rtl_sim.run("cocotb_lenet", sim="verilator", ip=IP, test_dir=TESTS,
                      extra_env={"LENET_VECTORS": str(vectors)},
                      log_file=rtl_sim.BUILD_ROOT / f"cocotb_lenet-{IP}-verilator.log")
    assert res.ok, res
    assert any(name.startswith("test_vectors") for name in res.passed), res


def test_smoke_icarus(vectors):
    res = rtl_sim.run("cocotb_lenet", sim="icarus", ip=IP, test_dir=TESTS, test_filter="test_vectors/pauses=False",
                      extra_env={"LENET_VECTORS": str(vectors), "LENET_IMAGES": "2"},
                      log_file=rtl_sim.BUILD_ROOT / f"cocotb_lenet-{IP}-icarus.log")
    assert res.passed == ["test_vectors/pauses=False"], res


def test_hls_export_missing_is_explained(tmp_path, monkeypatch):
    monkeypatch.setattr(rtl_sim, "HLS_DIR", tmp_path / "hls")
    with pytest.raises(LenetError, match=r"make hls"):
        rtl_sim.sources("hls")


def test_hls_export_is_found(tmp_path, monkeypatch):
    verilog = tmp_path / "hls" / "lenet_prj" / "solution1" / "impl" / "verilog"
    verilog.mkdir(parents=True)
    for name in ("lenet.v", "lenet_control_s_axi.v"):
        (verilog / name).write_text("// exported\n")
    monkeypatch.setattr(rtl_sim, "HLS_DIR", tmp_path / "hls")
    files, includes = rtl_sim.sources("hls")
    assert [f.name for f in files] == ["lenet.v", "lenet_control_s_axi.v"] and includes == [verilog]
