"""The LeNet overlay off the board, on the Verilog IP in a cocotb simulation.

Inside a cocotb test, the driver runs in a :func:`cocotb.task.bridge` thread
(ordinary blocking Python, as on the board) and every access it makes to the
"hardware" is turned back into simulation with :func:`cocotb.task.resume`:

- :class:`RtlRegisters` -- the IP's ``s_axi_control`` through cocotbext-axi's
  ``AxiLiteMaster``;
- :class:`RtlStream` -- the IP's ``in_r``/``out_r`` through ``AxiStreamSource``
  and ``AxiStreamSink``, as the DMA model's
  :class:`~lenet_pynq.sim.dma_model.StreamEndpoint`. Each time the driver
  polls the DMA, simulated time advances by ``poll_cycles``.

:func:`open_rtl_overlay` stacks them under the real ``LeNetOverlay``;
:class:`RtlBench` runs that in one simulation per batch for
`lenet bench --backend rtl`.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import contract as C
from ..classifier import Classification
from ..errors import LenetError
from ..overlay.lenet_overlay import LeNetOverlay
from . import paths, rtl_build
from .hwh import write_design
from .seam import SeamDevice

# The environment variable that hands rtl/tb/cocotb_driver.py its job.
JOB_ENV = "LENET_RTL_JOB"
POLL_CYCLES = 200  # simulated clock cycles per poll of the DMA status by the driver


class RtlRegisters:
    """The IP's AXI4-Lite slave in simulation, as blocking ``read``/``write`` for the seam."""

    def __init__(self, axil):
        from cocotb.task import resume

        self.axil = axil
        self._read = resume(axil.read_dword)
        self._write = resume(axil.write_dword)

    def read(self, offset: int) -> int:
        return int(self._read(offset))

    def write(self, offset: int, value: int) -> None:
        self._write(offset, value & 0xFFFFFFFF)

    def __repr__(self) -> str:
        return "RtlRegisters(s_axi_control)"


class RtlStream:
    """The IP's two AXI4-Streams in simulation, as the DMA model's stream endpoint.

    Parameters
    ----------
    source, sink
        cocotbext-axi ``AxiStreamSource`` on ``in_r`` and ``AxiStreamSink`` on ``out_r``.
    clock
        The IP's ``ap_clk``.
    poll_cycles : int
        Cycles simulated on each ``sent``/``receive`` call, i.e. on each DMA poll.
    """

    def __init__(self, source, sink, clock, poll_cycles: int = POLL_CYCLES):
        from cocotb.task import resume
        from cocotb.triggers import ClockCycles
        from cocotbext.axi import AxiStreamFrame

        self.source, self.sink = source, sink

        async def send(words: np.ndarray) -> None:
            await source.send(AxiStreamFrame(words.astype("<u4").tobytes()))

        async def sent() -> bool:
            await ClockCycles(clock, poll_cycles)
            return source.idle()

        async def receive() -> tuple[np.ndarray, bool]:
            await ClockCycles(clock, poll_cycles)
            if sink.empty():
                return np.zeros(0, np.uint32), False
            frame = sink.recv_nowait()
            return np.frombuffer(bytes(frame.tdata), "<u4").astype(np.uint32), True

        self._send, self._sent, self._receive = resume(send), resume(sent), resume(receive)

    def send(self, words: np.ndarray) -> None:
        self._send(np.asarray(words, np.uint32))

    def sent(self) -> bool:
        return self._sent()

    def receive(self) -> tuple[np.ndarray, bool]:
        return self._receive()

    def __repr__(self) -> str:
        return "RtlStream(in_r, out_r)"


def open_rtl_overlay(dut, directory: str | Path | None = None, **hwh):
    """``LeNetOverlay`` on the RTL ``dut``; call from a :func:`cocotb.task.bridge` thread.

    ``dut`` must be out of reset with its clock running. ``hwh`` overrides
    design parameters (see ``sim.hwh.hwh_text``); the IP is declared with
    the RTL packaging's VLNV.
    """
    from cocotb.task import resume
    from cocotbext.axi import (
        AxiLiteBus,
        AxiLiteMaster,
        AxiStreamBus,
        AxiStreamSink,
        AxiStreamSource,
    )

    async def make_bfms():
        # the bus models start coroutines, so they are created in the simulator's thread
        axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axi_control"), dut.ap_clk, dut.ap_rst_n,
                             reset_active_level=False)
        source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "in_r"), dut.ap_clk, dut.ap_rst_n,
                                 reset_active_level=False)
        sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "out_r"), dut.ap_clk, dut.ap_rst_n,
                             reset_active_level=False)
        return axil, source, sink

    axil, source, sink = resume(make_bfms)()
    seam = SeamDevice(RtlRegisters(axil), RtlStream(source, sink, dut.ap_clk), tag="lenet_rtl", label="RTL simulation")
    directory = directory or tempfile.mkdtemp(prefix="lenet_rtl_seam_")
    bit = write_design(directory, **{"ip_vlnv": C.VLNV_RTL, **hwh})
    with seam.active():
        overlay = LeNetOverlay(bit, download=False, device=seam)
    # wall-clock deadlines for a simulated IP: seconds per image, not milliseconds
    overlay.lenet.timeout_s, overlay.lenet.timeout_per_image_s = 120.0, 10.0
    return overlay


