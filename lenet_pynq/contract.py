"""The numbers of docs/contract.md, defined once.

Everything that must agree bit for bit between the golden model, the HLS IP,
the RTL and the driver reads its constants from here. The C++ and Verilog
headers are generated from this module (``python -m lenet_pynq.contract``)
and a test checks that the committed copies match.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple

# --- the network (contract section 1) ---------------------------------------

IMAGE_SIDE = 28
PADDED_SIDE = 32
PAD = (PADDED_SIDE - IMAGE_SIDE) // 2
IMAGE_BYTES = IMAGE_SIDE * IMAGE_SIDE
NUM_CLASSES = 10


class Layer(NamedTuple):
    name: str
    kind: str  # "conv" or "fc"
    weight_shape: tuple[int, ...]
    requantized: bool  # conv1..fc2 requantize to uint8; fc3 keeps int32


LAYERS = (
    Layer("conv1", "conv", (6, 1, 5, 5), True),
    Layer("conv2", "conv", (16, 6, 5, 5), True),
    Layer("fc1", "fc", (120, 400), True),
    Layer("fc2", "fc", (84, 120), True),
    Layer("fc3", "fc", (10, 84), False),
)

# Names and per-image shapes of the per-layer dumps, in network order.
ACTIVATIONS = (
    ("input", (1, PADDED_SIDE, PADDED_SIDE)),
    ("conv1", (6, 28, 28)),
    ("pool1", (6, 14, 14)),
    ("conv2", (16, 10, 10)),
    ("pool2", (16, 5, 5)),
    ("fc1", (120,)),
    ("fc2", (84,)),
    ("fc3", (NUM_CLASSES,)),
)

MAX_SHIFT = 31

# --- the weights blob (contract section 2) ----------------------------------

BLOB_MAGIC = 0x354E454C  # the bytes "LEN5"
BLOB_VERSION = 1
HEADER_WORDS = 4
SHIFT_FIELD_BITS = 5
SHIFT_FIELD_STRIDE = 8
SHIFT_MASK = 0x1F1F1F1F  # word 3: any bit outside the four fields is an error
CRC32_POLY = 0xEDB88320  # the CRC word: IEEE 802.3, reflected (zlib.crc32)
CRC32_INIT = 0xFFFFFFFF  # its initial value and final XOR


class Section(NamedTuple):
    name: str
    shape: tuple[int, ...]
    dtype: str  # "int8" or "int32"
    offset: int  # bytes from the start of the blob
    nbytes: int  # unpadded size

    @property
    def padded(self) -> int:
        return (self.nbytes + 3) & ~3


def _sections() -> tuple[Section, ...]:
    out, offset = [], HEADER_WORDS * 4
    for layer in LAYERS:
        for suffix, shape, dtype, size in (
            ("w", layer.weight_shape, "int8", 1),
            ("b", layer.weight_shape[:1], "int32", 4),
        ):
            n = size
            for d in shape:
                n *= d
            sec = Section(f"{layer.name}.{suffix}", shape, dtype, offset, n)
            out.append(sec)
            offset += sec.padded
    return tuple(out)


SECTIONS = _sections()
PAYLOAD_END = SECTIONS[-1].offset + SECTIONS[-1].padded  # where the CRC word sits
BLOB_WORDS = PAYLOAD_END // 4 + 1
BLOB_BYTES = BLOB_WORDS * 4
CRC_WORD_INDEX = BLOB_WORDS - 1

# --- the IP interface (contract section 3) ----------------------------------

WORD_BYTES = 4
IMAGE_WORDS = IMAGE_BYTES // WORD_BYTES
IMAGE_ROW_WORDS = IMAGE_SIDE // WORD_BYTES  # an image row is whole words (28 = 7 x 4 pixels)
assert IMAGE_ROW_WORDS * WORD_BYTES == IMAGE_SIDE
RESULT_WORDS = 1 + NUM_CLASSES  # class, then ten logits
MAX_COUNT = 0xFFFF

CMD_LOAD_WEIGHTS = 1
CMD_INFER = 2

# The s_axi_control map exactly as Vitis HLS 2022.1 ... 2025.1 lays it out for
# our top (docs/contract.md section 3 cites the generated files): four control
# words, then each argument at the offset its INTERFACE pragma gives
# (hls_src/lenet.cpp). An input takes its data word and one reserved word; an
# output takes 16 bytes, its data word, its ap_vld word (+4) and two unused
# words, so outputs sit 16 bytes apart or Vitis moves them to the map's end.
REG_CTRL = 0x00
REG_GIE = 0x04
REG_IER = 0x08
REG_ISR = 0x0C
REG_COMMAND = 0x10
REG_COUNT = 0x18
REG_STATUS = 0x20
REG_WEIGHTS_CRC = 0x30
REG_IMAGES_DONE = 0x40
INPUT_SPAN = 8
OUTPUT_SPAN = 16
VLD_OFFSET = 4  # an output's ap_vld word: bit 0, set when the job writes it, cleared by reading it
REG_OUTPUTS = (REG_STATUS, REG_WEIGHTS_CRC, REG_IMAGES_DONE)
REG_LAST = REG_IMAGES_DONE + VLD_OFFSET  # the highest register Vitis generates
# Vitis sizes the port to the highest register: the fewest address bits that reach it.
ADDR_WIDTH = REG_LAST.bit_length()

CTRL_START = 1 << 0  # read/write: a write of 1 starts a job; held until the job ends
CTRL_DONE = 1 << 1  # read, cleared by reading CTRL
CTRL_IDLE = 1 << 2  # read
CTRL_READY = 1 << 3  # read, cleared by reading CTRL
CTRL_AUTO_RESTART = 1 << 7  # read/write: every CTRL write sets it to its bit 7
CTRL_INTERRUPT = 1 << 9  # read: the level of the interrupt pin
ISR_DONE = 1 << 0
ISR_READY = 1 << 1

TRAILER_MARK = 0xA5
TRAILER_MARK_SHIFT = 24
TRAILER_ERROR_SHIFT = 16
TRAILER_COUNT_MASK = 0xFFFF


def trailer(error: int, images_done: int) -> int:
    """The last word of every job's output stream (contract section 4)."""
    return (
        (TRAILER_MARK << TRAILER_MARK_SHIFT)
        | ((error & 0xFF) << TRAILER_ERROR_SHIFT)
        | (images_done & TRAILER_COUNT_MASK)
    )


