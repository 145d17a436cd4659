"""`lenet quantize`: int8 post-training quantization with power-of-two scales.

docs/contract.md section 5, executed. Per layer ``L`` with input fraction
``fi``:

- ``fw``: the largest fraction at which every weight, rounded half away from
  zero, fits int8 (conv1's weights are first divided by 255, so that conv1
  reads raw pixels at ``fi = 0``);
- the bias is stored at ``fi + fw``, rounded the same way, saturated to int32;
- ``fo``: the largest fraction at which the chosen percentile of the layer's
  float output (after ReLU), measured on calibration images from the
  training set, still rounds to at most 255; bounded so that the shift
  ``s = fi + fw - fo`` stays within 0 ... 31;
- fc3 is not requantized: its logits stay at ``fi + fw``.

The calibration runs the float model (``model.LeNet5.forward`` with a
trace), so the float and integer paths share one definition of the network.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from .. import blob, golden, mnist, weights
from .. import contract as C
from ..blob import LayerFracs, QuantizedLeNet
from ..errors import LenetError
from ..outputs import check_writable
from . import checkpoint, model

DEFAULT_PERCENTILE = 99.99
DEFAULT_CALIBRATION = 1000
INT8 = (-128, 127)
INT32 = (-(2**31), 2**31 - 1)
UINT8_MAX = 255


def round_away(x: np.ndarray) -> np.ndarray:
    """Round half away from zero (contract section 5), in float64."""
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def to_fixed(x: np.ndarray, frac: int, bounds: tuple[int, int]) -> np.ndarray:
    """``round(x * 2**frac)`` saturated to ``bounds``, as int64."""
    return np.clip(round_away(np.ldexp(np.asarray(x, np.float64), frac)), *bounds).astype(np.int64)


def weight_frac(w: np.ndarray) -> int:
    """The largest frac at which every weight of ``w`` rounds into int8 without saturating."""
    m = float(np.abs(w).max(initial=0))
    if m == 0:
        return 0
    f = int(np.floor(np.log2(127 / m)))  # then correct the estimate in both directions exactly

    def fits(frac: int) -> bool:
        r = round_away(np.ldexp(np.asarray(w, np.float64), frac))
        return bool(r.min() >= INT8[0] and r.max() <= INT8[1])

    while fits(f + 1):
        f += 1
    while not fits(f):
        f -= 1
    return f


def output_frac(level: float) -> int:
    """The largest frac at which the positive real value ``level`` rounds to at most 255."""
    if level <= 0:
        raise ValueError("output_frac needs a positive level")
    f = int(np.floor(np.log2(UINT8_MAX / level)))
    while round_away(np.ldexp(level, f + 1)) <= UINT8_MAX:
        f += 1
    while round_away(np.ldexp(level, f)) > UINT8_MAX:
        f -= 1
    return f


def quantize(params: dict[str, np.ndarray], calibration: np.ndarray, percentile: float = DEFAULT_PERCENTILE,
             ) -> tuple[QuantizedLeNet, dict]:
    """Quantize float ``params`` calibrated on uint8 ``calibration`` images: (model, per-layer report)."""
    if not 0 < percentile <= 100:
        raise LenetError(f"--percentile {percentile}: must be in (0, 100]")
    net = model.LeNet5()
    net.load_params(params)
    trace = {}
    net.forward(model.preprocess(calibration), trace)
    tensors, shifts, fracs, report = {}, {}, {}, {}
    fi = 0
    for layer in C.LAYERS:
        w = np.asarray(params[f"{layer.name}.w"], np.float64)
        if layer.name == "conv1":
            w = w / 255  # the float model's x/255, folded into the weights (contract section 5)
        fw = weight_frac(w)
        tensors[f"{layer.name}.w"] = to_fixed(w, fw, INT8).astype(np.int8)
        bias = to_fixed(params[f"{layer.name}.b"], fi + fw, INT32)
        tensors[f"{layer.name}.b"] = bias.astype(np.int32)
        entry = {"w_frac": fw, "in_frac": fi, "bias_saturated": int((np.abs(bias) >= 2**31 - 1).sum())}
        if layer.requantized:
            level = float(np.percentile(trace[layer.name], percentile))
            fo = output_frac(level) if level > 0 else fi + fw
            fo = min(max(fo, fi + fw - C.MAX_SHIFT), fi + fw)
            shifts[layer.name] = fi + fw - fo
            entry.update(level=level, out_frac=fo, shift=shifts[layer.name])
        else:
            fo = fi + fw
            entry["out_frac"] = fo
        fracs[layer.name] = LayerFracs(fi, fw, fo)
        report[layer.name] = entry
        fi = fo
    info = {"method": "post-training, power-of-two scales", "percentile": percentile,
            "calibration_images": len(calibration)}
    q = QuantizedLeNet(tensors, shifts, fracs, info=info)
    _measure(q, calibration, trace, report)
    return q, report


def _measure(q: QuantizedLeNet, images: np.ndarray, float_trace: dict, report: dict) -> None:
    """Add, per layer, the saturation rate and the largest accumulator on the calibration images."""
    trace, peak = {}, {}
    golden.run(q, images, trace, peak)
    for name, entry in report.items():
        entry["acc_peak"] = peak[name]
        if name in q.shifts:
            entry["saturated"] = float((trace[name] == UINT8_MAX).mean())
    agree = golden.classify(trace["fc3"]) == np.argmax(float_trace["fc3"], axis=1)
    report["agreement"] = float(agree.mean())


def add_arguments(p: argparse.ArgumentParser) -> None:
    weights.add_arguments(p, "directory of the float checkpoint")
    p.add_argument("--out", "-o", default=None,
                   help="blob to write, manifest beside it (default <weights-dir>/<model-name>_int8.bin)")
    p.add_argument("--calibration-images", type=int, default=DEFAULT_CALIBRATION,
                   help=f"training images used to choose the output scales (default {DEFAULT_CALIBRATION})")
    p.add_argument("--percentile", type=float, default=DEFAULT_PERCENTILE,
                   help=f"percentile of each layer's output kept below 256 (default {DEFAULT_PERCENTILE})")
    mnist.add_data_dir_argument(p)


def run(args: argparse.Namespace) -> int:
    # The blob goes beside the user's checkpoint, never into the package's shipped one.
    out = check_writable(args.out or weights.blob_path(*weights.chosen(args)), "the blob")
    check_writable(blob.manifest_path(out), "the blob's manifest")
    directory, name = weights.find_checkpoint(args, checkpoint.SHIPPED_DIR)
    params = checkpoint.load(directory, name)
    images, _ = mnist.load("train", args.data_dir)
    if not 1 <= args.calibration_images <= len(images):
        raise LenetError(f"--calibration-images {args.calibration_images}: need 1 ... {len(images)}")
    t0 = time.perf_counter()
    q, report = quantize(params, images[: args.calibration_images], args.percentile)
    q.info["checkpoint"] = f"{directory}/{name}"
    path_bin, path_json = blob.save(q, out)
    print(f"calibrated on {args.calibration_images} training images, percentile {args.percentile} "
          f"({time.perf_counter() - t0:.1f} s)")
    print("layer  w_frac in_frac out_frac shift  saturated  largest |acc|")
    for layer in C.LAYERS:
        e = report[layer.name]
        sat = f"{100 * e['saturated']:.3f}%" if "saturated" in e else "-"
        shift = e.get("shift", "-")
        print(f"{layer.name:<6} {e['w_frac']:>6} {e['in_frac']:>7} {e['out_frac']:>8} {shift:>5} {sat:>10} "
              f"{e['acc_peak']:>14,} (2^{np.log2(max(e['acc_peak'], 1)):.1f})")
        if e["bias_saturated"]:
            print(f"  warning: {e['bias_saturated']} biases of {layer.name} saturated at int32")
    print(f"integer and float classes agree on {100 * report['agreement']:.2f}% of the calibration images")
    print(f"wrote {path_bin} ({C.BLOB_BYTES:,} bytes, CRC {blob.crc_word(q):#010x}) and {path_json}")
    return 0
