"""`lenet train` keeps its work: a checkpoint after every epoch, the best one kept, --resume, atomic saves.

Runs are short (640 training images) so that the suite stays quick; what
is checked is that nothing is lost and that a resumed run ends with the
very bytes an uninterrupted one does.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from lenet_pynq import blob, cli, mnist, outputs
from lenet_pynq.errors import LenetError
from lenet_pynq.train import checkpoint, optim, trainer
from lenet_pynq.train.model import LeNet5

SMALL = ["--train-limit", "640", "--batch-size-test", "1000"]


@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def manifest(path) -> dict:
    return json.loads(path.read_text())


def without_timing(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in h.items() if k not in ("seconds", "images_per_second")} for h in history]


# --- a checkpoint after every epoch, the best one kept --------------------------------------

def test_every_epoch_is_saved_and_the_best_by_test_accuracy_is_the_model(workdir, capsys):
    assert cli.main(["train", "--epochs", "2", *SMALL]) == 0
    out = capsys.readouterr().out
    last = manifest(workdir / "weights" / "lenet_last.json")
    best = manifest(workdir / "weights" / "lenet.json")
    history = last["meta"]["history"]
    assert [h["epoch"] for h in history] == [1, 2] and last["meta"]["resume"]["epoch"] == 2
    accuracies = [h["test_accuracy"] for h in history]
    best_epoch = max(range(2), key=lambda i: (accuracies[i], i)) + 1  # ties to the later epoch
    assert best["meta"]["epoch"] == last["meta"]["best_epoch"] == best_epoch
    assert best["meta"]["test_accuracy"] == accuracies[best_epoch - 1]
    assert f"Best epoch: {best_epoch} of 2 (test accuracy {accuracies[best_epoch - 1]:.4f})" in out
    assert f"Accuracy: {accuracies[best_epoch - 1]:.4f}" in out  # the report printed is the best model's


def test_a_better_epoch_replaces_the_best_and_a_worse_one_does_not(workdir, monkeypatch):
    """Test accuracies 0.5, 0.7, 0.6: the model kept is epoch 2's, the last checkpoint epoch 3's."""
    real_fit = trainer.fit

    def scripted(*args, **kwargs):
        for (result, report, state), acc in zip(real_fit(*args, **kwargs), [0.5, 0.7, 0.6]):
            result.test_accuracy = acc
            yield result, report, state

    monkeypatch.setattr(trainer, "fit", scripted)
    assert cli.main(["train", "--epochs", "3", *SMALL]) == 0
    best = manifest(workdir / "weights" / "lenet.json")["meta"]
    assert best["epoch"] == 2 and [h["epoch"] for h in best["history"]] == [1, 2, 3]  # the whole run, to plot
    assert manifest(workdir / "weights" / "lenet_last.json")["meta"]["resume"]["epoch"] == 3


# --- --resume: a resumed run equals an uninterrupted one -----------------------------------------

@pytest.mark.parametrize("optimizer", [[], ["--optimizer", "adam"]], ids=["sgd", "adam"])
def test_a_resumed_run_ends_with_the_bytes_of_an_uninterrupted_one(workdir, monkeypatch, capsys, optimizer):
    assert cli.main(["train", "--epochs", "3", *SMALL, *optimizer, "--weights-dir", "whole"]) == 0

    real_fit = trainer.fit

    def stopped_in_epoch_two(*args, **kwargs):  # Ctrl-C once epoch 1 is saved, while epoch 2 trains
        epochs = real_fit(*args, **kwargs)
        yield next(epochs)
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "fit", stopped_in_epoch_two)
    assert cli.main(["train", "--epochs", "3", *SMALL, *optimizer, "--weights-dir", "cut"]) == 130
    assert "`lenet train --resume --weights-dir cut` continues the run" in capsys.readouterr().err
    monkeypatch.setattr(trainer, "fit", real_fit)
    assert manifest(workdir / "cut" / "lenet_last.json")["meta"]["resume"]["epoch"] == 1

    assert cli.main(["train", "--resume", "--weights-dir", "cut"]) == 0
    for name in ("lenet.bin", "lenet_last.bin", "lenet_last.state.npz"):
        assert (workdir / "cut" / name).read_bytes() == (workdir / "whole" / name).read_bytes(), name
    a, b = manifest(workdir / "whole" / "lenet_last.json"), manifest(workdir / "cut" / "lenet_last.json")
    assert without_timing(a["meta"]["history"]) == without_timing(b["meta"]["history"])
    assert a["meta"]["config"] == b["meta"]["config"] and a["meta"]["best_epoch"] == b["meta"]["best_epoch"]


def test_resume_refuses_other_settings_and_says_when_the_run_is_finished(workdir, capsys):
    assert cli.main(["train", "--epochs", "1", *SMALL]) == 0
    capsys.readouterr()
    assert cli.main(["train", "--resume", "--lr", "0.1"]) == 1
    assert "--lr 0.1: the run being resumed has 0.05" in capsys.readouterr().err
    assert cli.main(["train", "--resume"]) == 0
    assert "nothing to resume" in capsys.readouterr().out


def test_resume_without_a_saved_run_is_one_line(workdir, capsys):
    assert cli.main(["train", "--resume"]) == 1
    err = capsys.readouterr().err
    assert "no such checkpoint manifest" in err and len(err.splitlines()) == 1


def test_optimizer_state_round_trips_and_refuses_a_wrong_shape():
    params = {"w": np.ones(3, np.float32)}
    a = optim.Adam(params)
    a.step({"w": np.array([1, 2, 3], np.float32)}, 0.1)
    b = optim.Adam({"w": np.ones(3, np.float32)})
    b.load_state(a.state())
    assert b.t == 1 and np.array_equal(b.m["w"], a.m["w"]) and np.array_equal(b.v["w"], a.v["w"])
    with pytest.raises(ValueError, match="velocity/w is float32\\[2\\]"):
        optim.SGD({"w": np.ones(3, np.float32)}).load_state({"velocity/w": np.ones(2, np.float32),
                                                            "step_count": np.array(0)})


def test_ctrl_c_during_epoch_two_keeps_epoch_one_and_resume_finishes_the_run(tmp_path):
    """The real command and a real SIGINT, as a user's Ctrl-C."""
    env = {**os.environ, mnist.ENV_VAR: str(mnist.default_data_dir().resolve())}
    cmd = [sys.executable, "-m", "lenet_pynq", "train", "--epochs", "3", "--train-limit", "6000"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    last = tmp_path / "weights" / "lenet_last.json"
    deadline = time.monotonic() + 300
    while not last.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    if proc.returncode == 0:
        pytest.fail(f"the run finished before it could be interrupted; raise --train-limit\n{err}")
    assert proc.returncode == 130 and err.rstrip().endswith("interrupted"), err
    stopped_at = manifest(last)["meta"]["resume"]["epoch"]
    assert 1 <= stopped_at < 3 and "lenet train --resume` continues the run" in err
    checkpoint.load(tmp_path / "weights", "lenet")  # the best so far loads
    resumed = subprocess.run([*cmd[:4], "--resume"], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming weights/lenet_last after epoch {stopped_at} of 3" in resumed.stderr
    assert [h["epoch"] for h in manifest(last)["meta"]["history"]] == [1, 2, 3]


# --- atomic saves -------------------------------------------------------------------------

def test_an_interrupted_save_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    old = LeNet5(seed=1).params
    checkpoint.save(old, tmp_path, "m")
    calls = []

    def fsync_then_stop(fd):  # the data file is staged, then Ctrl-C while the manifest is
        calls.append(fd)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(outputs.os, "fsync", fsync_then_stop)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(LeNet5(seed=2).params, tmp_path, "m")
    loaded = checkpoint.load(tmp_path, "m")
    assert all(np.array_equal(loaded[k], old[k]) for k in old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bin", "m.json"]  # no temporary left behind


def test_ctrl_c_during_the_renames_waits_until_both_files_are_in_place(tmp_path, monkeypatch):
    checkpoint.save(LeNet5(seed=1).params, tmp_path, "m")
    new = LeNet5(seed=2).params
    real_replace = os.replace

    def replace_and_interrupt(src, dst):
        os.kill(os.getpid(), signal.SIGINT)  # arrives between the data's rename and the manifest's
        real_replace(src, dst)

    monkeypatch.setattr(outputs.os, "replace", replace_and_interrupt)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(new, tmp_path, "m")
    loaded = checkpoint.load(tmp_path, "m")
    assert all(np.array_equal(loaded[k], new[k]) for k in new)


def test_the_blob_is_written_atomically_manifest_last(tmp_path, monkeypatch):
    q = blob.load(blob.shipped_path())
    path = tmp_path / "b.bin"
    order = []
    real_replace = os.replace
    monkeypatch.setattr(outputs.os, "replace", lambda s, d: (order.append(os.path.basename(d)), real_replace(s, d)))
    blob.save(q, path)
    assert order == ["b.bin", "b.json"]
    assert path.read_bytes() == blob.shipped_path().read_bytes()
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # not mkstemp's private 0600


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- plots and predictions ------------------------------------------------------------------

def test_train_plot_and_lenet_plot_draw_the_curves_from_the_stored_history(workdir, capsys):
    pytest.importorskip("matplotlib")
    assert cli.main(["train", "--epochs", "2", *SMALL, "--plot"]) == 0
    assert "Training curves drawn to results/lenet_training.png" in capsys.readouterr().out
    png = (workdir / "results" / "lenet_training.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert cli.main(["plot", "weights/lenet_last.json", "--out", "build/curves.png"]) == 0
    assert "Training curves of 2 epochs drawn to build/curves.png" in capsys.readouterr().out
    assert (workdir / "build" / "curves.png").read_bytes().startswith(b"\x89PNG")


def test_plot_of_a_checkpoint_without_history_is_one_line(workdir, capsys):
    pytest.importorskip("matplotlib")
    checkpoint.save(LeNet5().params, "w", "bare")
    assert cli.main(["plot", "w/bare.json"]) == 1
    assert "no training history" in capsys.readouterr().err


def test_save_predictions_takes_a_path(workdir, capsys):
    assert cli.main(["train", "--epochs", "1", *SMALL, "--save-predictions", "build/p.txt"]) == 0
    lines = (workdir / "build" / "p.txt").read_text().splitlines()
    assert len(lines) == 10001 and "Predictions written to build/p.txt" in capsys.readouterr().out
    assert cli.main(["test", "--batch-size-test", "1000", "--save-predictions", "build/q.txt"]) == 0
    assert (workdir / "build" / "q.txt").read_text() == "\n".join(lines) + "\n"


# --- arguments refused at parse time ----------------------------------------------------------

@pytest.mark.parametrize("argv, name", [
    (["train", "--lr", "inf"], "positive finite number"),
    (["train", "--lr", "0"], "positive finite number"),
    (["train", "--lr", "nan"], "positive finite number"),
    (["train", "--momentum", "-1"], "number in [0, 1)"),
    (["train", "--momentum", "1"], "number in [0, 1)"),
    (["train", "--weight-decay", "-1"], "finite number >= 0"),
    (["compare", "a", "b", "--atol", "-1"], "finite number >= 0"),
    (["compare", "a", "b", "--range-tol", "inf"], "finite number >= 0"),
])
def test_bad_numbers_are_refused_at_parse_time(capsys, argv, name):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2 and f"invalid {name} value" in capsys.readouterr().err


def test_adam_prints_no_sgd_parameters_and_refuses_them(workdir, capsys):
    assert cli.main(["train", "--epochs", "1", *SMALL, "--optimizer", "adam"]) == 0
    line = next(s for s in capsys.readouterr().err.splitlines() if s.startswith("Parameters:"))
    assert "optimizer=adam" in line and "lr=0.001" in line and "momentum" not in line and "weight_decay" not in line
    assert cli.main(["train", "--optimizer", "adam", "--momentum", "0.5"]) == 1
    assert "--momentum applies to --optimizer sgd only" in capsys.readouterr().err


def test_divergence_stops_at_its_first_step_without_numpy_warnings(workdir, capsys, recwarn):
    assert cli.main(["train", "--epochs", "1", *SMALL, "--lr", "1e30", "--threads", "2"]) == 1
    err = capsys.readouterr().err
    assert "training diverged in epoch 1, step" in err and "lower --lr" in err
    # (pytest records warnings instead of printing them; the step's second thread must not raise any either)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_training_state_that_does_not_match_its_manifest_is_refused(workdir, capsys):
    assert cli.main(["train", "--epochs", "1", *SMALL]) == 0
    state = workdir / "weights" / "lenet_last.state.npz"
    data = bytearray(state.read_bytes())
    data[len(data) // 2] ^= 1
    state.write_bytes(bytes(data))
    with pytest.raises(LenetError, match="training state is corrupted"):
        checkpoint.load_state(workdir / "weights", "lenet_last")
