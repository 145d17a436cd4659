"""The weights blob: byte layout, round trips, and every malformed case rejected."""

import json
import struct
import zlib

import numpy as np
import pytest

from lenet_pynq import blob
from lenet_pynq import contract as C
from lenet_pynq.errors import LenetError


@pytest.fixture(scope="module")
def q():
    return blob.random_model(3)


def _with_word(data: bytes, index: int, value: int, fix_crc: bool = True) -> bytes:
    b = bytearray(data)
    b[index * 4: index * 4 + 4] = struct.pack("<I", value)
    if fix_crc:
        b[C.PAYLOAD_END:] = struct.pack("<I", zlib.crc32(b[: C.PAYLOAD_END]))
    return bytes(b)


def test_layout_follows_the_contract(q):
    data = blob.encode(q)
    assert len(data) == C.BLOB_BYTES == 62436
    words = np.frombuffer(data, "<u4")
    assert words[0] == C.BLOB_MAGIC and data[:4] == b"LEN5"
    assert words[1] == C.BLOB_VERSION and words[2] == C.BLOB_WORDS
    assert words[3] == 8 | 10 << 8 | 10 << 16 | 9 << 24
    assert words[-1] == zlib.crc32(data[:-4]) == blob.crc_word(q) == blob.crc_word(data)
    # conv1.w: 150 int8 values, the first in bits 7:0 of word 4, then 2 zero padding bytes.
    w = q.tensors["conv1.w"].reshape(-1)
    assert data[16] == w[0].astype(np.uint8) and data[16 + 149] == w[-1].astype(np.uint8)
    assert data[16 + 150: 16 + 152] == b"\0\0"
    b = q.tensors["conv1.b"]
    assert struct.unpack_from("<6i", data, 16 + 152) == tuple(b.tolist())
    fc3b = C.SECTIONS[-1]
    assert struct.unpack_from("<10i", data, fc3b.offset) == tuple(q.tensors["fc3.b"].tolist())


def test_decode_round_trips(q):
    back = blob.decode(blob.encode(q))
    assert back.shifts == q.shifts and back.fracs is None
    for name in blob.SECTION:
        np.testing.assert_array_equal(back.tensors[name], q.tensors[name])
        assert back.tensors[name].dtype == q.tensors[name].dtype


def test_save_load_round_trips_with_manifest(q, tmp_path):
    path_bin, path_json = blob.save(q, tmp_path / "m.bin")
    assert path_json == tmp_path / "m.json"
    doc = json.loads(path_json.read_text())
    assert doc["crc"] == f"{blob.crc_word(q):#010x}" and doc["shifts"] == q.shifts
    conv2b = next(s for s in doc["sections"] if s["name"] == "conv2.b")
    f = q.fracs["conv2"]
    assert conv2b["frac"] == f.in_frac + f.w_frac and conv2b["offset"] == blob.SECTION["conv2.b"].offset
    back = blob.load(path_bin)
    assert back.fracs == q.fracs and back.shifts == q.shifts
    assert blob.encode(back) == blob.encode(q)


@pytest.mark.parametrize(
    "index, value, fix_crc, message",
    [
        (0, 0x12345678, True, "magic"),
        (1, 2, True, "version"),
        (2, C.BLOB_WORDS - 1, True, "length word"),
        (3, 1 << 5, True, "shift word"),
        (3, 1 << 31, True, "shift word"),
        (100, 0xDEADBEEF, False, "CRC"),
        (C.CRC_WORD_INDEX, 0, False, "CRC"),
    ],
)
def test_decode_rejects_each_malformed_word(q, index, value, fix_crc, message):
    bad = _with_word(blob.encode(q), index, value, fix_crc)
    with pytest.raises(LenetError, match=message):
        blob.decode(bad)


@pytest.mark.parametrize("size", [0, 4, C.BLOB_BYTES - 4, C.BLOB_BYTES - 1, C.BLOB_BYTES + 4])
def test_decode_rejects_a_wrong_length(q, size):
    data = (blob.encode(q) + b"\0" * 8)[:size]
    with pytest.raises(LenetError, match="bytes"):
        blob.decode(data)


def test_model_rejects_out_of_range_shifts_and_bad_tensors(q):
    with pytest.raises(LenetError, match="shift of fc1"):
        blob.QuantizedLeNet(dict(q.tensors), {**q.shifts, "fc1": 32})
    with pytest.raises(LenetError, match="shift of conv1"):
        blob.QuantizedLeNet(dict(q.tensors), {**q.shifts, "conv1": -1})
    with pytest.raises(LenetError, match="conv2.w"):
        blob.QuantizedLeNet({**q.tensors, "conv2.w": q.tensors["conv2.w"].astype(np.int16)}, q.shifts)
    with pytest.raises(LenetError, match="fc2.in_frac"):
        fracs = {**q.fracs, "fc2": q.fracs["fc2"]._replace(in_frac=99)}
        blob.QuantizedLeNet(dict(q.tensors), dict(q.shifts), fracs)


def test_load_rejects_a_manifest_of_another_blob(q, tmp_path):
    path_bin, path_json = blob.save(q, tmp_path / "m.bin")
    doc = json.loads(path_json.read_text())
    doc["shifts"]["conv1"] += 1
    path_json.write_text(json.dumps(doc))
    with pytest.raises(LenetError, match="does not belong"):
        blob.load(path_bin)
    good = blob.manifest(q)
    for text, message in (("[]", "a JSON list, not a blob manifest"),
                          (json.dumps({**good, "sections": ["conv1.w"]}), "not a list of objects"),
                          (json.dumps({**good, "sections": 3}), "not a list of objects")):
        path_json.write_text(text)  # valid JSON of the wrong shape: a message, not an AttributeError
        with pytest.raises(LenetError, match=message):
            blob.load(path_bin)
    path_json.write_bytes(b"\xff\xfe{")
    with pytest.raises(LenetError, match="not valid JSON"):
        blob.load(path_bin)
    path_json.unlink()
    with pytest.raises(LenetError, match="manifest is missing"):
        blob.load(path_bin)
    assert blob.load(path_bin, require_manifest=False).fracs is None


def test_load_names_the_file_of_a_corrupted_blob(q, tmp_path):
    path_bin, _ = blob.save(q, tmp_path / "m.bin")
    data = bytearray(path_bin.read_bytes())
    data[1000] ^= 1
    path_bin.write_bytes(bytes(data))
    with pytest.raises(LenetError, match=r"m\.bin.*CRC"):
        blob.load(path_bin)
    with pytest.raises(LenetError, match="no such weights blob"):
        blob.load(tmp_path / "missing.bin")
    with pytest.raises(LenetError, match="cannot read the weights blob"):
        blob.load(tmp_path)  # a directory: an error message, not an IsADirectoryError traceback
