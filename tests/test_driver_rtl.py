"""The driver through the real pynq classes on the Verilog IP (the seam's backend (b)).

One simulation (cocotb + Verilator, ``rtl/tb/cocotb_driver.py``) runs the
unchanged driver in a bridge thread: a corrupted blob is refused with the
IP's error code, the good blob loads with its CRC read back, then MNIST test
images are classified; the logits must be the golden model's, integer for
integer. ``LENET_RTL_DRIVER_COUNT`` sets the number of images (default 200;
`make bench BENCH_BACKEND=rtl BENCH_COUNT=300` runs more through `lenet bench`).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from lenet_pynq import blob, golden, mnist
from lenet_pynq import contract as C
from lenet_pynq.sim.rtl_overlay import run_driver_job

COUNT = int(os.environ.get("LENET_RTL_DRIVER_COUNT", "200"))


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    d = tmp_path_factory.mktemp("rtl_driver")
    q = blob.random_model(seed=5)
    good = blob.save(q, d / "good.bin")[0]
    data = np.frombuffer(blob.encode(q), "<u4").copy()
    data[C.CRC_WORD_INDEX - 1] ^= 1  # one payload bit: the IP's CRC check must catch it
    bad = d / "bad.bin"
    bad.write_bytes(data.tobytes())
    images, _ = mnist.load("test")
    out = run_driver_job([bad, good], images[:COUNT], batch_size=max(1, COUNT // 2))
    return q, images[:COUNT], out


def test_a_corrupted_blob_is_refused_by_the_rtl_with_its_error_code(job):
    _, _, out = job
    bad = out["loads"][0]
    assert bad.get("error") == C.ERR_BAD_CRC, bad
    assert "BAD_CRC" in bad["message"]


def test_the_good_blob_loads_and_its_crc_reads_back(job):
    q, _, out = job
    assert out["loads"][1] == {"blob": out["loads"][1]["blob"], "crc": blob.crc_word(q)}


def test_the_driver_on_the_rtl_is_bit_exact_with_the_golden_model(job):
    q, images, out = job
    ref = golden.run(q, images)
    np.testing.assert_array_equal(np.array(out["logits"], dtype=np.int32), ref)
    np.testing.assert_array_equal(out["classes"], golden.classify(ref))
    assert out["batch_sizes"] == [COUNT // 2, COUNT - COUNT // 2]
    assert out["sim_ns"] > 0
