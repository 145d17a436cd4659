"""How the project's NumPy code uses the cores: BLAS on one thread, parts of a batch in parallel threads.

NumPy's OpenBLAS starts one thread per core for every product large enough.
The products of this project are small (conv2's forward product for a
batch of 64 images is 15 million multiply-adds, fc3's 54 thousand), and
measured here two BLAS threads computed them no faster than one while using
twice the CPU; on a shared machine they were slower. So the golden model
and training pin the BLAS to one thread (:func:`limit_blas`) and cut their
work into parts computed at the same time in threads of their own
(:func:`run_parts`): NumPy releases the GIL in BLAS and in its array loops.

threadpoolctl finds whichever BLAS NumPy loaded (OpenBLAS, MKL, BLIS) and
sets its thread count for the whole process; the previous count comes back
on leaving the ``with`` block. It is a dependency of the package, but the
board's install is ``pip install --no-deps``: without it, the BLAS keeps its
own thread count, which changes the speed and never a result.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np  # (also loads the BLAS before the controller looks for it)


def default_threads() -> int:
    """Threads for one computation: 2 where there are 2 cores or more, else 1."""
    return min(2, os.cpu_count() or 1)


@cache
def _controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()  # inspects the loaded libraries once (milliseconds); limit() is then cheap


def limit_blas(threads: int):
    """Context manager: inside it, NumPy's BLAS uses at most ``threads`` threads."""
    c = _controller()
    return contextlib.nullcontext() if c is None else c.limit(limits=threads, user_api="blas")


def blas_limit_available() -> bool:
    """Whether :func:`limit_blas` can set the thread count (threadpoolctl is installed and found a BLAS)."""
    c = _controller()
    return c is not None and bool(c.select(user_api="blas").lib_controllers)


_WORKER_NAME = "lenet-part"


@cache
def _workers(count: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=count, thread_name_prefix=_WORKER_NAME)  # started once, kept


def run_parts(fn: Callable, parts: Sequence, threads: int) -> list:
    """``[fn(p) for p in parts]``, computed by ``threads`` threads at once, the caller's among them.

    Each thread takes the next part not yet taken until none is left, so a
    thread slowed down (by another process on its core) takes fewer parts
    instead of holding the others up at the end, as a fixed share (part i
    to thread i % threads) would. The results come back in the parts'
    order, whichever thread computed them, so that a sum over them is the
    same sum. A part that raises stops the taking, and the exception reaches
    the caller once every thread has stopped. Called from inside a part, it
    computes in that thread alone: a worker waiting for parts queued behind
    itself would wait for ever.
    """
    nested = threading.current_thread().name.startswith(_WORKER_NAME)
    if threads <= 1 or len(parts) <= 1 or nested:
        return [fn(p) for p in parts]
    results = [None] * len(parts)
    claims = itertools.count()  # next() on it is atomic: one C call under the GIL
    failed = threading.Event()
    errstate = np.geterr()  # NumPy's error state is per thread: the workers take the caller's

    def work() -> None:
        with np.errstate(**errstate):
            while not failed.is_set() and (i := next(claims)) < len(parts):
                try:
                    results[i] = fn(parts[i])
                except BaseException:
                    failed.set()
                    raise

    others = [_workers(threads - 1).submit(work) for _ in range(min(threads, len(parts)) - 1)]
    try:
        work()
    finally:
        # every part is taken once the caller's work() returns: a work item still queued (behind
        # another caller's, on the shared workers) has nothing left to do and is not waited for
        errors = [f.exception() for f in others if not f.cancel()]  # waits for the started ones
    for e in errors:
        if e is not None:
            raise e
    return results
