"""Write the contract constants the Vivado scripts need as a Tcl include.

The part, board part, clock, VLNVs and block-design instance names are
defined once, in lenet_pynq/contract.py; the Makefile runs this before every
Vivado call so the Tcl never retypes them. Only the standard library and the
contract module are imported, so plain `python3` runs it without the venv.

    python3 vivado_tcl/write_contract_tcl.py build/vivado/lenet_contract.tcl
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lenet_pynq import contract  # after the sys.path line above

# Contract name -> Tcl variable name (all set in the global namespace).
NAMES = (
    "PART", "BOARD_PART", "CLOCK_MHZ", "TOP_NAME", "VLNV_HLS", "VLNV_RTL",
    "BD_IP_NAME", "BD_DMA_NAME", "ADDR_WIDTH",
)


def tcl_include() -> str:
    lines = ["# Generated from lenet_pynq/contract.py by vivado_tcl/write_contract_tcl.py. Do not edit."]
    for name in NAMES:
        value = getattr(contract, name)
        lines.append(f"set ::LENET_{name} {{{value}}}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: write_contract_tcl.py OUT.tcl", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    text = tcl_include()
    # Rewrite only on change so the file's timestamp means "the contract changed".
    if not out.exists() or out.read_text() != text:
        out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
