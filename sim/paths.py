"""Where the simulations find the IP's sources and put their builds.

The RTL (``rtl/``, with its benches in ``rtl/tb/``) and the HLS C++
(``hls_src/``) ship inside the package (setup.py maps them to
``lenet_pynq/rtl`` and ``lenet_pynq/hls_src``), so an installed ``lenet``
simulates the same sources a checkout does. In a checkout they sit beside
``sim/`` at the repository root; installed, beside ``sim/`` in the package:
one relative path finds both.
"""

from __future__ import annotations

from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent
RTL_DIR = SOURCE_ROOT / "rtl"
RTL_TB_DIR = RTL_DIR / "tb"
HLS_SRC = SOURCE_ROOT / "hls_src"

# A checkout builds under its own build/ (where the Makefile looks); an
# installed package under build/ in the current directory.
_IN_CHECKOUT = (SOURCE_ROOT / "setup.py").is_file()
BUILD_ROOT = (SOURCE_ROOT if _IN_CHECKOUT else Path.cwd()) / "build"
