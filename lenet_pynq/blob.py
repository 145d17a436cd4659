"""The int8 weights blob of docs/contract.md section 2, and its JSON manifest.

The blob (``.bin``) is exactly the byte stream the IP receives in a
LOAD_WEIGHTS job; the manifest (``.json`` beside it) carries what the IP never
needs: the scale exponents ("fracs") and a readable description.

The golden model, the exporter, the device model, the C-sim and the driver
all read blobs through this module; decoding makes every check the IP makes
(plus the byte length), so a blob the IP would refuse is refused here with
the same reason.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import contract as C
from .errors import LenetError
from .outputs import write_files

MANIFEST_FORMAT = "lenet-blob-manifest-1"
REQUANTIZED = tuple(layer.name for layer in C.LAYERS if layer.requantized)  # the layers with a shift
SECTION = {s.name: s for s in C.SECTIONS}
SHIPPED_NAME = "lenet_int8.bin"


def shipped_path() -> Path:
    """The blob packaged with the overlay (lenet_pynq.overlay), with its manifest beside it."""
    return Path(str(resources.files("lenet_pynq.overlay") / SHIPPED_NAME))


class LayerFracs(NamedTuple):
    """Power-of-two scale exponents of one layer: real = integer * 2**-frac.

    The bias is stored at ``in_frac + w_frac``; ``out_frac`` is the fraction
    of the layer's output (for fc3, which is not requantized, the logits'
    fraction ``in_frac + w_frac``).
    """

    in_frac: int
    w_frac: int
    out_frac: int


@dataclass
class QuantizedLeNet:
    """The integer LeNet-5: everything the IP needs, plus the fracs.

    tensors
        section name (``contract.SECTIONS``) -> array of that section's shape,
        int8 for ``*.w``, int32 for ``*.b``.
    shifts
        ``{"conv1": s, "conv2": s, "fc1": s, "fc2": s}``, each 0 ... 31.
    fracs
        layer name -> :class:`LayerFracs`, or None when unknown (a blob read
        without its manifest). Only the scale of the values depends on them;
        the integer arithmetic does not.
    """

    tensors: dict[str, np.ndarray]
    shifts: dict[str, int]
    fracs: dict[str, LayerFracs] | None = None
    info: dict = field(default_factory=dict)  # free-form provenance, written to the manifest

    def __post_init__(self) -> None:
        if set(self.tensors) != set(SECTION):
            raise LenetError(f"QuantizedLeNet: sections {sorted(self.tensors)}, expected {sorted(SECTION)}")
        for name, sec in SECTION.items():
            a = np.asarray(self.tensors[name])
            if a.shape != sec.shape or a.dtype != np.dtype(sec.dtype):
                raise LenetError(
                    f"QuantizedLeNet: {name} is {a.dtype}{list(a.shape)}, expected {sec.dtype}{list(sec.shape)}"
                )
            self.tensors[name] = a
        if set(self.shifts) != set(REQUANTIZED):
            raise LenetError(f"QuantizedLeNet: shifts for {sorted(self.shifts)}, expected {list(REQUANTIZED)}")
        for name, s in self.shifts.items():
            if not 0 <= int(s) <= C.MAX_SHIFT:
                raise LenetError(f"QuantizedLeNet: shift of {name} is {s}, outside 0 ... {C.MAX_SHIFT}")
            self.shifts[name] = int(s)
        if self.fracs is not None:
            self.fracs = {k: LayerFracs(*map(int, v)) for k, v in self.fracs.items()}
            _check_fracs(self.fracs, self.shifts)

    def logit_scale(self) -> float:
        """fc3's integer logits -> real units (1.0, the raw integer scale, when the fracs are unknown)."""
        return 1.0 if self.fracs is None else 2.0 ** -self.fracs["fc3"].out_frac

    def activation_fracs(self) -> dict[str, int]:
        """Frac of every activation of contract.ACTIVATIONS but ``input`` (for per-layer dumps).

        ``input`` has none: the raw pixels are conv1's integer input at frac
        0, but the float model's input is pixel / 255, not a power-of-two
        scale of it, so no frac would make the two comparable.
        """
        if self.fracs is None:
            raise LenetError("the fracs of this blob are unknown: load it together with its .json manifest")
        f = self.fracs
        return {
            "conv1": f["conv1"].out_frac,
            "pool1": f["conv1"].out_frac,
            "conv2": f["conv2"].out_frac,
            "pool2": f["conv2"].out_frac,
            "fc1": f["fc1"].out_frac,
            "fc2": f["fc2"].out_frac,
            "fc3": f["fc3"].out_frac,
        }

    def __repr__(self) -> str:
        shifts = ", ".join(f"{k}={v}" for k, v in self.shifts.items())
        return f"QuantizedLeNet(shifts: {shifts}; crc {crc_word(self):#010x})"


