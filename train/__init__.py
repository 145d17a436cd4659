"""Training the float LeNet-5: the model, its layers, the optimizer, checkpoints, quantization (runs on a PC)."""
