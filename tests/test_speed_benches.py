"""`make bench-train` and `make bench-golden`: what they print, on a few steps (the speed itself is not tested)."""

import json

import pytest

from lenet_pynq import golden
from lenet_pynq.cli import main


def test_bench_train_times_one_and_two_threads_and_reports_the_load(capsys):
    assert main(["bench-train", "--steps", "2", "--repeats", "2", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["batch_size"] == 64 and r["steps"] == 2 and r["blas_pinned"] is True
    assert set(r["threads"]) == {"1", "2"}
    for s in r["threads"].values():
        assert len(s["repeats"]) == len(s["load_average"]) == 2
        assert s["best"] == max(s["repeats"]) > 0 and s["median"] > 0 and s["cpu_median"] > 0
    assert main(["bench-train", "--steps", "1", "--repeats", "1", "--threads", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 threads: best" in out and "load average" in out and "1 thread " not in out


def test_bench_train_rejects_a_bad_thread_list(capsys):
    with pytest.raises(SystemExit) as e:
        main(["bench-train", "--threads", "one"])
    assert e.value.code == 2
    assert "argument --threads: invalid comma-separated thread counts value: 'one'" in capsys.readouterr().err


def test_bench_golden_prints_best_median_cpu_rate_and_load(capsys):
    from lenet_pynq import blob

    assert main(["bench-golden", "--blob", str(blob.shipped_path()), "--batch-size", "100", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("golden model: best ") and "median" in out and "per CPU-second" in out
    assert "load average" in out and f"passes of up to {golden.CHUNK}" in out