def _check_fracs(fracs: dict[str, LayerFracs], shifts: dict[str, int]) -> None:
    names = [layer.name for layer in C.LAYERS]
    if set(fracs) != set(names):
        raise LenetError(f"fracs for {sorted(fracs)}, expected one per layer {names}")
    for prev, name in zip([None] + names, names):
        f = fracs[name]
        if prev is not None and f.in_frac != fracs[prev].out_frac:
            raise LenetError(f"fracs: {name}.in_frac {f.in_frac} != {prev}.out_frac {fracs[prev].out_frac}")
        shift = shifts.get(name, 0)
        if f.in_frac + f.w_frac - f.out_frac != shift:
            raise LenetError(
                f"fracs: {name} has in_frac {f.in_frac} + w_frac {f.w_frac} - out_frac {f.out_frac} != shift {shift}"
            )


# --- bytes -------------------------------------------------------------------

def encode(q: QuantizedLeNet) -> bytes:
    """The blob of ``q``: exactly ``contract.BLOB_BYTES`` bytes, CRC word last."""
    buf = bytearray(C.BLOB_BYTES)
    shifts = 0
    for i, name in enumerate(REQUANTIZED):
        shifts |= q.shifts[name] << (i * C.SHIFT_FIELD_STRIDE)
    header = np.array([C.BLOB_MAGIC, C.BLOB_VERSION, C.BLOB_WORDS, shifts], dtype="<u4")
    buf[: C.HEADER_WORDS * 4] = header.tobytes()
    for name, sec in SECTION.items():
        raw = q.tensors[name].astype(np.dtype(sec.dtype).newbyteorder("<")).tobytes()
        buf[sec.offset: sec.offset + sec.nbytes] = raw
    buf[C.PAYLOAD_END:] = np.array([zlib.crc32(buf[: C.PAYLOAD_END])], dtype="<u4").tobytes()
    return bytes(buf)


