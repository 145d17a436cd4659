"""Stand-ins for the board and the tools that model the hardware off the board."""
