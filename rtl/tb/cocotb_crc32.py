"""cocotb bench of rtl/lenet_crc32.v (one word of the blob's CRC-32 per step) against zlib.crc32.

The module is combinational: the bench holds the running value, as the
weight loader does, and compares the final CRC of each word stream with
zlib's over the same bytes (byte 0 of a word first).
"""

from __future__ import annotations

import random
import zlib

import cocotb
import numpy as np
from cocotb.triggers import Timer

from lenet_pynq import contract as C


async def crc_of_words(dut, words) -> int:
    crc = C.CRC32_INIT
    for w in words:
        dut.crc_in.value = crc
        dut.data.value = int(w)
        await Timer(1, "ns")
        crc = int(dut.crc_out.value)
    return crc ^ 0xFFFFFFFF


def as_bytes(words) -> bytes:
    return np.asarray(words, dtype="<u4").tobytes()


@cocotb.test()
async def test_random_word_streams(dut):
    """Streams of random words, of lengths 0, 1 and random, and words of all zeros and all ones."""
    rng = random.Random(1)
    streams = [[], [0], [0xFFFFFFFF], [0x000000FF, 0x80000000]]
    streams += [[rng.getrandbits(32) for _ in range(rng.randrange(2, 300))] for _ in range(12)]
    for words in streams:
        got = await crc_of_words(dut, words)
        want = zlib.crc32(as_bytes(words))
        assert got == want, f"CRC of {len(words)} words: RTL {got:#010x}, zlib {want:#010x}"
