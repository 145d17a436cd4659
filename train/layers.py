"""The layers of LeNet-5, each forward rule next to its gradient.

Feature maps are channel-major, ``(C, N, H, W)``: one channel of the whole
batch is one long contiguous row. That makes im2col a single strided copy
and col2im K*K whole-array additions, with no Python loop over pixels,
channels or samples. Fully connected layers take ``(N, features)``.

The functions are dtype-generic: the model runs them in float32, the
gradient checks in float64.

Convolution uses "full-width" columns: for an input row width ``W`` the
output of image ``n`` is computed at ``Ho * W`` positions, of which the last
``K - 1`` of every row straddle the image edge and are thrown away. The
waste (4 columns in 32 or 14) buys contiguous runs of ``Ho * W`` values in
both im2col and col2im, which is what makes them fast.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

# The convolution products are skinny (6 or 16 rows, 25 or 150 inner) and
# very long (N*Ho*W columns). Split over groups of images so that each one
# stays within OpenBLAS's small-matrix path (at most 100**3 multiply-adds):
# measured here, that runs them 2-4x faster than one big product.
_SMALL_GEMM = 100**3


def _image_groups(n: int, macs_per_image: int) -> int:
    """The fewest groups (a divisor of n) whose products stay under _SMALL_GEMM."""
    for groups in range(1, n + 1):
        if n % groups == 0 and (n // groups) * macs_per_image <= _SMALL_GEMM:
            return groups
    return n


# --- convolution (cross-correlation, stride 1, valid) -----------------------

def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    """x (C, N, H, W), w (O, C, K, K), b (O,) -> (out (O, N, H-K+1, W-K+1), cache)."""
    c, n, h, width = x.shape
    o, _, k, _ = w.shape
    ho, wo = h - k + 1, width - k + 1
    # One flat row per channel, padded so the last image's discarded
    # columns never read past the end of the buffer.
    flat = np.zeros((c, n * h * width + k - 1), dtype=x.dtype)
    flat[:, : n * h * width] = x.reshape(c, -1)
    s = flat.strides
    view = as_strided(flat, shape=(c, k, k, n, ho * width),
                      strides=(s[0], width * s[1], s[1], h * width * s[1], s[1]), writeable=False)
    cols = view.reshape(c * k * k, n * ho * width)  # copies: (C*K*K, N*Ho*W)
    g = _image_groups(n, o * c * k * k * ho * width)
    z = np.matmul(w.reshape(o, -1), cols.reshape(-1, g, n // g * ho * width).transpose(1, 0, 2))
    z = np.add(z.transpose(1, 0, 2), b[:, None, None])  # back to channel-major, with the bias, in one pass
    out = z.reshape(o, n, ho, width)[..., :wo]
    return out, (x.shape, w, cols)


def conv_backward(dout: np.ndarray, cache, need_dx: bool = True):
    """dout (O, N, Ho, Wo) -> (dx (C, N, H, W) or None, dw, db)."""
    (c, n, h, width), w, cols = cache
    o, _, k, _ = w.shape
    ho, wo = dout.shape[2], dout.shape[3]
    dz = np.zeros((o, n, ho, width), dtype=dout.dtype)
    dz[..., :wo] = dout  # the discarded columns get no gradient
    db = dout.sum(axis=(1, 2, 3))
    dz2 = dz.reshape(o, -1)
    g = _image_groups(n, o * cols.shape[0] * ho * width)
    dw = np.matmul(dz2.reshape(o, g, -1).transpose(1, 0, 2),
                   cols.reshape(cols.shape[0], g, -1).transpose(1, 2, 0)).sum(axis=0)
    dw = dw.reshape(w.shape)
    if not need_dx:
        return None, dw, db
    # dcols rows in (ky, kx, c) order, each group's product written straight
    # into its columns, so that every kernel offset is one contiguous block.
    w_t = w.transpose(2, 3, 1, 0).reshape(k * k * c, o)
    dcols = np.empty((k * k * c, n * ho * width), dtype=dout.dtype)
    np.matmul(w_t, dz2.reshape(o, g, -1).transpose(1, 0, 2), out=dcols.reshape(k * k * c, g, -1).transpose(1, 0, 2))
    dcols = dcols.reshape(k, k, c, n, ho * width)
    # Room for the largest shift, so every shifted window is a plain slice.
    size = n * h * width
    flat = np.zeros((c, size + (k - 1) * (width + 1)), dtype=dout.dtype)
    for ky in range(k):  # K*K whole-batch additions: col2im
        for kx in range(k):
            start = ky * width + kx
            dst = flat[:, start:start + size].reshape(c, n, h * width)[..., : ho * width]
            dst += dcols[ky, kx]
    dx = flat[:, :size].reshape(c, n, h, width)
    return dx, dw, db


# --- max-pool 2x2, stride 2 -------------------------------------------------

def maxpool_forward(x: np.ndarray):
    """x (C, N, H, W) with H, W even -> (out (C, N, H/2, W/2), cache).

    Rows first, then columns: each step is a maximum of two half-size
    arrays with long contiguous runs. The masks record which of each pair
    won (ties go to the first, as in every framework), so the gradient
    reaches exactly one input per window.
    """
    c, n, h, w = x.shape
    pairs = x.reshape(c, n, h // 2, 2, w)
    lower_wins = pairs[:, :, :, 1] > pairs[:, :, :, 0]
    rows = np.maximum(pairs[:, :, :, 0], pairs[:, :, :, 1])
    cols = rows.reshape(c, n, h // 2, w // 2, 2)
    right_wins = cols[..., 1] > cols[..., 0]
    out = np.maximum(cols[..., 0], cols[..., 1])
    return out, (x.shape, lower_wins, right_wins)


def maxpool_backward(dout: np.ndarray, cache) -> np.ndarray:
    (c, n, h, w), lower_wins, right_wins = cache
    drows = np.empty((c, n, h // 2, w // 2, 2), dtype=dout.dtype)
    right = dout * right_wins
    drows[..., 1] = right
    drows[..., 0] = dout - right
    drows = drows.reshape(c, n, h // 2, w)
    dx = np.empty((c, n, h // 2, 2, w), dtype=dout.dtype)
    lower = drows * lower_wins
    dx[:, :, :, 1] = lower
    dx[:, :, :, 0] = drows - lower
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
