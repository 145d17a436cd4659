"""How many threads the BLAS under NumPy may use, set around a computation.

NumPy's OpenBLAS starts one thread per core for every product large enough.
The products of this project are small (conv2's forward product for a
batch of 64 images is 15 million multiply-adds, fc3's 54 thousand), and
measured here two BLAS threads computed them no faster than one while using
twice the CPU; on a shared machine they were slower. So the golden model runs its products
on one thread, and training runs its own threads over halves of each batch
instead (train/model.py), each with a one-thread BLAS.

threadpoolctl finds whichever BLAS NumPy loaded (OpenBLAS, MKL, BLIS) and
sets its thread count for the whole process; the previous count comes back
on leaving the ``with`` block. It is a dependency of the package, but the
board's install is ``pip install --no-deps``: without it, the BLAS keeps its
own thread count, which changes the speed and never a result.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache

import numpy  # noqa: F401 (loads the BLAS before the controller looks for it)


@lru_cache(maxsize=1)
def _controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()  # inspects the loaded libraries once (milliseconds); limit() is then cheap


def limit(threads: int):
    """Context manager: inside it, NumPy's BLAS uses at most ``threads`` threads."""
    c = _controller()
    return contextlib.nullcontext() if c is None else c.limit(limits=threads, user_api="blas")


def available() -> bool:
    """Whether :func:`limit` can set the thread count (threadpoolctl is installed and found a BLAS)."""
    c = _controller()
    return c is not None and bool(c.select(user_api="blas").lib_controllers)
