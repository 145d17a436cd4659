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
(:class:`lenet_pynq.report.Report`); this command adds the confusion matrix
and, for the device backends, two things:

- the check that every logit equals the golden model's (the command exits
  non-zero otherwise: a number from a wrong device is not a result);
- throughput in tiers, each timed with the warm-up run excluded and given
  as images/s (overall, best run, median run) with its p50/p99 latency per
  batch: the IP and the DMA alone on pre-allocated buffers
  (:meth:`LeNetIP.throughput`), end to end (copies, cache flush/invalidate,
  DMA, IP, class words), and the golden model in NumPy on this CPU (the ARM
  core on the board); the last two take turns (:func:`interleaved_runs`).
  ``--sweep`` repeats them for batches of 1, 10, 100, 1000 and 10000 images.
  A speed-up is printed only for the FPGA: over a simulation it would mean
  nothing. For the device model, whose arithmetic *is* the golden model,
  the bench prints instead what the driver, pynq's classes and the device
  model add to it (:func:`overhead_over_golden`).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import blob, golden, mnist, weights
from ..errors import LenetError
from ..report import Report, confusion_lines, confusion_matrix, evaluate, plot_confusion, positive_int
from . import JOB_IMAGES

# backend -> "module:factory"; factory(args) returns a Classifier without weights
BACKENDS = {
    "pynq": "lenet_pynq.overlay.lenet_overlay:open_classifier",
    "model": "lenet_pynq.sim.model_overlay:open_classifier",
    "rtl": "lenet_pynq.sim.rtl_overlay:RtlBench",
    "csim": "lenet_pynq.sim.csim:open_classifier",
    "int": "lenet_pynq.golden:GoldenClassifier",
    "float": "lenet_pynq.train.evaluate:FloatClassifier",
}
DEVICES = ("pynq", "model", "rtl", "csim")  # their logits must equal the golden model's
# backend -> (modules it imports beyond numpy, how to get them): checked before any work
NEEDS = {
    "pynq": (("pynq",), "run it in PYNQ's Python on the board (`source /etc/profile.d/pynq_venv.sh`)"),
    "model": (("pynq",), "install the extra: pip install 'lenet-pynq[model]'"),
    "rtl": (("pynq", "cocotb", "cocotbext.axi"), "install the extra: pip install 'lenet-pynq[dev]'"),
}
SWEEP = (1, 10, 100, 1000, 10000)


def _on_board() -> bool:
    return Path("/proc/device-tree/chosen/pynq_board").exists()  # how pynq itself tells (pynq.ps.ON_TARGET)


def add_arguments(p) -> None:
    p.add_argument("--backend", choices=tuple(BACKENDS), default="pynq" if _on_board() else "model",
                   help="what classifies (default: pynq on the board, model elsewhere)")
    p.add_argument("--count", type=positive_int, default=mnist.SIZES["test"],
                   help="test images to classify, from the first (default all 10000)")
    p.add_argument("--batch-size", type=positive_int, default=JOB_IMAGES,
                   help=f"images per batch, i.e. per IP job on the device backends (default {JOB_IMAGES})")
    add_weights_argument(p)
    weights.add_arguments(p, "float backend: checkpoint directory")
    p.add_argument("--bitfile", default=None, help="pynq backend: the .bit to load (default: the installed lenet.bit)")
    p.add_argument("--wait", choices=("poll", "interrupt"), default="poll",
                   help="pynq/model backends: how the driver waits for a job (default poll; interrupt needs an "
                        "overlay with an axi_intc)")
    mnist.add_data_dir_argument(p)
    p.add_argument("--sweep", action="store_true",
                   help=f"time every tier at batches of {', '.join(map(str, SWEEP))} images too")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the text report")
    p.add_argument("--plot", metavar="PNG", default=None, help="also draw the confusion matrix into this PNG")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_weights_argument(p) -> None:
    p.add_argument("--weights", default=None,
                   help="the int8 weights blob (default <weights-dir>/<model-name>_int8.bin, else the one shipped "
                        "with the package); its .json manifest scales the confidences")


def weights_blob(args) -> Path:
    """``--weights``, else the blob --weights-dir/--model-name name, else the shipped one (said in one line)."""
    return weights.find_blob(args, args.weights)


def require(backend: str) -> None:
    """Refuse, in one line naming the fix, a backend whose optional dependencies are missing."""
    modules, fix = NEEDS.get(backend, ((), ""))
    missing = [m for m in modules if importlib.util.find_spec(m.split(".")[0]) is None
               or importlib.util.find_spec(m) is None]
    if missing:
        raise LenetError(f"--backend {backend} needs {', '.join(missing)}, which is not installed: {fix}")


