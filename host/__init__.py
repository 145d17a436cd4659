"""What runs on the board and in simulation: the driver, the device transports, the benchmark."""
