"""`lenet bench`: accuracy and throughput of one backend on the MNIST test set.

Every backend is a :class:`~lenet_pynq.classifier.Classifier` made by a
factory named in :data:`BACKENDS`, classifying the same uint8 test images:

- ``pynq``  the board: ``LeNetOverlay`` (lenet.bit) with the weights blob;
- ``model`` the same driver and pynq classes, off the board, on the Python
  device model;
- ``rtl``   the same driver and pynq classes on the Verilog IP in a cocotb
  simulation (slow: use a small ``--count``);
- ``csim``  the HLS C++ IP compiled with g++;
- ``int``   the golden integer model (NumPy);
- ``float`` the float model from its checkpoint.

The table names modules, and only the chosen one is imported, as the `lenet`
command does with its subcommands: on the board, the benchmark loads neither
the training code nor the stand-ins.

The report (accuracy, per-class accuracy, confidences) is ``lenet test``'s
(:class:`lenet_pynq.report.Report`); this command adds the confusion matrix,
the throughput and per-batch latency, and for the device backends the
speed-up over the golden model in NumPy on this CPU, which on the board is
the ARM core.
"""

from __future__ import annotations

import importlib
import json
import time
from pathlib import Path

import numpy as np

from .. import blob, golden, mnist, weights
from ..errors import LenetError
from ..report import Report, confusion_lines, confusion_matrix, evaluate, positive_int
from .driver import JOB_IMAGES

# backend -> "module:factory"; factory(args) returns a Classifier without weights
BACKENDS = {
    "pynq": "lenet_pynq.overlay.lenet_overlay:open_classifier",
    "model": "lenet_pynq.sim.model_overlay:open_classifier",
    "rtl": "lenet_pynq.sim.rtl_overlay:RtlBench",
    "csim": "lenet_pynq.sim.csim:open_classifier",
    "int": "lenet_pynq.golden:GoldenClassifier",
    "float": "lenet_pynq.train.evaluate:FloatClassifier",
}
DEVICES = ("pynq", "model", "rtl", "csim")  # compared with the golden model on the CPU
DEFAULT_BLOB = weights.blob_path(weights.DEFAULT_DIR, weights.DEFAULT_NAME)


def _on_board() -> bool:
    return Path("/proc/device-tree/chosen/pynq_board").exists()  # how pynq itself tells (pynq.ps.ON_TARGET)


def add_arguments(p) -> None:
    p.add_argument("--backend", choices=tuple(BACKENDS), default="pynq" if _on_board() else "model",
                   help="what classifies (default: pynq on the board, model elsewhere)")
    p.add_argument("--count", type=positive_int, default=mnist.SIZES["test"],
                   help="test images to classify, from the first (default all 10000)")
    p.add_argument("--batch-size", type=positive_int, default=JOB_IMAGES,
                   help=f"images per batch, i.e. per IP job on the device backends (default {JOB_IMAGES})")
    p.add_argument("--weights", default=str(DEFAULT_BLOB),
                   help=f"the int8 weights blob (default {DEFAULT_BLOB}); its .json manifest scales the confidences")
    weights.add_arguments(p, "float backend: checkpoint directory")
    p.add_argument("--bitfile", default=None, help="pynq backend: the .bit to load (default: the installed lenet.bit)")
    mnist.add_data_dir_argument(p)
    p.add_argument("--reference-count", type=positive_int, default=1000,
                   help="device backends: images timed on the golden model for the speed-up (default 1000)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the text report")
    p.add_argument("--plot", metavar="PNG", default=None, help="also draw the confusion matrix into this PNG")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def open_backend(args):
    """The Classifier of ``args.backend``, with its weights loaded."""
    module, factory = BACKENDS[args.backend].split(":")
    classifier = getattr(importlib.import_module(module), factory)(args)
    if args.backend == "float":
        classifier.load_weights(weights.checkpoint_paths(args.weights_dir, args.model_name)[0])
    else:
        classifier.load_weights(args.weights)
    return classifier


def _logit_scale(args) -> float:
    """Integer logits -> real units, from the blob's manifest, so confidences mean what float ones do."""
    if args.backend == "float":
        return 1.0
    try:
        return blob.load(args.weights, require_manifest=False).logit_scale()  # no manifest: raw integer scale
    except LenetError:
        return 1.0