def open_backend(args):
    """The Classifier of ``args.backend``, with its weights loaded (``args.weights`` resolved)."""
    module, factory = BACKENDS[args.backend].split(":")
    classifier = getattr(importlib.import_module(module), factory)(args)
    if args.backend == "float":
        classifier.load_weights()  # the checkpoint --weights-dir/--model-name name, else the shipped one
    else:
        classifier.load_weights(args.weights)
    if getattr(args, "wait", "poll") == "interrupt":
        if not hasattr(classifier, "use_interrupt"):
            raise LenetError(f"--wait interrupt: the {classifier.label} has no interrupt to wait on "
                             "(only the pynq driver has: --backend pynq or model)")
        classifier.use_interrupt()
    return classifier


def check_plot_path(path: str) -> None:
    """Before any work: matplotlib is there and ``path`` can be written (else one line saying why)."""
    if importlib.util.find_spec("matplotlib") is None:
        raise LenetError("--plot needs matplotlib, which is not installed: pip install 'lenet-pynq[plot]', "
                         "or leave out --plot")
    target = Path(path)
    if target.is_dir():
        raise LenetError(f"--plot {path}: is a directory; give a file name such as {target / 'confusion.png'}")
    for parent in (target.parent, *target.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise LenetError(f"--plot {path}: {parent} is not a directory")
            break
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target.parent):
            pass
    except OSError as e:
        raise LenetError(f"--plot {path}: cannot write there ({e.strerror or e}); choose another path") from None


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


# --- timing -----------------------------------------------------------------------------

def timing(seconds: list[float], sizes: list[int]) -> dict:
    """Images/s over all runs, of the best run and of the median run, and the per-batch latency distribution."""
    s = np.array(seconds)
    ms = 1000 * s
    rates = np.array(sizes) / s if (s > 0).all() else None
    return {
        "images": int(sum(sizes)), "seconds": float(s.sum()),
        "images_per_second": float(sum(sizes) / s.sum()) if s.sum() > 0 else None,
        "best_images_per_second": float(rates.max()) if rates is not None else None,
        "median_images_per_second": float(np.median(rates)) if rates is not None else None,
        "batches": len(sizes), "batch_size": int(max(sizes)),
        "latency_ms": {"mean": float(ms.mean()), "p50": float(np.percentile(ms, 50)),
                       "p99": float(np.percentile(ms, 99)), "max": float(ms.max())},
    }


