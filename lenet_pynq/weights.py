"""Where a model's files are: one rule for every command.

``--weights-dir W --model-name M`` name the float checkpoint ``W/M.json`` +
``W/M.bin`` and its int8 blob ``W/M_int8.bin`` + ``.json``; every command
that reads or writes them derives its defaults from these two options.
"""

from __future__ import annotations

import sys
from pathlib import Path

DEFAULT_DIR = "weights"
DEFAULT_NAME = "lenet"


def add_arguments(parser, weights_dir_help: str = "checkpoint directory") -> None:
    """``--weights-dir`` and ``--model-name``, the same for every command that reads or writes a model."""
    parser.add_argument("--weights-dir", default=DEFAULT_DIR, help=f"{weights_dir_help} (default {DEFAULT_DIR})")
    parser.add_argument("--model-name", default=DEFAULT_NAME,
                        help=f"model name: <dir>/<name>.json + .bin, blob <dir>/<name>_int8.bin "
                             f"(default {DEFAULT_NAME})")


def checkpoint_paths(weights_dir: str | Path, name: str) -> tuple[Path, Path]:
    """The float checkpoint's manifest and data."""
    d = Path(weights_dir)
    return d / f"{name}.json", d / f"{name}.bin"


def blob_path(weights_dir: str | Path, name: str) -> Path:
    """The int8 weights blob quantized from that checkpoint (its manifest beside it, ``.json``)."""
    return Path(weights_dir) / f"{name}_int8.bin"


def or_shipped(path: str | Path, default: str | Path, shipped: Path, what: str) -> Path:
    """``path``, unless it is the default, missing, and a shipped copy exists: then the shipped copy.

    An installed ``lenet`` run from any directory has no ``weights/`` there;
    the weights that ship with the package are the ones to use until the user
    makes their own. The switch is said in one line on stderr.
    """
    path = Path(path)
    if path == Path(default) and not path.is_file() and shipped.is_file():
        print(f"note: no {path} here (make your own with `lenet train`/`lenet quantize`): "
              f"using the shipped {what} {shipped}", file=sys.stderr)
        return shipped
    return path
