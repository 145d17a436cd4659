"""Writing results safely: outputs checked before the work, files replaced atomically, optional extras named.

Three habits every command shares, so that no work is lost to a bad path:

- :func:`check_writable` before a long step: a read-only directory, a path
  under a regular file (``/dev/null/x.png``) or a directory where a file
  should be is refused in one line before anything is computed;
- :func:`write_files` for anything a later run reads back: every file goes
  to a temporary name in its own directory first, then all are renamed in
  order (so a manifest listed last never describes data not yet in place),
  with Ctrl-C held back during the renames;
- :func:`require` for an optional dependency: one line naming the extra to
  install, asked before the work rather than after it.
"""

from __future__ import annotations

import importlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from .errors import LenetError


def check_writable(path: str | Path, what: str, directory: bool = False) -> Path:
    """``path`` (a file, or a directory if ``directory``), made writable or refused with LenetError.

    Creates the missing parent directories (the command is about to write
    there anyway) and proves the place writable by creating and removing a
    temporary file, which also holds for root on a read-only file system.
    """
    path = Path(path)
    folder = path if directory else path.parent
    if not directory and path.is_dir():
        raise LenetError(f"{what} {path} is a directory: give a file name")
    if directory and path.exists() and not path.is_dir():
        raise LenetError(f"{what} {path} is a file: give a directory")
    blocker = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise LenetError(f"cannot write {what} {path}: {blocker} is not a directory")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".lenet-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise LenetError(f"cannot write {what} {path}: {e.strerror or e} ({folder}); "
                         "choose another path") from None
    return path


@contextmanager
def _sigint_held():
    """Defer Ctrl-C until the block ends (only in the main thread, where Python delivers it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt


def write_files(files: Iterable[tuple[str | Path, bytes]]) -> None:
    """Replace every ``(path, data)`` atomically, renamed in the order given (put the manifest last).

    Each file is written in full (and flushed to disk) under a temporary
    name in its directory before any is renamed; an interruption before the
    renames leaves the previous files untouched, and Ctrl-C cannot land
    between two renames. Only a power cut in the microseconds of the renames
    could still split a pair.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            staged.append((tmp, path))
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would make the result private
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        with _sigint_held():
            for tmp, path in staged:
                os.replace(tmp, path)
            staged.clear()
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


EXTRAS = {"matplotlib": "plot", "pynq": "dev"}


def require(module: str, purpose: str):
    """Import an optional dependency, or LenetError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS.get(module)
        how = f"pip install 'lenet-pynq[{extra}]'" if extra else f"pip install {module}"
        raise LenetError(f"{purpose} needs {module}, which is not installed: {how} "
                         f"(in a checkout: .venv/bin/pip install -e '.[{extra or 'dev'}]')") from None