def decode(data: bytes, where: str = "blob") -> QuantizedLeNet:
    """Parse a blob, checking everything the IP checks (contract section 6).

    Raises LenetError naming ``where`` for: a length other than
    ``contract.BLOB_BYTES``, a wrong magic, version or length word, shift-word
    bits outside the four 5-bit fields, and a CRC mismatch. Padding bytes are
    not checked (the IP ignores them too). The result has ``fracs=None``.
    """
    data = bytes(data)
    if len(data) != C.BLOB_BYTES:
        raise LenetError(
            f"{where}: {len(data)} bytes, a LeNet-5 weights blob is {C.BLOB_BYTES}; "
            "is it truncated or not a blob? Rebuild it with `lenet quantize`"
        )
    magic, version, words, shifts = np.frombuffer(data, dtype="<u4", count=C.HEADER_WORDS).tolist()
    if magic != C.BLOB_MAGIC:
        raise LenetError(f"{where}: magic {magic:#010x}, expected {C.BLOB_MAGIC:#010x} ('LEN5'); not a weights blob")
    if version != C.BLOB_VERSION:
        raise LenetError(f"{where}: format version {version}, this tool reads version {C.BLOB_VERSION}; "
                         "re-run `lenet quantize`")
    if words != C.BLOB_WORDS:
        raise LenetError(f"{where}: length word says {words} words, the blob format has {C.BLOB_WORDS}")
    if shifts & ~C.SHIFT_MASK:
        raise LenetError(f"{where}: shift word {shifts:#010x} has bits outside the four 5-bit fields "
                         f"(mask {C.SHIFT_MASK:#010x})")
    stored = int(np.frombuffer(data, dtype="<u4", offset=C.PAYLOAD_END, count=1)[0])
    actual = zlib.crc32(data[: C.PAYLOAD_END])
    if stored != actual:
        raise LenetError(f"{where}: CRC word {stored:#010x} but the contents give {actual:#010x}; "
                         "the blob is corrupted")
    tensors = {
        name: np.frombuffer(data, dtype=np.dtype(sec.dtype).newbyteorder("<"), offset=sec.offset,
                            count=sec.nbytes // np.dtype(sec.dtype).itemsize)
        .reshape(sec.shape).astype(sec.dtype)
        for name, sec in SECTION.items()
    }
    shift = {n: (shifts >> (i * C.SHIFT_FIELD_STRIDE)) & ((1 << C.SHIFT_FIELD_BITS) - 1)
             for i, n in enumerate(REQUANTIZED)}
    return QuantizedLeNet(tensors, shift)


def crc_word(q_or_blob: QuantizedLeNet | bytes) -> int:
    """The CRC word of a blob (what WEIGHTS_CRC reads after loading it).

    Given bytes (a whole blob, or only its ``contract.PAYLOAD_END`` bytes
    before the CRC word), the CRC-32 of the bytes before the CRC word is
    computed, not read, so a corrupted blob gives its true CRC.
    """
    data = encode(q_or_blob) if isinstance(q_or_blob, QuantizedLeNet) else bytes(q_or_blob)
    if len(data) not in (C.BLOB_BYTES, C.PAYLOAD_END):
        raise LenetError(f"crc_word: {len(data)} bytes, expected {C.BLOB_BYTES} (a blob) or {C.PAYLOAD_END}")
    return zlib.crc32(data[: C.PAYLOAD_END])


# --- files -------------------------------------------------------------------

def manifest_path(path_bin: str | Path) -> Path:
    return Path(path_bin).with_suffix(".json")


def manifest(q: QuantizedLeNet) -> dict:
    """The JSON manifest of ``q`` (contract section 2)."""
    sections = []
    for name, sec in SECTION.items():
        layer, kind = name.split(".")
        entry = {"name": name, "shape": list(sec.shape), "dtype": sec.dtype,
                 "offset": sec.offset, "nbytes": sec.nbytes}
        if q.fracs is not None:
            f = q.fracs[layer]
            entry.update(w_frac=f.w_frac, in_frac=f.in_frac, out_frac=f.out_frac,
                         frac=f.w_frac if kind == "w" else f.in_frac + f.w_frac)
        a = q.tensors[name]
        entry["range"] = [int(a.min()), int(a.max())]
        sections.append(entry)
    doc = {
        "format": MANIFEST_FORMAT,
        "version": C.BLOB_VERSION,
        "magic": f"{C.BLOB_MAGIC:#010x}",
        "words": C.BLOB_WORDS,
        "bytes": C.BLOB_BYTES,
        "crc": f"{crc_word(q):#010x}",
        "shifts": dict(q.shifts),
        "sections": sections,
    }
    if q.fracs is not None:
        doc["activation_fracs"] = q.activation_fracs()
    if q.info:
        doc["info"] = q.info
    return doc


def save(q: QuantizedLeNet, path_bin: str | Path) -> tuple[Path, Path]:
    """Write the blob to ``path_bin`` and its manifest beside it (``.json``), atomically, manifest last."""
    path_bin = Path(path_bin)
    path_json = manifest_path(path_bin)
    write_files([(path_bin, encode(q)), (path_json, (json.dumps(manifest(q), indent=1) + "\n").encode())])
    return path_bin, path_json


def read_file(path_bin: str | Path) -> bytes:
    """The bytes of the file ``path_bin``, or LenetError (not a traceback) when it cannot be read.

    Only reads: the blob's contents are checked by :func:`decode`, or by the IP.
    """
    try:
        return Path(path_bin).read_bytes()
    except FileNotFoundError:
        raise LenetError(f"{path_bin}: no such weights blob; make one with `lenet quantize`") from None
    except OSError as e:
        raise LenetError(f"{path_bin}: cannot read the weights blob ({e.strerror or e})") from None


def load(path_bin: str | Path, require_manifest: bool = True) -> QuantizedLeNet:
    """Read and check a blob and (by default) its ``.json`` manifest.

    The manifest must agree with the blob (version, CRC, shifts, section
    layout); it supplies the fracs. With ``require_manifest=False`` a missing
    manifest gives ``fracs=None`` (enough for inference, not for dequantizing).
    """
    path_bin = Path(path_bin)
    q = decode(read_file(path_bin), where=str(path_bin))
    path_json = manifest_path(path_bin)
    if not path_json.is_file():
        if require_manifest:
            raise LenetError(f"{path_json}: the blob's manifest is missing; re-run `lenet quantize`")
        return q
    try:
        doc = json.loads(path_json.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise LenetError(f"{path_json}: not valid JSON ({e})") from None
    except OSError as e:
        raise LenetError(f"{path_json}: cannot read the blob's manifest ({e.strerror or e})") from None
    if not isinstance(doc, dict):
        raise LenetError(f"{path_json}: a JSON {type(doc).__name__}, not a blob manifest (an object); "
                         "re-run `lenet quantize`")
    q.fracs, q.info = _fracs_from_manifest(doc, q, path_json), doc.get("info", {})
    _check_fracs(q.fracs, q.shifts)
    return q


def _fracs_from_manifest(doc: dict, q: QuantizedLeNet, where: Path) -> dict[str, LayerFracs]:
    def bad(what: str) -> LenetError:
        return LenetError(f"{where}: {what}; the manifest does not belong to this blob (re-run `lenet quantize`)")

    if doc.get("format") != MANIFEST_FORMAT or doc.get("version") != C.BLOB_VERSION:
        raise bad(f"format {doc.get('format')!r} version {doc.get('version')!r}, "
                  f"expected {MANIFEST_FORMAT!r} version {C.BLOB_VERSION}")
    if doc.get("crc") != f"{crc_word(q):#010x}":
        raise bad(f"CRC {doc.get('crc')} but the blob's is {crc_word(q):#010x}")
    if doc.get("shifts") != q.shifts:
        raise bad(f"shifts {doc.get('shifts')} but the blob's are {q.shifts}")
    fracs = {}
    sections = doc.get("sections")
    if not isinstance(sections, list) or not all(isinstance(e, dict) for e in sections):
        raise bad("'sections' is not a list of objects")
    by_name = {e.get("name"): e for e in sections}
    for name, sec in SECTION.items():
        e = by_name.get(name)
        if e is None:
            raise bad(f"no section {name}")
        if (tuple(e.get("shape", ())), e.get("dtype"), e.get("offset"), e.get("nbytes")) != \
                (sec.shape, sec.dtype, sec.offset, sec.nbytes):
            raise bad(f"section {name} layout differs from the contract")
        try:
            f = LayerFracs(int(e["in_frac"]), int(e["w_frac"]), int(e["out_frac"]))
        except (KeyError, TypeError, ValueError):
            raise bad(f"section {name} lacks integer in_frac/w_frac/out_frac") from None
        layer = name.split(".")[0]
        if fracs.setdefault(layer, f) != f:
            raise bad(f"the sections of {layer} disagree on their fracs")
    return fracs


def random_model(seed: int = 0) -> QuantizedLeNet:
    """A valid QuantizedLeNet with random weights, for tests and bring-up.

    Weights are uniform int8, biases small; the shifts are chosen so that
    MNIST-like inputs give activations spread over 0 ... 255 rather than all
    clamped, which exercises both ends of every requantization.
    """
    rng = np.random.default_rng(seed)
    tensors = {}
    for name, sec in SECTION.items():
        if sec.dtype == "int8":
            tensors[name] = rng.integers(-128, 128, size=sec.shape, dtype=np.int8)
        else:
            tensors[name] = rng.integers(-(1 << 14), 1 << 14, size=sec.shape).astype(np.int32)
    shifts = {"conv1": 8, "conv2": 10, "fc1": 10, "fc2": 9}
    fracs, in_frac = {}, 0
    for layer in C.LAYERS:
        out_frac = in_frac + 7 - shifts.get(layer.name, 0)
        fracs[layer.name] = LayerFracs(in_frac, 7, out_frac)
        in_frac = out_frac
    return QuantizedLeNet(tensors, shifts, fracs, info={"source": f"random_model(seed={seed})"})


def as_bytes(blob) -> bytes:
    """The bytes of a weights blob given as a path, bytes or array; only its length is checked here.

    The IP checks the rest (magic, version, length word, shifts, CRC) as the
    words arrive and reports the first error; the driver turns it into
    :class:`LenetJobError`. Checking here too would hide that path.
    """
    if isinstance(blob, (str, Path)):
        data = read_file(blob)
        where = str(blob)
    else:
        data = np.ascontiguousarray(blob).tobytes() if isinstance(blob, np.ndarray) else bytes(blob)
        where = "weights blob"
    if len(data) != C.BLOB_BYTES:
        raise LenetError(f"{where}: {len(data)} bytes, a LeNet-5 weights blob is {C.BLOB_BYTES} bytes "
                         "(contract section 2); is it truncated, or not a blob? Rebuild it with `lenet quantize`")
    return data