def run_driver_job(loads: list[str | Path], images: np.ndarray | None = None, batch_size: int | None = None,
                   sim: str = "verilator", ip: str = "rtl", selftest: str | Path | None = None) -> dict:
    """One simulation of the driver against the IP (``rtl/tb/cocotb_driver.py``): load ``loads``, classify ``images``.

    With ``selftest`` (a weights blob), `lenet selftest`'s checks run on the
    simulated overlay instead, with ``images`` as the test vectors.

    Returns the tb's results (see ``rtl/tb/cocotb_driver.py``) plus ``wall_seconds``,
    the whole simulation's wall time including the simulator's start.
    """
    with tempfile.TemporaryDirectory(prefix="lenet_rtl_job_") as tmp:
        job = {"loads": [str(Path(p).resolve()) for p in loads], "out": str(Path(tmp) / "out.json"),
               "batch_size": batch_size}
        if selftest is not None:
            job["selftest"] = str(Path(selftest).resolve())
        if images is not None:
            job["images"] = str(Path(tmp) / "images.npy")
            np.save(job["images"], np.ascontiguousarray(images, dtype=np.uint8))
        t0 = time.monotonic()
        rtl_build.run("cocotb_driver", sim=sim, ip=ip, test_dir=paths.RTL_TB_DIR,
                      extra_env={JOB_ENV: json.dumps(job)}, log_file=Path(tmp) / "sim.log")
        out = json.loads(Path(job["out"]).read_text())
        out["wall_seconds"] = time.monotonic() - t0
    return out


class RtlBench:
    """`lenet bench --backend rtl`: one simulation per batch, each loading the blob then classifying.

    A :class:`~lenet_pynq.classifier.Classifier`; its batches are the IP's jobs.

    The time the bench measures per batch includes building the (cached)
    model and starting the simulator: RTL numbers say how slow simulation is,
    not how fast the IP is; ``sim_ns`` per image is the IP's own figure.
    """

    label = "RTL simulation"
    integer = True

    def __init__(self, args=None, sim: str = "verilator", ip: str = "rtl"):
        self.weights, self.sim, self.ip = None, sim, ip
        self.sim_ns = 0  # simulated time spent classifying, over all batches
        self.images = 0

    def load_weights(self, weights: str | Path) -> None:
        if not Path(weights).is_file():
            raise LenetError(f"{weights}: no weights blob; make one with `lenet quantize`")
        self.weights = Path(weights)

    def classify(self, images: np.ndarray, batch_size: int | None = None) -> Classification:
        if self.weights is None:
            raise LenetError("RTL: no weights; call load_weights(<blob>) first")
        out = run_driver_job([self.weights], images, batch_size=batch_size or len(images), sim=self.sim, ip=self.ip)
        load = out["loads"][0]
        if "error" in load:
            raise LenetError(f"the RTL refused {self.weights}: {load['message']}")
        self.sim_ns += out["sim_ns"]
        self.images += len(images)
        return Classification(np.array(out["classes"]), np.array(out["logits"], dtype=np.int32),
                              out["batch_seconds"], out["batch_sizes"])

    def selftest(self, weights: str | Path, images: np.ndarray) -> list:
        """`lenet selftest --backend rtl`: the checks of ``lenet_pynq.host.selftest``, run in one simulation."""
        from ..host.selftest import Check

        out = run_driver_job([], images, sim=self.sim, ip=self.ip, selftest=weights)
        return [Check(*line) for line in out["selftest"]]

    def extra(self) -> dict:
        """The simulated IP's own time, for the bench report: what the board's clock would give."""
        ns = self.sim_ns / max(1, self.images)
        return {"rtl_simulated": {"ns_per_image": ns, "clock_mhz": C.CLOCK_MHZ,
                                  "images_per_second": 1e9 / ns if ns else None}}


    def __repr__(self) -> str:
        return f"RtlBench({self.ip} IP on {self.sim}, weights {self.weights})"
