"""The RTL's weight and bias bank layout (rtl/lenet_layout.vh), stated in Python for the leaf benches.

Output ``o`` of a layer is computed by lane ``o % lanes`` in pass
``o // lanes``. Each lane's weight bank holds, layer after layer, the rows
(one per output) of the outputs it computes, a row cut into entries of
``taps`` weights, its last entry zero-padded; the bias bank holds one entry
per layer and pass. A conv layer has one pass: its outputs fit the lanes,
and it computes several outputs of each channel per step (its positions),
channel ``c`` at position ``p`` on lane ``p * outputs + c``, a copy of lane
``c``'s weights and bias.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lenet_pynq import contract as C


@dataclass(frozen=True)
class BankLayout:
    """Where each layer's weight rows and biases sit in the lanes' banks, for ``lanes`` lanes of ``taps`` MACs."""

    lanes: int
    taps: int = C.LAYERS[0].weight_shape[-1]

    def row_length(self, layer: C.Layer) -> int:
        """Weights per output."""
        return int(np.prod(layer.weight_shape[1:]))

    def entries_per_row(self, layer: C.Layer) -> int:
        return -(-self.row_length(layer) // self.taps)

    def passes(self, layer: C.Layer) -> int:
        return -(-layer.weight_shape[0] // self.lanes)

    def wbase(self, layer: C.Layer) -> int:
        """The layer's first weight bank entry."""
        before = C.LAYERS[: C.LAYERS.index(layer)]
        return sum(self.passes(x) * self.entries_per_row(x) for x in before)

    def bbase(self, layer: C.Layer) -> int:
        """The layer's first bias bank entry."""
        return sum(self.passes(x) for x in C.LAYERS[: C.LAYERS.index(layer)])

    def waddr(self, layer: C.Layer, output: int, entry: int) -> tuple[int, int]:
        """(lane, bank address) of entry ``entry`` of output ``output``'s row."""
        return output % self.lanes, self.wbase(layer) + output // self.lanes * self.entries_per_row(layer) + entry

    def weight_entries(self, weights: np.ndarray, layer: C.Layer) -> dict[tuple[int, int], bytes]:
        """The layer's bank entries, (lane, address) -> ``taps`` int8 weights as bytes, from its blob section."""
        rows = np.asarray(weights, dtype=np.int8).reshape(layer.weight_shape[0], -1)
        padded = np.zeros((rows.shape[0], self.entries_per_row(layer) * self.taps), dtype=np.int8)
        padded[:, : rows.shape[1]] = rows
        return {
            self.waddr(layer, o, e): padded[o, e * self.taps : (e + 1) * self.taps].tobytes()
            for o in range(rows.shape[0])
            for e in range(self.entries_per_row(layer))
        }

    def pooled_side(self, layer: C.Layer) -> int:
        """The side of a conv layer's pooled output."""
        side = C.PADDED_SIDE
        for conv in C.LAYERS[: C.LAYERS.index(layer) + 1]:
            side = (side - conv.weight_shape[-1] + 1) // 2
        return side

    def positions(self, layer: C.Layer) -> int:
        """Outputs of each channel a conv step computes at once (lenet_layout.vh's POS_*).

        Position ``p``: bit 0 the column in a 2x2 pool window, bit 1 its row,
        the bits above the window along the pooled row. As many as the lanes
        hold, a power of two, beyond one pool window only while the pooled
        row holds whole pairs of windows.
        """
        out = layer.weight_shape[0]
        if self.lanes >= 8 * out and self.pooled_side(layer) % 2 == 0:
            return 8
        return 4 if self.lanes >= 4 * out else 2 if self.lanes >= 2 * out else 1

    def windows(self, layer: C.Layer) -> int:
        """Pool windows along the row a conv step covers."""
        return max(self.positions(layer) // 4, 1)

    def pool_steps(self, layer: C.Layer) -> tuple[int, int]:
        """(rows, columns) of a conv layer's pool window that take steps of their own, not positions."""
        positions = self.positions(layer)
        return (1 if positions >= 4 else 2), (1 if positions >= 2 else 2)

    def pool_order(self, layer: C.Layer) -> list[tuple[int, int, int, int]]:
        """(py, px, dy, dx) of a conv layer's accumulations in the sequencer's order (lenet_sequencer.v).

        py the pooled row, px the step's windows along it, dy and dx the
        pool window's row and column where they take steps of their own.
        """
        side, wins = self.pooled_side(layer), self.windows(layer)
        rows, columns = self.pool_steps(layer)
        return [(py, px, dy, dx) for py in range(side) for px in range(side // wins)
                for dy in range(rows) for dx in range(columns)]

    @staticmethod
    def position(p: int) -> tuple[int, int, int]:
        """(window along the row, row, column in the pool window) of position ``p``."""
        return p // 4, p // 2 % 2, p % 2
