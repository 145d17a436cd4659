"""`lenet bench`: the same report from every backend, and the device backends agree with the golden model."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from lenet_pynq import blob
from lenet_pynq.classifier import Classification
from lenet_pynq.cli import main
from lenet_pynq.host import bench as bench_module
from lenet_pynq.host.bench import BACKENDS
from lenet_pynq.train import checkpoint
from lenet_pynq.train.model import he_init

COUNT = 400


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return str(blob.save(blob.random_model(seed=11), tmp_path_factory.mktemp("blob") / "lenet_int8.bin")[0])


def bench(capsys, *args) -> dict:
    assert main(["bench", "--json", "--count", str(COUNT), "--batch-size", "150", *args]) == 0
    out, err = capsys.readouterr()
    print(err, file=sys.stderr)  # the notes, for the tests that read them
    return json.loads(out)


def test_model_backend_reports_accuracy_confusion_tiers_and_the_golden_check(capsys, weights, tmp_path):
    png = tmp_path / "confusion.png"
    r = bench(capsys, "--backend", "model", "--weights", weights, "--plot", str(png))
    assert r["label"] == "model device"
    assert r["total"] == COUNT and sum(map(sum, r["confusion"])) == COUNT
    assert np.trace(np.array(r["confusion"])) == r["correct"]
    assert [c["total"] for c in r["per_class"]] == np.array(r["confusion"]).sum(axis=1).tolist()
    t = r["throughput"]
    assert t["batches"] == 3 and t["batch_size"] == 150 and t["images_per_second"] > 0
    assert set(t["latency_ms"]) == {"mean", "p50", "p99", "max"}
    assert r["golden_check"] == {"images": COUNT, "logits_identical": True, "differing_images": 0,
                                 "first_differing_image": None}
    assert set(r["tiers"]) == {"ip_dma", "end_to_end", "numpy_golden"}
    for tier in r["tiers"].values():  # one batch of --batch-size images, timed runs after a warm-up
        assert tier["batch_size"] == 150 and tier["batches"] == bench_module.runs_for(150) == 11
        assert tier["images_per_second"] > 0
        assert tier["best_images_per_second"] >= tier["median_images_per_second"] > 0
    assert "speedup_over_numpy" not in r  # a simulation's speed-up over NumPy means nothing
    assert r["overhead_over_golden"] == bench_module.overhead_over_golden(r["tiers"]) and r["load_average"] >= 0
    assert r["class_word_mismatches"] == 0
    assert png.is_file() and png.stat().st_size > 1000


def test_the_sweep_times_every_tier_per_batch_size(capsys, weights):
    assert main(["bench", "--json", "--backend", "model", "--count", "10", "--batch-size", "10", "--sweep",
                 "--weights", weights]) == 0
    r = json.loads(capsys.readouterr().out)
    assert [row["batch"] for row in r["sweep"]] == [1, 10]
    for row in r["sweep"]:
        assert row["ip_dma"]["batch_size"] == row["batch"] and row["ip_dma"]["batches"] == 100
        assert row["numpy_golden"]["latency_ms"]["p99"] >= row["numpy_golden"]["latency_ms"]["p50"]


class _Clock:
    """``time`` for bench.py: it stands still except when a scripted call advances it by that call's duration."""

    def __init__(self, durations: dict[str, list[float]]):
        self.now = 0.0
        self.durations = {name: iter(d) for name, d in durations.items()}
        self.calls: list[str] = []

    def perf_counter(self) -> float:
        return self.now

    def call(self, name: str) -> None:
        self.calls.append(name)
        self.now += next(self.durations[name])


def test_the_ip_dma_tier_takes_turns_too_and_counts_the_job_alone(monkeypatch):
    """The driver's IP + DMA tier joins the rounds; each round's figure is the job's own seconds, as the driver
    timed it, not the call's (which stages the batch first)."""
    jobs = [0.05, 0.04, 0.06, 0.03, 0.07, 0.05, 0.04, 0.06, 0.05, 0.04, 0.08]
    clock = _Clock({"ip_dma": [9.0] + [0.5] * 11, "end_to_end": [9.0] + [0.2] * 11,
                    "numpy_golden": [9.0] + [0.1] * 11})
    job_seconds = iter([0.01] + jobs)

    class Driver:
        def classify(self, images, batch_size=None):
            clock.call("end_to_end")

        def throughput(self, images, batch_size=None, repeats=3):
            assert repeats == 1 and batch_size == len(images)
            clock.call("ip_dma")
            return Classification(np.zeros(len(images), int), np.zeros((len(images), 10), np.int32),
                                  [next(job_seconds)], [len(images)])

    monkeypatch.setattr(bench_module, "time", clock)
    monkeypatch.setattr(bench_module.golden, "run", lambda q, images: (clock.call("numpy_golden"),
                                                                        np.zeros((len(images), 10), np.int32))[1])
    t = bench_module.tiers(Driver(), None, np.zeros((1000, 28, 28), np.uint8), 1000)
    one_round = ["ip_dma", "end_to_end", "numpy_golden"]
    assert clock.calls == one_round + [name for r in range(11) for name in (one_round[::1 - 2 * (r % 2)])]
    assert t["ip_dma"]["batches"] == 11 and t["ip_dma"]["seconds"] == pytest.approx(sum(jobs))
    assert t["ip_dma"]["best_images_per_second"] == pytest.approx(1000 / 0.03)
    assert t["end_to_end"]["best_images_per_second"] == pytest.approx(1000 / 0.2)


