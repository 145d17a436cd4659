"""The path analyzer of `make timing` on small hand-made netlists whose depth and delay are known."""

import json

import pytest

from lenet_pynq.cli import main
from lenet_pynq.errors import LenetError
from lenet_pynq.sim import timing as T

NET = T.NET_NS


class Netlist:
    """A flattened Yosys ``write_json`` document built cell by cell; bits are numbered from 2."""

    def __init__(self):
        self.cells, self.netnames, self.ports = {}, {}, {}
        self.next_bit = 2

    def net(self, name=None, width=1, src=""):
        bits = list(range(self.next_bit, self.next_bit + width))
        self.next_bit += width
        if name:
            self.netnames[name] = {"bits": bits, "hide_name": 0, "attributes": {"src": src} if src else {}}
        return bits

    def cell(self, kind, inputs, outputs, **parameters):
        conns = {**inputs, **outputs}
        dirs = {**{p: "input" for p in inputs}, **{p: "output" for p in outputs}}
        name = f"$cell{len(self.cells)}"
        self.cells[name] = {
            "type": kind,
            "parameters": {k: v if isinstance(v, str) else format(v, "032b") for k, v in parameters.items()},
            "attributes": {"src": f"/x/rtl/m.v:{len(self.cells) + 100}.1-{len(self.cells) + 100}.9"},
            "port_directions": dirs,
            "connections": conns,
        }

    def ff(self, d, q, **pins):
        self.cell("FDRE", {"C": [0 + 1], "CE": ["1"], "R": ["0"], "D": d, **pins}, {"Q": q})

    def lut(self, inputs, out):
        self.cell(f"LUT{len(inputs)}", {f"I{k}": [b] for k, b in enumerate(inputs)}, {"O": out})

    def port(self, name, direction, bits):
        self.ports[name] = {"direction": direction, "bits": bits}

    def doc(self):
        top = {
            "attributes": {"top": format(1, "032b")},
            "ports": self.ports,
            "cells": self.cells,
            "netnames": self.netnames,
        }
        return {"creator": "test", "modules": {"top": top}}


def chain(levels):
    """Register a -> ``levels`` LUTs in a row -> register b; a second, shorter path beside it."""
    n = Netlist()
    a = n.net("a_reg", src="/x/rtl/m.v:10.12-10.17")
    b = n.net("b_reg", src="/x/rtl/m.v:11.12-11.17")
    x = a
    for _ in range(levels):
        y = n.net()
        n.lut([x[0], a[0]], y)  # reconverges with the start: the long way counts
        x = y
    n.ff(x, b)
    n.ff(b, a)
    return n


def test_a_lut_chain_costs_clock_to_out_luts_nets_and_setup():
    paths = T.analyze(chain(3).doc(), root=T.Path("/x"))
    worst = paths[0]
    assert worst.levels == 3
    assert worst.delay == pytest.approx(T.FF_CKO_NS + 3 * (NET + T.LUT_NS) + NET + T.FF_SETUP_NS["D"])
    assert (worst.start, worst.start_src, worst.end, worst.end_src) == ("a_reg", "rtl/m.v:10", "b_reg", "rtl/m.v:11")
    assert worst.via == ["rtl/m.v:100", "rtl/m.v:101", "rtl/m.v:102"]
    # b_reg -> a_reg: no logic between them
    assert paths[1].levels == 0 and paths[1].delay == pytest.approx(T.FF_CKO_NS + NET)


def test_a_carry_chain_cascade_is_not_charged_a_net():
    n = Netlist()
    a, s = n.net("a_reg", width=4), n.net("s_reg", width=4)
    co1, o1, co2, o2 = n.net(width=4), n.net(width=4), n.net(width=4), n.net(width=4)
    n.cell("CARRY4", {"CI": ["0"], "CYINIT": ["0"], "DI": ["0"] * 4, "S": a}, {"CO": co1, "O": o1})
    n.cell("CARRY4", {"CI": [co1[3]], "CYINIT": ["0"], "DI": ["0"] * 4, "S": ["0"] * 4}, {"CO": co2, "O": o2})
    for k in range(4):
        n.ff([o2[k]], [s[k]])
        n.ff([s[k]], [a[k]])
    worst = T.analyze(n.doc())[0]
    assert worst.levels == 2 and (worst.start, worst.end) == ("a_reg[0]", "s_reg[0]")
    assert worst.delay == pytest.approx(T.FF_CKO_NS + NET + T.CARRY4_IN_NS + T.CARRY4_CI_O_NS + NET)


def test_the_carry_runs_upward_only():
    n = Netlist()
    a, q = n.net("a_reg", width=4), n.net("q_reg")
    co, o = n.net(width=4), n.net(width=4)
    n.cell("CARRY4", {"CI": ["0"], "CYINIT": ["0"], "DI": ["0"] * 4, "S": a}, {"CO": co, "O": o})
    n.ff([co[0]], q)  # only a_reg[0] reaches CO[0]
    n.ff(q, a[:1])
    starts = {p.start for p in T.analyze(n.doc()) if p.end == "q_reg"}
    assert starts == {"a_reg[0]"}


def test_a_lut_feeding_a_wide_mux_is_not_charged_a_net():
    n = Netlist()
    a, q, l0, l1, m = n.net("a_reg"), n.net("q_reg"), n.net(), n.net(), n.net()
    n.lut([a[0]], l0)
    n.lut([a[0]], l1)
    n.cell("MUXF7", {"I0": l0, "I1": l1, "S": a}, {"O": m})
    n.ff(m, q)
    n.ff(q, a)
    worst = T.analyze(n.doc())[0]
    assert worst.levels == 2
    assert worst.delay == pytest.approx(T.FF_CKO_NS + NET + T.LUT_NS + T.MUXF7_NS + NET)


