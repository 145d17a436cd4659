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

The instance names and base addresses come from the .hwh, parsed by pynq's
own runtime parser (``pynq.metadata.runtime_metadata_parser``, the one the
board uses). The AXI interrupt controller of the design is a plain register
file here, and the PS interrupt line it drives is :class:`SeamInterruptLine`,
which pynq's ``Interrupt`` objects attach to as they attach to the UIO device
on the board; nothing fires that line. For the driver's optional interrupt
wait, :class:`SeamInterrupt` offers the interface pynq's ``Interrupt`` gives
(a coroutine ``wait()``) on the IP's ``interrupt`` pin. What the seam does
not do: download a bitstream (construct the overlay with ``download=False``)
or program PL clocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import struct
from typing import ClassVar

from pynq.interrupt import _InterruptController
from pynq.pl_server.device import Device

from .. import contract as C
from ..host import axi_dma
from .dma_model import AxiDmaModel, StreamEndpoint
from .memory import DeviceMemory


class SeamError(Exception):
    """The driver reached outside what the seam models (an unmapped address, a bad access)."""


class RegisterFile:
    """32-bit registers that keep what is written: a core the seam maps but does not model."""

    def __init__(self):
        self.words: dict[int, int] = {}

    def read(self, offset: int) -> int:
        return self.words.get(offset, 0)

    def write(self, offset: int, value: int) -> None:
        self.words[offset] = value

    def __repr__(self) -> str:
        return f"RegisterFile({len(self.words)} registers written)"


class SeamInterruptLine:
    """The PS interrupt line (IRQ_F2P[0]) as pynq's interrupt controllers see their parent.

    On the board pynq attaches the AXI interrupt controller to the UIO
    device of its raw IRQ; here it attaches to this. ``add_event`` is what
    pynq calls while an ``Interrupt`` is awaited; nothing fires it off the
    board yet, so the waiters stay registered in ``events``.
    """

    def __init__(self):
        self.events: list[tuple[object, int]] = []

    def add_event(self, event, number: int) -> None:
        self.events.append((event, number))


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
    _loads: ClassVar[itertools.count] = itertools.count()  # numbers each load's PL.timestamp

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
        self.interrupt_line = SeamInterruptLine()

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
        # pynq keeps its interrupt controllers per PL.timestamp: a new one per load.
        self.timestamp = f"{self.tag}-{next(self._loads)}"
        self._targets = []
        for ip in self.ip_dict.values():
            if ip["type"].startswith("xilinx.com:ip:axi_intc:"):
                self._targets.append((ip["phys_addr"], ip["addr_range"], RegisterFile()))
        # pynq caches the UIO device of each raw IRQ; the seam's line stands in for it.
        for controller in (self.interrupt_controllers or {}).values():
            _InterruptController._uio_devices[controller["raw_irq"]] = self.interrupt_line
        ip = self.ip_dict.get(C.BD_IP_NAME)
        if ip is not None:
            self._targets.append((ip["phys_addr"], ip["addr_range"], self.registers))
        dma = self.ip_dict.get(C.BD_DMA_NAME)
        if dma is not None:
            width = int(dma["parameters"].get("c_sg_length_width", 26))
            self.dma = AxiDmaModel(self.memory, self.stream, max_length=axi_dma.length_width_max(width))
            self._targets.append((dma["phys_addr"], dma["addr_range"], self.dma))

    @contextlib.contextmanager
    def active(self):
        """This device as pynq's active device, for as long as drivers are being created.

        pynq's ``DefaultIP`` makes an ``Interrupt`` for each interrupt pin, and
        ``Interrupt`` reads the global ``PL`` (the active device), not the
        overlay's device; each of our interrupt controllers' parent is the raw
        IRQ's UIO device, which is :attr:`interrupt_line` here (registered
        by :meth:`set_bitfile_name`).
        """
        had = "_active_device" in Device.__dict__
        before = Device.__dict__.get("_active_device")
        Device.active_device = self
        try:
            yield self
        finally:
            if had:
                Device.active_device = before
            else:
                del Device._active_device

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
