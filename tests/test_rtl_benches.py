"""The leaf modules' cocotb benches (rtl/tb/cocotb_<module>.py), each against its software reference.

As verilog-axis has a bench per module: the CRC-32 step against zlib, the
requantizer against the golden model, the weight repacker's entries against
the Python cutting of a blob's sections, the sequencer's steps against a
Python statement of its loop order, the weight loader's bank writes against
the Python bank layout; at 16 and 32 lanes (the sequencer also at 64, the
loader at 16 and 64) where the module depends on them. One build per module
and LANES (cached under build/sim/), with Icarus: a Verilator build of a
leaf takes close to a minute, nine of them too long for the default suite.
``make sim-leaves`` (``LENET_BENCH_SIM=verilator``) runs the same benches on
Verilator.
"""

from __future__ import annotations

import os

import pytest

from lenet_pynq.sim import paths, rtl_build

SIM = os.environ.get("LENET_BENCH_SIM", "icarus")

# (module, bench, LANES parameter of the build or None, lane counts the bench covers)
BENCHES = [
    ("lenet_crc32", "cocotb_crc32", None, ()),
    ("lenet_requant", "cocotb_requant", 16, (16,)),
    ("lenet_requant", "cocotb_requant", 32, (32,)),
    ("lenet_weight_repack", "cocotb_weight_repack", None, (32,)),  # (lane-free: one layout to compare through)
    ("lenet_sequencer", "cocotb_sequencer", 16, (16,)),
    ("lenet_sequencer", "cocotb_sequencer", 32, (32,)),
    ("lenet_sequencer", "cocotb_sequencer", 64, (64,)),
    ("lenet_weight_loader", "cocotb_weight_loader", 16, (16,)),
    ("lenet_weight_loader", "cocotb_weight_loader", 64, (64,)),
]


@pytest.mark.parametrize(
    ("top", "bench", "lanes", "covered"), BENCHES, ids=[f"{b[0]}-{b[2] or 'any'}" for b in BENCHES]
)
def test_leaf_module_matches_its_reference(top, bench, lanes, covered):
    parameters = {"LANES": lanes} if lanes else {}
    res = rtl_build.run(
        bench,
        sim=SIM,
        top=top,
        parameters=parameters,
        test_dir=paths.RTL_TB_DIR,
        extra_env={"LENET_LANES": ",".join(map(str, covered))},
        log_file=rtl_build.BUILD_ROOT / f"{bench}-{SIM}-{lanes or 'any'}.log",
    )
    assert res.ok, res
