"""`make wheel`: the one wheel for the board, installed offline beside numpy and tqdm only, run from elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tqdm

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(["make", "-s", "wheel", f"WHEEL_DIR={out}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = out.glob("lenet_pynq-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    """A clean venv with numpy and tqdm (as wheels made first, then installed with --no-index) and the wheel."""
    root = tmp_path_factory.mktemp("board")
    wheels = root / "wheels"

    def run(*argv):
        done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=900, check=False)
        assert done.returncode == 0, done.stdout + done.stderr

    # the same versions as here, from pip's cache: the board's image has its own numpy already
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels,
        f"numpy=={np.__version__}", f"tqdm=={tqdm.__version__}")
    run(sys.executable, "-m", "venv", root / "venv")
    pip = root / "venv" / "bin" / "pip"
    run(pip, "install", "-q", "--no-index", "--find-links", wheels, "numpy", "tqdm")
    run(pip, "install", "-q", "--no-index", "--no-deps", wheel)  # as on the board: one file, nothing fetched
    return root / "venv"


def test_the_wheel_is_pure_python_and_holds_what_the_board_needs(wheel):
    assert wheel.name.endswith("-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("lenet_pynq/overlay/lenet_mnist.ipynb", "lenet_pynq/overlay/lenet_int8.bin",
                   "lenet_pynq/overlay/lenet_int8.json", "lenet_pynq/train/pretrained/lenet.json",
                   "lenet_pynq/mnist_test/t10k-images-idx3-ubyte.gz", "lenet_pynq/mnist_test/t10k-labels-idx1-ubyte.gz",
                   "lenet_pynq/host/selftest.py", "lenet_pynq/host/driver.py"):
        assert needed in names, needed
    assert not any("train-images" in n or n.startswith("tests/") or ".venv" in n for n in names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "[pynq.notebooks]\nlenet = lenet_pynq.overlay" in entry_points


def test_lenet_test_and_bench_run_offline_from_another_directory(venv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LENET_MNIST_DIR"}
    env.update(http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")  # any download would fail
    lenet = venv / "bin" / "lenet"

    def run(*argv):
        done = subprocess.run([str(lenet), *argv], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=900, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout), done.stderr

    test, err = run("test", "--json")
    assert test["total"] == 10000 and test["accuracy"] >= 0.99
    assert "using the shipped checkpoint" in err
    bench, err = run("bench", "--backend", "int", "--json")
    assert bench["label"] == "golden model (NumPy)" and bench["total"] == 10000 and bench["accuracy"] >= 0.99
    assert "using the shipped blob" in err and "lenet_pynq/overlay/lenet_int8.bin" in err
    assert not (tmp_path / "data").exists()  # nothing downloaded: the test set came with the wheel
    # the stand-ins and pynq stay out of a numpy-only install until asked for
    done = subprocess.run([str(lenet), "bench", "--backend", "model"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 1 and "pip install 'lenet-pynq[model]'" in done.stderr, done.stderr
