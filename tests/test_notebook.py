"""The board's notebook, executed headless on the device model, and its delivery by `pynq get-notebooks`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lenet_pynq.sim.notebook import execute

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "overlay" / "lenet_mnist.ipynb"
COUNT = 300


def _text(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def _figures(nb) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_notebook_runs_unchanged_on_the_model_device(tmp_path):
    """No LENET_WEIGHTS: the notebook finds the blob that ships beside it, as on the board."""
    nb = execute(NOTEBOOK, tmp_path / "executed.ipynb", cwd=tmp_path,
                 env={"LENET_BACKEND": "model", "LENET_COUNT": str(COUNT)})
    text = _text(nb)
    assert f"{COUNT} images in 1 jobs: accuracy" in text
    assert f"FPGA and NumPy logits identical on {COUNT} images: True" in text
    assert "speed-up" in text and "per-class accuracy" in text
    assert _figures(nb) >= 3  # prediction grid, confusion matrix, timing bars
    accuracy = float(text.split("accuracy ")[1].split("%")[0])
    assert accuracy >= 98.0, text


def test_pynq_get_notebooks_delivers_the_notebook(tmp_path):
    pynq_cli = Path(sys.executable).parent / "pynq"
    done = subprocess.run([str(pynq_cli), "get-notebooks", "lenet", "-p", str(tmp_path), "-o", "-q"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "lenet" / "lenet_mnist.ipynb").is_file(), done.stderr


def test_pynq_finds_the_overlay_folder_by_its_entry_point():
    # Overlay("lenet.bit") on the board searches these paths for the bitstream
    from pynqutils.setup_utils import ExtensionsManager

    paths = [Path(p).resolve() for p in ExtensionsManager("pynq.overlays").paths]
    assert NOTEBOOK.parent.resolve() in paths
