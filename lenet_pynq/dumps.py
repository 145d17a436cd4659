"""Per-layer dumps: a directory of raw C-order arrays plus manifest.json.

The format of docs/contract.md section 7, shared by the float model, the
golden model, the C-sim and the RTL testbench, so that `lenet compare` can
put any two of them side by side.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .errors import LenetError

MANIFEST = "manifest.json"
FORMAT = "lenet-dump-1"
DTYPES = ("float32", "uint8", "int32")


def write(directory: str | Path, layers: dict[str, np.ndarray], fracs: dict[str, int] | None = None,
          source: str = "") -> Path:
    """Write ``layers`` (name -> array, leading axis = images) to ``directory``.

    ``fracs`` gives, for integer layers, the exponent of their scale: the real
    value is ``integer * 2**-frac``.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, a in layers.items():
        a = np.ascontiguousarray(a)
        if a.dtype.name not in DTYPES:
            raise ValueError(f"layer {name}: dtype {a.dtype} is not one of {DTYPES}")
        file = f"{name}.bin"
        a.astype(a.dtype.newbyteorder("<"), copy=False).tofile(d / file)
        entry = {"name": name, "shape": list(a.shape), "dtype": a.dtype.name, "file": file}
        if fracs and name in fracs:
            entry["frac"] = int(fracs[name])
        if a.size:
            entry["stats"] = {"min": float(a.min()), "max": float(a.max()), "mean": float(a.mean())}
        entries.append(entry)
    (d / MANIFEST).write_text(json.dumps({"format": FORMAT, "source": source, "layers": entries}, indent=1))
    return d


def read(directory: str | Path) -> tuple[dict[str, np.ndarray], dict[str, int], str]:
    """Read a dump: (layers, fracs, source). Every size is checked against the manifest."""
    d = Path(directory)
    try:
        manifest = json.loads((d / MANIFEST).read_text())
    except FileNotFoundError:
        raise LenetError(f"{d}: no {MANIFEST}; is this a per-layer dump directory?") from None
    except json.JSONDecodeError as e:
        raise LenetError(f"{d / MANIFEST}: not valid JSON ({e})") from None
    if manifest.get("format") != FORMAT:
        raise LenetError(f"{d / MANIFEST}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    layers, fracs = {}, {}
    for e in manifest["layers"]:
        if e["dtype"] not in DTYPES:
            raise LenetError(f"{d / MANIFEST}: layer {e['name']} has unsupported dtype {e['dtype']!r}")
        dtype = np.dtype(e["dtype"]).newbyteorder("<")
        path = d / e["file"]
        count = int(np.prod(e["shape"]))
        if not path.is_file() or path.stat().st_size != count * dtype.itemsize:
            raise LenetError(f"{path}: missing or not {count * dtype.itemsize} bytes as the manifest says")
        layers[e["name"]] = np.fromfile(path, dtype=dtype).reshape(e["shape"])
        if "frac" in e:
            fracs[e["name"]] = e["frac"]
    return layers, fracs, manifest.get("source", "")
