"""`lenet infer`: classify one test image and show (or dump) every layer.

With ``--save-intermediate`` the activations go to a per-layer dump
(docs/contract.md section 7: manifest.json plus one float32 C-order file per
layer, with shapes and statistics), the format `lenet compare` reads, so
the float model can be put side by side with the golden model, the C-sim or
the RTL.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import contract, dumps, mnist, weights
from ..errors import LenetError
from ..runlog import open_log
from . import checkpoint
from .layers import softmax
from .model import LeNet5, preprocess

DEFAULT_DUMP_DIR = Path("intermediate")


def trace_image(params: dict[str, np.ndarray], image: np.ndarray) -> dict[str, np.ndarray]:
    """Every activation of contract.ACTIVATIONS for one uint8 image, plus its class."""
    net = LeNet5()
    net.load_params(params)
    trace: dict[str, np.ndarray] = {}
    logits = net.forward(preprocess(image[None]), trace)
    trace["class"] = logits.argmax(axis=1).astype(np.uint8)
    return trace


def add_arguments(p) -> None:
    p.add_argument("--test-sample", type=int, default=0, help="index of the test image (default 0)")
    mnist.add_data_dir_argument(p)
    weights.add_arguments(p)
    p.add_argument("--save-intermediate", action="store_true",
                   help="write every layer's output as a per-layer dump (see --dump-dir)")
    p.add_argument("--dump-dir", type=Path, default=DEFAULT_DUMP_DIR,
                   help=f"directory of the per-layer dump (default {DEFAULT_DUMP_DIR})")


def run(args) -> int:
    log, _ = open_log("infer")
    params = checkpoint.load(args.weights_dir, args.model_name)
    images, labels = mnist.load("test", args.data_dir)
    if not 0 <= args.test_sample < len(images):
        raise LenetError(f"--test-sample {args.test_sample} is out of range: the test set has "
                         f"{len(images)} images, use 0 to {len(images) - 1}")
    trace = trace_image(params, images[args.test_sample])
    log.info(f"Test sample {args.test_sample}, input shape {trace['input'].shape}")
    for name, _ in contract.ACTIVATIONS:
        a = trace[name]
        log.info(f"{name}: shape {a.shape}, range [{a.min():.6f}, {a.max():.6f}], "
                 f"mean {a.mean():.6f}, std {a.std():.6f}")
    predicted, label = int(trace["class"][0]), int(labels[args.test_sample])
    confidence = float(softmax(trace["fc3"].astype(np.float64))[0, predicted])
    log.info(f"Predicted class: {predicted} (confidence {confidence:.4f})")
    log.info(f"True class: {label}")
    log.info(f"Correct: {predicted == label}")
    if args.save_intermediate:
        d = dumps.write(args.dump_dir, trace, source=f"float {checkpoint.paths(args.weights_dir, args.model_name)[0]} "
                                                     f"test sample {args.test_sample}")
        log.info(f"Per-layer dump written to {d}")
    return 0
