"""cocotb bench of rtl/lenet_sequencer.v: its steps for two images back to back against its loop order.

The loop nest per layer, outermost first, as lenet_sequencer.v's header
states it, written out below as plain Python loops (:func:`expected_steps`);
the weight and bias addresses come from the bank layout (bank_layout.py).
Each step the RTL issues must be the next one of that list, field by field
where the field means something for the layer; between layers the
sequencer must leave the pipeline time to drain; the image buffer is
released once, after conv1 (the only layer reading it).

Environment: ``LENET_LANES`` the module's LANES.
"""

from __future__ import annotations

import os

import cocotb
from bank_layout import BankLayout
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

from lenet_pynq import contract as C

LANES = int(os.environ["LENET_LANES"])
# Clocks from a step's issue until its result is written (lenet_engine's
# S0..S8, the writer's column and row stages, the write; lenet_layout.vh):
# the least idle time between two layers, since each reads what the one
# before wrote.
PIPELINE_CLOCKS = 11
STEP_FIELDS = (
    "layer",
    "first",
    "last",
    "pool_first",
    "pool_last",
    "row_last",
    "row",
    "waddr",
    "baddr",
    "img_row",
    "img_zero",
    "img_row1",
    "img_zero1",
    "x",
    "act_lane",
    "act_row",
    "act_row1",
    "k",
)


def expected_steps(lanes: int) -> list[dict]:
    """The steps of one image, in order: layer code (its index in contract.LAYERS) and the fields it uses."""
    layout = BankLayout(lanes)
    k = layout.taps
    pool2 = layout.pooled_side(C.LAYERS[1])
    steps = []
    for code, layer in enumerate(C.LAYERS):
        out, cin = layer.weight_shape[:2]
        wbase, bbase = layout.wbase(layer), layout.bbase(layer)
        if layer.kind == "conv":
            side, wins = layout.pooled_side(layer), layout.windows(layer)
            rows, columns = layout.pool_steps(layer)
            for py, px, dy, dx in layout.pool_order(layer):
                for ci in range(cin):
                    for ky in range(k):
                        row = 2 * py + dy + ky  # the input row: conv1 padded image, conv2 pool1
                        s = dict(
                            layer=code,
                            first=ci == 0 and ky == 0,
                            last=ci == cin - 1 and ky == k - 1,
                            pool_first=dx == 0 and dy == 0,
                            pool_last=dx == columns - 1 and dy == rows - 1,
                            row_last=px == side // wins - 1,
                            row=py,
                            waddr=wbase + ci * k + ky,
                            baddr=bbase,
                            x=2 * wins * px + dx,
                        )
                        if code == 0:  # the row and the one below (a pool window's second row)
                            for suffix, r in (("", row), ("1", row + 1)):
                                s["img_zero" + suffix] = not C.PAD <= r < C.PAD + C.IMAGE_SIDE
                                if not s["img_zero" + suffix]:
                                    s["img_row" + suffix] = r - C.PAD
                        else:
                            s.update(act_lane=ci, act_row=row, act_row1=row + 1)
                        steps.append(s)
        elif code == 2:  # fc1: its input c*25 + y*5 + x is pool2 row y, channel c, pixel x
            channels, rows = C.LAYERS[1].weight_shape[0], pool2  # conv2 outputs, pool2 rows
            epr = layout.entries_per_row(layer)
            for p in range(layout.passes(layer)):
                for c in range(channels):
                    for y in range(rows):
                        steps.append(
                            dict(
                                layer=code,
                                first=c == 0 and y == 0,
                                last=c == channels - 1 and y == rows - 1,
                                row=p,
                                waddr=wbase + p * epr + c * rows + y,
                                baddr=bbase + p,
                                act_lane=c,
                                act_row=y,
                            )
                        )
        else:  # fc2, fc3: input word w holds inputs w*TAPS ...
            epr = layout.entries_per_row(layer)
            for p in range(layout.passes(layer)):
                for w in range(epr):
                    steps.append(
                        dict(
                            layer=code,
                            first=w == 0,
                            last=w == epr - 1,
                            row=p,
                            waddr=wbase + p * epr + w,
                            baddr=bbase + p,
                            k=w,
                        )
                    )
    return steps


@cocotb.test()
async def test_two_images_follow_the_loop_order(dut):
    """Two images back to back, one per buffer: the second starts from state the first left."""
    cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
    dut.rst.value = 1
    dut.img_full.value = 0
    dut.slot_free.value = 1
    await ClockCycles(dut.clk, 2)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    dut.img_full.value = 0b11  # an image in each buffer
    one = expected_steps(LANES)
    want = one + one
    got, clocks, releases = [], [], []
    clock = 0
    while len(got) < len(want) and clock < 2 * len(want) + 1000:
        await RisingEdge(dut.clk)
        await ReadOnly()
        clock += 1
        if dut.img_release.value:
            releases.append((clock, len(got), int(dut.img_sel.value)))
        if dut.step_valid.value:
            got.append({f: int(getattr(dut, f"step_{f}").value) for f in STEP_FIELDS})
            clocks.append(clock)
    assert len(got) == len(want), f"{len(got)} steps issued within {clock} clocks, {len(want)} expected"
    for i, (g, w) in enumerate(zip(got, want)):
        diff = {f: (g[f], int(v)) for f, v in w.items() if g[f] != int(v)}
        assert not diff, f"step {i} ({C.LAYERS[w['layer']].name}): (RTL, loop order) differ in {diff}"
    for i in range(1, len(got)):
        if got[i]["layer"] != got[i - 1]["layer"]:
            idle = clocks[i] - clocks[i - 1] - 1
            assert idle >= PIPELINE_CLOCKS, f"{C.LAYERS[got[i]['layer']].name} starts after {idle} idle clocks"
    conv1_steps = sum(1 for w in one if w["layer"] == 0)
    assert [(n, sel) for _, n, sel in releases] == [(conv1_steps, 0), (len(one) + conv1_steps, 1)], (
        f"image buffer releases (steps issued, buffer): {releases}; expected each buffer once, after its conv1"
    )
    await FallingEdge(dut.clk)
    dut.img_full.value = 0
    await ClockCycles(dut.clk, 2 * PIPELINE_CLOCKS)
    assert not dut.step_valid.value, "steps issued with no image waiting"
