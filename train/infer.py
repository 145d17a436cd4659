"""`lenet infer`: classify one test image and show (or dump) every layer.

With ``--save-intermediate`` the activations go to a per-layer dump
(docs/contract.md section 7: manifest.json plus one float32 C-order file per
layer, with shapes and statistics), the format `lenet compare` reads, so
the float model can be put side by side with the golden model, the C-sim or
the RTL.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import contract, dumps, mnist, weights
from ..errors import LenetError
from ..outputs import check_writable
from ..runlog import open_log
from . import checkpoint
from .layers import softmax
from .model import LeNet5, preprocess

DEFAULT_DUMP_DIR = Path("build") / "intermediate"


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
    p.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")


def run(args) -> int:
    """The prediction and the layer statistics go to stdout (the result); notes and the log to stderr."""
    if args.save_intermediate:
        check_writable(args.dump_dir, "the dump directory", directory=True)
    log = open_log("infer", console=False)
    directory, name = weights.find_checkpoint(args, checkpoint.SHIPPED_DIR)
    params = checkpoint.load(directory, name)
    images, labels = mnist.load("test", args.data_dir)
    if not 0 <= args.test_sample < len(images):
        raise LenetError(f"--test-sample {args.test_sample} is out of range: the test set has "
                         f"{len(images)} images, use 0 to {len(images) - 1}")
    trace = trace_image(params, images[args.test_sample])
    predicted, label = int(trace["class"][0]), int(labels[args.test_sample])
    confidence = float(softmax(trace["fc3"].astype(np.float64))[0, predicted])
    source = f"float {checkpoint.paths(directory, name)[0]} test sample {args.test_sample}"
    dump = dumps.write(args.dump_dir, trace, source=source) if args.save_intermediate else None
    stats = {name: {"shape": list(trace[name].shape), "min": float(trace[name].min()),
                    "max": float(trace[name].max()), "mean": float(trace[name].mean()),
                    "std": float(trace[name].std())} for name, _ in contract.ACTIVATIONS}
    if args.json:
        lines = [json.dumps({"test_sample": args.test_sample, "predicted": predicted, "label": label,
                             "correct": predicted == label, "confidence": confidence,
                             "checkpoint": str(checkpoint.paths(directory, name)[0]), "layers": stats,
                             "dump": str(dump) if dump else None})]
    else:
        lines = [f"Test sample {args.test_sample}, input shape {trace['input'].shape}"]
        lines += [f"{k}: shape {tuple(v['shape'])}, range [{v['min']:.6f}, {v['max']:.6f}], "
                  f"mean {v['mean']:.6f}, std {v['std']:.6f}" for k, v in stats.items()]
        lines += [f"Predicted class: {predicted} (confidence {confidence:.4f})", f"True class: {label}",
                  f"Correct: {predicted == label}"]
        if dump:
            lines.append(f"Per-layer dump written to {dump}")
    log.info("\n".join(lines))
    print("\n".join(lines))
    return 0
