"""`lenet compare A B`: the first layer and element where two per-layer dumps differ.

A and B are per-layer dump directories (docs/contract.md section 7): the
float model's, the golden model's, the C-sim's, the RTL testbench's. Layers
are visited in network order; within a layer, elements in C order (image
first). The first element whose difference exceeds the tolerance is named
with both values.

Integer vs integer layers at the same frac are compared exactly (``--atol``
0 by default). When either side is float32, integers are put at scale
(``value * 2**-frac``) and compared in real units against ``--atol``
(default: ``--range-tol`` times the float layer's largest |value|, since
quantization errors grow along the network and one last place of fc3's
fine-grained logits means nothing); an integer
layer without a frac (the raw input pixels, which the float model sees
divided by 255, not a power of two) is then skipped and said so.

When one dump holds more images than the other, the leading images both
hold are compared (a testbench may dump only the first few of a run).

Exit status: 0 when every compared layer agrees, 1 when one differs (or on
an error: layers of different shapes, nothing in common).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import contract as C
from . import dumps
from .errors import LenetError
from .report import non_negative_float

ORDER = [name for name, _ in C.ACTIVATIONS] + ["class"]
DEFAULT_RANGE_TOL = 0.05


@dataclass
class LayerResult:
    """How one layer of A compares with the same layer of B."""

    name: str
    units: str  # "integer" or "real"
    tolerance: float
    max_diff: float
    count: int  # elements beyond the tolerance
    size: int
    first: tuple[int, ...] | None = None  # multi-index (image first) of the first such element
    a: float | None = None
    b: float | None = None
    note: str = ""  # e.g. that one side sits at the uint8 clamp

    def line(self) -> str:
        if self.count:
            verdict = f"{self.count:,} of {self.size:,} differ"
        else:
            verdict = "same" if self.max_diff == 0 else "within tolerance"
        return (f"  {self.name:<6} {verdict:<26} max |A-B| {_fmt(self.max_diff)} ({self.units}, "
                f"tolerance {_fmt(self.tolerance)})")


def _fmt(v: float) -> str:
    return f"{int(v)}" if float(v).is_integer() else f"{v:.6g}"


def _values(a: np.ndarray, frac: int | None) -> np.ndarray:
    real = a.astype(np.float64)
    return real if frac is None else np.ldexp(real, -frac)


def compare_layer(name: str, a: np.ndarray, b: np.ndarray, frac_a: int | None, frac_b: int | None,
                  atol: float | None, range_tol: float) -> LayerResult | None:
    """Compare one layer; None when it cannot be put on a common scale (reason: float vs frac-less integer)."""
    if a.shape != b.shape:
        raise LenetError(f"layer {name}: shape {list(a.shape)} in A but {list(b.shape)} in B; "
                         "were they dumped from the same images?")
    a_int, b_int = a.dtype.kind in "iu", b.dtype.kind in "iu"
    if a_int and b_int and frac_a == frac_b:
        va, vb = a.astype(np.int64), b.astype(np.int64)
        diff = np.abs(va - vb)
        tol = 0.0 if atol is None else atol * 2.0 ** (frac_a or 0)  # atol is in real units
        units = "integer"
    else:
        if (a_int and frac_a is None) or (b_int and frac_b is None):
            return None
        va, vb = _values(a, frac_a if a_int else None), _values(b, frac_b if b_int else None)
        diff = np.abs(va - vb)
        if atol is not None:
            tol = atol
        elif a_int != b_int:  # float vs integer: a fraction of the float layer's range
            tol = range_tol * float(np.abs(vb if a_int else va).max(initial=0))
        else:
            tol = 0.0
        units = "real"
    bad = np.flatnonzero(diff.reshape(-1) > tol)
    result = LayerResult(name, units, tol, float(diff.max(initial=0)), int(bad.size), int(diff.size))
    if bad.size:
        i = int(bad[0])
        result.first = tuple(int(k) for k in np.unravel_index(i, a.shape))
        result.a, result.b = va.reshape(-1)[i].item(), vb.reshape(-1)[i].item()
        clamped = [side for side, arr in (("A", a), ("B", b)) if arr.dtype == np.uint8 and arr.reshape(-1)[i] == 255]
        if clamped and units == "real":
            result.note = f" ({' and '.join(clamped)} at the uint8 clamp, 255: the float value is out of range)"
    return result


def compare_dirs(dir_a: str | Path, dir_b: str | Path, atol: float | None = None,
                 range_tol: float = DEFAULT_RANGE_TOL) -> tuple[list[LayerResult], list[str]]:
    """(results of the compared layers in network order, notes on layers not compared)."""
    layers_a, fracs_a, _ = dumps.read(dir_a)
    layers_b, fracs_b, _ = dumps.read(dir_b)
    common = [n for n in ORDER if n in layers_a and n in layers_b]
    common += sorted((set(layers_a) & set(layers_b)) - set(ORDER))
    if not common:
        raise LenetError(f"{dir_a} has layers {sorted(layers_a)} and {dir_b} has {sorted(layers_b)}: "
                         "nothing in common to compare")
    only = set(layers_a) ^ set(layers_b)
    notes = [f"{n}: only in {'A' if n in layers_a else 'B'}"
             for n in [n for n in ORDER if n in only] + sorted(only - set(ORDER))]
    # A testbench often dumps only the first few images of a run: compare the images both sides have.
    n_a, n_b = (min(len(layers[n]) for n in common) for layers in (layers_a, layers_b))
    n = min(n_a, n_b)
    if n_a != n_b:
        notes.append(f"compared the first {n} images (A has {n_a}, B has {n_b})")
    results = []
    for name in common:
        r = compare_layer(name, layers_a[name][:n], layers_b[name][:n], fracs_a.get(name), fracs_b.get(name),
                          atol, range_tol)
        if r is None:
            notes.append(f"{name}: not compared (integer without a frac against float)")
        else:
            results.append(r)
    return results, notes


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", metavar="A", help="per-layer dump directory (e.g. build/vectors/layers)")
    p.add_argument("b", metavar="B", help="the other dump directory")
    p.add_argument("--atol", type=non_negative_float, default=None,
                   help="tolerance in real units (value * 2^-frac); default 0 between integer dumps")
    p.add_argument("--range-tol", type=non_negative_float, default=DEFAULT_RANGE_TOL,
                   help="float vs integer without --atol: tolerance as a fraction of the float layer's "
                        f"largest |value| (default {DEFAULT_RANGE_TOL})")


def run(args: argparse.Namespace) -> int:
    results, notes = compare_dirs(args.a, args.b, args.atol, args.range_tol)
    print(f"A: {args.a}\nB: {args.b}")
    for r in results:
        print(r.line())
    for n in notes:
        print(f"  note: {n}")
    first = next((r for r in results if r.count), None)
    if first is None:
        exact = all(r.max_diff == 0 for r in results)
        print(f"{'identical' if exact else 'agree within tolerance'}: {len(results)} layers")
        return 0
    index = ", ".join(map(str, first.first[1:]))
    print(f"first difference: layer {first.name}, image {first.first[0]}, element [{index}]: "
          f"A = {_fmt(first.a)}, B = {_fmt(first.b)}{first.note}")
    return 1
