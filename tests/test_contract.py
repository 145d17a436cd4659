"""The generated C++ and Verilog headers match lenet_pynq/contract.py."""

from pathlib import Path

from lenet_pynq import contract

ROOT = Path(__file__).resolve().parent.parent


def test_generated_headers_are_current():
    for rel, make in contract.GENERATED.items():
        assert (ROOT / rel).read_text() == make(), f"{rel} is stale: run `python -m lenet_pynq.contract`"


def test_blob_layout_matches_the_documented_length():
    assert contract.BLOB_WORDS == 15609
    assert contract.PAYLOAD_END == contract.CRC_WORD_INDEX * 4
    ends = [s.offset + s.padded for s in contract.SECTIONS]
    starts = [s.offset for s in contract.SECTIONS[1:]]
    assert ends[:-1] == starts, "sections must be contiguous"


def test_trailer_round_trips():
    word = contract.trailer(contract.ERR_BAD_CRC, 1234)
    assert word >> 24 == 0xA5
    assert contract.parse_trailer(word) == (contract.ERR_BAD_CRC, 1234)
    assert contract.parse_trailer(7) is None
