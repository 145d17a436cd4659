"""Optimizers and the learning-rate schedule, updating parameters in place.

SGD with momentum and a cosine schedule is the default: measured here (see
DESIGN.md) it is the recipe that settles above 99.0% within 5 epochs, while
Adam or a constant rate swing by a few tenths of a point between epochs.
"""

from __future__ import annotations

import math

import numpy as np


def cosine_lr(base_lr: float, step: int, total_steps: int) -> float:
    """base_lr * (1 + cos(pi * step / total_steps)) / 2: from base_lr down to 0."""
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1)))


class _Stateful:
    """The optimizer's running buffers as flat named arrays, for a checkpoint that resumes training exactly."""

    def buffers(self) -> dict[str, dict[str, np.ndarray]]:
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray]:
        out = {f"{b}/{k}": a for b, arrays in self.buffers().items() for k, a in arrays.items()}
        out["step_count"] = np.array(getattr(self, "t", 0), dtype=np.int64)
        return out

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`state`'s arrays in place; a missing or misshapen buffer is a ValueError."""
        expected = set(self.state())
        if set(state) != expected:
            raise ValueError(f"optimizer state has {sorted(state)}, expected {sorted(expected)}")
        for b, arrays in self.buffers().items():
            for k, a in arrays.items():
                src = state[f"{b}/{k}"]
                if src.shape != a.shape or src.dtype != a.dtype:
                    raise ValueError(f"optimizer buffer {b}/{k} is {src.dtype}{list(src.shape)}, "
                                     f"expected {a.dtype}{list(a.shape)}")
                a[...] = src
        if hasattr(self, "t"):
            self.t = int(state["step_count"])


class SGD(_Stateful):
    """SGD with (heavy-ball) momentum and L2 weight decay: v = m*v + g + wd*p; p -= lr*v."""

    def __init__(self, params: dict[str, np.ndarray], momentum: float = 0.9, weight_decay: float = 0.0):
        self.params = params
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity = {k: np.zeros_like(p) for k, p in params.items()}

    def __repr__(self) -> str:
        return f"SGD(momentum={self.momentum}, weight_decay={self.weight_decay})"

    def buffers(self) -> dict[str, dict[str, np.ndarray]]:
        return {"velocity": self.velocity}

    def step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        for k, p in self.params.items():
            v = self.velocity[k]
            v *= self.momentum
            v += grads[k]
            if self.weight_decay:
                v += p.dtype.type(self.weight_decay) * p
            p -= p.dtype.type(lr) * v


class Adam(_Stateful):
    """Adam (Kingma & Ba) with bias correction."""

    def __init__(self, params: dict[str, np.ndarray], beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.params = params
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self.t = 0

    def __repr__(self) -> str:
        return f"Adam(beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"

    def buffers(self) -> dict[str, dict[str, np.ndarray]]:
        return {"m": self.m, "v": self.v}

    def step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        scale = lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for k, p in self.params.items():
            g, m, v = grads[k], self.m[k], self.v[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= p.dtype.type(scale) * m / (np.sqrt(v) + p.dtype.type(self.eps))


OPTIMIZERS = {"sgd": SGD, "adam": Adam}
