"""`lenet test`: accuracy of a float checkpoint, or of its integer blob, on the MNIST test set.

The batching, per-class accuracy, confidences and predictions file are the
core's evaluation report (``lenet_pynq.report``); this module supplies the
float model's logits function and the command.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .. import blob, golden, mnist, weights
from ..classifier import Classification
from ..outputs import check_writable
from ..report import DEFAULT_BATCH, PREDICTIONS_FILE, LogitsFn, evaluate, positive_int
from ..runlog import FILE_ONLY, log_path, open_log
from . import checkpoint
from .model import LeNet5, preprocess


def float_logits(params: dict[str, np.ndarray]) -> LogitsFn:
    """The logits function of a float LeNet-5 with ``params``."""
    net = LeNet5()
    net.load_params(params)
    return lambda images: net.forward(preprocess(images))


class FloatClassifier:
    """The float model as a :class:`~lenet_pynq.classifier.Classifier` (``lenet bench --backend float``).

    Its weights are a float checkpoint: ``load_weights`` takes the checkpoint's ``.json``.
    """

    label = "float model (NumPy)"
    integer = False

    def __init__(self, args=None):
        self.args = args
        self.source = None
        self.logits = None

    def load_weights(self, path=None) -> None:
        """The checkpoint's ``.json``; by default the one the command line names, else the shipped one."""
        if path is None:
            directory, name = weights.find_checkpoint(self.args, checkpoint.SHIPPED_DIR)
            path = checkpoint.paths(directory, name)[0]
        self.logits = float_logits(checkpoint.load(Path(path).parent, Path(path).stem))
        self.source = path

    def classify(self, images, batch_size: int | None = None) -> Classification:
        t0 = time.perf_counter()
        logits = self.logits(images)
        return Classification(logits.argmax(axis=1), logits, [time.perf_counter() - t0], [len(logits)])


    def __repr__(self) -> str:
        return f"FloatClassifier({self.source or 'no checkpoint'})"


def int_logits(path_bin: str | Path) -> LogitsFn:
    """The logits function of the golden integer model with the blob at ``path_bin``, in real units."""
    q = blob.load(path_bin)
    scale = q.logit_scale()  # real logits, so the confidences mean what the float ones do
    return lambda images: golden.run(q, images) * scale


# --- the `lenet test` command ------------------------------------------------

def add_arguments(p) -> None:
    mnist.add_data_dir_argument(p)
    weights.add_arguments(p)
    p.add_argument("--batch-size-test", type=positive_int, default=DEFAULT_BATCH,
                   help=f"images per forward pass (default {DEFAULT_BATCH}); results do not depend on it")
    p.add_argument("--save-predictions", nargs="?", const=str(PREDICTIONS_FILE), default=None, metavar="PATH",
                   help=f"write index, true label, prediction and confidence per image to PATH "
                        f"(default {PREDICTIONS_FILE})")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object on stdout")
    p.add_argument("--int", nargs="?", const="", default=None, metavar="BLOB",
                   help="evaluate the golden integer model of this weights blob instead "
                        "(default blob: <weights-dir>/<model-name>_int8.bin)")


def model_logits(args) -> tuple[LogitsFn, str]:
    """The logits function the command line asks for, and a description of it."""
    if args.int is not None:
        path = weights.find_blob(args, args.int)
        return int_logits(path), f"integer blob {path}"
    directory, name = weights.find_checkpoint(args, checkpoint.SHIPPED_DIR)
    params = checkpoint.load(directory, name)
    return float_logits(params), f"float checkpoint {checkpoint.paths(directory, name)[0]}"


def run(args) -> int:
    if args.save_predictions is not None:
        check_writable(args.save_predictions, "the predictions file")
    log = open_log("test", console=not args.json)
    logits_fn, source = model_logits(args)
    images, labels = mnist.load("test", args.data_dir)
    log.info(f"Testing {source} on {len(images)} test images")
    report = evaluate(logits_fn, images, labels, args.batch_size_test, progress=not args.json)
    log.info("\n".join(report.lines()), extra=FILE_ONLY)
    if args.json:
        predictions_path = report.write_predictions(args.save_predictions) if args.save_predictions else None
        print(json.dumps({"model": source, **report.to_dict(),
                          "predictions_file": str(predictions_path) if predictions_path else None}))
        return 0
    print("\n".join(report.lines()))  # first: a predictions file that fails now costs only itself
    if args.save_predictions:
        print(f"\nPredictions written to {report.write_predictions(args.save_predictions)}")
    path = log_path(log)
    if path:
        print(f"Log: {path}")
    return 0
