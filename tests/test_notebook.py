"""The board's notebook, executed headless on the device model, and its delivery by `pynq get-notebooks`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lenet_pynq.sim.notebook import execute

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "overlay" / "lenet_mnist.ipynb"
COUNT = 200


def _text(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def _figures(nb) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_pynq_get_notebooks_delivers_the_notebook_and_it_runs_where_it_lands(tmp_path):
    """`pynq get-notebooks lenet` as the README says, without -p: the notebook, the blob and the overlay
    files land in ./pynq-notebooks/lenet/ (PYNQ v3.1 pynq/_cli/get_notebooks.py: TARGET_NB_DIR).

    -o (ignore overlays) is needed only off the board: without it pynq first looks for the board
    (pynq/utils.py _detect_devices: "No device found in the system"), and uses the device's name only
    to resolve .link files and .d folders, which this package has none of
    (pynqutils/setup_utils/deliver_notebooks.py): the files copied are the same.
    """
    pynq_cli = Path(sys.executable).parent / "pynq"
    done = subprocess.run([str(pynq_cli), "get-notebooks", "lenet", "-o", "-q"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    landed = tmp_path / "pynq-notebooks" / "lenet"
    assert {"lenet_mnist.ipynb", "lenet_int8.bin", "lenet_int8.json"} <= {p.name for p in landed.iterdir()}

    # no LENET_WEIGHTS: the notebook finds the blob delivered beside it, as on the board
    nb = execute(landed / "lenet_mnist.ipynb", tmp_path / "executed.ipynb", cwd=landed,
                 env={"LENET_BACKEND": "model", "LENET_COUNT": str(COUNT)})
    text = _text(nb)
    assert "weights lenet_int8.bin" in text
    for check in ("pynq", "design", "weights", "vectors", "error", "throughput"):  # the self-test, first
        assert f"PASS {check}" in text, text
    assert f"model device: {COUNT} images in 1 jobs: accuracy" in text
    assert f"model device and NumPy logits identical on {COUNT} images: True" in text
    assert "per-class accuracy" in text and "FPGA" not in text and "speed-up" not in text
    assert _figures(nb) >= 3  # prediction grid, confusion matrix, timing bars
    accuracy = float(text.split("accuracy ")[1].split("%")[0])
    assert accuracy >= 98.0, text


def test_pynq_finds_the_overlay_folder_by_its_entry_point():
    # Overlay("lenet.bit") on the board searches these paths for the bitstream
    from pynqutils.setup_utils import ExtensionsManager

    paths = [Path(p).resolve() for p in ExtensionsManager("pynq.overlays").paths]
    assert NOTEBOOK.parent.resolve() in paths
