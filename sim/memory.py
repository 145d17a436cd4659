"""Physically addressed memory for the off-board device seam, with a cache to flush.

On the board, ``pynq.allocate`` returns a ``PynqBuffer`` backed by physically
contiguous DDR; the ARM core reaches it through its data cache, the DMA does
not. A driver that forgets ``flush()`` before a send or ``invalidate()`` after
a receive works on a coherent model and fails on the board. So this memory
keeps two copies of every buffer: the ``PynqBuffer`` the host sees (the
cache) and the bytes the DMA sees (the DDR), and copies between them only when
the real pynq code calls ``flush``/``invalidate``.
"""

from __future__ import annotations

import numpy as np
from pynq.buffer import PynqBuffer

BASE_ADDRESS = 0x1000_0000  # where allocations start (the PYNQ-Z2's CMA pool sits in this region)
ALIGN = 4096  # pynq allocates whole pages


class DecodeError(Exception):
    """A DMA access to an address range that no allocated buffer covers."""


class _Allocation:
    def __init__(self, base: int, host: PynqBuffer):
        self.base = base
        self.host_bytes = host.view(np.ndarray).reshape(-1).view(np.uint8)
        self.ddr = np.zeros(self.host_bytes.size, dtype=np.uint8)


class DeviceMemory:
    """Buffers by physical address, each with a host (cached) and a DDR copy.

    Methods used by the seam: :meth:`allocate`, :meth:`flush`,
    :meth:`invalidate` (the hooks ``PynqBuffer`` calls on its device); by the
    DMA model: :meth:`read` and :meth:`write` of the DDR copy.
    """

    def __init__(self, base: int = BASE_ADDRESS):
        self._next = base
        self._allocations: list[_Allocation] = []

    def allocate(self, device, shape, dtype) -> PynqBuffer:
        """A new zeroed ``PynqBuffer`` at the next free page, not cache-coherent."""
        host = PynqBuffer(shape, dtype, device=device, device_address=self._next,
                          bo=len(self._allocations), coherent=False)
        host.fill(0)
        alloc = _Allocation(self._next, host)
        self._allocations.append(alloc)
        self._next += max(ALIGN, -(-alloc.ddr.size // ALIGN) * ALIGN)
        return host

    def flush(self, bo: int, offset: int, nbytes: int) -> None:
        """Write the host copy back to DDR (the cache flush before a DMA send)."""
        a = self._allocations[bo]
        a.ddr[offset:offset + nbytes] = a.host_bytes[offset:offset + nbytes]

    def invalidate(self, bo: int, offset: int, nbytes: int) -> None:
        """Refresh the host copy from DDR (the cache invalidate after a DMA receive)."""
        a = self._allocations[bo]
        a.host_bytes[offset:offset + nbytes] = a.ddr[offset:offset + nbytes]

    def _find(self, address: int, nbytes: int) -> tuple[_Allocation, int]:
        for a in self._allocations:
            if a.base <= address and address + nbytes <= a.base + a.ddr.size:
                return a, address - a.base
        raise DecodeError(f"no allocated buffer covers {nbytes} bytes at {address:#010x}")

    def read(self, address: int, nbytes: int) -> np.ndarray:
        """A copy of ``nbytes`` of DDR at ``address`` (uint8)."""
        a, off = self._find(address, nbytes)
        return a.ddr[off:off + nbytes].copy()

    def write(self, address: int, data: np.ndarray) -> None:
        """Store ``data`` (any dtype, taken as bytes) in DDR at ``address``."""
        raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
        a, off = self._find(address, raw.size)
        a.ddr[off:off + raw.size] = raw

    def __repr__(self) -> str:
        return f"DeviceMemory({len(self._allocations)} buffers, next free {self._next:#010x})"
