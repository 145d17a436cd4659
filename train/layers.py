"""The layers of LeNet-5, each forward rule next to its gradient.

Feature maps are channel-major, ``(C, N, H, W)``: one channel of the whole
batch is one long contiguous row. That makes im2col a single strided copy
and col2im K*K whole-array additions, with no Python loop over pixels,
channels or samples. Fully connected layers take ``(N, features)``.

The functions are dtype-generic: the model runs them in float32, the
gradient checks in float64.

A convolution computes each output row at ``row`` positions, read from
``row`` consecutive input columns per kernel offset. With ``full_width``
(conv1: 32 columns, 28 outputs) ``row`` is the input width: the last
``K - 1`` positions of every row straddle the image edge and are thrown
away, and in exchange im2col and col2im move contiguous runs of ``Ho * W``
values. Without it (conv2: 14 columns, 10 outputs) ``row`` is the output
width: runs of 10, but no product spends 29% of its work on spare columns.
Measured here with one BLAS thread, each choice was the faster one for its
layer.

Every product is one BLAS call (with one BLAS thread, splitting them over
groups of images, as an earlier version did for two threads, measured up
to 2.4x slower), oriented so that both operands are read along their
contiguous rows.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

# --- convolution (cross-correlation, stride 1, valid) -----------------------

def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, full_width: bool = False):
    """x (C, N, H, W), w (O, C, K, K), b (O,) -> (out (O, N, H-K+1, W-K+1), cache)."""
    c, n, h, width = x.shape
    o, _, k, _ = w.shape
    ho, wo = h - k + 1, width - k + 1
    row = width if full_width else wo
    # One flat row per channel, padded so that the last image's spare columns never read past the end.
    flat = np.zeros((c, n * h * width + k - 1), dtype=x.dtype)
    flat[:, : n * h * width] = x.reshape(c, -1)
    s = flat.strides[1]
    view = as_strided(flat, shape=(c, k, k, n, ho, row),
                      strides=(flat.strides[0], width * s, s, h * width * s, width * s, s), writeable=False)
    cols = view.reshape(c * k * k, n * ho * row)  # copies: (C*K*K, N*Ho*row)
    z = w.reshape(o, -1) @ cols
    z += b[:, None]
    out = z.reshape(o, n, ho, row)[..., :wo]
    return out, (x.shape, w, cols, row)


def conv_backward(dout: np.ndarray, cache, need_dx: bool = True):
    """dout (O, N, Ho, Wo) -> (dx (C, N, H, W) or None, dw, db)."""
    (c, n, h, width), w, cols, row = cache
    o, _, k, _ = w.shape
    ho, wo = dout.shape[2], dout.shape[3]
    if row == wo:
        dz = np.ascontiguousarray(dout)
    else:
        dz = np.zeros((o, n, ho, row), dtype=dout.dtype)
        dz[..., :wo] = dout  # the spare columns get no gradient
    db = dout.sum(axis=(1, 2, 3))
    dz2 = dz.reshape(o, -1)
    dw = (dz2 @ cols.T).reshape(w.shape)
    if not need_dx:
        return None, dw, db
    # dcols rows in (ky, kx, c) order, so that every kernel offset is one contiguous block.
    w_t = w.transpose(2, 3, 1, 0).reshape(k * k * c, o)
    dcols = (w_t @ dz2).reshape(k, k, c, n, ho, row)
    # Room for the largest shift, so every shifted window is a plain slice.
    size = n * h * width
    flat = np.zeros((c, size + (k - 1) * (width + 1)), dtype=dout.dtype)
    for ky in range(k):  # K*K whole-batch additions: col2im
        for kx in range(k):
            start = ky * width + kx
            dst = flat[:, start:start + size].reshape(c, n, h, width)[:, :, :ho, :row]
            dst += dcols[ky, kx]
    dx = flat[:, :size].reshape(c, n, h, width)
    return dx, dw, db


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
    lower_wins = pairs[:, :, :, 1] > pairs[:, :, :, 0]
    rows = np.maximum(pairs[:, :, :, 0], pairs[:, :, :, 1])
    cols = rows.reshape(c, n, h // 2, w // 2, 2)
    out = np.maximum(cols[..., 0], cols[..., 1])
    positive = out > 0
    right = cols[..., 1] > cols[..., 0]
    right &= positive
    left = positive ^ right  # positive and not right
    np.maximum(out, 0, out=out)
    return out, (x.shape, lower_wins, left, right)


def maxpool_relu_backward(dout: np.ndarray, cache) -> np.ndarray:
    (c, n, h, w), lower_wins, left, right = cache
    drows = np.empty((c, n, h // 2, w // 2, 2), dtype=dout.dtype)
    np.multiply(dout, left, out=drows[..., 0])
    np.multiply(dout, right, out=drows[..., 1])
    drows = drows.reshape(c, n, h // 2, w)
    dx = np.empty((c, n, h // 2, 2, w), dtype=dout.dtype)
    np.multiply(drows, lower_wins, out=dx[:, :, :, 1])
    np.subtract(drows, dx[:, :, :, 1], out=dx[:, :, :, 0])
    return dx.reshape(c, n, h, w)


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
