"""One job of the contract (section 4) through the AXI DMA: buffers, transfers, waits with deadlines.

The mechanics under :class:`~lenet_pynq.host.driver.LeNetIP`, kept apart
from its public API as PYNQ keeps ``_SDMAChannel`` apart from ``DMA``:

- ``pynq.allocate`` buffers are made once and reused; they only grow.
- Per job: COMMAND and COUNT, the receive transfer, ``ap_start``, then the
  send transfer (receive first, so the IP's output never waits on the host).
- Every wait has a deadline. ``DMA.wait()`` has none, so the channels' DMASR
  is polled; an error bit raises :class:`LenetDmaError` and a missed deadline
  :class:`LenetTimeoutError`, both with the status registers decoded.
- The job's outcome is read twice, from the trailer word that ends its
  output stream and from STATUS; a non-zero error code raises
  :class:`LenetJobError` with ``contract.ERROR_TEXT``.

Register offsets and bits come from ``lenet_pynq.contract`` (the IP) and
``axi_dma`` (PG021, the DMA); none is written here as a bare number.
"""

from __future__ import annotations

import time

import numpy as np
from pynq import allocate

from .. import contract as C
from . import axi_dma as R
from .errors import LenetConfigError, LenetDeviceError, LenetDmaError, LenetJobError, LenetTimeoutError

WORD = C.WORD_BYTES


def ctrl_text(v: int) -> str:
    """CTRL decoded: ``0x4 (ap_idle)``."""
    bits = [n for b, n in ((C.CTRL_START, "ap_start"), (C.CTRL_DONE, "ap_done"),
                           (C.CTRL_IDLE, "ap_idle"), (C.CTRL_READY, "ap_ready"),
                           (C.CTRL_AUTO_RESTART, "auto_restart"), (C.CTRL_INTERRUPT, "interrupt")) if v & b]
    return f"{v:#x} ({', '.join(bits) or 'busy'})"


class JobRunner:
    """Runs jobs on the IP ``ip`` (a ``DefaultIP``) through ``dma`` (a ``pynq.lib.dma.DMA``).

    ``max_transfer`` is the DMA's largest transfer in bytes (from the .hwh);
    the caller keeps every job within it.
    """

    def __init__(self, ip, dma, max_transfer: int):
        self.ip, self.dma, self.max_transfer = ip, dma, max_transfer
        self.in_buf = None  # uint8: the blob or a job's images
        self.out_buf = None  # uint32: results and the trailer

    def buffers(self, in_bytes: int, out_words: int):
        """The reused DMA buffers, grown (never shrunk) to the sizes asked for."""
        if self.in_buf is None or self.in_buf.nbytes < in_bytes:
            self.in_buf = allocate(shape=(in_bytes,), dtype=np.uint8, target=self.ip.device)
        if self.out_buf is None or self.out_buf.size < out_words:
            self.out_buf = allocate(shape=(out_words,), dtype=np.uint32, target=self.ip.device)
        return self.in_buf, self.out_buf

    def run(self, command: int, count: int, in_bytes: int, out_words: int, deadline: float, what: str,
            hint: str = "") -> np.ndarray:
        """Run one job on the staged input; return its output words without the trailer."""
        if in_bytes > self.max_transfer or out_words * WORD > self.max_transfer:
            raise LenetConfigError(f"{what}: {in_bytes} bytes exceed the DMA's largest transfer {self.max_transfer}")
        ip = self.ip
        ctrl = ip.read(C.REG_CTRL)
        if not ctrl & C.CTRL_IDLE:
            raise LenetDeviceError(f"{what}: the IP is not idle (CTRL {ctrl_text(ctrl)}); a previous job never "
                                   "finished. Reload the overlay to reset it")
        ip.write(C.REG_COMMAND, command)
        ip.write(C.REG_COUNT, count)
        self.dma.recvchannel.transfer(self.out_buf, nbytes=out_words * WORD)
        ip.write(C.REG_CTRL, C.CTRL_START)
        self.dma.sendchannel.transfer(self.in_buf, nbytes=in_bytes)
        self.wait_channel(R.MM2S, deadline, what)
        self.wait_channel(R.S2MM, deadline, what)
        self.out_buf.invalidate()
        received = self.dma.read(R.S2MM.LENGTH) // WORD
        words = np.array(self.out_buf[:received])
        parsed = C.parse_trailer(int(words[-1])) if received else None
        if parsed is None:
            raise LenetDeviceError(
                f"{what}: the output stream ended ({received} words) without the trailer word "
                f"(0xA5 in bits 31:24, contract section 4); the IP and the driver disagree on the stream format")
        error, images_done = parsed
        self.wait_done(deadline, what)
        status = ip.read(C.REG_STATUS)
        if status != error:
            raise LenetDeviceError(f"{what}: the trailer says error {error} ({C.error_name(error)}) but STATUS "
                                   f"reads {status} ({C.error_name(status)}); the IP's outputs are inconsistent")
        if error != C.ERR_OK:
            raise LenetJobError(error, images_done, what, hint)
        return words[:-1]

    def status_report(self) -> str:
        mm2s, s2mm = self.dma.read(R.MM2S.DMASR), self.dma.read(R.S2MM.DMASR)
        return (f"MM2S_DMASR {R.decode_status(mm2s)}, S2MM_DMASR {R.decode_status(s2mm)}, "
                f"IP CTRL {ctrl_text(self.ip.read(C.REG_CTRL))}")

    def wait_channel(self, ch: R.Channel, deadline: float, what: str) -> None:
        while True:
            sr = self.dma.read(ch.DMASR)
            if sr & R.SR_ERRORS:
                report = self.status_report()
                self.reset_dma()
                raise LenetDmaError(f"{what}: the DMA's {ch.name} channel stopped with {R.decode_status(sr)}; "
                                    f"{report}. The DMA was reset")
            if sr & R.SR_IDLE:
                # acknowledge IOC_Irq (write 1 to clear): the board wires the DMA's interrupts to the PS
                self.dma.write(ch.DMASR, sr & R.SR_IRQ_BITS)
                return
            if time.monotonic() > deadline:
                report = self.status_report()
                self.reset_dma()
                hint = ("the IP never ended its output with TLAST, or produced fewer words than expected"
                        if ch is R.S2MM else "the IP stopped accepting input (in_r_TREADY low)")
                raise LenetTimeoutError(f"{what}: {ch.name} transfer not finished after the deadline "
                                        f"({self.ip.timeout_s:g} s + {self.ip.timeout_per_image_s:g} s per "
                                        f"image): {hint}. Status: {report}. The DMA was reset; reload the "
                                        "overlay if the IP stays busy")

    def wait_done(self, deadline: float, what: str) -> None:
        while True:
            ctrl = self.ip.read(C.REG_CTRL)
            if ctrl & (C.CTRL_DONE | C.CTRL_IDLE):
                return
            if time.monotonic() > deadline:
                raise LenetTimeoutError(f"{what}: the output stream ended but ap_done never rose "
                                        f"(CTRL {ctrl_text(ctrl)}); the IP is stuck")

    def reset_dma(self) -> None:
        """Soft-reset the DMA (PG021 DMACR.Reset) and restart both channels, aborting any transfer."""
        self.dma.write(R.MM2S.DMACR, R.CR_RESET)
        deadline = time.monotonic() + self.ip.timeout_s
        while self.dma.read(R.MM2S.DMACR) & R.CR_RESET and time.monotonic() < deadline:
            pass
        self.dma.sendchannel.start()
        self.dma.recvchannel.start()
