"""The evaluation report: every image of a labelled set classified once, and what follows from it.

One definition of accuracy, per-class accuracy, confidence and the confusion
matrix for every model and backend (``lenet test``, ``lenet bench``, the
notebook). A model enters through a *logits function*: uint8 images
(N, 28, 28) in, logits (N, 10) out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import contract

LogitsFn = Callable[[np.ndarray], np.ndarray]

PREDICTIONS_FILE = Path("results") / "test_predictions.txt"
# Images per logits call when the caller does not choose: the float model's
# forward pass is fastest near 64 (larger batches outgrow the L2 cache).
DEFAULT_BATCH = 64


@dataclass
class Report:
    """Predictions for a labelled set, and the statistics derived from them."""

    labels: np.ndarray  # (N,) true classes
    predictions: np.ndarray  # (N,) argmax of the logits, ties to the lowest index
    confidences: np.ndarray  # (N,) softmax probability of the predicted class

    @property
    def total(self) -> int:
        return int(self.labels.size)

    @property
    def correct(self) -> int:
        return int((self.predictions == self.labels).sum())

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def per_class(self) -> list[tuple[int, int]]:
        """(correct, total) for every class."""
        hit = self.predictions == self.labels
        return [(int(hit[self.labels == k].sum()), int((self.labels == k).sum()))
                for k in range(contract.NUM_CLASSES)]

    def confidence_stats(self) -> dict[str, float]:
        c = self.confidences
        return {"mean": float(c.mean()), "min": float(c.min()), "max": float(c.max())} if c.size else {}

    def lines(self) -> list[str]:
        out = ["Evaluation results:", f"Total samples: {self.total}", f"Correct predictions: {self.correct}",
               f"Accuracy: {self.accuracy:.4f}", "", "Per-class accuracy:"]
        for k, (hit, n) in enumerate(self.per_class()):
            out.append(f"Class {k}: {hit / n if n else 0:.4f} ({hit}/{n})")
        stats = self.confidence_stats()
        if stats:
            out += ["", "Confidence:", f"Mean confidence: {stats['mean']:.4f}",
                    f"Min confidence: {stats['min']:.4f}", f"Max confidence: {stats['max']:.4f}"]
        return out

    def to_dict(self) -> dict:
        return {
            "total": self.total, "correct": self.correct, "accuracy": self.accuracy,
            "per_class": [{"class": k, "correct": hit, "total": n, "accuracy": hit / n if n else 0.0}
                          for k, (hit, n) in enumerate(self.per_class())],
            "confidence": self.confidence_stats(),
        }

    def write_predictions(self, path: str | Path = PREDICTIONS_FILE) -> Path:
        """One line per image: index, true label, predicted label, confidence."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [f"{i} {t} {p} {c:.6f}" for i, (t, p, c) in
                enumerate(zip(self.labels.tolist(), self.predictions.tolist(), self.confidences.tolist()))]
        path.write_text("# index true predicted confidence\n" + "\n".join(rows) + "\n")
        return path


def evaluate(logits_fn: LogitsFn, images: np.ndarray, labels: np.ndarray,
             batch_size: int = DEFAULT_BATCH, progress: bool = False) -> Report:
    """Run ``logits_fn`` over every image exactly once (the last batch may be short)."""
    if batch_size < 1:
        raise ValueError(f"batch size {batch_size} must be at least 1")
    predictions = np.empty(len(images), dtype=np.int64)
    confidences = np.empty(len(images), dtype=np.float64)
    starts = range(0, len(images), batch_size)
    # A bar only on a terminal (disable=None): a redirected log gets no progress updates.
    for s in tqdm(starts, desc="Testing", unit="batch", disable=None if progress else True, leave=False):
        logits = np.asarray(logits_fn(images[s:s + batch_size]), dtype=np.float64)
        predictions[s:s + batch_size] = logits.argmax(axis=1)  # first maximum: ties to the lowest index
        z = logits - logits.max(axis=1, keepdims=True)
        confidences[s:s + batch_size] = 1.0 / np.exp(z).sum(axis=1)  # softmax of the largest logit
    return Report(np.asarray(labels, dtype=np.int64), predictions, confidences)


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """(10, 10) counts: row = true class, column = predicted class."""
    m = np.zeros((contract.NUM_CLASSES, contract.NUM_CLASSES), dtype=np.int64)
    np.add.at(m, (np.asarray(labels), np.asarray(predictions)), 1)
    return m


def confusion_lines(m: np.ndarray) -> list[str]:
    width = max(5, len(str(m.max())) + 1)
    head = "true\\pred" + "".join(f"{k:>{width}}" for k in range(len(m)))
    return ["Confusion matrix (rows: true class, columns: predicted):", head] + [
        f"{k:>9}" + "".join(f"{v:>{width}}" for v in row) for k, row in enumerate(m)]


def plot_confusion(m: np.ndarray, title: str):
    """The confusion matrix as a matplotlib figure (counts on a log colour scale), for reports and notebooks."""
    import matplotlib.pyplot as plt  # optional: only plots need it

    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(np.log1p(m), cmap="Blues")
    for t in range(len(m)):
        for p in range(len(m)):
            if m[t, p]:
                ax.text(p, t, int(m[t, p]), ha="center", va="center", fontsize=7,
                        color="white" if m[t, p] > m.max() / 4 else "black")
    ax.set_xticks(range(len(m)))
    ax.set_yticks(range(len(m)))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


positive_int.__name__ = "positive integer"  # argparse names the type in its error message


def _float_type(name: str, ok):
    """An argparse type: a finite float for which ``ok(value)`` holds; argparse names ``name`` on refusal."""
    def parse(text: str) -> float:
        value = float(text)
        if not math.isfinite(value) or not ok(value):
            raise ValueError(text)
        return value
    parse.__name__ = name
    return parse


positive_float = _float_type("positive finite number", lambda v: v > 0)
non_negative_float = _float_type("finite number >= 0", lambda v: v >= 0)
unit_interval = _float_type("number in [0, 1)", lambda v: 0 <= v < 1)
