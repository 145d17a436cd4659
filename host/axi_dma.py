"""The AXI DMA 7.1 registers we use, by name, and their status decoded into words.

Simple (direct register) mode only, as in our block design. Offsets and bits
are those of Xilinx PG021 "AXI DMA v7.1 LogiCORE IP Product Guide", chapter 2,
"Register Space" (tables 2-9 to 2-25). The driver (``driver.py``) and the
off-board model of the DMA (``dma_model.py``) both read them from here, so a
register never appears as a bare number.

The MM2S (memory to stream, "send") channel's registers start at 0x00 and the
S2MM (stream to memory, "receive") channel's at 0x30, with the same layout.
"""

from __future__ import annotations

from typing import NamedTuple

VLNV = "xilinx.com:ip:axi_dma:7.1"


class Channel(NamedTuple):
    """Register offsets of one DMA channel (PG021 table 2-9)."""

    name: str  # "MM2S" or "S2MM"
    DMACR: int  # control
    DMASR: int  # status
    ADDR: int  # MM2S_SA (source) or S2MM_DA (destination), low 32 bits
    ADDR_MSB: int  # the upper 32 bits (only with > 32-bit addressing)
    LENGTH: int  # bytes; writing it starts the transfer. S2MM: bytes received, when done


MM2S = Channel("MM2S", DMACR=0x00, DMASR=0x04, ADDR=0x18, ADDR_MSB=0x1C, LENGTH=0x28)
S2MM = Channel("S2MM", DMACR=0x30, DMASR=0x34, ADDR=0x48, ADDR_MSB=0x4C, LENGTH=0x58)
CHANNELS = (MM2S, S2MM)
REGISTER_SPACE = 0x60  # the last simple-mode register is S2MM_LENGTH at 0x58

# DMACR bits (PG021 tables 2-10, 2-18)
CR_RS = 1 << 0  # run/stop
CR_RESET = 1 << 2  # soft reset of the whole core (both channels); self-clearing
CR_IOC_IRQ_EN = 1 << 12
CR_ERR_IRQ_EN = 1 << 14
CR_RESET_VALUE = 0x00010002  # IRQThreshold 1, reserved bit 1 reads 1

# DMASR bits (PG021 tables 2-11, 2-19)
SR_HALTED = 1 << 0
SR_IDLE = 1 << 1
SR_SG_INCLD = 1 << 3
SR_DMA_INT_ERR = 1 << 4
SR_DMA_SLV_ERR = 1 << 5
SR_DMA_DEC_ERR = 1 << 6
SR_IOC_IRQ = 1 << 12
SR_DLY_IRQ = 1 << 13
SR_ERR_IRQ = 1 << 14
SR_IRQ_BITS = SR_IOC_IRQ | SR_DLY_IRQ | SR_ERR_IRQ  # write 1 to clear
SR_ERRORS = SR_DMA_INT_ERR | SR_DMA_SLV_ERR | SR_DMA_DEC_ERR
SR_RESET_VALUE = SR_HALTED

_SR_WORDS = (
    (SR_HALTED, "Halted"),
    (SR_IDLE, "Idle"),
    (SR_SG_INCLD, "SGIncld"),
    (SR_DMA_INT_ERR, "DMAIntErr (internal error: length 0, or a stream packet longer than the buffer)"),
    (SR_DMA_SLV_ERR, "DMASlvErr (slave error reading or writing memory)"),
    (SR_DMA_DEC_ERR, "DMADecErr (decode error: the address maps to no memory)"),
    (SR_IOC_IRQ, "IOC_Irq"),
    (SR_DLY_IRQ, "Dly_Irq"),
    (SR_ERR_IRQ, "Err_Irq"),
)


def decode_status(value: int) -> str:
    """A DMASR value in words, e.g. ``0x00001002 (Idle, IOC_Irq)``.

    Every named bit that is set is listed; a running channel with no flag set
    reads ``running``.
    """
    names = [text for bit, text in _SR_WORDS if value & bit]
    return f"{value:#010x} ({', '.join(names) if names else 'running'})"


def length_width_max(c_sg_length_width: int) -> int:
    """The largest transfer, in bytes, a DMA built with this buffer-length width allows.

    PG021 "Buffer Length Register": the LENGTH field is ``c_sg_length_width``
    bits wide, so a transfer is at most ``2**width - 1`` bytes (26 -> 64 MiB - 1).
    """
    return (1 << int(c_sg_length_width)) - 1
