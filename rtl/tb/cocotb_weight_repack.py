"""cocotb bench of rtl/lenet_weight_repack.v against the Python cutting of a blob's weight sections.

Each weight section of a blob (lenet_pynq.blob) goes in as the loader feeds
it, one stream word per clock with the section's shape on its first word;
the entries that come out must be the section's rows (one per output) cut
into entries of TAPS weights, the last zero-padded, as the Python side cuts
them (bank_layout.py). Both sides are placed by the same Python layout to be
compared, so this checks the repacker's entries, not where the loader
writes them: cocotb_weight_loader.py checks that. Every section goes in with a word every
clock (the ring's worst case), and all but fc1 again with random idle
clocks.

Environment: ``LENET_LANES`` the lane counts whose layouts are checked, comma-separated.
"""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from bank_layout import BankLayout
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

from lenet_pynq import blob
from lenet_pynq import contract as C

LANES = [int(x) for x in os.environ["LENET_LANES"].split(",")]
TAPS = BankLayout(lanes=1).taps
# clocks after a section's last word for the ring to empty (the loader has a bias section there)
SETTLE = 8


async def repack(dut, words: np.ndarray, layer: C.Layer, busy: float, rng: random.Random) -> list[tuple]:
    """Feed one section; the (row, entry, data bytes) that come out, in order."""
    shape = BankLayout(lanes=1)
    epr = shape.entries_per_row(layer)
    out = []

    async def collect():
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            if dut.out_valid.value:
                data = int(dut.out_data.value).to_bytes(TAPS, "little")
                out.append((int(dut.out_row.value), int(dut.out_entry.value), data))

    watcher = cocotb.start_soon(collect())
    for i, w in enumerate(words):
        while rng.random() < busy:
            await FallingEdge(dut.clk)
            dut.in_valid.value = 0
        await FallingEdge(dut.clk)
        dut.in_valid.value = 1
        dut.in_first.value = int(i == 0)
        dut.in_data.value = int(w)
        dut.last_entry.value = epr - 1
        dut.last_take.value = shape.row_length(layer) - (epr - 1) * TAPS
        dut.rows.value = layer.weight_shape[0]
    await FallingEdge(dut.clk)
    dut.in_valid.value = 0
    await ClockCycles(dut.clk, SETTLE)
    watcher.cancel()
    return out


@cocotb.test()
async def test_sections_come_out_as_rows_of_entries(dut):
    cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
    dut.rst.value = 1
    dut.in_valid.value = 0
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    q = blob.random_model(seed=5)
    words = np.frombuffer(blob.encode(q), dtype="<u4")
    rng = random.Random(5)
    for layer in C.LAYERS:
        sec = blob.SECTION[f"{layer.name}.w"]
        section = words[sec.offset // 4 : (sec.offset + sec.padded) // 4]
        # fc1's 12,000 words go in once: its rows have the shape of fc2's, which also go in with pauses
        for busy in (0.0,) if layer.name == "fc1" else (0.0, 0.3):
            entries = await repack(dut, section, layer, busy, rng)
            expected = layer.weight_shape[0] * BankLayout(lanes=1).entries_per_row(layer)
            assert len(entries) == expected, (
                f"{layer.name} (busy {busy}): {len(entries)} entries out, {expected} expected"
            )
            for lanes in LANES:
                layout = BankLayout(lanes)
                got = {layout.waddr(layer, row, entry): data for row, entry, data in entries}
                want = layout.weight_entries(q.tensors[sec.name], layer)
                assert len(want) == expected, f"{lanes} lanes: the bank layout puts two entries at one address"
                bad = [k for k in want if got.get(k) != want[k]]
                assert not bad, (
                    f"{layer.name} (busy {busy}), {lanes} lanes: {len(bad)} bank entries differ, first "
                    f"(lane, address) {bad[0]}: RTL {got.get(bad[0])}, layout {want[bad[0]]}"
                )
