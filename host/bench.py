"""`lenet bench`: accuracy and throughput of one backend on the MNIST test set.

Backends, all classifying the same uint8 test images:

- ``pynq``  the board: ``LeNetOverlay`` (lenet.bit) with the weights blob;
- ``model`` the same driver and pynq classes, off the board, on the Python
  device model (``host/model_device.py``);
- ``rtl``   the same driver and pynq classes on the Verilog IP in a cocotb
  simulation (slow: use a small ``--count``);
- ``csim``  the HLS C++ IP compiled with g++ (``lenet_pynq.host.csim``);
- ``int``   the golden integer model (NumPy);
- ``float`` the float model from its checkpoint.

The report (accuracy, per-class accuracy, confidences) is ``lenet test``'s
(:class:`lenet_pynq.train.evaluate.Report`); this command adds the confusion
matrix, the throughput and per-batch latency, and for the device backends the
speed-up over the golden model in NumPy on this CPU, which on the board is
the ARM core.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .. import contract as C
from ..errors import LenetError
from ..train import blob, checkpoint, golden, mnist
from ..train.evaluate import Report, evaluate, positive_int

BACKENDS = ("pynq", "model", "rtl", "csim", "int", "float")
DEVICES = ("pynq", "model", "rtl", "csim")  # compared with the golden model on the CPU
DEFAULT_BLOB = Path(checkpoint.DEFAULT_DIR) / f"{checkpoint.DEFAULT_NAME}_int8.bin"
DEFAULT_BATCH = 1000


def _on_board() -> bool:
    return Path("/proc/device-tree/chosen/pynq_board").exists()  # how pynq itself tells (pynq.ps.ON_TARGET)


def add_arguments(p) -> None:
    p.add_argument("--backend", choices=BACKENDS, default="pynq" if _on_board() else "model",
                   help="what classifies (default: pynq on the board, model elsewhere)")
    p.add_argument("--count", type=positive_int, default=mnist.SIZES["test"],
                   help="test images to classify, from the first (default all 10000)")
    p.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH,
                   help=f"images per batch, i.e. per IP job on the device backends (default {DEFAULT_BATCH})")
    p.add_argument("--weights", default=str(DEFAULT_BLOB),
                   help=f"the int8 weights blob (default {DEFAULT_BLOB}); its .json manifest scales the confidences")
    checkpoint.add_arguments(p, "float backend: checkpoint directory")
    p.add_argument("--bitfile", default=None, help="pynq backend: the .bit to load (default: the installed lenet.bit)")
    mnist.add_data_dir_argument(p)
    p.add_argument("--reference-count", type=positive_int, default=1000,
                   help="device backends: images timed on the golden model for the speed-up (default 1000)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the text report")
    p.add_argument("--plot", metavar="PNG", default=None, help="also draw the confusion matrix into this PNG")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


# --- backends: each gives a logits function (uint8 images -> int or float logits) -----

class _DeviceLogits:
    """Logits of an IP, checking on every batch that its class word agrees with its own logits.

    ``classify(images) -> (classes, logits)`` is one backend's inference.
    """

    def __init__(self, classify, description: str, extra=None):
        self.classify = classify
        self.description = description
        self.extra = extra  # optional: () -> dict of backend-specific figures for the report
        self.class_mismatches = 0

    def __call__(self, images: np.ndarray) -> np.ndarray:
        classes, logits = self.classify(images)
        self.class_mismatches += int((np.asarray(classes) != golden.classify(logits)).sum())
        return logits


def _driver_logits(overlay, args) -> _DeviceLogits:
    lenet = overlay.lenet
    lenet.load_weights(args.weights)

    def classify(images):
        r = lenet.classify(images, batch_size=len(images))
        return r.classes, r.logits

    return _DeviceLogits(classify, f"{args.backend}: {lenet!r}")


def backend_logits(args):
    """The logits function of ``args.backend``: uint8 images -> logits, with a ``description``."""
    b = args.backend
    if b == "pynq":
        from ..overlay.lenet_overlay import LeNetOverlay

        return _driver_logits(LeNetOverlay(args.bitfile) if args.bitfile else LeNetOverlay(), args)
    if b == "model":
        from .model_device import open_model_overlay

        return _driver_logits(open_model_overlay(), args)
    if b == "rtl":
        from .rtl_device import RtlBench

        rtl = RtlBench(args.weights)

        def simulated() -> dict:
            ns = rtl.sim_ns / max(1, rtl.images)
            return {"rtl_simulated": {"ns_per_image": ns, "clock_mhz": C.CLOCK_MHZ,
                                      "images_per_second": 1e9 / ns if ns else None}}

        return _DeviceLogits(rtl.classify, f"rtl: {rtl!r}", extra=simulated)
    if b == "csim":
        from .csim import CsimLenet

        ip = CsimLenet()
        ip.load_weights(args.weights)

        def classify(images):
            r = ip.infer(images, batch=len(images))
            return r.classes, r.logits

        return _DeviceLogits(classify, f"csim: {ip!r}")
    if b == "int":
        q = blob.load(args.weights, require_manifest=False)
        fn = lambda images: golden.run(q, images)
        fn.description = f"int: golden model of {args.weights}"
        return fn
    from ..train.evaluate import float_logits

    params = checkpoint.load(args.weights_dir, args.model_name)
    fn = float_logits(params)
    fn.description = f"float: checkpoint {checkpoint.paths(args.weights_dir, args.model_name)[0]}"
    return fn


def _logit_scale(args) -> float:
    """Integer logits -> real units, from the blob's manifest, so confidences mean what float ones do."""
    if args.backend == "float":
        return 1.0
    try:
        return blob.load(args.weights, require_manifest=False).logit_scale()  # no manifest: raw integer scale
    except LenetError:
        return 1.0


class _Timed:
    """Wraps a logits function, recording the wall time and size of every batch."""

    def __init__(self, fn, scale: float):
        self.fn, self.scale = fn, scale
        self.seconds: list[float] = []
        self.sizes: list[int] = []
        self.logits: list[np.ndarray] = []

    def __call__(self, images: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        logits = self.fn(images)
        self.seconds.append(time.perf_counter() - t0)
        self.sizes.append(len(images))
        self.logits.append(np.asarray(logits))
        return np.asarray(logits, dtype=np.float64) * self.scale


# --- the report additions ------------------------------------------------------------

def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """(10, 10) counts: row = true class, column = predicted class."""
    m = np.zeros((C.NUM_CLASSES, C.NUM_CLASSES), dtype=np.int64)
    np.add.at(m, (np.asarray(labels), np.asarray(predictions)), 1)
    return m


def confusion_lines(m: np.ndarray) -> list[str]:
    width = max(5, len(str(m.max())) + 1)
    head = "true\\pred" + "".join(f"{k:>{width}}" for k in range(len(m)))
    return ["Confusion matrix (rows: true class, columns: predicted):", head] + [
        f"{k:>9}" + "".join(f"{v:>{width}}" for v in row) for k, row in enumerate(m)]


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
    fn = backend_logits(args)
    source = fn.description
    timed = _Timed(fn, _logit_scale(args))
    report: Report = evaluate(timed, images, labels, args.batch_size,
                              progress=not (args.json or args.no_progress))
    m = confusion_matrix(report.labels, report.predictions)
    result = {"backend": args.backend, "source": source, **report.to_dict(),
              "confusion": m.tolist(), "throughput": timing(timed.seconds, timed.sizes)}
    if isinstance(fn, _DeviceLogits):
        result["class_word_mismatches"] = fn.class_mismatches
        result.update(fn.extra() if fn.extra else {})
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
