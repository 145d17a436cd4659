"""cocotb bench of rtl/lenet_requant.v against the golden model's requantize (docs/contract.md section 1).

The module takes each lane's accumulator with the rounding term already
added (the weight loader adds it to the biases), the shift, and the shift's
thermometer code (lenet_engine decodes it once for all lanes); it returns
``clamp((acc + r) >> s, 0, 255)`` two clocks later, a new set of lanes every
clock. The clamp's lower bound is the ReLU, always on: fc3, the one layer
without it, is not requantized. Every shift 0..31 is tried on accumulators
at the int32 extremes, at the clamp's edges, and at random.

Environment: ``LENET_LANES`` the module's LANES.
"""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from lenet_pynq import contract as C
from lenet_pynq import golden

LANES = int(os.environ["LENET_LANES"])
LATENCY = 2
CLOCKS_PER_SHIFT = 6


def thermometer(shift: int) -> int:
    """lenet_engine's ``above``: bit i set when shift <= i."""
    return sum(1 << i for i in range(23) if shift <= i)


def accumulators(rng: random.Random, shift: int) -> list[int]:
    """Edge values for this shift first, then random int32 of every magnitude."""
    edge = 255 << shift if shift < 24 else 0
    values = [
        -(1 << 31),
        (1 << 31) - 1,
        0,
        -1,
        1,
        edge,
        edge - 1,
        edge + 1,
        -edge,
        (1 << shift) - 1 if shift else 0,
        1 << max(shift - 1, 0),
    ]
    while len(values) < LANES * CLOCKS_PER_SHIFT:
        values.append(rng.randrange(-(1 << rng.randrange(1, 32)), 1 << rng.randrange(1, 32)))
    return [max(-(1 << 31), min((1 << 31) - 1, v)) for v in values]


def pack(values: list[int]) -> int:
    return sum((v & 0xFFFFFFFF) << (32 * i) for i, v in enumerate(values))


@cocotb.test()
async def test_every_shift_matches_the_golden_requantize(dut):
    cocotb.start_soon(Clock(dut.clk, 10, "ns").start())
    rng = random.Random(LANES)
    sent = []  # (shift, accumulators) per clock, in order
    for shift in range(C.MAX_SHIFT + 1):
        values = accumulators(rng, shift)
        for c in range(CLOCKS_PER_SHIFT):
            sent.append((shift, values[c * LANES : (c + 1) * LANES]))
    got = []
    for i in range(len(sent) + LATENCY):
        await FallingEdge(dut.clk)
        if i < len(sent):
            shift, acc = sent[i]
            r = (1 << (shift - 1)) if shift else 0
            dut.acc.value = pack([a + r for a in acc])  # the rounding term, wrapping as in the bias bank
            dut.shift.value = shift
            dut.above.value = thermometer(shift)
        await RisingEdge(dut.clk)
        await ReadOnly()
        if i >= LATENCY - 1 and len(got) < len(sent):
            q = int(dut.q.value)
            got.append([(q >> (8 * lane)) & 0xFF for lane in range(LANES)])
    # Compare after the run, naming the first mismatch.
    for (shift, acc), q in zip(sent, got):
        want = golden.requantize(np.array(acc, dtype=np.int64), shift)
        for lane in range(LANES):
            assert q[lane] == want[lane], (
                f"lane {lane}, shift {shift}, acc {acc[lane]}: RTL {q[lane]}, golden {want[lane]}"
            )
