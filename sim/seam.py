"""A ``pynq.Device`` that runs the real pynq classes off the board.

PYNQ's ``Overlay``, ``DefaultIP``, ``MMIO``, ``pynq.lib.dma.DMA`` and
``pynq.allocate`` talk to the hardware only through their ``Device``: register
reads and writes (``read_registers``/``write_registers`` for a device with the
``REGISTER_RW`` capability), buffer allocation with cache ``flush`` and
``invalidate``, and the .hwh parsing in ``get_bitfile_metadata``. This seam
implements exactly those, so the driver code that runs on the PYNQ-Z2 runs
here unchanged, against:

- the IP's AXI4-Lite registers: any object with ``read(offset) -> int`` and
  ``write(offset, value)`` (the Python device model, or the RTL in cocotb);
- the AXI DMA: :class:`~lenet_pynq.sim.dma_model.AxiDmaModel`, moving words
  between :class:`~lenet_pynq.sim.memory.DeviceMemory` and the IP's
  streams (a :class:`~lenet_pynq.sim.dma_model.StreamEndpoint`).

The instance names and base addresses come from the .hwh, as on the board.
What the seam does not do: download a bitstream (construct the overlay with
``download=False``), program PL clocks, or run pynq's interrupt controller
(its ``Interrupt`` reads /proc/interrupts and a UIO device). For the driver's
interrupt wait, :class:`SeamInterrupt` offers the interface pynq's
``Interrupt`` gives (a coroutine ``wait()``) on the IP's ``interrupt`` pin.
"""

from __future__ import annotations

import asyncio
import os
import struct
from typing import ClassVar

from pynq.pl_server.device import Device

from .. import contract as C
from ..host import axi_dma
from .dma_model import AxiDmaModel, StreamEndpoint
from .memory import DeviceMemory


class SeamError(Exception):
    """The driver reached outside what the seam models (an unmapped address, a bad access)."""


class SeamDevice(Device):
    """An off-board ``pynq.Device``: our IP's registers, a modelled AXI DMA and modelled DDR.

    Parameters
    ----------
    registers
        The IP's AXI4-Lite slave: ``read(offset) -> int``, ``write(offset, value)``.
    stream : StreamEndpoint
        The IP's input and output streams, as the DMA sees them.
    tag : str
        The device's name in pynq.

    Attributes
    ----------
    memory : DeviceMemory
        Every buffer allocated on this device, with its DDR copy.
    dma : AxiDmaModel or None
        The DMA model, created when a .hwh with ``axi_dma_0`` is loaded.
    accesses : int
        Register accesses so far (reads + writes), for tests and profiling.
    """

    capabilities: ClassVar[dict] = {"REGISTER_RW": True}

    def __init__(self, registers, stream: StreamEndpoint, tag: str = "lenet_seam", label: str = "device seam"):
        super().__init__(tag)
        self.name = tag
        self.lenet_label = label  # what the driver's reports say classified (LeNetIP.label)
        self.registers = registers
        self.stream = stream
        self.memory = DeviceMemory()
        self.dma: AxiDmaModel | None = None
        self.accesses = 0
        self._targets: list[tuple[int, int, object]] = []
        self.bitfile_name = None
        self.timestamp = ""

    # --- metadata: the same parser the board uses, minus XRT's xclbinutil -----

    def get_bitfile_metadata(self, bitfile_name: str):
        # The board's EmbeddedDevice parses the .hwh with pynq's own RuntimeMetadataParser
        # (pynq/pl_server/embedded_device.py, BitstreamHandler.get_parser, PYNQ v3.1), not
        # pynqmetadata's copy of it: its interrupt_pins / interrupt_controllers are what
        # pynq.Interrupt reads.
        from pynq.metadata.runtime_metadata_parser import RuntimeMetadataParser
        from pynqmetadata.frontends import Metadata

        hwh = os.path.splitext(bitfile_name)[0] + ".hwh"
        if not os.path.isfile(hwh):
            raise SeamError(f"{hwh}: no .hwh beside {bitfile_name}; pynq needs both with the same base name")
        parser = RuntimeMetadataParser(Metadata(input=hwh))
        parser.bin_data = parser.xclbin_data = parser.dtbo_data = None
        return parser

    def set_bitfile_name(self, bitfile_name: str) -> None:
        super().set_bitfile_name(bitfile_name)
        self._targets = []
        ip = self.ip_dict.get(C.BD_IP_NAME)
        if ip is not None:
            self._targets.append((ip["phys_addr"], ip["addr_range"], self.registers))
        dma = self.ip_dict.get(C.BD_DMA_NAME)
        if dma is not None:
            width = int(dma["parameters"].get("c_sg_length_width", 26))
            self.dma = AxiDmaModel(self.memory, self.stream, max_length=axi_dma.length_width_max(width))
            self._targets.append((dma["phys_addr"], dma["addr_range"], self.dma))

    # --- registers (MMIO with the REGISTER_RW capability) -----------------------

    def _target(self, address: int, length: int):
        for base, size, target in self._targets:
            if base <= address and address + length <= base + size:
                return target, address - base
        raise SeamError(f"register access of {length} bytes at {address:#010x} hits no IP of the loaded .hwh")

    def read_registers(self, address: int, length: int) -> bytes:
        if length % 4 or address % 4:
            raise SeamError(f"unaligned register read: {length} bytes at {address:#010x}")
        target, offset = self._target(address, length)
        self.accesses += length // 4
        words = [target.read(offset + 4 * i) & 0xFFFFFFFF for i in range(length // 4)]
        return struct.pack(f"<{len(words)}I", *words)

    def write_registers(self, address: int, data: bytes) -> None:
        if len(data) % 4 or address % 4:
            raise SeamError(f"unaligned register write: {len(data)} bytes at {address:#010x}")
        target, offset = self._target(address, len(data))
        self.accesses += len(data) // 4
        for i, word in enumerate(struct.unpack(f"<{len(data) // 4}I", data)):
            target.write(offset + 4 * i, word)

    # --- memory (pynq.allocate and PynqBuffer's cache hooks) --------------------

    def allocate(self, shape, dtype, **kwargs):
        return self.memory.allocate(self, shape, dtype)

    def flush(self, bo, offset, vaddr, nbytes):
        self.memory.flush(bo, offset, nbytes)

    def invalidate(self, bo, offset, vaddr, nbytes):
        self.memory.invalidate(bo, offset, nbytes)

    def __repr__(self) -> str:
        return f"SeamDevice({self.tag!r}, {self.registers!r}, {self.dma!r})"


class SeamInterrupt:
    """pynq's ``Interrupt`` interface on the seam: ``await wait()`` returns once the IP's interrupt is high.

    ``device.registers`` must tell its pin's level (``interrupt``, as
    :class:`lenet_pynq.ip_model.DeviceModel` does). The modelled hardware
    has no clock of its own: it moves when its registers are accessed. So
    while waiting, this lets the DMA model move the streams every
    ``period_s``, as time passing does on the board; the driver itself
    makes no access until the interrupt comes.
    """

    def __init__(self, device: SeamDevice, period_s: float = 1e-4):
        if not hasattr(device.registers, "interrupt"):
            raise SeamError(f"{device.registers!r} has no interrupt pin to wait on")
        self.device, self.period_s = device, period_s
        self.waits = 0  # completed waits, for tests

    async def wait(self) -> None:
        while not self.device.registers.interrupt:
            if self.device.dma is not None:
                self.device.dma.step()
            await asyncio.sleep(self.period_s)
        self.waits += 1

    def __repr__(self) -> str:
        return f"SeamInterrupt({self.device.tag}, {self.waits} waits)"
