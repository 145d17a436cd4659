"""cocotb bench of rtl/lenet_weight_loader.v: where a blob's weights and biases land in the lanes' banks.

A random blob (lenet_pynq.blob) streams in as a LOAD_WEIGHTS job, a word
per clock; every weight and bias bank write is recorded and replayed into
a Python copy of the banks, which must equal the bank layout of
bank_layout.py: each output's row of entries at its lane and address, a
conv channel's also at the lanes of its other positions, and each bias
with its layer's rounding term 1 << (shift - 1) added (fc3's: none). The
job must end clean, with the blob's shifts and CRC word kept.

Environment: ``LENET_LANES`` the module's LANES.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
from bank_layout import BankLayout
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

from lenet_pynq import blob, golden
from lenet_pynq import contract as C

LANES = int(os.environ["LENET_LANES"])
# clocks after the job's end for the last bank writes (the loader's write stages)
SETTLE = 16


def expected_banks(q: blob.QuantizedLeNet, layout: BankLayout) -> tuple[dict, dict]:
    """(lane, address) -> weight entry bytes, and (lane, address) -> int32 bias, as the banks must hold them."""
    weights, biases = {}, {}
    for layer in C.LAYERS:
        out = layer.weight_shape[0]
        copies = layout.positions(layer) if layer.kind == "conv" else 1
        shift = q.shifts.get(layer.name) if layer.requantized else None
        rounding = (1 << (shift - 1)) if shift else 0
        b = golden.wrap32(q.tensors[f"{layer.name}.b"].astype(np.int64) + rounding)
        for (lane, addr), entry in layout.weight_entries(q.tensors[f"{layer.name}.w"], layer).items():
            for p in range(copies):
                weights[lane + p * out, addr] = entry
        for o in range(out):
            for p in range(copies):
                biases[o % layout.lanes + p * out, layout.bbase(layer) + o // layout.lanes] = int(b[o])
    return weights, biases


@cocotb.test()
async def test_a_blob_lands_in_the_bank_layout(dut):
    cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
    dut.rst.value = 1
    dut.start.value = 0
    dut.s_tvalid.value = 0
    dut.s_tlast.value = 0
    await ClockCycles(dut.clk, 2)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    q = blob.random_model(seed=7)
    words = np.frombuffer(blob.encode(q), dtype="<u4")
    weights, biases, done = {}, {}, []

    async def record():
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            for en, lanes, addr, data, bank, value in (
                (dut.wbank_wr_en, dut.wbank_wr_lanes, dut.wbank_wr_addr, dut.wbank_wr_data, weights,
                 lambda v: v.to_bytes(BankLayout(LANES).taps, "little")),
                (dut.bbank_wr_en, dut.bbank_wr_lanes, dut.bbank_wr_addr, dut.bbank_wr_data, biases,
                 lambda v: v - (1 << 32) if v >> 31 else v),
            ):
                if en.value:
                    mask, a, v = int(lanes.value), int(addr.value), value(int(data.value))
                    for lane in range(LANES):
                        if mask >> lane & 1:
                            bank[lane, a] = v
            if dut.done.value:
                done.append(int(dut.error.value))

    cocotb.start_soon(record())
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0
    for i, w in enumerate(words):
        dut.s_tdata.value = int(w)
        dut.s_tvalid.value = 1
        dut.s_tlast.value = int(i == len(words) - 1)
        await RisingEdge(dut.clk)
        while not dut.s_tready.value:
            await RisingEdge(dut.clk)
        await FallingEdge(dut.clk)
    dut.s_tvalid.value = 0
    await ClockCycles(dut.clk, SETTLE)

    assert done == [C.ERR_OK], f"the job ended with errors {done}"
    assert dut.weights_valid.value == 1
    assert int(dut.shifts.value) == int(words[3]) and int(dut.crc_word.value) == int(words[-1])
    want_w, want_b = expected_banks(q, BankLayout(LANES))
    for name, got, want in (("weight", weights, want_w), ("bias", biases, want_b)):
        wrong = sorted(k for k in want.keys() | got.keys() if got.get(k) != want.get(k))
        assert not wrong, (f"{len(wrong)} {name} bank entries (lane, address) differ from the layout, first "
                           f"{wrong[0]}: RTL {got.get(wrong[0])!r}, layout {want.get(wrong[0])!r}")
