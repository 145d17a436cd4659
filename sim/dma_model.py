"""A Python model of the AXI DMA 7.1 in simple mode, for running pynq's DMA driver off the board.

It implements the registers of ``axi_dma.py`` the way PG021 describes them,
closely enough that the real ``pynq.lib.dma.DMA`` and our driver cannot tell
it from the hardware:

- ``DMACR.RS`` starts a channel (``DMASR.Halted`` falls); ``DMACR.Reset``
  resets both channels; ``DMASR`` interrupt bits are write-1-to-clear.
- Writing ``LENGTH`` starts a transfer from/to the address in ``SA``/``DA``.
  MM2S reads that many bytes of memory and sends them as one packet, TLAST on
  the last word. S2MM accepts stream words into memory until TLAST, then
  writes the number of bytes received back into ``S2MM_LENGTH``.
- A finished transfer sets ``Idle`` and ``IOC_Irq``. A length of 0 sets
  ``DMAIntErr``; so does a packet longer than the S2MM buffer, which PG021
  leaves undefined (the model makes it loud rather than silent); an address
  no buffer covers sets ``DMADecErr``. Errors halt the channel and set
  ``Err_Irq``.
- ``Idle`` is 0 after start until the first transfer ends, as on the
  hardware (pynq's ``_first_transfer`` exists for this).

The stream side is a :class:`StreamEndpoint`: the IP's input and output.
Progress is made when the host looks: every register read first moves what
the endpoint has ready, so a polling driver sees transfers finish; an
endpoint that never sends TLAST leaves S2MM busy forever, like the hardware.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..host import axi_dma as R
from .memory import DecodeError, DeviceMemory

WORD_BYTES = 4  # the stream and memory-map widths of our block design (32 bits)


class StreamEndpoint(Protocol):
    """The IP's two AXI4-Streams, as seen from the DMA."""

    def send(self, words: np.ndarray) -> None:
        """Offer one input packet (uint32 words, TLAST on the last one)."""

    def sent(self) -> bool:
        """True once the IP has accepted every word offered so far."""

    def receive(self) -> tuple[np.ndarray, bool]:
        """Output words ready now, up to and including the first TLAST, and whether TLAST came."""


class _ChannelModel:
    def __init__(self, regs: R.Channel):
        self.regs = regs
        self.reset()

    def reset(self) -> None:
        self.cr = R.CR_RESET_VALUE
        self.sr = R.SR_RESET_VALUE
        self.addr = 0
        self.length = 0
        self.busy = False
        self.received = 0  # S2MM: bytes stored by the transfer in progress

    def fail(self, bit: int) -> None:
        self.busy = False
        self.sr = (self.sr | bit | R.SR_HALTED | R.SR_ERR_IRQ) & ~R.SR_IDLE

    def finish(self) -> None:
        self.busy = False
        self.sr |= R.SR_IDLE | R.SR_IOC_IRQ


class AxiDmaModel:
    """Register-level model of one AXI DMA in simple mode.

    Parameters
    ----------
    memory : DeviceMemory
        Where ``SA``/``DA`` point (the DDR copy of the pynq buffers).
    stream : StreamEndpoint
        The IP the DMA's MM2S feeds and S2MM drains.
    max_length : int
        The largest LENGTH accepted, ``2**c_sg_length_width - 1``.

    ``read(offset)`` and ``write(offset, value)`` are the AXI4-Lite accesses.
    """

    def __init__(self, memory: DeviceMemory, stream: StreamEndpoint, max_length: int = R.length_width_max(26)):
        self.memory = memory
        self.stream = stream
        self.max_length = max_length
        self.mm2s = _ChannelModel(R.MM2S)
        self.s2mm = _ChannelModel(R.S2MM)
        self._by_offset = {}
        for ch in (self.mm2s, self.s2mm):
            for field in ("DMACR", "DMASR", "ADDR", "ADDR_MSB", "LENGTH"):
                self._by_offset[getattr(ch.regs, field)] = (ch, field)

    # --- AXI4-Lite ----------------------------------------------------------

    def read(self, offset: int) -> int:
        self.step()
        ch, field = self._by_offset.get(offset, (None, None))
        if ch is None:
            return 0
        return {"DMACR": ch.cr, "DMASR": ch.sr, "ADDR": ch.addr, "ADDR_MSB": 0, "LENGTH": ch.length}[field]

    def write(self, offset: int, value: int) -> None:
        ch, field = self._by_offset.get(offset, (None, None))
        if ch is None:
            return
        if field == "DMACR":
            self._write_cr(ch, value)
        elif field == "DMASR":
            ch.sr &= ~(value & R.SR_IRQ_BITS)
        elif field == "ADDR":
            ch.addr = value
        elif field == "LENGTH":
            self._start(ch, value)
        self.step()

    def _write_cr(self, ch: _ChannelModel, value: int) -> None:
        if value & R.CR_RESET:
            self.mm2s.reset()
            self.s2mm.reset()
            return
        ch.cr = value | (R.CR_RESET_VALUE & ~R.CR_RS)
        if value & R.CR_RS:
            ch.sr &= ~R.SR_HALTED
        elif not ch.busy:
            ch.sr |= R.SR_HALTED

    def _start(self, ch: _ChannelModel, length: int) -> None:
        if ch.sr & R.SR_HALTED:
            return  # PG021: LENGTH writes are ignored while halted
        ch.length = length & self.max_length
        ch.sr &= ~R.SR_IDLE
        if ch.length == 0:
            ch.fail(R.SR_DMA_INT_ERR)
            return
        ch.busy = True
        if ch is self.mm2s:
            try:
                data = self.memory.read(ch.addr, ch.length)
            except DecodeError:
                ch.fail(R.SR_DMA_DEC_ERR)
                return
            if data.size % WORD_BYTES:  # 32-bit stream: a trailing partial word is sent with its bytes zero-filled
                data = np.concatenate([data, np.zeros(WORD_BYTES - data.size % WORD_BYTES, np.uint8)])
            self.stream.send(data.view("<u4").astype(np.uint32, copy=False))  # data is already a copy of DDR
        else:
            ch.received = 0

    # --- progress -------------------------------------------------------------

    def step(self) -> None:
        """Move whatever the stream side has ready; called on every register access."""
        if self.mm2s.busy and self.stream.sent():
            self.mm2s.finish()
        if self.s2mm.busy:
            self._drain()

    def _drain(self) -> None:
        ch = self.s2mm
        words, last = self.stream.receive()
        if words.size:
            nbytes = words.size * WORD_BYTES
            if ch.received + nbytes > ch.length:
                ch.fail(R.SR_DMA_INT_ERR)
                return
            try:
                self.memory.write(ch.addr + ch.received, words.astype("<u4"))
            except DecodeError:
                ch.fail(R.SR_DMA_DEC_ERR)
                return
            ch.received += nbytes
        if last:
            ch.length = ch.received
            ch.finish()

    def __repr__(self) -> str:
        return (f"AxiDmaModel(MM2S {R.decode_status(self.mm2s.sr)}, "
                f"S2MM {R.decode_status(self.s2mm.sr)})")
