"""Float checkpoints: ``<name>.json`` (structure) + ``<name>.bin`` (data).

The ncnn-style split of the seed, made strict. The binary is the ten
parameters of contract.SECTIONS, float32 little-endian, C order, one after
the other. The manifest lists, per parameter, ``name``, ``shape``, ``dtype``,
byte ``offset`` and byte ``size``, plus the binary's total size and SHA-256.
``load`` refuses anything that does not match exactly: a missing or
truncated file, a different layer set, shape, dtype or layout.

A checkpoint may also carry a training state (``save(..., state=...)``):
the optimizer's buffers and whatever else `lenet train --resume` needs, in
``<name>.state.npz`` (plain arrays, read without pickle), whose SHA-256 the
manifest records too. Every save is atomic: all files go to temporary names
first and the manifest is renamed into place last (``outputs.write_files``).
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from .. import weights
from ..errors import LenetError
from ..outputs import write_files
from .model import PARAM_NAMES, PARAM_SHAPES

FORMAT = "lenet-float-1"
DTYPE = np.dtype("<f4")
paths = weights.checkpoint_paths
# The checkpoint `make demo` produces with the defaults, shipped for users who have not trained their own.
SHIPPED_DIR = Path(__file__).resolve().parent / "pretrained"


def state_path(weights_dir: str | Path, name: str) -> Path:
    return Path(weights_dir) / f"{name}.state.npz"


def save(params: dict[str, np.ndarray], weights_dir: str | Path, name: str, meta: dict | None = None,
         state: dict[str, np.ndarray] | None = None) -> Path:
    """Write the checkpoint; returns the manifest's path. ``meta`` is stored as is (informative).

    ``state``: named arrays stored beside it for resuming (see :func:`load_state`).
    """
    manifest_path, bin_path = paths(weights_dir, name)
    layers, chunks, offset = [], [], 0
    for layer in PARAM_NAMES:
        a = np.ascontiguousarray(params[layer], dtype=DTYPE)
        if a.shape != PARAM_SHAPES[layer]:
            raise ValueError(f"{layer}: shape {a.shape}, expected {PARAM_SHAPES[layer]}")
        chunks.append(a.tobytes())
        layers.append({"name": layer, "shape": list(a.shape), "dtype": "float32",
                       "offset": offset, "size": a.nbytes})
        offset += a.nbytes
    data = b"".join(chunks)
    manifest = {"format": FORMAT, "byte_order": "little", "file": bin_path.name, "total_size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(), "layers": layers, "meta": meta or {}}
    files = [(bin_path, data)]
    if state is not None:
        buffer = io.BytesIO()
        np.savez(buffer, **state)
        files.append((state_path(weights_dir, name), buffer.getvalue()))
        manifest["state"] = {"file": files[-1][0].name, "sha256": hashlib.sha256(files[-1][1]).hexdigest()}
    try:
        # Data first, manifest last: a manifest never describes a half-written binary.
        write_files([*files, (manifest_path, (json.dumps(manifest, indent=1) + "\n").encode())])
    except OSError as e:
        raise LenetError(f"cannot write the checkpoint to {manifest_path.parent}: {e.strerror or e}") from None
    return manifest_path


def load(weights_dir: str | Path, name: str) -> dict[str, np.ndarray]:
    """The parameters of checkpoint ``name`` in ``weights_dir``, checked strictly."""
    return _load(weights_dir, name)[0]


def load_state(weights_dir: str | Path, name: str) -> tuple[dict[str, np.ndarray], dict, dict[str, np.ndarray]]:
    """(parameters, meta, training state) of a checkpoint saved with a state, all checked."""
    params, manifest = _load(weights_dir, name)
    entry = manifest.get("state")
    path = state_path(weights_dir, name)
    if not isinstance(entry, dict):
        raise LenetError(f"{paths(weights_dir, name)[0]}: no training state to resume from "
                         "(only `lenet train` writes one, into <name>_last)")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LenetError(f"{path}: cannot read the training state ({e.strerror or e})") from None
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise LenetError(f"{path}: SHA-256 differs from the manifest's: the training state is corrupted "
                         "or belongs to another save")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        state = {k: npz[k] for k in npz.files}
    return params, manifest.get("meta") or {}, state


def _load(weights_dir: str | Path, name: str) -> tuple[dict[str, np.ndarray], dict]:
    manifest_path, bin_path = paths(weights_dir, name)
    hint = "train one with `lenet train` or pass the right --weights-dir/--model-name"
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        raise LenetError(f"{manifest_path}: no such checkpoint manifest; {hint}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LenetError(f"{manifest_path}: not a readable JSON manifest ({e}); {hint}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise LenetError(f"{manifest_path}: format {_get(manifest, 'format')!r}, expected {FORMAT!r}")
    try:
        data = bin_path.read_bytes()
    except OSError as e:
        raise LenetError(f"{bin_path}: cannot read the checkpoint data ({e.strerror or e}); {hint}") from None
    if len(data) != manifest.get("total_size"):
        raise LenetError(f"{bin_path}: {len(data)} bytes, the manifest says {manifest.get('total_size')}: "
                         "the file is truncated or does not belong to this manifest")
    if "sha256" not in manifest:
        raise LenetError(f"{manifest_path}: no checksum (field 'sha256'): the data cannot be verified; "
                         "save the checkpoint again with `lenet train`")
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        raise LenetError(f"{bin_path}: SHA-256 differs from the manifest's: the data is corrupted")
    layers = manifest.get("layers")
    names = [e.get("name") for e in layers] if isinstance(layers, list) else None
    if names != list(PARAM_NAMES):
        raise LenetError(f"{manifest_path}: layers {names}, expected exactly {list(PARAM_NAMES)}")
    params, offset = {}, 0
    for e in layers:
        shape = PARAM_SHAPES[e["name"]]
        nbytes = int(np.prod(shape)) * DTYPE.itemsize  # what the layer must be, whatever the manifest says
        if tuple(e.get("shape") or ()) != shape or e.get("dtype") != "float32" \
                or e.get("offset") != offset or e.get("size") != nbytes:
            raise LenetError(f"{manifest_path}: layer {e['name']} is {e.get('shape')} {e.get('dtype')} at "
                             f"{e.get('offset')}+{e.get('size')}, expected {list(PARAM_SHAPES[e['name']])} "
                             f"float32 at {offset}+{nbytes}")
        params[e["name"]] = np.frombuffer(data, DTYPE, count=nbytes // DTYPE.itemsize, offset=offset) \
            .reshape(shape).astype(np.float32)
        offset += nbytes
    if offset != len(data):
        raise LenetError(f"{bin_path}: {len(data) - offset} bytes beyond the last layer")
    return params, manifest


def _get(obj, key):
    return obj.get(key) if isinstance(obj, dict) else None

