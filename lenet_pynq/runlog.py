"""The log of one `lenet` command: a timestamped file under logs/ plus stderr.

stderr gets the messages alone (stdout stays free for reports and --json);
the file gets them with timestamps, for comparing runs later. A message
logged with ``extra=FILE_ONLY`` goes to the file alone: for a report the
command also prints.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

LOG_DIR = Path("logs")
FILE_ONLY = {"file_only": True}


def open_log(command: str, console: bool = True) -> tuple[logging.Logger, Path]:
    """A fresh logger for ``command`` writing to logs/<command>_<time>.log; returns (logger, path)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d_%H%M%S")
    path = LOG_DIR / f"{command}_{stamp}.log"
    n = 1
    while path.exists():  # two runs in the same second keep separate logs
        n += 1
        path = LOG_DIR / f"{command}_{stamp}_{n}.log"
    log = logging.getLogger(f"lenet.{command}")
    log.setLevel(logging.INFO)
    log.propagate = False
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    file_handler = logging.FileHandler(path, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s - lenet - %(levelname)s - %(message)s"))
    log.addHandler(file_handler)
    if console:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(message)s"))
        stream.addFilter(lambda record: not getattr(record, "file_only", False))
        log.addHandler(stream)
    return log, path
