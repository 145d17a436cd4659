"""The PYNQ overlay: lenet.bit/.hwh (built by `make bitstream`), the notebook and the Overlay class."""
