"""The float LeNet-5 of docs/contract.md section 1, and its preprocessing.

``preprocess`` is the one definition of the float model's input: raw IDX
pixels divided by 255 and zero-padded to 32x32. Training, evaluation,
inference, calibration and the per-layer dumps all call it.

The weights are created (He initialisation) when the model is constructed
and only ever replaced by ``load_params``: a forward pass never initialises
anything, so loaded weights cannot be overwritten behind the caller's back.
"""

from __future__ import annotations

import numpy as np

from .. import contract
from ..threads import run_parts
from . import layers
from .layers import cross_entropy

DTYPE = np.float32
PARAM_NAMES = tuple(s.name for s in contract.SECTIONS)
PARAM_SHAPES = {s.name: s.shape for s in contract.SECTIONS}
_POOL2_FEATURES = int(np.prod(contract.ACTIVATIONS[4][1]))  # fc1's input: 16*5*5


def preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28) or (N, 784) -> float32 (N, 1, 32, 32) in [0, 1]."""
    images = np.asarray(images)
    side, pad = contract.IMAGE_SIDE, contract.PAD
    if images.ndim == 2 and images.shape[1] == contract.IMAGE_BYTES:
        images = images.reshape(-1, side, side)
    if images.ndim != 3 or images.shape[1:] != (side, side):
        raise ValueError(f"expected images of shape (N, {side}, {side}) or (N, {side * side}), got {images.shape}")
    x = np.zeros((images.shape[0], 1, contract.PADDED_SIDE, contract.PADDED_SIDE), dtype=DTYPE)
    np.divide(images, DTYPE(255), out=x[:, 0, pad:pad + side, pad:pad + side], dtype=DTYPE)
    return x


def he_init(seed: int = 0) -> dict[str, np.ndarray]:
    """He (Kaiming normal) weights, std sqrt(2 / fan_in); zero biases."""
    rng = np.random.default_rng(seed)
    params = {}
    for name in PARAM_NAMES:
        shape = PARAM_SHAPES[name]
        if name.endswith(".w"):
            fan_in = int(np.prod(shape[1:]))
            params[name] = (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(DTYPE)
        else:
            params[name] = np.zeros(shape, dtype=DTYPE)
    return params


class LeNet5:
    """LeNet-5: conv1-ReLU-pool1-conv2-ReLU-pool2-fc1-ReLU-fc2-ReLU-fc3.

    ``params`` maps the contract's section names (``conv1.w`` ...) to arrays
    of exactly the contract's shapes.
    """

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.params = he_init(seed)
        self._cache = None

    def __repr__(self) -> str:
        n = sum(p.size for p in self.params.values())
        return f"LeNet5(seed={self.seed}, params={n:,} {next(iter(self.params.values())).dtype})"

    def load_params(self, params: dict[str, np.ndarray]) -> None:
        """Replace every parameter (copies); names and shapes must be the contract's.

        The dtype is kept: float32 from a checkpoint, float64 in the gradient checks.
        """
        if set(params) != set(PARAM_NAMES):
            raise ValueError(f"parameters {sorted(params)} are not the contract's {list(PARAM_NAMES)}")
        for name in PARAM_NAMES:
            if tuple(params[name].shape) != PARAM_SHAPES[name]:
                raise ValueError(f"{name}: shape {params[name].shape}, expected {PARAM_SHAPES[name]}")
        self.params = {name: np.array(params[name]) for name in PARAM_NAMES}

    def forward(self, x: np.ndarray, trace: dict | None = None) -> np.ndarray:
        """Logits (N, 10) of preprocessed images ``x`` (N, 1, 32, 32).

        If ``trace`` is a dict it receives every activation of
        contract.ACTIVATIONS, batch-major (N, ...), conv layers after ReLU.
        The state needed by ``backward`` is kept for the last call.
        """
        logits, self._cache = _forward(self.params, x, trace)
        return logits

    def backward(self, dlogits: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of every parameter, given d(loss)/d(logits) of the last forward."""
        if self._cache is None:
            raise RuntimeError("backward() needs a forward() first")
        return _backward(self.params, self._cache, dlogits)

    def loss_and_gradients(self, x: np.ndarray, labels: np.ndarray, threads: int = 1):
        """(mean cross-entropy, logits (N, 10), gradient of every parameter) of one batch.

        With ``threads`` > 1 the batch is cut into that many parts, computed
        at the same time in as many threads (NumPy releases the GIL in BLAS
        and in its array loops), and the parts' gradients are summed, each
        weighted by its share of the batch: the same gradient as one thread
        up to float rounding. Run it with a one-thread BLAS
        (``lenet_pynq.threads.limit_blas(1)``), so that the threads get the cores.
        Leaves no state for ``backward``.
        """
        n = len(x)
        bounds = np.linspace(0, n, min(threads, n) + 1).astype(int)
        parts = [(x[a:b], labels[a:b], (b - a) / n) for a, b in zip(bounds[:-1], bounds[1:])]
        results = run_parts(lambda part: _part_gradients(self.params, *part), parts, threads)
        loss = sum(r[0] for r in results)
        logits = np.concatenate([r[1] for r in results])
        grads = results[0][2]
        for r in results[1:]:
            for k, g in r[2].items():
                grads[k] += g
        return loss, logits, grads