def parse_trailer(word: int) -> tuple[int, int] | None:
    """(error, images_done) of a trailer word, or None if it is not one."""
    if (word >> TRAILER_MARK_SHIFT) & 0xFF != TRAILER_MARK:
        return None
    return (word >> TRAILER_ERROR_SHIFT) & 0xFF, word & TRAILER_COUNT_MASK


# --- the IP in a block design ------------------------------------------------

# The version of docs/contract.md both IPs implement; a bitstream's build
# record carries it, and the overlay refuses one built for another version.
CONTRACT_VERSION = 2  # 2: the register map Vitis generates (outputs 16 bytes apart, CTRL bits 7 and 9)
TOP_NAME = "lenet"  # HLS top function and RTL top module
VLNV_HLS = "lenet-pynq.org:hls:lenet:1.0"  # export_design -format ip_catalog
VLNV_RTL = "lenet-pynq.org:rtl:lenet:1.0"  # ipx::package_project of rtl/
BD_IP_NAME = "lenet_0"  # instance names in vivado_tcl/, attributes of the Overlay
BD_DMA_NAME = "axi_dma_0"
CLOCK_MHZ = 100
PART = "xc7z020clg400-1"
BOARD_PART = "tul.com.tw:pynq-z2:part0:1.0"

# --- error codes (contract section 6) ---------------------------------------

ERR_OK = 0
ERR_BAD_COMMAND = 1
ERR_BAD_COUNT = 2
ERR_NO_WEIGHTS = 3
ERR_EARLY_TLAST = 4
ERR_LATE_TLAST = 5
ERR_BAD_MAGIC = 6
ERR_BAD_VERSION = 7
ERR_BAD_LENGTH = 8
ERR_BAD_SHIFT = 9
ERR_BAD_CRC = 10