class _Timed:
    """A classifier as a logits function, recording every batch's time, logits and class-word mismatches."""

    def __init__(self, classifier, scale: float):
        self.classifier, self.scale = classifier, scale
        self.seconds: list[float] = []
        self.sizes: list[int] = []
        self.logits: list[np.ndarray] = []
        self.class_mismatches = 0

    def __call__(self, images: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        r = self.classifier.classify(images, batch_size=len(images))
        self.seconds.append(time.perf_counter() - t0)
        self.sizes.append(len(images))
        self.logits.append(np.asarray(r.logits))
        self.class_mismatches += int((np.asarray(r.classes) != golden.classify(r.logits)).sum())
        return np.asarray(r.logits, dtype=np.float64) * self.scale


# --- the report additions ------------------------------------------------------------

def timing(seconds: list[float], sizes: list[int]) -> dict:
    s = np.array(seconds)
    ms = 1000 * s
    return {
        "images": int(sum(sizes)), "seconds": float(s.sum()),
        "images_per_second": float(sum(sizes) / s.sum()) if s.sum() > 0 else None,
        "batches": len(sizes), "batch_size": int(max(sizes)),
        "latency_ms": {"mean": float(ms.mean()), "p50": float(np.percentile(ms, 50)),
                       "p95": float(np.percentile(ms, 95)), "max": float(ms.max())},
    }


def reference_timing(args, images: np.ndarray) -> dict:
    """The golden model in NumPy on this CPU, on the first ``--reference-count`` images."""
    q = blob.load(args.weights, require_manifest=False)
    x = images[: args.reference_count]
    golden.run(q, x[:1])  # first call pays the imports and allocations
    t0 = time.perf_counter()
    for s in range(0, len(x), args.batch_size):
        golden.run(q, x[s:s + args.batch_size])
    seconds = time.perf_counter() - t0
    return {"images": len(x), "seconds": seconds, "images_per_second": len(x) / seconds}


def plot_confusion(m: np.ndarray, path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --- the command -----------------------------------------------------------------------

def run(args) -> int:
    if args.backend != "float" and not Path(args.weights).is_file():
        raise LenetError(f"{args.weights}: no weights blob; make one with `make quantize` "
                         "(or `lenet quantize`), or pass --weights")
    images, labels = mnist.load("test", args.data_dir)
    images, labels = images[: args.count], labels[: args.count]
    classifier = open_backend(args)
    source = f"{classifier.label}: {classifier!r}"
    timed = _Timed(classifier, _logit_scale(args))
    report: Report = evaluate(timed, images, labels, args.batch_size,
                              progress=not (args.json or args.no_progress))
    m = confusion_matrix(report.labels, report.predictions)
    result = {"backend": args.backend, "source": source, **report.to_dict(),
              "confusion": m.tolist(), "throughput": timing(timed.seconds, timed.sizes)}
    if classifier.integer:
        result["class_word_mismatches"] = timed.class_mismatches
    if hasattr(classifier, "extra"):
        result.update(classifier.extra())
    if args.backend in DEVICES:
        ref = reference_timing(args, images)
        ref_logits = golden.run(blob.load(args.weights, require_manifest=False), images[: ref["images"]])
        device_logits = np.concatenate(timed.logits)[: ref["images"]]
        ref["logits_identical"] = bool(np.array_equal(ref_logits, device_logits))
        ref["speedup"] = result["throughput"]["images_per_second"] / ref["images_per_second"]
        result["reference_numpy_golden"] = ref
    if args.plot:
        plot_confusion(m, args.plot, f"{args.backend}: {100 * report.accuracy:.2f}% on {report.total} images")
        result["plot"] = args.plot
    if args.json:
        print(json.dumps(result))
    else:
        print("\n".join(_text(result, report, m)))
    if result.get("class_word_mismatches"):
        raise LenetError(f"the IP's class word disagrees with the argmax of its own logits on "
                         f"{result['class_word_mismatches']} images: a hardware bug")
    return 0


def _text(result: dict, report: Report, m: np.ndarray) -> list[str]:
    t = result["throughput"]
    lat = t["latency_ms"]
    out = [f"lenet bench -- {result['source']}", *report.lines(), "", *confusion_lines(m), "",
           (f"Throughput: {t['images_per_second']:,.0f} images/s ({t['images']} images in {t['seconds']:.3f} s, "
            f"{t['batches']} batches of up to {t['batch_size']})"),
           (f"Per-batch latency: mean {lat['mean']:.2f} ms, p50 {lat['p50']:.2f} ms, p95 {lat['p95']:.2f} ms, "
            f"max {lat['max']:.2f} ms")]
    ref = result.get("reference_numpy_golden")
    if ref:
        where = "the ARM core" if result["backend"] == "pynq" else "this CPU"
        out.append(f"NumPy golden model on {where}: {ref['images_per_second']:,.0f} images/s "
                   f"({ref['images']} images); speed-up {ref['speedup']:.2f}x; logits identical: "
                   f"{ref['logits_identical']}")
    sim = result.get("rtl_simulated")
    if sim:
        out.append(f"Simulated IP time: {sim['ns_per_image']:,.0f} ns per image at {sim['clock_mhz']} MHz "
                   f"(jobs, DMA polling included): {sim['images_per_second']:,.0f} images/s on the board's clock")
    if "plot" in result:
        out.append(f"Confusion matrix plot: {result['plot']}")
    return out
