"""Run a notebook headless in this Python's own kernel (the test suite and `make notebook`).

``lenet notebook IN.ipynb OUT.ipynb [NAME=VALUE ...]`` executes IN with the
environment variables given and writes the executed notebook, outputs
included, to OUT.

The kernel is this interpreter (``sys.executable``), registered under a
private kernel name in a temporary ``JUPYTER_PATH``, so a ``python3`` kernel
installed elsewhere on the machine (another Python, without lenet_pynq or
pynq) can never be picked by mistake.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from ..errors import LenetError

KERNEL_NAME = "lenet-pynq-python"


def execute(src: str | Path, dst: str | Path | None = None, env: dict[str, str] | None = None,
            timeout: int = 600, cwd: str | Path | None = None):
    """Execute notebook ``src`` and return it; write it to ``dst`` if given.

    ``env`` is added to this process's environment for the kernel; cells
    time out after ``timeout`` seconds each; ``cwd`` is the kernel's working
    directory (default: the notebook's folder). A failing cell raises
    ``nbclient.exceptions.CellExecutionError`` naming the cell and the error.
    """
    import nbformat
    from nbclient import NotebookClient

    src = Path(src)
    nb = nbformat.read(src, as_version=4)
    with tempfile.TemporaryDirectory(prefix="lenet_kernel_") as jupyter_path:
        spec = Path(jupyter_path) / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "lenet-pynq (this Python)",
            "language": "python",
        }))
        # figures inline, as in Jupyter, even if the caller set a non-interactive MPLBACKEND
        kernel_env = {**os.environ, **(env or {}), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        saved = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = jupyter_path  # where the client looks the kernel name up
        try:
            client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL_NAME,
                                    resources={"metadata": {"path": str(cwd or src.parent)}})
            client.execute(env=kernel_env)
        finally:
            if saved is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = saved
    if dst is not None:
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dst)
    return nb


def add_arguments(p) -> None:
    p.add_argument("notebook", help="the notebook to execute")
    p.add_argument("out", help="where the executed notebook, outputs included, is written")
    p.add_argument("env", nargs="*", metavar="NAME=VALUE", help="environment variables for the kernel")


def run(args) -> int:
    bad = [e for e in args.env if "=" not in e]
    if bad:
        raise LenetError(f"{bad[0]!r}: give the kernel's environment as NAME=VALUE")
    execute(args.notebook, args.out, env=dict(e.split("=", 1) for e in args.env))
    print(f"executed {args.notebook} -> {args.out}")
    return 0
