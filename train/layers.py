"""The layers of LeNet-5, each forward rule next to its gradient.

Feature maps are channel-major, ``(C, N, H, W)``: one channel of the whole
batch is one long contiguous row. That makes im2col a single strided copy
and col2im 2*K whole-array additions, with no Python loop over pixels,
channels or samples. Fully connected layers take ``(N, features)``.
Training's fast path fuses each convolution with its pool and ReLU into one
band-matrix product on channel-last maps (``conv_pool_relu_*``); the
channel-major layers remain the reference it is tested against, and the
path of a forward that records every activation.

The functions are dtype-generic: the model runs them in float32, the
gradient checks in float64.

Convolution columns hold exactly the valid output positions. An earlier
version computed every row at the full input width (32 or 14 positions for
28 or 10 outputs) for longer contiguous runs in im2col and col2im; with
one BLAS thread that measured 1.3x slower for conv1 (forward and backward)
and no faster for conv2, whose products it made 40% larger.

Every product is one BLAS call (with one BLAS thread, splitting them over
groups of images, as that version did for two threads, measured up to
2.4x slower), oriented so that both operands are read along their
contiguous rows.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import band

# --- convolution (cross-correlation, stride 1, valid) -----------------------

def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    """x (C, N, H, W), w (O, C, K, K), b (O,) -> (out (O, N, H-K+1, W-K+1), cache)."""
    c, n, h, width = x.shape
    o, _, k, _ = w.shape
    ho, wo = h - k + 1, width - k + 1
    x = np.ascontiguousarray(x)
    s = x.strides
    view = as_strided(x, shape=(c, k, k, n, ho, wo), strides=(s[0], s[2], s[3], s[1], s[2], s[3]), writeable=False)
    cols = view.reshape(c * k * k, n * ho * wo)  # copies: (C*K*K, N*Ho*Wo)
    z = w.reshape(o, -1) @ cols
    z += b[:, None]
    return z.reshape(o, n, ho, wo), (x.shape, w, cols)


def conv_backward(dout: np.ndarray, cache, need_dx: bool = True):
    """dout (O, N, Ho, Wo) -> (dx (C, N, H, W) or None, dw, db)."""
    (c, n, h, width), w, cols = cache
    o, _, k, _ = w.shape
    ho, wo = dout.shape[2], dout.shape[3]
    db = dout.sum(axis=(1, 2, 3))
    dz2 = np.ascontiguousarray(dout).reshape(o, -1)
    dw = (dz2 @ cols.T).reshape(w.shape)
    if not need_dx:
        return None, dw, db
    # dcols rows in (ky, kx, c) order, so that every kernel offset is one contiguous block.
    w_t = w.transpose(2, 3, 1, 0).reshape(k * k * c, o)
    dcols = (w_t @ dz2).reshape(k, k, c, n, ho, wo)
    # col2im in two steps: first the K row offsets for all K column offsets at once (K additions whose
    # runs are whole Ho*Wo maps), then the K column offsets (runs of Wo). Measured here on conv2, 1.6x
    # faster than K*K additions of Wo-runs.
    rows = np.zeros((k, c, n, h, wo), dtype=dout.dtype)
    for ky in range(k):
        rows[:, :, :, ky:ky + ho] += dcols[ky]
    dx = np.zeros((c, n, h, width), dtype=dout.dtype)
    for kx in range(k):
        dx[..., kx:kx + wo] += rows[kx]
    return dx, dw, db


# --- convolution, max-pool 2x2 and ReLU as one band-matrix product ---------------
#
# Training's fast path: the same functions as conv_forward then maxpool_relu_forward, each layer one product
# of its windows with the band matrix of its weights (lenet_pynq.band), whose output holds the four members
# of every pool quad in four blocks, so the pool compares whole blocks. Maps are channel-last, (N, H, W, C):
# a window of a channel-last map is a few long runs. The sums run in another order than conv_forward's, so
# values agree up to float rounding; the pool's masks follow maxpool_relu_forward's rule (_pool_relu).
# Measured here, one BLAS thread, batch 64, forward and backward per image: conv1 46 us against about 70
# for conv_forward, maxpool_relu_forward and their backwards (whose products have 6 rows by 25 columns
# and run BLAS at a fraction of its speed), conv2 57 us against 101.

IMAGE_TILE = (4, 4)  # conv1: output rows x columns per window (the golden model's conv1 tile)
MAP_TILE = (2, 2)  # conv2: one pool quad per window


def _leading_pair(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The left and right members of conv1's quads: rows[x % 2] (conv_pool_relu_image_*)."""
    return rows[0], rows[1]


