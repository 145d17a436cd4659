"""Stand-ins for the board: the device seam, the DMA and memory models, the
.hwh writer, and the model, RTL and C-sim backends. Nothing here runs on the board."""
