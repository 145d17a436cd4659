"""The build record beside a bitstream: ``overlay/lenet.json`` next to ``lenet.bit``/``lenet.hwh``.

``make bitstream`` writes it (``vivado_tcl/write_build_record.py``) from the
facts Vivado reported (release, clock, worst setup/hold slack, utilization:
``reports/vivado/<ip>/build_facts.json``) and what only the repository knows:
the git commit and whether the tree was dirty, the IP (``hls``/``rtl``) and the
contract version, and the SHA-256 of the ``.bit`` and ``.hwh`` it published.
The overlay class checks a ``.bit``/``.hwh`` pair against it before pynq
reads either, so a ``.bit`` copied without its ``.hwh`` (or the other way
round), or a bitstream of another contract version, is refused with one line
saying what differs. Only the standard library is used, so plain ``python3``
runs the writer without the venv.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from . import contract as C
from .errors import LenetError

RECORD_VERSION = 1


def record_path(bitfile: str | Path) -> Path:
    """Where the record of a bitstream lives: same folder and base name, ``.json``."""
    return Path(bitfile).with_suffix(".json")


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_state(root: str | Path) -> tuple[str, bool | None]:
    """(commit, dirty) of the work tree at ``root``; ("unknown", None) outside git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return "unknown", None
    return commit, dirty


def make_record(facts: dict, bitfile: str | Path, hwh: str | Path, commit: str, dirty: bool | None) -> dict:
    """The record of one build: ``facts`` as build_bitstream.tcl wrote them, plus git, hashes, contract."""
    missing = sorted({"vivado_version", "ip", "ip_vlnv", "clock_mhz", "wns_ns", "whs_ns", "utilization"} - set(facts))
    if missing:
        raise LenetError(f"the build facts lack {missing}: rerun `make bitstream` (vivado_tcl/build_bitstream.tcl "
                         "writes them)")
    return {
        "record_version": RECORD_VERSION,
        "vivado_version": facts["vivado_version"],
        "part": facts.get("part", C.PART),
        "ip": facts["ip"],
        "ip_vlnv": facts["ip_vlnv"],
        "contract_version": C.CONTRACT_VERSION,
        "git_commit": commit,
        "git_dirty": dirty,
        "bit": Path(bitfile).name,
        "bit_sha256": sha256(bitfile),
        "hwh": Path(hwh).name,
        "hwh_sha256": sha256(hwh),
        "clock_mhz": facts["clock_mhz"],
        "wns_ns": facts["wns_ns"],
        "whs_ns": facts["whs_ns"],
        "utilization": facts["utilization"],
    }


def write_record(path: str | Path, record: dict) -> Path:
    path = Path(path)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def check_pair(bitfile: str | Path, hwh: str | Path) -> dict:
    """The record of ``bitfile``, or a :class:`LenetError` whose one line says what differs.

    Checks the record exists and parses, that it was written for this
    contract version, and that the ``.bit`` and ``.hwh`` are the ones it
    hashed.
    """
    bitfile, hwh = Path(bitfile), Path(hwh)
    path = record_path(bitfile)
    fix = f"copy {bitfile.name}, {hwh.name} and {path.name} together from one `make bitstream`"
    if not path.is_file():
        raise LenetError(f"{path} not found: a bitstream needs its build record beside it; {fix}")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        wanted = {k: record[k] for k in ("contract_version", "bit_sha256", "hwh_sha256")}
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as e:
        raise LenetError(f"{path} is not a build record ({type(e).__name__}: {e}); {fix}") from None
    built = f"built from git {str(record.get('git_commit', 'unknown'))[:12]} with IP {record.get('ip', '?')}"
    if wanted["contract_version"] != C.CONTRACT_VERSION:
        raise LenetError(
            f"{bitfile} implements contract version {wanted['contract_version']} ({built}), this driver "
            f"version {C.CONTRACT_VERSION}: rebuild it with `make bitstream` from this checkout")
    for what, file in (("bit", bitfile), ("hwh", hwh)):
        have = sha256(file)
        if have != wanted[f"{what}_sha256"]:
            raise LenetError(
                f"{file} does not match {path}: its SHA-256 is {have[:12]}..., the record's "
                f"{wanted[what + '_sha256'][:12]}... ({built}); {fix}")
    return record