def test_the_tiers_take_turns_and_the_overhead_is_best_against_best_and_median_against_median(monkeypatch):
    """What `lenet bench --backend model` prints as its overhead over the golden model, on a scripted clock.

    The first call of each tier is its warm-up (9 s, never counted); then
    11 rounds (runs_for(1000)), the order reversed every other round. The
    durations make best/best (0.20/0.10), median/median (0.25/0.20), the
    ratio of the totals (2.75/2.28) and the median of the per-round ratios
    (0.27/0.21) all different, so only the stated rule gives the expected
    figures.
    """
    end_to_end = [0.30, 0.20, 0.26, 0.22, 0.24, 0.28, 0.21, 0.25, 0.27, 0.23, 0.29]
    numpy_golden = [0.20, 0.25, 0.10, 0.40, 0.19, 0.18, 0.22, 0.16, 0.21, 0.17, 0.30]
    clock = _Clock({"end_to_end": [9.0] + end_to_end, "numpy_golden": [9.0] + numpy_golden})

    class Device:
        def classify(self, images, batch_size=None):
            clock.call("end_to_end")

    def golden_run(q, images):
        clock.call("numpy_golden")
        return np.zeros((len(images), 10), np.int32)

    monkeypatch.setattr(bench_module, "time", clock)
    monkeypatch.setattr(bench_module.golden, "run", golden_run)
    t = bench_module.tiers(Device(), None, np.zeros((1000, 28, 28), np.uint8), 1000)
    one_round = ["end_to_end", "numpy_golden"]
    assert clock.calls == one_round + [name for r in range(11) for name in (one_round[::1 - 2 * (r % 2)])]
    assert t["end_to_end"]["batches"] == t["numpy_golden"]["batches"] == 11
    assert t["end_to_end"]["best_images_per_second"] == pytest.approx(1000 / 0.20)
    assert t["end_to_end"]["median_images_per_second"] == pytest.approx(1000 / 0.25)
    assert t["numpy_golden"]["best_images_per_second"] == pytest.approx(1000 / 0.10)
    assert t["numpy_golden"]["median_images_per_second"] == pytest.approx(1000 / 0.20)
    assert t["end_to_end"]["images_per_second"] == pytest.approx(11000 / 2.75)
    overhead = bench_module.overhead_over_golden(t)
    assert overhead == {"best": pytest.approx(0.20 / 0.10 - 1), "median": pytest.approx(0.25 / 0.20 - 1)}
    ratios = np.array(end_to_end) / np.array(numpy_golden)
    assert len({round(v, 6) for v in (overhead["median"], 2.75 / 2.28 - 1, np.median(ratios) - 1)}) == 3


class OffByOne:
    """The model device with one logit of the first image changed: a device that is wrong."""

    label = "model device"
    integer = True

    def __init__(self, args):
        from lenet_pynq.sim.model_overlay import open_classifier

        self.ip = open_classifier(args)

    def load_weights(self, path):
        self.ip.load_weights(path)

    def classify(self, images, batch_size=None):
        r = self.ip.classify(images, batch_size)
        r.logits[0, 3] -= 1 << 20  # far below the rest: the class (the argmax) stays right
        return r


def test_a_device_whose_logits_differ_from_the_golden_model_fails_the_bench(capsys, weights, monkeypatch):
    monkeypatch.setitem(BACKENDS, "model", f"{__name__}:OffByOne")
    assert main(["bench", "--backend", "model", "--count", "20", "--weights", weights, "--no-progress"]) == 1
    out, err = capsys.readouterr()
    assert "Logits identical to the golden model on all 20 images: NO, 1 differ (first: test image 0)" in out
    assert "logits differ from the golden model's on 1 of 20 images (first: test image 0)" in err


