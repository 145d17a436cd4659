"""`lenet bench`: the same report from every backend, and the device backends agree with the golden model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lenet_pynq import blob
from lenet_pynq.cli import main
from lenet_pynq.train import checkpoint
from lenet_pynq.train.model import he_init

COUNT = 400


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return str(blob.save(blob.random_model(seed=11), tmp_path_factory.mktemp("blob") / "lenet_int8.bin")[0])


def bench(capsys, *args) -> dict:
    assert main(["bench", "--json", "--count", str(COUNT), "--batch-size", "150", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_model_backend_reports_accuracy_confusion_throughput_and_speedup(capsys, weights, tmp_path):
    png = tmp_path / "confusion.png"
    r = bench(capsys, "--backend", "model", "--weights", weights, "--plot", str(png))
    assert r["total"] == COUNT and sum(map(sum, r["confusion"])) == COUNT
    assert np.trace(np.array(r["confusion"])) == r["correct"]
    assert [c["total"] for c in r["per_class"]] == np.array(r["confusion"]).sum(axis=1).tolist()
    t = r["throughput"]
    assert t["batches"] == 3 and t["batch_size"] == 150 and t["images_per_second"] > 0
    assert set(t["latency_ms"]) == {"mean", "p50", "p95", "max"}
    ref = r["reference_numpy_golden"]
    assert ref["logits_identical"] is True and ref["speedup"] > 0
    assert r["class_word_mismatches"] == 0
    assert png.is_file() and png.stat().st_size > 1000


def test_device_and_golden_backends_give_the_same_answers(capsys, weights):
    device = bench(capsys, "--backend", "model", "--weights", weights)
    integer = bench(capsys, "--backend", "int", "--weights", weights)
    assert device["confusion"] == integer["confusion"]
    assert device["per_class"] == integer["per_class"]
    assert "reference_numpy_golden" not in integer


def test_float_backend_reads_a_checkpoint(capsys, tmp_path):
    checkpoint.save(he_init(seed=1), tmp_path, "net")
    r = bench(capsys, "--backend", "float", "--weights-dir", str(tmp_path), "--model-name", "net")
    assert r["total"] == COUNT and 0 < r["confidence"]["mean"] <= 1


def test_text_report(capsys, weights):
    assert main(["bench", "--backend", "model", "--count", "50", "--weights", weights, "--no-progress"]) == 0
    out = capsys.readouterr().out
    for words in ("Accuracy:", "Per-class accuracy:", "Confusion matrix (rows: true class", "Throughput:",
                  "Per-batch latency:", "NumPy golden model on this CPU", "logits identical: True"):
        assert words in out


def test_a_missing_blob_is_one_line_saying_what_to_do(capsys, tmp_path):
    assert main(["bench", "--backend", "model", "--weights", str(tmp_path / "none.bin")]) == 1
    err = capsys.readouterr().err
    assert "no weights blob" in err and "make quantize" in err and "Traceback" not in err


def test_csim_backend_agrees_with_the_golden_model(capsys, weights):
    csim = bench(capsys, "--backend", "csim", "--weights", weights, "--count", "100")
    integer = bench(capsys, "--backend", "int", "--weights", weights, "--count", "100")
    assert csim["confusion"] == integer["confusion"]
    assert csim["reference_numpy_golden"]["logits_identical"] is True
    assert csim["class_word_mismatches"] == 0


def test_rtl_backend_runs_the_driver_on_the_verilog_ip(capsys, weights):
    r = bench(capsys, "--backend", "rtl", "--weights", weights, "--count", "8", "--batch-size", "4")
    assert r["total"] == 8 and r["throughput"]["batches"] == 2
    assert r["reference_numpy_golden"]["logits_identical"] is True
    assert r["class_word_mismatches"] == 0
    assert r["rtl_simulated"]["ns_per_image"] > 0
