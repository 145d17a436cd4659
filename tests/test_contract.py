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


def test_register_map_is_one_vitis_hls_accepts_as_placed():
    # Vitis HLS gives an input 8 bytes (data word, reserved word) and an output 16
    # (data, ap_vld, two unused words), and moves an argument placed inside another's
    # range to the end of the map (UG1399 "S_AXILITE Offset Option"; the generated
    # maps docs/contract.md section 3 cites). So the offsets must not overlap.
    spans = [(contract.REG_COMMAND, contract.INPUT_SPAN), (contract.REG_COUNT, contract.INPUT_SPAN)]
    spans += [(reg, contract.OUTPUT_SPAN) for reg in contract.REG_OUTPUTS]
    assert spans[0][0] == 0x10, "arguments start after the four control words"
    for (a, size), (b, _) in zip(spans, spans[1:]):
        assert a + size <= b, f"argument at {b:#x} lies inside the range of the one at {a:#x}"
    assert contract.REG_LAST == contract.REG_IMAGES_DONE + contract.VLD_OFFSET == 0x44
    # The fewest address bits that reach the highest register: 7, as Vitis derives it.
    assert 1 << (contract.ADDR_WIDTH - 1) <= contract.REG_LAST < 1 << contract.ADDR_WIDTH