def test_an_unwritable_plot_is_refused_before_the_work(capsys, weights):
    assert main(["bench", "--backend", "model", "--weights", weights, "--plot", "/dev/null/x.png"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "--plot /dev/null/x.png: /dev/null is not a directory" in err


def test_a_plot_that_fails_after_the_work_still_prints_the_report(capsys, weights, monkeypatch, tmp_path):
    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bench_module, "plot_confusion", full_disk)
    assert main(["bench", "--backend", "int", "--count", "20", "--weights", weights, "--no-progress",
                 "--plot", str(tmp_path / "c.png")]) == 1
    out, err = capsys.readouterr()
    assert "Accuracy:" in out and "Confusion matrix" in out
    assert "not written ([Errno 28] No space left on device); the report above is complete" in err


@pytest.mark.parametrize("module, argv, words", [
    ("matplotlib", ["--backend", "int", "--plot", "c.png"], "--plot needs matplotlib, which is not installed: "
                                                           "pip install 'lenet-pynq[plot]'"),
    ("pynq", ["--backend", "model"], "--backend model needs pynq, which is not installed: install the extra: "
                                     "pip install 'lenet-pynq[model]'"),
])
def test_a_missing_optional_dependency_is_one_line_naming_the_extra(capsys, monkeypatch, weights, module, argv,
                                                                    words):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a))
    assert main(["bench", "--weights", weights, *argv]) == 1
    out, err = capsys.readouterr()
    assert out == "" and words in err and "Traceback" not in err


def test_a_count_beyond_the_test_set_says_what_runs(capsys, weights):
    assert main(["bench", "--json", "--backend", "int", "--count", "20000", "--weights", weights]) == 0
    out, err = capsys.readouterr()
    assert "note: --count 20000: the test set has 10,000 images; running all 10,000" in err
    assert json.loads(out)["total"] == 10000


def test_a_blob_without_its_manifest_says_confidences_are_not_computed(capsys, weights, tmp_path):
    bare = tmp_path / "bare_int8.bin"
    bare.write_bytes(open(weights, "rb").read())
    r = bench(capsys, "--backend", "int", "--weights", str(bare))
    assert r["confidence"] == {} and "no manifest" in r["confidence_not_computed"]
    assert main(["bench", "--backend", "int", "--count", "20", "--weights", str(bare), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "bare_int8.json (the blob's manifest) is missing" in err and "confidences are not computed" in err
    assert "Confidence: not computed" in out and "Mean confidence" not in out


def test_without_weights_here_the_shipped_blob_is_used_and_said(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    r = bench(capsys, "--backend", "int", "--count", "20")
    assert r["total"] == 20
    assert f"using the shipped blob {blob.shipped_path()}" in capsys.readouterr().err


def test_device_and_golden_backends_give_the_same_answers(capsys, weights):
    device = bench(capsys, "--backend", "model", "--weights", weights)
    integer = bench(capsys, "--backend", "int", "--weights", weights)
    assert device["confusion"] == integer["confusion"]
    assert device["per_class"] == integer["per_class"]
    assert "golden_check" not in integer and "tiers" not in integer


def test_float_backend_reads_a_checkpoint(capsys, tmp_path):
    checkpoint.save(he_init(seed=1), tmp_path, "net")
    r = bench(capsys, "--backend", "float", "--weights-dir", str(tmp_path), "--model-name", "net")
    assert r["total"] == COUNT and 0 < r["confidence"]["mean"] <= 1


def test_text_report(capsys, weights):
    assert main(["bench", "--backend", "model", "--count", "50", "--weights", weights, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lenet bench -- model device: LeNetIP(")
    for words in ("Accuracy:", "Per-class accuracy:", "Confusion matrix (rows: true class", "Accuracy pass (model",
                  "Logits identical to the golden model on all 50 images: yes", "IP + DMA, pre-allocated buffers",
                  "end to end (copy, cache, DMA, IP)", "NumPy golden model on this CPU",
                  "warm-up excluded (load average ", "Driver, pynq and device model over the golden model alone: "):
        assert words in out
    assert "FPGA" not in out and "speed-up" not in out


def test_a_missing_blob_is_one_line_saying_what_to_do(capsys, tmp_path):
    assert main(["bench", "--backend", "model", "--weights", str(tmp_path / "none.bin")]) == 1
    err = capsys.readouterr().err
    assert "no weights blob" in err and "make quantize" in err and "Traceback" not in err


def test_csim_backend_agrees_with_the_golden_model(capsys, weights):
    csim = bench(capsys, "--backend", "csim", "--weights", weights, "--count", "100")
    integer = bench(capsys, "--backend", "int", "--weights", weights, "--count", "100")
    assert csim["confusion"] == integer["confusion"]
    assert csim["golden_check"]["logits_identical"] is True and csim["label"] == "C-sim"
    assert csim["class_word_mismatches"] == 0


def test_rtl_backend_runs_the_driver_on_the_verilog_ip(capsys, weights):
    r = bench(capsys, "--backend", "rtl", "--weights", weights, "--count", "8", "--batch-size", "4")
    assert r["total"] == 8 and r["throughput"]["batches"] == 2
    assert r["golden_check"]["logits_identical"] is True and r["label"] == "RTL simulation"
    assert r["class_word_mismatches"] == 0
    assert r["rtl_simulated"]["ns_per_image"] > 0
