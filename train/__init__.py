"""Training, quantization and the golden integer model (runs on a PC)."""
