"""Convolution weights as band matrices: one matrix product computes a whole tile of outputs.

A window of R+K-1 rows by B+K-1 columns of the input holds everything an
R x B tile of outputs reads. The band matrix maps such a window, flattened,
to the tile's outputs of every channel: its row for output (y, x, co)
holds co's kernel at the window's offset (y, x) and zeros elsewhere. With
the windows of a batch as the columns of one matrix, a convolution is one
product whose inner dimension is a whole window, not K*K values, which is
what makes BLAS fast on LeNet's small layers (golden model, training).

Rows come in the order (y % 2, x % 2, y // 2, x // 2, co), so the four
members of every 2x2 pool quad sit in the four quarters of the rows: a
max-pool is then the maximum of four contiguous blocks. Columns are the
window's (row, column, ci), the order of a channel-last window, or (column,
row, ci) with ``column_major``.

Column-major windows of a one-channel image come from its *strips*: a
window copied out of the image row by row would be R+K-1 runs of only
B+K-1 values (8 for conv1), and such a copy cost 10 ns a run. So the image
is first cut into strips of R+K-1 rows, one every R rows, each stored
column by column (``strips[n, strip, column, row]``, written from the image
row by row: :func:`strip_copies`); a window is then B+K-1 whole columns of
a strip, one contiguous run (:func:`strip_windows`).
"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def _places(shape: tuple[int, ...], tile: tuple[int, int], column_major: bool) -> np.ndarray:
    """Flat band matrix index of every weight at every tile position: (R*B positions, Co*Ci*K*K)."""
    co, ci, k, _ = shape
    r, b = tile
    cols = (r + k - 1) * (b + k - 1) * ci
    places = np.empty((r, b, co, ci, k, k), np.int64)
    o, c, ky, kx = np.ix_(range(co), range(ci), range(k), range(k))
    for y in range(r):
        for x in range(b):
            row = (((y % 2) * 2 + x % 2) * (r // 2) + y // 2) * (b // 2) * co + (x // 2) * co + o
            wy, wx = y + ky, x + kx
            col = ((wx * (r + k - 1) + wy) if column_major else (wy * (b + k - 1) + wx)) * ci + c
            places[y, x] = row * cols + col
    places = places.reshape(r * b, -1)
    places.flags.writeable = False
    return places


def banded(w: np.ndarray, tile: tuple[int, int], column_major: bool = False) -> np.ndarray:
    """Conv weights w (Co, Ci, K, K) as the band matrix of an R x B ``tile``, (R*B*Co, window), w's dtype."""
    co, ci, k, _ = w.shape
    r, b = tile
    m = np.zeros((r * b * co, (r + k - 1) * (b + k - 1) * ci), w.dtype)
    places = _places(w.shape, tile, column_major)
    m.reshape(-1)[places] = w.reshape(1, -1)
    return m


def unbanded(dm: np.ndarray, shape: tuple[int, ...], tile: tuple[int, int], column_major: bool = False) -> np.ndarray:
    """The gradient of the weights (``shape``) from the band matrix's: the sum over the tile's positions."""
    return dm.reshape(-1)[_places(tuple(shape), tile, column_major)].sum(axis=0).reshape(shape)


def strip_copies(strips: np.ndarray, tile: tuple[int, int], k: int, pad: int) -> list[tuple[np.ndarray, slice]]:
    """How to fill ``strips`` (n, strips, side + 2*pad, R+K-1) from images (n, side, side) padded by ``pad``.

    Per row of the strips: the view of ``strips`` it is and the slice of
    image rows that go there (``np.copyto(view, images[:, rows])``); rows
    and columns that fall in the padding are left as they are, zero if
    ``strips`` was made with zeros.
    """
    r = tile[0]
    count, side = strips.shape[1], strips.shape[2] - 2 * pad
    copies = []
    for row in range(r + k - 1):  # strip t holds padded row r*t + row, image row r*t + row - pad, if any
        first, last = max(0, -(-(pad - row) // r)), min(count - 1, (side - 1 + pad - row) // r)
        if first <= last:
            copies.append((strips[:, first:last + 1, pad:pad + side, row],
                           slice(r * first + row - pad, r * last + row - pad + 1, r)))
    return copies


def strip_windows(strips: np.ndarray, tile: tuple[int, int], k: int) -> np.ndarray:
    """The windows of ``strips``, a view (n, strips, windows per strip, (B+K-1)*(R+K-1)), column-major."""
    r, b = tile
    n, count, width, _ = strips.shape
    e = strips.itemsize
    return np.ndarray((n, count, (width - k + 1) // b, (b + k - 1) * (r + k - 1)), strips.dtype, strips,
                      strides=(strips.strides[0], strips.strides[1], b * (r + k - 1) * e, e))


def map_windows(maps: np.ndarray, tile: tuple[int, int], k: int) -> np.ndarray:
    """The windows of channel-last maps (n, H, W, C), one per R x B tile of outputs: a view
    (n, tile rows, tile columns, R+K-1, (B+K-1) * C), each window R+K-1 runs of x, row-major as ``banded``'s
    columns."""
    r, b = tile
    n, h, width, c = maps.shape
    s = maps.strides
    return np.ndarray((n, (h - k + 1) // r, (width - k + 1) // b, r + k - 1, (b + k - 1) * c), maps.dtype, maps,
                      strides=(s[0], r * s[1], b * s[2], s[1], maps.itemsize))