def _part_gradients(params: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray, share: float):
    """(share * mean loss, logits, share * gradients) of one part of a batch."""
    logits, cache = _forward(params, x)
    loss, dlogits = cross_entropy(logits, labels)
    dlogits *= dlogits.dtype.type(share)
    return share * loss, logits, _backward(params, cache, dlogits)


def _forward(p: dict[str, np.ndarray], x: np.ndarray, trace: dict | None = None):
    """(logits, cache) of preprocessed images ``x``; see LeNet5.forward."""
    cache = {}
    h = x.transpose(1, 0, 2, 3)  # (1, N, 32, 32): a view, for one input channel
    n = x.shape[0]
    if trace is None:  # one product per conv layer, channel-last maps (layers.conv_pool_relu_*)
        pool1, cache["conv1+pool1"] = layers.conv_pool_relu_image_forward(h, p["conv1.w"], p["conv1.b"])
        pool2, cache["conv2+pool2"] = layers.conv_pool_relu_forward(pool1, p["conv2.w"], p["conv2.b"])
        flat = pool2.transpose(0, 3, 1, 2).reshape(n, _POOL2_FEATURES)  # i = c*25 + y*5 + x
    else:  # the conv layers' maps before pooling, which the one-product layers never form
        z1, cache["conv1"] = layers.conv_forward(h, p["conv1.w"], p["conv1.b"])
        pool1, cache["pool1"] = layers.maxpool_relu_forward(z1)
        z2, cache["conv2"] = layers.conv_forward(pool1, p["conv2.w"], p["conv2.b"])
        pool2, cache["pool2"] = layers.maxpool_relu_forward(z2)
        flat = pool2.transpose(1, 0, 2, 3).reshape(n, _POOL2_FEATURES)
    h, cache["fc1"] = layers.linear_forward(flat, p["fc1.w"], p["fc1.b"])
    fc1, cache["relu3"] = layers.relu_forward(h)
    h, cache["fc2"] = layers.linear_forward(fc1, p["fc2.w"], p["fc2.b"])
    fc2, cache["relu4"] = layers.relu_forward(h)
    logits, cache["fc3"] = layers.linear_forward(fc2, p["fc3.w"], p["fc3.b"])
    if trace is not None:
        trace.update({
            "input": np.ascontiguousarray(x),
            "conv1": _batch_major(np.maximum(z1, 0)),
            "pool1": _batch_major(pool1),
            "conv2": _batch_major(np.maximum(z2, 0)),
            "pool2": _batch_major(pool2),
            "fc1": fc1, "fc2": fc2, "fc3": logits,
        })
    return logits, cache


def _backward(p: dict[str, np.ndarray], c: dict, dlogits: np.ndarray) -> dict[str, np.ndarray]:
    g = {}
    d, g["fc3.w"], g["fc3.b"] = layers.linear_backward(dlogits, c["fc3"])
    d = layers.relu_backward(d, c["relu4"])
    d, g["fc2.w"], g["fc2.b"] = layers.linear_backward(d, c["fc2"])
    d = layers.relu_backward(d, c["relu3"])
    d, g["fc1.w"], g["fc1.b"] = layers.linear_backward(d, c["fc1"])
    d = d.reshape((dlogits.shape[0],) + contract.ACTIVATIONS[4][1])  # (N, C, H, W)
    if "conv2+pool2" in c:
        d, g["conv2.w"], g["conv2.b"] = layers.conv_pool_relu_backward(d.transpose(0, 2, 3, 1), c["conv2+pool2"])
        g["conv1.w"], g["conv1.b"] = layers.conv_pool_relu_image_backward(d, c["conv1+pool1"])
    else:
        d = layers.maxpool_relu_backward(d.transpose(1, 0, 2, 3), c["pool2"])
        d, g["conv2.w"], g["conv2.b"] = layers.conv_backward(d, c["conv2"])
        d = layers.maxpool_relu_backward(d, c["pool1"])
        _, g["conv1.w"], g["conv1.b"] = layers.conv_backward(d, c["conv1"], need_dx=False)
    return {name: g[name] for name in PARAM_NAMES}


def _batch_major(a: np.ndarray) -> np.ndarray:
    """(C, N, H, W) -> (N, C, H, W), contiguous."""
    return np.ascontiguousarray(a.transpose(1, 0, 2, 3))