def _column_halves(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The left and right members of conv2's quads: the two halves of the columns (conv_pool_relu_*)."""
    half = rows.shape[-1] // 2
    return rows[:, :half], rows[:, half:]


def conv_pool_relu_image_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    """relu(maxpool(conv(x) + b)) of square images x (1, N, H, H) -> (out (N, Ho/2, Ho/2, O), cache).

    The windows, R+K-1 x B+K-1 pieces of the image, one per tile of R x B
    outputs, are copied in long runs from strips of R+K-1 rows stored
    column by column (``lenet_pynq.band``). The outputs come out as rows
    (y % 2, x % 2, y // 2, x // 2, o), so the pool's four blocks are
    quarters of the rows. The input's gradient is not computed: conv1
    reads the images.
    """
    channels, n, h, width = x.shape
    o, ci, k, _ = w.shape
    tile_h, tile_w = IMAGE_TILE
    tiles_y, tiles_x = (h - k + 1) // tile_h, (width - k + 1) // tile_w
    if channels != 1 or ci != 1 or h != width or tiles_y < 1 or tiles_y * tile_h != h - k + 1:
        raise ValueError(f"conv_pool_relu_image_forward: {channels} input channel(s) of {h} x {width} (x must be "
                         f"(1, N, H, W)), weights for {ci}; it takes square images of one channel whose outputs "
                         f"are whole {tile_h} x {tile_w} tiles (use conv_forward and maxpool_relu_forward for "
                         "other layers)")
    strips = np.empty((n, tiles_y, width, tile_h + k - 1), x.dtype)  # all written: x is padded and square
    for strip_row, image_rows in band.strip_copies(strips, IMAGE_TILE, k, pad=0):
        np.copyto(strip_row, x[0, :, image_rows])
    windows = band.strip_windows(strips, IMAGE_TILE, k).reshape(n * tiles_y * tiles_x, -1)  # copies
    z = band.banded(w, IMAGE_TILE, column_major=True) @ windows.T
    z += np.tile(b, tile_h * tile_w)[:, None]
    quarters = z.reshape(2, 2, -1)  # [y % 2, x % 2]: (y // 2, x // 2, o) by (n, tile row, tile column)
    pooled, lower, left, right = _pool_relu(quarters[0], quarters[1], _leading_pair)
    out = np.empty((n, tiles_y * tile_h // 2, tiles_x * tile_w // 2, o), z.dtype)
    np.copyto(out.reshape(n, tiles_y, tile_h // 2, tiles_x, tile_w // 2, o),
              pooled.reshape(tile_h // 2, tile_w // 2, o, n, tiles_y, tiles_x).transpose(3, 4, 0, 5, 1, 2))
    return out, (w.shape, windows, lower, left, right)


def conv_pool_relu_image_backward(dout: np.ndarray, cache):
    """dout (N, Ho/2, Wo/2, O) -> (dw, db) of conv_pool_relu_image_forward."""
    shape, windows, lower, left, right = cache
    n, hp, wp, o = dout.shape
    tile_h, tile_w = IMAGE_TILE
    tiles_y, tiles_x = hp * 2 // tile_h, wp * 2 // tile_w
    dpooled = np.empty((tile_h // 2, tile_w // 2, o, n, tiles_y, tiles_x), dout.dtype)
    np.copyto(dpooled.transpose(3, 4, 0, 5, 1, 2), dout.reshape(n, tiles_y, tile_h // 2, tiles_x, tile_w // 2, o))
    dpooled = dpooled.reshape(-1)
    dz = np.empty((2, 2, dpooled.size), dout.dtype)  # [y % 2, x % 2], as the forward's quarters
    _unpool_relu(dpooled, lower, left, right, dz[0], dz[1], _leading_pair)
    dz = dz.reshape(tile_h * tile_w * o, -1)
    dw = band.unbanded(dz @ windows, shape, IMAGE_TILE, column_major=True)
    return dw, _bias_gradient(dz.sum(axis=1), o)


def conv_pool_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    """relu(maxpool(conv(x) + b)) of channel-last maps x (N, H, W, C) -> (out (N, Ho/2, Wo/2, O), cache).

    One window per pool quad: K+1 rows of (K+1) * C values, each a
    contiguous run of x. The outputs come out per window as (y % 2, x % 2,
    o), so the pool's four blocks are column blocks of the product.
    """
    n, h, width, ci = x.shape
    o, _, k, _ = w.shape
    tile_h, tile_w = MAP_TILE
    tiles_y, tiles_x = (h - k + 1) // tile_h, (width - k + 1) // tile_w
    if (w.shape[1] != ci or min(tiles_y, tiles_x) < 1 or tiles_y * tile_h != h - k + 1
            or tiles_x * tile_w != width - k + 1):
        raise ValueError(f"conv_pool_relu_forward: maps of {h} x {width} x {ci} channel(s) (x must be channel-last, "
                         f"(N, H, W, C)), weights for {w.shape[1]}; it takes maps of the weights' channels whose "
                         f"outputs are whole {tile_h} x {tile_w} tiles (use conv_forward and maxpool_relu_forward "
                         "for other layers)")
    windows = band.map_windows(np.ascontiguousarray(x), MAP_TILE, k).reshape(n * tiles_y * tiles_x, -1)  # copies
    m = band.banded(w, MAP_TILE)
    z = windows @ m.T
    z += np.tile(b, tile_h * tile_w)
    pooled, lower, left, right = _pool_relu(z[:, :2 * o], z[:, 2 * o:], _column_halves)
    return pooled.reshape(n, tiles_y, tiles_x, o), (x.shape, w.shape, windows, m, lower, left, right)


def conv_pool_relu_backward(dout: np.ndarray, cache):
    """dout (N, Ho/2, Wo/2, O) -> (dx (N, H, W, C), dw, db) of conv_pool_relu_forward.

    The windows' gradients are added back into dx in ceil((B+K-1) / B) x
    (R+K-1) strided additions (3 x 6 for LeNet's conv2): for a given row
    offset, windows one row of tiles apart never share a row of dx, and
    windows ceil((B+K-1) / B) tiles apart never share a column, so no
    addition writes an element twice.
    """
    (n, h, width, ci), shape, windows, m, lower, left, right = cache
    o, _, k, _ = shape
    tile_h, tile_w = MAP_TILE
    dpooled = dout.reshape(-1, o)
    dz = np.empty((len(dpooled), tile_h * tile_w * o), dout.dtype)  # columns (y % 2, x % 2, o), as forward's
    _unpool_relu(dpooled, lower, left, right, dz[:, :2 * o], dz[:, 2 * o:], _column_halves)
    dw = band.unbanded(dz.T @ windows, shape, MAP_TILE)
    tiles_y, tiles_x = (h - k + 1) // tile_h, (width - k + 1) // tile_w
    dwindows = (dz @ m).reshape(n, tiles_y, tiles_x, tile_h + k - 1, (tile_w + k - 1) * ci)
    dx = np.zeros((n, h, width * ci), dout.dtype)
    e = dx.itemsize
    apart = -(-(tile_w + k - 1) // tile_w)  # tiles between windows that share no column
    for row in range(tile_h + k - 1):
        for first in range(apart):
            part = dwindows[:, :, first::apart, row]
            target = np.ndarray(part.shape, dx.dtype, dx, offset=(row * width + tile_w * first) * ci * e,
                                strides=(dx.strides[0], tile_h * dx.strides[1], apart * tile_w * ci * e, e))
            target += part
    return dx.reshape(n, h, width, ci), dw, _bias_gradient(dz.sum(axis=0), o)


def _bias_gradient(per_output: np.ndarray, o: int) -> np.ndarray:
    """db from a band product's summed output gradients, channel fastest in every tile position (lenet_pynq.band)."""
    return per_output.reshape(-1, o).sum(axis=0)


# --- max-pool 2x2, stride 2, then ReLU --------------------------------------

def maxpool_relu_forward(x: np.ndarray):
    """relu(maxpool(x)): x (C, N, H, W) with H, W even -> (out (C, N, H/2, W/2), cache).

    ReLU commutes with max-pool, so it runs on the 4x smaller pooled maps.
    Rows first, then columns: each step is a maximum of two half-size arrays
    with long contiguous runs. The masks record which of each pair won (ties
    go to the first, as in every framework), the column masks already
    cleared where the ReLU cut the window's maximum, so the gradient reaches
    exactly one input of a window with a positive maximum and none otherwise.
    """
    c, n, h, w = x.shape
    pairs = x.reshape(c, n, h // 2, 2, w)
    out, lower_wins, left, right = _pool_relu(pairs[:, :, :, 0], pairs[:, :, :, 1], _column_pairs)
    return out, (x.shape, lower_wins, left, right)


def _column_pairs(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The left and right members of 2x2 windows in rows (..., W): views (..., W/2) when rows' last axis is
    contiguous, as every caller's is."""
    pair = rows.reshape(rows.shape[:-1] + (rows.shape[-1] // 2, 2))
    return pair[..., 0], pair[..., 1]


def _pool_relu(top: np.ndarray, bottom: np.ndarray, columns):
    """relu(max) of 2x2 windows from their upper and lower rows: (out, lower, left, right).

    ``columns`` splits an array of rows into the windows' left and right
    members. ``lower`` marks, per column, where the lower row won; ``left``
    and ``right`` which column won, both cleared where the ReLU cut the
    window's maximum. Ties go to the first: the upper row, the left column.
    """
    lower = bottom > top
    row_left, row_right = columns(np.maximum(top, bottom))
    out = np.maximum(row_left, row_right)
    positive = out > 0
    right = row_right > row_left
    right &= positive
    left = positive ^ right  # positive and not right
    np.maximum(out, 0, out=out)
    return out, lower, left, right


def maxpool_relu_backward(dout: np.ndarray, cache) -> np.ndarray:
    (c, n, h, w), lower_wins, left, right = cache
    dx = np.empty((c, n, h // 2, 2, w), dtype=dout.dtype)
    _unpool_relu(dout, lower_wins, left, right, dx[:, :, :, 0], dx[:, :, :, 1], _column_pairs)
    return dx.reshape(c, n, h, w)


def _unpool_relu(dout: np.ndarray, lower, left, right, top: np.ndarray, bottom: np.ndarray, columns) -> None:
    """The gradient of :func:`_pool_relu` into its inputs' places ``top`` and ``bottom``, with the same
    ``columns``: each window's gradient goes to the member that won, and nowhere if the ReLU cut it."""
    for column, mask in enumerate((left, right)):
        winners_top, winners_bottom = columns(top)[column], columns(bottom)[column]
        np.multiply(dout, mask, out=winners_top)
        np.multiply(winners_top, columns(lower)[column], out=winners_bottom)
        winners_top -= winners_bottom


# --- ReLU -------------------------------------------------------------------

def relu_forward(x: np.ndarray):
    out = np.maximum(x, 0)
    return out, out > 0


def relu_backward(dout: np.ndarray, positive: np.ndarray) -> np.ndarray:
    return dout * positive


# --- fully connected --------------------------------------------------------

def linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    """x (N, I), w (O, I), b (O,) -> (out (N, O), cache)."""
    out = x @ w.T
    out += b
    return out, (x, w)


def linear_backward(dout: np.ndarray, cache):
    x, w = cache
    return dout @ w, dout.T @ x, dout.sum(axis=0)


# --- loss -------------------------------------------------------------------

def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(logits: np.ndarray, labels: np.ndarray):
    """Mean softmax cross-entropy of (N, classes) logits -> (loss, dlogits)."""
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1))
    loss = float(np.mean(log_z - shifted[np.arange(n), labels]))
    grad = np.exp(shifted - log_z[:, None])
    grad[np.arange(n), labels] -= 1
    grad /= n
    return loss, grad
