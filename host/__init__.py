"""What runs on the board: the pynq driver, `lenet bench` and `lenet selftest`."""

# Images per IP job unless told otherwise: large enough that a job's fixed cost
# (register writes, two DMA starts, the polls) is small against its transfer.
# Here rather than in driver.py so that `lenet bench --backend int` runs without pynq.
JOB_IMAGES = 1000
