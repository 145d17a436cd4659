"""Progress of a long step, for a person watching a terminal or tailing a redirected log.

A step of a minute or more (the C-sim or the RTL on 10,000 images, a
Yosys synthesis, a cocotb run) is never silent: :func:`step` prints what
starts and how long it took, one line each, on stderr (stdout stays for
results), flushed at once so a ``make ... | tee`` shows it live. Bars
(tqdm) stay for loops on a terminal; these lines suit any output.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager


@contextmanager
def step(what: str):
    """``what ...`` now, ``what: done in N s`` at the end (nothing more if it fails: the error says why)."""
    t0 = time.monotonic()
    print(f"{what} ...", file=sys.stderr, flush=True)
    yield
    print(f"{what}: done in {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
