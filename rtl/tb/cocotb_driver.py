"""cocotb test module: the pynq driver, unchanged, against the Verilog IP.

Run by :func:`lenet_pynq.sim.rtl_overlay.run_driver_job`. The job is a JSON
object in the environment variable ``LENET_RTL_JOB``:

``loads``
    weights blobs to load, in order; each outcome (the WEIGHTS_CRC, or the
    error code the IP reported) is recorded.
``images``
    optional ``.npy`` of uint8 images to classify after the loads.
``batch_size``
    images per IP job.
``selftest``
    optional weights blob: run `lenet selftest`'s checks (``run_checks``) on
    the simulated overlay with ``images`` as test vectors, instead of the
    loads and the classification; ``selftest`` in the results holds the lines.
``out``
    the ``.json`` file the results go to: ``loads`` (per blob ``crc`` or
    ``error``), ``logits``, ``classes``, ``batch_seconds``, ``batch_sizes``,
    ``sim_ns`` (simulated time of the classification).

The driver runs in a :func:`cocotb.task.bridge` thread, exactly as on the
board; only the pynq ``Device`` beneath it is the RTL seam.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.task import bridge
from cocotb.triggers import ClockCycles

from lenet_pynq import contract as C
from lenet_pynq.host.errors import LenetJobError
from lenet_pynq.host.selftest import run_checks
from lenet_pynq.sim.rtl_overlay import JOB_ENV, open_rtl_overlay

CLOCK_NS = 1000 // C.CLOCK_MHZ


def _drive(dut, job: dict) -> dict:
    from cocotb.simtime import get_sim_time

    overlay = open_rtl_overlay(dut)
    lenet = overlay.lenet
    if job.get("selftest"):
        checks = run_checks(lenet, job["selftest"], np.load(job["images"]), on_board=False)
        return {"selftest": [[c.status, c.name, c.text] for c in checks]}
    out: dict = {"loads": []}
    for path in job.get("loads", []):
        try:
            out["loads"].append({"blob": path, "crc": lenet.load_weights(path)})
        except LenetJobError as e:
            out["loads"].append({"blob": path, "error": e.code, "message": str(e)})
    if job.get("images"):
        images = np.load(job["images"])
        t0 = get_sim_time(unit="ns")
        r = lenet.classify(images, batch_size=job.get("batch_size"))
        out.update(logits=r.logits.tolist(), classes=r.classes.tolist(), batch_seconds=r.batch_seconds,
                   batch_sizes=r.batch_sizes, sim_ns=get_sim_time(unit="ns") - t0)
    return out


@cocotb.test()
async def driver_job(dut):
    """Reset the IP, then run the job of $LENET_RTL_JOB through LeNetOverlay/LeNetIP/pynq's DMA."""
    job = json.loads(os.environ[JOB_ENV])
    Clock(dut.ap_clk, CLOCK_NS, unit="ns").start()
    dut.ap_rst_n.value = 0
    await ClockCycles(dut.ap_clk, 10)
    dut.ap_rst_n.value = 1
    await ClockCycles(dut.ap_clk, 5)
    result = await bridge(_drive)(dut, job)
    Path(job["out"]).write_text(json.dumps(result))  # the simulation is over: blocking is harmless
