"""What runs on the board: the pynq driver of the LeNet IP and the benchmark."""
