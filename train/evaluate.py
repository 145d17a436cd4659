"""`lenet test`: accuracy of a model on the MNIST test set, every image once.

The model enters through one seam, a *logits function*: uint8 images
(N, 28, 28) in, logits (N, 10) out. ``float_logits`` builds it for a float
checkpoint; any other implementation (the integer model, a device) only has
to provide its own. Everything else, the batching, the per-class accuracy,
the confidence statistics, the predictions file and ``--json``, is shared.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import contract
from . import blob, checkpoint, golden, mnist
from .model import LeNet5, preprocess
from .runlog import FILE_ONLY, open_log

LogitsFn = Callable[[np.ndarray], np.ndarray]

RESULTS_DIR = Path("results")
PREDICTIONS_FILE = RESULTS_DIR / "test_predictions.txt"
DEFAULT_BATCH = 64


def float_logits(params: dict[str, np.ndarray]) -> LogitsFn:
    """The logits function of a float LeNet-5 with ``params``."""
    net = LeNet5()
    net.load_params(params)
    return lambda images: net.forward(preprocess(images))


def int_logits(path_bin: str | Path) -> LogitsFn:
    """The logits function of the golden integer model with the blob at ``path_bin``, in real units."""
    q = blob.load(path_bin)
    scale = q.logit_scale()  # real logits, so the confidences mean what the float ones do
    return lambda images: golden.run(q, images) * scale


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
    for s in tqdm(starts, desc="Testing", unit="batch", disable=not progress, leave=False):
        logits = np.asarray(logits_fn(images[s:s + batch_size]), dtype=np.float64)
        predictions[s:s + batch_size] = logits.argmax(axis=1)  # first maximum: ties to the lowest index
        z = logits - logits.max(axis=1, keepdims=True)
        confidences[s:s + batch_size] = 1.0 / np.exp(z).sum(axis=1)  # softmax of the largest logit
    return Report(np.asarray(labels, dtype=np.int64), predictions, confidences)


# --- the `lenet test` command ------------------------------------------------

def add_arguments(p) -> None:
    mnist.add_data_dir_argument(p)
    checkpoint.add_arguments(p)
    p.add_argument("--batch-size-test", type=positive_int, default=DEFAULT_BATCH,
                   help=f"images per forward pass (default {DEFAULT_BATCH}); results do not depend on it")
    p.add_argument("--save-predictions", action="store_true",
                   help=f"write index, true label, prediction and confidence per image to {PREDICTIONS_FILE}")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object on stdout")
    p.add_argument("--int", nargs="?", const="", default=None, metavar="BLOB",
                   help="evaluate the golden integer model of this weights blob instead "
                        "(default blob: <weights-dir>/<model-name>_int8.bin)")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


positive_int.__name__ = "positive integer"  # argparse names the type in its error message


def model_logits(args) -> tuple[LogitsFn, str]:
    """The logits function the command line asks for, and a description of it."""
    if args.int is not None:
        path = args.int or str(Path(args.weights_dir) / f"{args.model_name}_int8.bin")
        return int_logits(path), f"integer blob {path}"
    params = checkpoint.load(args.weights_dir, args.model_name)
    return float_logits(params), f"float checkpoint {checkpoint.paths(args.weights_dir, args.model_name)[0]}"


def run(args) -> int:
    log, log_path = open_log("test", console=not args.json)
    logits_fn, source = model_logits(args)
    images, labels = mnist.load("test", args.data_dir)
    log.info(f"Testing {source} on {len(images)} test images")
    report = evaluate(logits_fn, images, labels, args.batch_size_test, progress=not args.json)
    log.info("\n".join(report.lines()), extra=FILE_ONLY)
    predictions_path = report.write_predictions() if args.save_predictions else None
    if args.json:
        print(json.dumps({"model": source, **report.to_dict(),
                          "predictions_file": str(predictions_path) if predictions_path else None}))
    else:
        print("\n".join(report.lines()))
        if predictions_path:
            print(f"\nPredictions written to {predictions_path}")
        print(f"Log: {log_path}")
    return 0
