"""The Verilog IP under cocotb (rtl/tb/cocotb_lenet.py), from pytest.

Verilator runs the whole cocotb suite; Icarus a smoke test of the same
testbench. The test vectors come from `lenet export`'s write_vectors on the
first MNIST test images, with the blob of `make quantize` if there is one,
else the shipped overlay/lenet_int8.bin. ``LENET_SIM_IP=hls`` (``make sim
IP=hls``) runs the same suite on the Vitis HLS export instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lenet_pynq import cli
from lenet_pynq.errors import LenetError
from lenet_pynq.sim import paths, rtl_build, rtl_tools

IP = os.environ.get("LENET_SIM_IP", "rtl")  # make sim IP=hls
IMAGES = int(os.environ.get("LENET_SIM_IMAGES", "256"))


@pytest.fixture(scope="module")
def vectors() -> Path:
    return rtl_tools.vectors(IMAGES)


@pytest.mark.parametrize("lanes", [16, 32, 64])
def test_rtl_lint_clean(lanes):
    rtl_build.lint({"LANES": lanes})


def test_cocotb_suite_verilator(vectors):
    res = rtl_build.run("cocotb_lenet", sim="verilator", ip=IP, test_dir=paths.RTL_TB_DIR,
                      extra_env={"LENET_VECTORS": str(vectors), "LENET_IP": IP,
                                 "LENET_RTL_DUMP": str(rtl_build.BUILD_ROOT / "rtl_layers")},
                      log_file=rtl_build.BUILD_ROOT / f"cocotb_lenet-{IP}-verilator.log")
    assert res.ok, res
    assert any(name.startswith("test_vectors") for name in res.passed), res
    if IP == "rtl":
        assert "test_layers" in res.passed, res


@pytest.mark.parametrize("lanes", [16, 32])
def test_other_lane_count(vectors, lanes):
    """The design is parameterised: narrower MAC arrays (conv steps of fewer positions, conv2's at 16 lanes
    one output per channel; own build directories) are bit-exact too."""
    res = rtl_build.run("cocotb_lenet", sim="verilator", ip="rtl", parameters={"LANES": lanes},
                        test_dir=paths.RTL_TB_DIR,
                      test_filter="test_vectors|test_layers",
                      extra_env={"LENET_VECTORS": str(vectors), "LENET_IMAGES": "8"},
                      log_file=rtl_build.BUILD_ROOT / f"cocotb_lenet-rtl-lanes{lanes}.log")
    assert sorted(res.passed) == ["test_layers", "test_vectors/pauses=False", "test_vectors/pauses=True"], res


def test_smoke_icarus(vectors):
    """Icarus elaborates the IP as built (64 lanes) and runs a weights load and one image of the 16-lane build.

    (The 64-lane build took 8 minutes for that in a CI run, the 16-lane one takes about one: the same
    source, a quarter of the lanes. The HLS export has no LANES.)
    """
    parameters = {"LANES": 16} if IP == "rtl" else None
    if parameters:
        rtl_build.build("icarus", IP)
    res = rtl_build.run("cocotb_lenet", sim="icarus", ip=IP, test_dir=paths.RTL_TB_DIR, parameters=parameters,
                        test_filter="test_vectors/pauses=False",
                      extra_env={"LENET_VECTORS": str(vectors), "LENET_IMAGES": "1"},
                      log_file=rtl_build.BUILD_ROOT / f"cocotb_lenet-{IP}-icarus.log")
    assert res.passed == ["test_vectors/pauses=False"], res


def test_hls_export_missing_is_explained(tmp_path, monkeypatch):
    monkeypatch.setattr(rtl_build, "HLS_DIR", tmp_path / "hls")
    with pytest.raises(LenetError, match=r"make hls"):
        rtl_build.sources("hls")


def test_hls_export_is_found(tmp_path, monkeypatch):
    verilog = tmp_path / "hls" / "lenet_prj" / "solution1" / "impl" / "verilog"
    verilog.mkdir(parents=True)
    for name in ("lenet.v", "lenet_control_s_axi.v"):
        (verilog / name).write_text("// exported\n")
    monkeypatch.setattr(rtl_build, "HLS_DIR", tmp_path / "hls")
    files, includes = rtl_build.sources("hls")
    assert [f.name for f in files] == ["lenet.v", "lenet_control_s_axi.v"] and includes == [verilog]


def test_dump_command_writes_the_rtl_layers_for_compare(tmp_path, capsys):
    assert cli.main(["rtl", "dump", "--count", "2", "--out", str(tmp_path / "rtl")]) == 0
    golden_layers = rtl_tools.vectors(2) / "layers"
    assert cli.main(["compare", str(golden_layers), str(tmp_path / "rtl")]) == 0
    assert "identical: 9 layers" in capsys.readouterr().out
