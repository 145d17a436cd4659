"""One job of the contract (section 4) through the AXI DMA: buffers, transfers, waits with deadlines.

The mechanics under :class:`~lenet_pynq.host.driver.LeNetIP`, kept apart
from its public API as PYNQ keeps ``_SDMAChannel`` apart from ``DMA``:

- ``pynq.allocate`` buffers are made once and reused; they only grow.
- Per job: COMMAND and COUNT, the receive transfer, ``ap_start``, then the
  send transfer (receive first, so the IP's output never waits on the host).
- Only the bytes a job moves are flushed and invalidated: the transfers are
  given slices of the buffers (a ``PynqBuffer`` slice keeps its physical
  address and cache offset, pynq/buffer.py ``__array_finalize__``), since
  pynq's ``transfer()`` flushes the whole array it is given.
- Every wait has a deadline. ``DMA.wait()`` has none, so the channels' DMASR
  is polled; an error bit raises :class:`LenetDmaError` and a missed deadline
  :class:`LenetTimeoutError`, both with the status registers decoded and the
  probable causes named. The DMA reset after a failure has its deadline too
  (pynq's ``start()`` polls ``running`` forever).
- Optionally (:meth:`JobRunner.use_interrupt`) the job's end is awaited on
  the IP's interrupt, pynq's asyncio ``Interrupt``, still with the deadline.
- The job's outcome is read twice, from the trailer word that ends its
  output stream and from STATUS; a non-zero error code raises
  :class:`LenetJobError` with ``contract.ERROR_TEXT``.

Register offsets and bits come from ``lenet_pynq.contract`` (the IP) and
``axi_dma`` (PG021, the DMA); none is written here as a bare number.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
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


# What a transfer that never ends usually means (the DMA status in the message tells them apart).
PROBABLE_CAUSES = {
    "MM2S": ("the IP stopped accepting input (in_r_TREADY low): it is not running (ap_start not taken, "
             "or a previous job still busy)"),
    "S2MM": ("a short job: the IP waits for more input than was sent (COUNT larger than the images "
             "staged), or its output lacks TLAST (the trailer word), or the DMA's buffer-length width "
             "(c_sg_length_width) is too small for the transfer; S2MM_LENGTH and IMAGES_DONE tell "
             "how far it got"),
}


class JobRunner:
    """Runs jobs on the IP ``ip`` (a ``DefaultIP``) through ``dma`` (a ``pynq.lib.dma.DMA``).

    ``max_transfer`` is the DMA's largest transfer in bytes (from the .hwh);
    the caller keeps every job within it.

    Attributes
    ----------
    interrupt
        None (the default): a job's end is found by polling DMASR and CTRL.
        Otherwise an object with pynq's ``Interrupt`` interface (a coroutine
        ``wait()`` that returns once the pin is high), set by :meth:`use_interrupt`.
    """

    def __init__(self, ip, dma, max_transfer: int):
        self.ip, self.dma, self.max_transfer = ip, dma, max_transfer
        self.in_buf = None  # uint8: the blob or a job's images
        self.out_buf = None  # uint32: results and the trailer
        self.interrupt = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"JobRunner({'interrupt' if self.interrupt is not None else 'polling'}, {self.dma!r})"

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
        if self.interrupt is not None:
            self._clear_isr()
        ip.write(C.REG_COMMAND, command)
        ip.write(C.REG_COUNT, count)
        # slices: pynq flushes (send) the array it is given, and we invalidate (receive) only what came back
        self.dma.recvchannel.transfer(self.out_buf[:out_words])
        ip.write(C.REG_CTRL, C.CTRL_START)
        self.dma.sendchannel.transfer(self.in_buf[:in_bytes])
        if self.interrupt is not None:
            self.wait_interrupt(deadline, what)
        self.wait_channel(R.MM2S, deadline, what)
        self.wait_channel(R.S2MM, deadline, what)
        received = min(self.dma.read(R.S2MM.LENGTH) // WORD, out_words)
        out = self.out_buf[:received]
        out.invalidate()
        words = np.array(out)
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
                f"S2MM_LENGTH {self.dma.read(R.S2MM.LENGTH)} bytes, IP CTRL {ctrl_text(self.ip.read(C.REG_CTRL))}, "
                f"IMAGES_DONE {self.ip.read(C.REG_IMAGES_DONE)}")

    def _deadline_text(self) -> str:
        return f"{self.ip.timeout_s:g} s + {self.ip.timeout_per_image_s:g} s per image"

    def _fail_and_reset(self, error_class, text: str):
        """``error_class(text)`` with the status decoded, after resetting the DMA (within its own deadline)."""
        text = f"{text}. Status: {self.status_report()}"
        try:
            self.reset_dma()
            text += ". The DMA was reset; reload the overlay if the IP stays busy"
        except LenetTimeoutError as e:
            text += f". Resetting the DMA failed too: {e}"
        return error_class(text)

    def wait_channel(self, ch: R.Channel, deadline: float, what: str) -> None:
        while True:
            sr = self.dma.read(ch.DMASR)
            if sr & R.SR_ERRORS:
                raise self._fail_and_reset(LenetDmaError,
                                           f"{what}: the DMA's {ch.name} channel stopped with {R.decode_status(sr)}")
            if sr & R.SR_IDLE:
                # acknowledge IOC_Irq (write 1 to clear): the board wires the DMA's interrupts to the PS
                self.dma.write(ch.DMASR, sr & R.SR_IRQ_BITS)
                return
            if time.monotonic() > deadline:
                raise self._fail_and_reset(
                    LenetTimeoutError, f"{what}: {ch.name} transfer not finished after the deadline "
                    f"({self._deadline_text()}): probably {PROBABLE_CAUSES[ch.name]}")

    def wait_done(self, deadline: float, what: str) -> None:
        while True:
            ctrl = self.ip.read(C.REG_CTRL)
            if ctrl & (C.CTRL_DONE | C.CTRL_IDLE):
                return
            if time.monotonic() > deadline:
                raise LenetTimeoutError(f"{what}: the output stream ended but ap_done never rose "
                                        f"(CTRL {ctrl_text(ctrl)}); the IP is stuck")

    # --- the interrupt wait ----------------------------------------------------------

    def use_interrupt(self, interrupt) -> None:
        """Await each job's ``ap_done`` on ``interrupt`` (pynq's ``Interrupt`` interface); None: poll again.

        The IP's ``interrupt`` pin rises with ISR.ap_done once GIE and IER
        enable it (contract section 3). pynq's ``Interrupt.wait()`` is a
        coroutine; it runs here on a private event loop in its own thread, so
        the wait is the same in a script and in Jupyter (whose own loop is
        already running in the kernel's thread), and it keeps the job's deadline.
        """
        self.interrupt = interrupt
        if interrupt is None:
            self.ip.write(C.REG_IER, 0)
            self.ip.write(C.REG_GIE, 0)
            return
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            threading.Thread(target=self._loop.run_forever, name="lenet-interrupt", daemon=True).start()
        self._clear_isr()
        self.ip.write(C.REG_IER, C.ISR_DONE)
        self.ip.write(C.REG_GIE, 1)

    def _clear_isr(self) -> None:
        pending = self.ip.read(C.REG_ISR)
        if pending:
            self.ip.write(C.REG_ISR, pending)  # toggle-on-write: writing the set bits clears them

    def wait_interrupt(self, deadline: float, what: str) -> None:
        wait = asyncio.run_coroutine_threadsafe(self.interrupt.wait(), self._loop)
        try:
            wait.result(timeout=max(0.0, deadline - time.monotonic()))
        except concurrent.futures.TimeoutError:
            wait.cancel()
            raise self._fail_and_reset(
                LenetTimeoutError, f"{what}: no interrupt from {C.BD_IP_NAME} before the deadline "
                f"({self._deadline_text()}): probably {PROBABLE_CAUSES['S2MM']}; or the interrupt is not wired "
                "through the axi_intc (try the default polling wait)") from None
        self._clear_isr()

    # --- recovery ----------------------------------------------------------------------

    def reset_dma(self) -> None:
        """Soft-reset the DMA (PG021 DMACR.Reset) and restart both channels, within ``ip.timeout_s``.

        pynq's ``_SDMAChannel.start()`` (pynq/lib/dma.py, v3.1) writes RS and
        then loops on ``while not self.running`` with no way out, so a DMA whose
        reset never completes would hang the kernel. The same register writes
        are made here with a deadline, and ``_first_transfer`` is set as
        ``start()`` sets it (a restarted channel is not Idle until its first
        transfer ends, and pynq's ``transfer()`` checks Idle otherwise).
        """
        deadline = time.monotonic() + self.ip.timeout_s
        self.dma.write(R.MM2S.DMACR, R.CR_RESET)
        self._until(lambda: not self.dma.read(R.MM2S.DMACR) & R.CR_RESET, deadline,
                    "the DMA's soft reset (DMACR.Reset) did not complete")
        for channel, regs in ((self.dma.sendchannel, R.MM2S), (self.dma.recvchannel, R.S2MM)):
            # pynq enables IOC_IrqEn too when its channel has an interrupt (_SDMAChannel.start)
            irq = R.CR_IOC_IRQ_EN if getattr(channel, "_interrupt", None) else 0
            self.dma.write(regs.DMACR, R.CR_RS | irq)
            self._until(lambda regs=regs: not self.dma.read(regs.DMASR) & R.SR_HALTED, deadline,
                        f"the DMA's {regs.name} channel stayed halted after run/stop was set")
            channel._first_transfer = True

    def _until(self, ready, deadline: float, what: str) -> None:
        while not ready():
            if time.monotonic() > deadline:
                raise LenetTimeoutError(
                    f"{what} within {self.ip.timeout_s:g} s (MM2S_DMACR {self.dma.read(R.MM2S.DMACR):#010x}, "
                    f"MM2S_DMASR {R.decode_status(self.dma.read(R.MM2S.DMASR))}): is the PL clocked and the "
                    "bitstream loaded? Reload the overlay")

