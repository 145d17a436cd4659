"""Where a model's files are: one rule for every command.

``--weights-dir W --model-name M`` name the float checkpoint ``W/M.json`` +
``W/M.bin`` and its int8 blob ``W/M_int8.bin`` + ``.json``; every command
that reads or writes them derives its defaults from these two options
(default ``weights/lenet``, under the current directory).

When the user names neither option and has no model of their own there, a
command that reads one falls back to the files that ship with the package
(the default training run: the checkpoint in ``train/pretrained``, its
blob in ``overlay/``), says so in one line on stderr, and works from any
directory, installed or not. A named directory or model never falls back:
a missing file there is an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import blob

DEFAULT_DIR = "weights"
DEFAULT_NAME = "lenet"


class _Named(argparse.Action):
    """Stores the value and notes that the user named it (so the shipped files are never substituted)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        setattr(namespace, NAMED, True)


NAMED = "weights_named"


def add_arguments(parser, weights_dir_help: str = "checkpoint directory") -> None:
    """``--weights-dir`` and ``--model-name``, the same for every command that reads or writes a model."""
    parser.add_argument("--weights-dir", default=DEFAULT_DIR, action=_Named,
                        help=f"{weights_dir_help} (default {DEFAULT_DIR})")
    parser.add_argument("--model-name", default=DEFAULT_NAME, action=_Named,
                        help=f"model name: <dir>/<name>.json + .bin, blob <dir>/<name>_int8.bin "
                             f"(default {DEFAULT_NAME})")


def chosen(args) -> tuple[Path, str]:
    """The (directory, name) the command line names, defaults filled in."""
    return Path(args.weights_dir), args.model_name


def checkpoint_paths(weights_dir: str | Path, name: str) -> tuple[Path, Path]:
    """The float checkpoint's manifest and data."""
    d = Path(weights_dir)
    return d / f"{name}.json", d / f"{name}.bin"


def blob_path(weights_dir: str | Path, name: str) -> Path:
    """The int8 weights blob quantized from that checkpoint (its manifest beside it, ``.json``)."""
    return Path(weights_dir) / f"{name}_int8.bin"


def _may_fall_back(args, own: Path) -> bool:
    return not getattr(args, NAMED, False) and not own.is_file()


def find_checkpoint(args, shipped_dir: Path) -> tuple[Path, str]:
    """(directory, name) of the checkpoint to read: the user's, else the shipped one in ``shipped_dir``."""
    d, name = chosen(args)
    own = checkpoint_paths(d, name)[0]
    if _may_fall_back(args, own) and checkpoint_paths(shipped_dir, DEFAULT_NAME)[0].is_file():
        note(f"no {own} here: using the shipped checkpoint {shipped_dir / DEFAULT_NAME}.json "
             "(`lenet train` makes your own)")
        return shipped_dir, DEFAULT_NAME
    return d, name


def find_blob(args, given: str | Path | None = None) -> Path:
    """The blob to read: ``given``, else the one --weights-dir/--model-name name, else the shipped one."""
    if given:
        return Path(given)
    own = blob_path(*chosen(args))
    shipped = blob.shipped_path()
    if _may_fall_back(args, own) and shipped.is_file():
        note(f"no {own} here: using the shipped blob {shipped} (`lenet quantize` makes your own)")
        return shipped
    return own


def note(message: str) -> None:
    """One informative line on stderr (stdout stays for results)."""
    print(f"note: {message}", file=sys.stderr)