def runs_for(batch: int) -> int:
    """Timed runs of a batch: enough for a p99 on small batches, at least 11 on large ones.

    With 5 runs of batch 1000 the device model's overhead over the golden
    model read -3% and +21% in two runs a minute apart (the two tiers take
    about 25 ms each); the fixed cost it measures is about 1 ms.
    """
    return max(11, min(100, 1000 // batch))


def interleaved_runs(fns: dict, runs: int, self_timed: frozenset = frozenset()) -> dict[str, list[float]]:
    """Seconds of ``runs`` timed calls of each of ``fns``, taken in turns, after one warm-up call of each.

    A function named in ``self_timed`` returns the seconds to count itself
    (the IP + DMA tier: the job alone, not the staging around it); the
    others are timed whole.

    The tiers are compared with each other, so they must see the same
    machine: timed in blocks, one tier after the other, a change of load
    between the blocks (other processes on a shared machine) reads as a
    difference between the tiers, and the tier timed first would also pay
    for the first calls. Here every tier is warmed up first, then the tiers
    take turns, in reverse order every other round so that none always runs
    right after the same one; their best and median runs come from the same
    stretch of time.
    """
    for fn in fns.values():
        fn()  # the warm-up: first-call allocations, imports, caches, worker threads
    out = {name: [] for name in fns}
    order = list(fns)
    for r in range(runs):
        for name in order if r % 2 == 0 else order[::-1]:
            t0 = time.perf_counter()
            own = fns[name]()
            out[name].append(own if name in self_timed else time.perf_counter() - t0)
    return out


def tiers(classifier, q, images: np.ndarray, batch: int) -> dict:
    """Each throughput tier on one batch of ``batch`` images (the first ones), warm-up excluded.

    The tiers take turns (:func:`interleaved_runs`). The IP + DMA tier is
    one job of the driver's own loop on its staged buffers
    (``throughput``), timed by the driver: a round stages the batch (one
    classify, not counted) and runs the job once more.
    """
    x = images[:batch]
    runs = runs_for(len(x))
    fns = {}
    if hasattr(classifier, "throughput"):  # the board's driver: IP + DMA on pre-allocated buffers
        fns["ip_dma"] = lambda: sum(classifier.throughput(x, batch_size=len(x), repeats=1).batch_seconds)
    fns["end_to_end"] = lambda: classifier.classify(x, batch_size=len(x))
    fns["numpy_golden"] = lambda: golden.classify(golden.run(q, x))
    seconds = interleaved_runs(fns, runs, self_timed=frozenset({"ip_dma"}))
    return {name: timing(s, [len(x)] * runs) for name, s in seconds.items()}


def overhead_over_golden(t: dict) -> dict:
    """How much longer a batch takes end to end than in the golden model alone, as a fraction.

    ``best``: the best end-to-end run against the best golden run; ``median``:
    median against median. Both tiers ran in turns (:func:`tiers`), so a
    change of load counts against neither; with other processes on the
    cores the few runs of a large batch still scatter (measured here at load
    1.4-4.7: from -20% to +27%), so judge the overhead on a quiet machine.
    """
    e, g = t["end_to_end"], t["numpy_golden"]
    return {k: g[f"{k}_images_per_second"] / e[f"{k}_images_per_second"] - 1 for k in ("best", "median")}


def golden_check(q, images: np.ndarray, device_logits: np.ndarray, batch: int) -> dict:
    """Compare every device logit with the golden model's."""
    ref = np.concatenate([golden.run(q, images[s:s + batch]) for s in range(0, len(images), batch)])
    differ = np.flatnonzero((ref != device_logits).any(axis=1))
    return {"images": len(images), "logits_identical": not differ.size, "differing_images": int(differ.size),
            "first_differing_image": int(differ[0]) if differ.size else None}


def save_confusion_plot(m: np.ndarray, path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # a file, no display
    import matplotlib.pyplot as plt

    fig = plot_confusion(m, title)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --- the command -----------------------------------------------------------------------

def _preflight(args) -> tuple[Path | None, list[str]]:
    """Everything that can be refused before the work starts; the notes to print."""
    notes = []
    require(args.backend)
    if args.sweep and args.backend == "rtl":
        raise LenetError("--sweep on the RTL simulation would take hours: use `lenet rtl bench` for its cycles")
    if args.plot:
        check_plot_path(args.plot)
    if args.count > mnist.SIZES["test"]:
        notes.append(f"--count {args.count}: the test set has {mnist.SIZES['test']:,} images; "
                     f"running all {mnist.SIZES['test']:,}")
    if args.backend == "float":
        return None, notes
    args.weights = str(weights_blob(args))
    if not Path(args.weights).is_file():
        raise LenetError(f"{args.weights}: no weights blob; make one with `make quantize` "
                         "(or `lenet quantize`), or pass --weights")
    manifest = blob.manifest_path(args.weights)
    if not manifest.is_file():
        notes.append(f"{manifest} (the blob's manifest) is missing: the logits' scale is unknown, so confidences "
                     "are not computed; accuracy and logits are unaffected")
    return manifest if manifest.is_file() else None, notes


def run(args) -> int:
    manifest, notes = _preflight(args)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    images, labels = mnist.load("test", args.data_dir)
    images, labels = images[: args.count], labels[: args.count]
    classifier = open_backend(args)
    q = None if args.backend == "float" else blob.load(args.weights, require_manifest=False)
    timed = _Timed(classifier, q.logit_scale() if q is not None else 1.0)
    report: Report = evaluate(timed, images, labels, args.batch_size,
                              progress=not (args.json or args.no_progress))
    if q is not None and manifest is None:  # integer logits without their scale: no confidence to report
        report = dataclasses.replace(report, confidences=np.empty(0))
    m = confusion_matrix(report.labels, report.predictions)
    result = {"backend": args.backend, "label": classifier.label, "source": repr(classifier), **report.to_dict(),
              "confusion": m.tolist(), "throughput": timing(timed.seconds, timed.sizes)}
    if q is not None and manifest is None:
        result["confidence_not_computed"] = "no manifest (.json) beside the blob: the logits' scale is unknown"
    if classifier.integer:
        result["class_word_mismatches"] = timed.class_mismatches
    if hasattr(classifier, "extra"):
        result.update(classifier.extra())
    if args.backend in DEVICES:
        result["golden_check"] = golden_check(q, images, np.concatenate(timed.logits), args.batch_size)
        if args.backend != "rtl":  # one simulation per run: the accuracy pass is all the RTL timing there is
            result["tiers"] = tiers(classifier, q, images, args.batch_size)
            result["load_average"] = os.getloadavg()[0]  # beside every speed figure: the cores may be shared
            if args.sweep:
                result["sweep"] = [{"batch": b, **tiers(classifier, q, images, b)} for b in SWEEP
                                   if b <= len(images)]
        if args.backend == "model":  # the device model computes with the golden model: the rest is overhead
            result["overhead_over_golden"] = overhead_over_golden(result["tiers"])
        if args.backend == "pynq":
            t = result["tiers"]
            result["speedup_over_numpy"] = {k: t[k]["images_per_second"] / t["numpy_golden"]["images_per_second"]
                                            for k in ("ip_dma", "end_to_end")}
    plot_error = None
    if args.plot:
        try:
            title = f"{classifier.label}: {100 * report.accuracy:.2f}% on {report.total} images"
            save_confusion_plot(m, args.plot, title)
            result["plot"] = args.plot
        except (OSError, RuntimeError, ValueError) as e:  # after the work: the report is still printed
            plot_error = f"--plot {args.plot}: not written ({e}); the report above is complete"
    print(json.dumps(result) if args.json else "\n".join(_text(result, report, m)))
    check = result.get("golden_check")
    if check and not check["logits_identical"]:
        raise LenetError(f"the {classifier.label}'s logits differ from the golden model's on "
                         f"{check['differing_images']} of {check['images']} images (first: test image "
                         f"{check['first_differing_image']}): compare per-layer dumps with `lenet compare`")
    if result.get("class_word_mismatches"):
        raise LenetError(f"the IP's class word disagrees with the argmax of its own logits on "
                         f"{result['class_word_mismatches']} images: a hardware bug")
    if plot_error:
        raise LenetError(plot_error)
    return 0


TIER_NAMES = {"ip_dma": "IP + DMA, pre-allocated buffers", "end_to_end": "end to end (copy, cache, DMA, IP)",
              "numpy_golden": "NumPy golden model on {where}"}


def _tier_lines(t: dict, where: str) -> list[str]:
    return [f"  {TIER_NAMES[k].format(where=where):<37} {v['images_per_second']:>10,.0f} images/s "
            f"(best {v['best_images_per_second']:,.0f}, median {v['median_images_per_second']:,.0f})   "
            f"p50 {v['latency_ms']['p50']:8.3f} ms   p99 {v['latency_ms']['p99']:8.3f} ms   ({v['batches']} runs)"
            for k, v in t.items() if k != "batch"]


def _text(result: dict, report: Report, m: np.ndarray) -> list[str]:
    t = result["throughput"]
    lat = t["latency_ms"]
    where = "the ARM core" if result["backend"] == "pynq" else "this CPU"
    out = [f"lenet bench -- {result['label']}: {result['source']}", *report.lines()]
    if "confidence_not_computed" in result:
        out.append(f"Confidence: not computed ({result['confidence_not_computed']})")
    out += ["", *confusion_lines(m), "",
            (f"Accuracy pass ({result['label']}): {t['images_per_second']:,.0f} images/s ({t['images']} images in "
             f"{t['seconds']:.3f} s, {t['batches']} batches of up to {t['batch_size']}; per batch p50 "
             f"{lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms)")]
    check = result.get("golden_check")
    if check:
        out.append(f"Logits identical to the golden model on all {check['images']} images: "
                   + ("yes" if check["logits_identical"] else
                      f"NO, {check['differing_images']} differ (first: test image {check['first_differing_image']})"))
    if "tiers" in result:
        out += ["", f"Throughput of the {result['label']}, batches of {result['tiers']['end_to_end']['batch_size']}, "
                    f"warm-up excluded (load average {result['load_average']:.2f} on {os.cpu_count()} cores):",
                *_tier_lines(result["tiers"], where)]
    for row in result.get("sweep", []):
        out += [f"Batch of {row['batch']}:", *_tier_lines(row, where)]
    overhead = result.get("overhead_over_golden")
    if overhead:
        out.append(f"Driver, pynq and device model over the golden model alone: {100 * overhead['best']:+.1f}% "
                   f"(best runs), {100 * overhead['median']:+.1f}% (median runs)")
    speedup = result.get("speedup_over_numpy")
    if speedup:
        out.append(f"FPGA over NumPy on the ARM core: {speedup['ip_dma']:.1f}x (IP + DMA), "
                   f"{speedup['end_to_end']:.1f}x (end to end)")
    sim = result.get("rtl_simulated")
    if sim:
        out.append(f"Simulated IP time: {sim['ns_per_image']:,.0f} ns per image at {sim['clock_mhz']} MHz "
                   f"(jobs, DMA polling included): {sim['images_per_second']:,.0f} images/s on the board's clock")
    if "plot" in result:
        out.append(f"Confusion matrix plot: {result['plot']}")
    return out
