"""The log of one `lenet` command: a timestamped file under the log directory plus stderr.

stderr gets the messages alone (stdout stays free for reports and --json);
the file gets them with timestamps, for comparing runs later. A message
logged with ``extra=FILE_ONLY`` goes to the file alone: for a report the
command also prints.

The log never costs a run: the file is created with its first message (a
command that fails before logging leaves no empty file), an unwritable log
directory is one warning line and the command carries on without a file,
and `lenet`'s one-line errors are logged too (:func:`log_error`). The
directory is ``--log-dir``, else ``$LENET_LOG_DIR``, else ``logs/`` under
the current directory.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

ENV_VAR = "LENET_LOG_DIR"
DEFAULT_DIR = Path("logs")
FILE_ONLY = {"file_only": True}

_log_dir: Path | None = None  # set by configure() (the --log-dir option)
_open: list[logging.Logger] = []  # the loggers opened by this command, for log_error


def configure(log_dir: str | Path | None) -> None:
    """Use ``log_dir`` for the logs of this process (None: $LENET_LOG_DIR, else logs/)."""
    global _log_dir
    _log_dir = Path(log_dir) if log_dir else None


def log_dir() -> Path:
    return _log_dir or (Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else DEFAULT_DIR)


class _LazyFileHandler(logging.FileHandler):
    """A file handler that creates its directory and file with the first record, and gives up quietly.

    On any error writing (read-only directory, full disk) it prints one
    warning line, stops writing, and lets the command go on.
    """

    def __init__(self, path: Path):
        super().__init__(path, encoding="utf-8", delay=True)
        self.path = path  # as given (relative), for the "Log:" line
        self.failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        try:
            if self.stream is None:
                Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
            super().emit(record)
        except OSError as e:
            self._give_up(e)

    def handleError(self, record: logging.LogRecord) -> None:
        self._give_up(sys.exc_info()[1])

    def _give_up(self, e) -> None:
        self.failed = True
        reason = getattr(e, "strerror", None) or e
        print(f"warning: cannot write the log {self.baseFilename} ({reason}); continuing without it "
              f"(choose a directory with --log-dir or ${ENV_VAR})", file=sys.stderr)

    @property
    def written(self) -> bool:
        return not self.failed and Path(self.baseFilename).is_file()


def open_log(command: str, console: bool = True) -> logging.Logger:
    """A fresh logger for ``command`` writing to <log dir>/<command>_<time>.log.

    :func:`log_path` gives the file at the end, if one was really written.
    """
    d = log_dir()
    stamp = time.strftime("%Y%m%d_%H%M%S")
    path = d / f"{command}_{stamp}.log"
    n = 1
    while path.exists():  # two runs in the same second keep separate logs
        n += 1
        path = d / f"{command}_{stamp}_{n}.log"
    log = logging.getLogger(f"lenet.{command}")
    log.setLevel(logging.INFO)
    log.propagate = False
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    file_handler = _LazyFileHandler(path)
    file_handler.setFormatter(logging.Formatter("%(asctime)s - lenet - %(levelname)s - %(message)s"))
    log.addHandler(file_handler)
    if console:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(message)s"))
        stream.addFilter(lambda record: not getattr(record, "file_only", False))
        log.addHandler(stream)
    _open.append(log)
    return log


def log_path(log: logging.Logger) -> Path | None:
    """The file ``log`` wrote, or None if it wrote none (nothing logged, or the directory refused it)."""
    h = next((h for h in log.handlers if isinstance(h, _LazyFileHandler)), None)
    return h.path if h is not None and h.written else None


def log_error(message: str) -> None:
    """Record a command's final error in the log files it opened (never on the console: cli prints it)."""
    for log in _open:
        log.error(message, extra=FILE_ONLY)


def close() -> None:
    """Close the files of every log this command opened."""
    for log in _open:
        for h in list(log.handlers):
            log.removeHandler(h)
            h.close()
    _open.clear()