def dsp(n, a, p, registers):
    """A multiplier DSP48E1 from A to P with the named pipeline registers on (the others off)."""
    params = {r: registers.get(r, 0) for r in ("AREG", "BREG", "CREG", "DREG", "ADREG", "MREG", "PREG")}
    n.cell(
        "DSP48E1",
        {"A": a, "CLK": [1]},
        {"P": p},
        USE_MULT="MULTIPLY",
        USE_DPORT="FALSE",
        USE_PATTERN_DETECT="NO_PATDET",
        **params,
    )


@pytest.mark.parametrize(
    "registers, setup",
    [({"AREG": 1, "BREG": 1, "MREG": 1}, 0.254), ({"MREG": 1}, 1.416), ({"PREG": 1}, 2.739)],
)
def test_dsp_input_setup_follows_its_register_configuration(registers, setup):
    n = Netlist()
    a, p = n.net("a_reg"), n.net("p", width=2)
    dsp(n, a, p, registers)
    n.ff(p[:1], a)
    paths = T.analyze(n.doc())
    into_dsp = next(x for x in paths if x.start == "a_reg")
    assert into_dsp.delay == pytest.approx(T.FF_CKO_NS + NET + setup)
    assert into_dsp.levels == 0


@pytest.mark.parametrize(
    "registers, cko",
    [({"ADREG": 1, "MREG": 1}, 1.671), ({"AREG": 1, "BREG": 1}, 2.952), ({"PREG": 1, "MREG": 1}, 0.329)],
)
def test_dsp_clock_to_out_is_the_register_that_drives_p(registers, cko):
    n = Netlist()
    a, p, q = n.net("a_reg"), n.net("p", width=2), n.net("q_reg")
    dsp(n, a, p, registers)
    n.ff(p[:1], q)
    n.ff(q, a)
    out_of_dsp = next(x for x in T.analyze(n.doc()) if x.end == "q_reg")
    assert out_of_dsp.delay == pytest.approx(cko + NET)


def test_ports_count_as_registers_outside_the_ip():
    n = Netlist()
    i, o, y = n.net("in_data"), n.net("out_data"), n.net()
    n.port("in_data", "input", i)
    n.port("out_data", "output", o)
    n.lut([i[0]], y)
    n.lut([y[0]], o)
    worst = T.analyze(n.doc())[0]
    assert (worst.start, worst.end, worst.levels) == ("input in_data[0]", "output out_data[0]", 2)
    assert worst.delay == pytest.approx(T.FF_CKO_NS + 3 * NET + 2 * T.LUT_NS)


def test_a_cell_without_figures_is_refused_by_name():
    n = chain(1)
    n.cell("PLLE2_ADV", {"CLKIN1": [2]}, {"CLKOUT0": n.net()})
    with pytest.raises(LenetError, match="PLLE2_ADV"):
        T.analyze(n.doc())


def test_a_combinational_loop_is_an_error():
    n = Netlist()
    x, y = n.net("x"), n.net("y")
    n.lut([y[0]], x)
    n.lut([x[0]], y)
    n.ff(x, n.net("q"))
    with pytest.raises(LenetError, match="combinational loop"):
        T.analyze(n.doc())


def test_worst_lists_one_path_per_signal_pair():
    n = Netlist()
    a, b = n.net("a_reg", width=4), n.net("b_reg", width=4)
    for k in range(4):
        n.ff([a[k]], [b[k]])
        n.ff([b[k]], [a[k]])
    pairs = [(p.start[0], p.end[0]) for p in T.worst(T.analyze(n.doc()), 5)]
    assert sorted(pairs) == [("a", "b"), ("b", "a")]


@pytest.mark.parametrize("levels, code", [(3, 0), (8, 1)])
def test_the_command_fails_over_budget_with_one_summary_line(tmp_path, capsys, levels, code):
    # 3 levels: 0.303 + 4 * 0.7 + 3 * 0.642 = 5.03 ns; 8 levels: 12.0 ns
    path = tmp_path / "net.json"
    path.write_text(json.dumps(chain(levels).doc()))
    assert main(["timing", "--netlist", str(path), "--paths", "2"]) == code
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("timing: worst path") and f"{levels} levels (a_reg -> b_reg)" in out[-1]
    assert ("OVER the 8.0 ns budget" in out[-1]) == bool(code)


def test_a_net_delay_below_the_floor_is_refused(tmp_path, capsys):
    assert main(["timing", "--netlist", str(tmp_path / "none.json"), "--net-delay", "0.3"]) == 1
    assert "at least 0.7 ns" in capsys.readouterr().err


def test_the_lut_mapper_is_given_the_models_cost_per_level_and_the_budget():
    """ABC's LUT library and target (``abc9 -lut -W -D``) are the analyzer's own figures, in ps."""
    rows = [[int(v) for v in line.split()] for line in T.LUT_LIBRARY.splitlines()]
    assert [r[0] for r in rows] == list(range(1, 9))
    for k, _area, *delays in rows:
        assert len(delays) == k  # one figure per input pin
        wide = T.MUXF7_NS * (k >= 7) + T.MUXF8_NS * (k == 8)
        assert delays == [round(1000 * (T.LUT_NS + wide))] * k
    assert f"-W {round(1000 * NET)} " in T.MAP_LUTS
    # the target is the budget less a clock-to-out, the last net and the slowest flip-flop setup
    worst_setup = max(T.FF_SETUP_NS.values())
    assert T.FF_CKO_NS + T.MAP_TARGET_PS / 1000 + NET + worst_setup == pytest.approx(T.BUDGET_NS, abs=1e-3)
    assert f"-D {T.MAP_TARGET_PS}" in T.MAP_LUTS
