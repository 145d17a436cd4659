"""The golden integer LeNet-5: docs/contract.md section 1, executed.

Every other implementation (HLS C++, RTL, the board) must produce exactly
these integers. Interface:

- :func:`run` -- ``run(q, images, trace=None, acc_peak=None)`` -> int32
  logits ``(N, 10)``; ``images`` are uint8 ``(N, 28, 28)`` or ``(N, 784)``
  (or one image, ``(28, 28)`` or ``(784,)``);
  ``trace`` (a dict) receives every activation of ``contract.ACTIVATIONS``
  with a leading image axis; ``acc_peak`` (a dict) receives, per layer, the
  largest |accumulator| seen.
- :func:`classify` -- argmax of the logits, ties to the lowest index.
- :func:`result_words` -- the INFER output words of section 4 without the
  trailer: per image the class then the ten logits, as uint32.

Why float32 matrix products are exact here: every product ``w*x`` is an
integer with ``|w*x| <= 128*255``, and a layer has at most 400 of them, so
every partial sum, in any summation order, is an integer below
``400*128*255 < 2**24`` in magnitude, which float32 represents exactly. The
bias is then added, and the sum wrapped to int32, in integer arithmetic, so
the result is the contract's 32-bit wrapping arithmetic for any blob. BLAS
makes this 20-30x faster than NumPy's integer matmul (measured on conv2's shapes).
"""

from __future__ import annotations

import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import blob
from . import contract as C
from .blob import QuantizedLeNet
from .classifier import Classification
from .errors import LenetError
from .images import as_images

_MAX_TERMS = max(int(np.prod(layer.weight_shape[1:])) for layer in C.LAYERS)
assert _MAX_TERMS * 128 * 255 < 2**24, "float32 dot products would no longer be exact"

CHUNK = 128  # images per pass: conv1's im2col (CHUNK*784*25 float32, 10 MB) stays near the caches; measured best


def wrap32(a: np.ndarray) -> np.ndarray:
    """Reduce int64 values modulo 2**32 into int32 (two's complement wrap)."""
    return a.astype(np.int64).astype(np.uint32).view(np.int32)


def requantize(acc: np.ndarray, shift: int) -> np.ndarray:
    """``clamp((acc + r) >> s, 0, 255)`` with r = 2**(s-1) (0 if s == 0), the add wrapping to int32."""
    r = (1 << (shift - 1)) if shift > 0 else 0
    t = wrap32(acc.astype(np.int64) + r)
    return np.clip(t >> shift, 0, 255).astype(np.uint8)


def _dot(x: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """int32 ``bias + x @ w.T`` for uint8 rows ``x`` and int8 rows ``w`` (see the module docstring)."""
    s = np.asarray(x, dtype=np.float32) @ w.reshape(w.shape[0], -1).astype(np.float32).T
    return wrap32(s.astype(np.int64) + bias.astype(np.int64))


def conv_acc(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Valid cross-correlation accumulators: x (N,Ci,H,W) uint8 -> (N,Co,H-k+1,W-k+1) int32."""
    n, ci, _, _ = x.shape
    co, _, k, _ = w.shape
    # (N, Ci, Ho, Wo, k, k) -> (N, Ho, Wo, Ci, k, k): a patch flattens in the [in][ky][kx] order of w.
    # Converting before the window view makes the im2col copy the only copy.
    patches = sliding_window_view(x.astype(np.float32), (k, k), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5)
    ho, wo = patches.shape[1:3]
    acc = _dot(patches.reshape(n * ho * wo, ci * k * k), w, b)
    return acc.reshape(n, ho, wo, co).transpose(0, 3, 1, 2)


def maxpool2(x: np.ndarray) -> np.ndarray:
    """2x2 max-pool, stride 2, on (N, C, H, W)."""
    return np.maximum(np.maximum(x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2]),
                      np.maximum(x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2]))


def _forward(q: QuantizedLeNet, x: np.ndarray, trace: dict | None, peak: dict | None) -> np.ndarray:
    t, s = q.tensors, q.shifts
    act = {"input": np.pad(x, ((0, 0), (C.PAD, C.PAD), (C.PAD, C.PAD)))[:, None]}

    def layer(name: str, acc: np.ndarray) -> np.ndarray:
        if peak is not None and acc.size:
            peak[name] = max(peak.get(name, 0), -int(acc.min()), int(acc.max()))
        return requantize(acc, s[name]) if name in s else acc

    act["conv1"] = layer("conv1", conv_acc(act["input"], t["conv1.w"], t["conv1.b"]))
    act["pool1"] = maxpool2(act["conv1"])
    act["conv2"] = layer("conv2", conv_acc(act["pool1"], t["conv2.w"], t["conv2.b"]))
    act["pool2"] = maxpool2(act["conv2"])
    h = act["pool2"].reshape(len(x), -1)  # C order: i = c*25 + y*5 + x
    for name in ("fc1", "fc2", "fc3"):
        h = act[name] = layer(name, _dot(h, t[f"{name}.w"], t[f"{name}.b"]))
    if trace is not None:
        for name, _ in C.ACTIVATIONS:
            trace.setdefault(name, []).append(act[name])
    return act["fc3"]


def run(q: QuantizedLeNet, images: np.ndarray, trace: dict | None = None,
        acc_peak: dict | None = None) -> np.ndarray:
    """int32 logits (N, 10) of uint8 ``images``; see the module docstring for ``trace``/``acc_peak``."""
    x = as_images(images, "golden model")
    parts = {} if trace is not None else None
    logits = [_forward(q, x[i:i + CHUNK], parts, acc_peak) for i in range(0, len(x), CHUNK)]
    if trace is not None:
        for name, shape in C.ACTIVATIONS:
            empty = np.zeros((0, *shape), np.int32 if name == "fc3" else np.uint8)
            trace[name] = np.concatenate(parts[name]) if parts else empty
    return np.concatenate(logits) if logits else np.zeros((0, C.NUM_CLASSES), np.int32)


def classify(logits: np.ndarray) -> np.ndarray:
    """Class per image: index of the largest logit, the lowest index on ties (np.argmax's rule)."""
    return np.argmax(np.asarray(logits), axis=-1)


def result_words(logits: np.ndarray) -> np.ndarray:
    """INFER output words without the trailer: per image the class, then the ten logits (uint32)."""
    logits = np.asarray(logits, dtype=np.int32).reshape(-1, C.NUM_CLASSES)
    words = np.empty((len(logits), C.RESULT_WORDS), dtype=np.uint32)
    words[:, 0] = classify(logits)
    words[:, 1:] = logits.view(np.uint32)
    return words.reshape(-1)


class GoldenClassifier:
    """The golden model as a :class:`~lenet_pynq.classifier.Classifier` (``lenet bench --backend int``)."""

    label = "golden model (NumPy)"
    integer = True

    def __init__(self, args=None):
        self.model: QuantizedLeNet | None = None

    def load_weights(self, path) -> None:
        self.model = blob.load(path, require_manifest=False)

    def classify(self, images, batch_size: int | None = None) -> Classification:
        if self.model is None:
            raise LenetError("golden model: no weights; call load_weights(<blob>) first")
        t0 = time.perf_counter()
        logits = run(self.model, images)
        return Classification(classify(logits), logits, [time.perf_counter() - t0], [len(logits)])


    def __repr__(self) -> str:
        return "GoldenClassifier()" if self.model is None else f"GoldenClassifier({self.model!r})"
