"""The MNIST loader: IDX parsing, SHA-256 checks, download with mirror fallback, clear errors."""

import functools
import gzip
import http.server
import shutil
import struct
import threading

import numpy as np
import pytest

from lenet_pynq import mnist
from lenet_pynq.errors import LenetError

TEST_FILES = mnist.FILES["test"]
UNREACHABLE = "http://127.0.0.1:9/"  # the discard port: nothing listens, the connection is refused at once


def idx_bytes(a: np.ndarray) -> bytes:
    return struct.pack(">HBB", 0, 8, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape) + a.astype(np.uint8).tobytes()


@pytest.fixture(scope="module")
def canonical_dir():
    d = mnist.default_data_dir()
    if not all((d / f"{n}.gz").is_file() or (d / n).is_file() for n in mnist.SHA256):
        pytest.fail(f"the MNIST files are not in {d}: set {mnist.ENV_VAR} to a directory that has them")
    return d


@pytest.fixture()
def test_copy(canonical_dir, tmp_path):
    """A private copy of the test split, raw (uncompressed), to damage at will."""
    for name in TEST_FILES:
        src = canonical_dir / f"{name}.gz"
        (tmp_path / name).write_bytes(gzip.decompress(src.read_bytes()) if src.is_file()
                                      else (canonical_dir / name).read_bytes())
    return tmp_path


@pytest.fixture()
def offline(monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", [UNREACHABLE])


def test_loads_both_splits_with_their_known_first_labels(canonical_dir):
    images, labels = mnist.load("train")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]
    images, labels = mnist.load("test", canonical_dir)
    assert images.shape == (10000, 28, 28) and labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_raw_files_give_the_same_arrays_as_gzipped(canonical_dir, test_copy):
    raw = mnist.load("test", test_copy)
    gz = mnist.load("test", canonical_dir)
    assert all(np.array_equal(a, b) for a, b in zip(raw, gz))


def test_default_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path))
    assert mnist.default_data_dir() == tmp_path
    monkeypatch.delenv(mnist.ENV_VAR)
    assert mnist.default_data_dir() == mnist.DEFAULT_DIR


def test_parse_idx_reads_the_shape_from_the_header():
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(mnist.parse_idx(idx_bytes(a)), a)
    assert mnist.parse_idx(idx_bytes(np.array([3, 1, 4]))).tolist() == [3, 1, 4]


@pytest.mark.parametrize("data, message", [
    (b"\x00\x00", "too short"),
    (b"\x00\x00\x0d\x03" + bytes(12), "not an unsigned-byte IDX"),  # float elements
    (b"\x00\x00\x08\x03\x00\x00", "truncated IDX header"),
    (idx_bytes(np.zeros((2, 2, 2)))[:-1], "truncated or corrupted"),
    (idx_bytes(np.zeros((2, 2, 2))) + b"\x00", "truncated or corrupted"),
])
def test_parse_idx_refuses_malformed_data(data, message):
    with pytest.raises(LenetError, match=message):
        mnist.parse_idx(data, "x.idx")


def test_truncated_raw_file_is_reported_as_truncated(test_copy, offline):
    path = test_copy / TEST_FILES[0]
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(LenetError, match=f"{path}.*truncated"):
        mnist.load("test", test_copy)


def test_truncated_gzip_file_is_refused(test_copy, offline):
    path = test_copy / TEST_FILES[0]
    gz = gzip.compress(path.read_bytes(), compresslevel=1)
    path.unlink()
    (test_copy / f"{TEST_FILES[0]}.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(LenetError, match="not a valid gzip file"):
        mnist.load("test", test_copy)


def test_checksum_mismatch_is_refused(test_copy, offline):
    path = test_copy / TEST_FILES[0]
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF  # one pixel: still a well-formed IDX file
    path.write_bytes(bytes(data))
    with pytest.raises(LenetError, match="SHA-256 .* expected .* corrupted"):
        mnist.load("test", test_copy)


def test_missing_files_without_network_say_where_to_put_them(tmp_path, offline):
    with pytest.raises(LenetError, match=f"not in {tmp_path} and could not be downloaded.*{mnist.ENV_VAR}"):
        mnist.load("test", tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture()
def mirror(canonical_dir, tmp_path):
    """An HTTP server on 127.0.0.1 serving the gzipped test split; yields its base URL."""
    served = tmp_path / "served"
    served.mkdir()
    for name in TEST_FILES:
        src = canonical_dir / f"{name}.gz"
        if src.is_file():
            shutil.copy(src, served)
        else:
            (served / f"{name}.gz").write_bytes(gzip.compress((canonical_dir / name).read_bytes()))
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", served
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_falls_back_to_the_next_mirror(mirror, tmp_path, monkeypatch, canonical_dir):
    url, _ = mirror
    monkeypatch.setattr(mnist, "MIRRORS", [UNREACHABLE, url])
    target = tmp_path / "fresh"
    images, labels = mnist.load("test", target)
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{n}.gz" for n in TEST_FILES)
    expected = mnist.load("test", canonical_dir)
    assert np.array_equal(images, expected[0]) and np.array_equal(labels, expected[1])


def test_download_skips_a_mirror_with_a_bad_copy(mirror, tmp_path, monkeypatch):
    url, served = mirror
    bad = tmp_path / "bad"
    shutil.copytree(served, bad)
    name = TEST_FILES[1]
    raw = bytearray(gzip.decompress((bad / f"{name}.gz").read_bytes()))
    raw[-1] = (raw[-1] + 1) % 10
    (bad / f"{name}.gz").write_bytes(gzip.compress(bytes(raw)))
    handler = functools.partial(QuietHandler, directory=str(bad))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        bad_url = f"http://127.0.0.1:{server.server_port}/"
        monkeypatch.setattr(mnist, "MIRRORS", [bad_url])
        with pytest.raises(LenetError, match=f"{bad_url}{name}.gz: SHA-256 mismatch"):
            mnist.load("test", tmp_path / "only-bad")
        monkeypatch.setattr(mnist, "MIRRORS", [bad_url, url])
        _, labels = mnist.load("test", tmp_path / "then-good")
        assert labels.shape == (10000,)
    finally:
        server.shutdown()
        server.server_close()
