"""The RTL's bank layout is derived once, in rtl/lenet_layout.vh, and passed through no parameter."""

from __future__ import annotations

import re

from lenet_pynq import contract as C
from lenet_pynq.sim import paths

LAYOUT_NAMES = (
    "EPR_",
    "PASSES_",
    "WBASE_",
    "BBASE_",
    "WDEPTH",
    "BDEPTH",
    "WADDR_WIDTH",
    "BADDR_WIDTH",
    "POS_",
    "COLS_",
    "WINS_",
    "SPAN",
    "DRAIN_CYCLES",
    "C1_SIDE",
    "P1_SIDE",
    "C2_SIDE",
    "P2_SIDE",
    "L_CONV",
    "L_FC",
)
DECLARED = re.compile(r"\b(?:localparam|parameter)\b(?:\s+(?:integer|signed|unsigned))?(?:\s*\[[^\]]*\])?\s+(\w+)\s*=")


def declared_names(text: str) -> set[str]:
    """Every parameter or localparam a Verilog text declares (one per declaration; lists after commas too)."""
    names = set(DECLARED.findall(text))
    names |= set(re.findall(r",\s*(\w+)\s*=\s*\d+'d", text))  # localparam [2:0] A = 3'd0, B = 3'd1
    return names


def test_no_module_derives_or_takes_the_layout():
    for path in sorted(paths.RTL_DIR.glob("*.v")):
        names = declared_names(path.read_text())
        layout = sorted(n for n in names if n.startswith(LAYOUT_NAMES))
        assert not layout, f"{path.name} declares {layout}: they belong in lenet_layout.vh, once"


def test_the_header_declares_the_layout():
    names = declared_names((paths.RTL_DIR / "lenet_layout.vh").read_text())
    for prefix in LAYOUT_NAMES:
        assert any(n.startswith(prefix) for n in names), f"lenet_layout.vh declares no {prefix}*"


def test_the_top_takes_only_lanes_and_taps():
    text = (paths.RTL_DIR / f"{C.TOP_NAME}.v").read_text()
    header = re.search(rf"module {C.TOP_NAME} #\((.*?)\n\) \(", text, re.S).group(1)
    assert re.findall(r"\bparameter\s+(\w+)", header) == ["LANES", "TAPS"], header
