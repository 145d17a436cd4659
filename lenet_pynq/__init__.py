"""lenet-pynq: LeNet-5 from NumPy training to an AXI-Stream IP on the PYNQ-Z2."""

__version__ = "0.1.0"