ERROR_TEXT = {
    ERR_OK: "OK",
    ERR_BAD_COMMAND: "BAD_COMMAND: COMMAND is neither LOAD_WEIGHTS (1) nor INFER (2)",
    ERR_BAD_COUNT: f"BAD_COUNT: INFER needs COUNT between 1 and {MAX_COUNT}",
    ERR_NO_WEIGHTS: "NO_WEIGHTS: INFER before a valid weights blob was loaded",
    ERR_EARLY_TLAST: "EARLY_TLAST: the input stream ended before the job's last word",
    ERR_LATE_TLAST: "LATE_TLAST: the job's last word came without TLAST",
    ERR_BAD_MAGIC: "BAD_MAGIC: the blob does not start with the magic 'LEN5'",
    ERR_BAD_VERSION: f"BAD_VERSION: the blob's format version is not {BLOB_VERSION}",
    ERR_BAD_LENGTH: f"BAD_LENGTH: the blob's length field is not {BLOB_WORDS} words",
    ERR_BAD_SHIFT: "BAD_SHIFT: the blob's shift word has bits outside its four 5-bit fields",
    ERR_BAD_CRC: "BAD_CRC: the blob's CRC-32 does not match its contents",
}


def error_name(code: int) -> str:
    text = ERROR_TEXT.get(code)
    return text.split(":")[0] if text else f"UNKNOWN_ERROR_{code}"


# --- generated headers -------------------------------------------------------

def _constants() -> list[tuple[str, int]]:
    names = [
        "IMAGE_SIDE", "PADDED_SIDE", "PAD", "IMAGE_BYTES", "NUM_CLASSES", "MAX_SHIFT",
        "BLOB_MAGIC", "BLOB_VERSION", "HEADER_WORDS", "SHIFT_MASK", "BLOB_WORDS",
        "CRC_WORD_INDEX", "IMAGE_WORDS", "IMAGE_ROW_WORDS", "RESULT_WORDS", "MAX_COUNT",
        "CMD_LOAD_WEIGHTS", "CMD_INFER",
        "REG_CTRL", "REG_GIE", "REG_IER", "REG_ISR", "REG_COMMAND", "REG_COUNT",
        "REG_STATUS", "REG_WEIGHTS_CRC", "REG_IMAGES_DONE", "VLD_OFFSET", "ADDR_WIDTH",
        "TRAILER_MARK", "TRAILER_MARK_SHIFT", "TRAILER_ERROR_SHIFT", "TRAILER_COUNT_MASK",
        "SHIFT_FIELD_BITS", "SHIFT_FIELD_STRIDE", "CRC32_POLY", "CRC32_INIT",
    ]
    names += [n for n in globals() if n.startswith("ERR_")]
    out = [(n, globals()[n]) for n in names]
    for layer in LAYERS:  # CONV1_OUT, CONV1_IN, CONV1_KERNEL, ..., FC3_IN
        stem = layer.name.upper()
        out += [(f"{stem}_OUT", layer.weight_shape[0]), (f"{stem}_IN", layer.weight_shape[1])]
        if layer.kind == "conv":
            out.append((f"{stem}_KERNEL", layer.weight_shape[2]))
    for sec in SECTIONS:
        stem = sec.name.replace(".", "_").upper()
        out.append((f"{stem}_OFFSET_WORDS", sec.offset // 4))
    return out


_BANNER = "Generated from lenet_pynq/contract.py by `python -m lenet_pynq.contract`. Do not edit."


def c_header() -> str:
    lines = [f"// {_BANNER}", "#ifndef LENET_CONTRACT_H", "#define LENET_CONTRACT_H", ""]
    lines += [f"#define LENET_{n} {v:#x}u" if v > 9 else f"#define LENET_{n} {v}u" for n, v in _constants()]
    return "\n".join(lines + ["", "#endif  // LENET_CONTRACT_H", ""])


def verilog_header() -> str:
    lines = [f"// {_BANNER}", "`ifndef LENET_CONTRACT_VH", "`define LENET_CONTRACT_VH", ""]
    lines += [f"`define LENET_{n} 32'd{v}" for n, v in _constants()]
    return "\n".join(lines + ["", "`endif", ""])


GENERATED = {
    "hls_src/lenet_contract.h": c_header,
    "rtl/lenet_contract.vh": verilog_header,
}


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    for rel, make in GENERATED.items():
        (root / rel).write_text(make())
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
