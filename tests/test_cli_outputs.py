"""Nothing surprising: outputs checked before the work, one rule for default paths, logs that never cost a run,
results on stdout, progress only on a terminal, exact messages, and a README whose commands work as written."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lenet_pynq import blob, cli, mnist, outputs, progress, report, runlog, weights
from lenet_pynq.errors import LenetError
from lenet_pynq.train import checkpoint, trainer
from lenet_pynq.train.model import LeNet5

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_ACCURACY = 0.991  # train/pretrained, and the blob quantized from it (tests/test_pretrained.py)


@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(runlog.ENV_VAR, raising=False)
    return tmp_path


def lenet(*args: str, cwd, env=None) -> subprocess.CompletedProcess:
    """The real command in a new process, from ``cwd`` (not the checkout)."""
    return subprocess.run([sys.executable, "-m", "lenet_pynq", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False,
                          env={**os.environ, mnist.ENV_VAR: str(mnist.default_data_dir().resolve()), **(env or {})})


def one_error_line(capsys, argv, match) -> None:
    assert cli.main(argv) == 1
    err = [s for s in capsys.readouterr().err.strip().splitlines() if not s.startswith("note: ")]
    assert len(err) == 1 and err[0].startswith("error: ") and match in err[0], err


# --- outputs checked before the work -------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["train", "--weights-dir", "{blocker}/w"],
    ["train", "--plot", "{blocker}/curves.png"],
    ["train", "--save-predictions", "{blocker}/p.txt"],
    ["quantize", "--out", "{blocker}/q.bin"],
    ["test", "--save-predictions", "{blocker}/p.txt"],
    ["infer", "--save-intermediate", "--dump-dir", "{blocker}/d"],
    ["export", "--out", "{blocker}/v"],
], ids=lambda a: " ".join(a[:2]))
def test_an_unwritable_output_is_refused_before_any_work(workdir, capsys, monkeypatch, argv):
    (workdir / "file").write_text("")
    loads = []
    monkeypatch.setattr(mnist, "load", lambda *a, **k: loads.append(a) or pytest.fail("MNIST loaded"))
    if "--plot" in argv:
        pytest.importorskip("matplotlib")
    one_error_line(capsys, [a.format(blocker="file") for a in argv], "file is not a directory")
    assert loads == []


def test_dev_null_is_named_as_what_it_is(workdir):
    with pytest.raises(LenetError, match="cannot write the plot /dev/null/x.png: /dev/null is not a directory"):
        outputs.check_writable("/dev/null/x.png", "the plot")
    with pytest.raises(LenetError, match="is a directory: give a file name"):
        outputs.check_writable(workdir, "the plot")


def test_a_late_failure_still_prints_the_result(workdir, capsys, monkeypatch):
    def full_disk(self, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(report.Report, "write_predictions", full_disk)
    assert cli.main(["test", "--save-predictions", "build/p.txt"]) == 1
    captured = capsys.readouterr()
    assert "Accuracy: 0.9910" in captured.out and "No space left on device" in captured.err


def test_a_missing_extra_is_one_line_naming_it_before_the_work(workdir, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    monkeypatch.setattr(mnist, "load", lambda *a, **k: pytest.fail("MNIST loaded"))
    one_error_line(capsys, ["train", "--plot"], "pip install 'lenet-pynq[plot]'")
    one_error_line(capsys, ["plot", "weights/lenet.json"], "needs matplotlib, which is not installed")


# --- one rule for default paths -------------------------------------------------------------------

def test_train_quantize_test_int_and_export_agree_on_one_weights_dir(workdir, capsys):
    assert cli.main(["train", "--epochs", "1", "--train-limit", "640", "--weights-dir", "W"]) == 0
    assert cli.main(["quantize", "--weights-dir", "W", "--calibration-images", "100"]) == 0
    assert (workdir / "W" / "lenet_int8.bin").is_file() and (workdir / "W" / "lenet_int8.json").is_file()
    assert not (workdir / "weights").exists()
    capsys.readouterr()
    assert cli.main(["test", "--int", "--weights-dir", "W", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "integer blob W/lenet_int8.bin"
    assert cli.main(["export", "--weights-dir", "W", "-n", "1", "--out", "build/v"]) == 0
    assert "weights W/lenet_int8.bin" in json.loads((workdir / "build/v/vectors.json").read_text())["source"]


@pytest.mark.parametrize("argv, note", [
    (["test", "--json"], "using the shipped checkpoint"),
    (["test", "--int", "--json"], "using the shipped blob"),
])
def test_without_a_model_of_ones_own_the_shipped_one_is_used_and_said_in_one_line(tmp_path, argv, note):
    r = lenet(*argv, cwd=tmp_path)  # a directory with no weights/, as for an installed `lenet`
    assert r.returncode == 0, r.stderr
    notes = [s for s in r.stderr.splitlines() if s.startswith("note:")]
    assert len(notes) == 1 and note in notes[0]
    assert json.loads(r.stdout)["accuracy"] == SHIPPED_ACCURACY


def test_infer_and_export_fall_back_too_but_a_named_directory_never_does(workdir, capsys):
    assert cli.main(["infer", "--test-sample", "0"]) == 0
    assert "shipped checkpoint" in capsys.readouterr().err
    assert cli.main(["export", "-n", "1", "--out", "build/v"]) == 0
    assert "shipped blob" in capsys.readouterr().err
    one_error_line(capsys, ["test", "--weights-dir", "mine"], "no such checkpoint manifest")
    one_error_line(capsys, ["test", "--int", "--model-name", "other"], "other_int8.bin")


def test_ones_own_model_wins_over_the_shipped_one(workdir, capsys):
    checkpoint.save(LeNet5(seed=3).params, "weights", "lenet")
    assert cli.main(["test", "--json"]) == 0
    captured = capsys.readouterr()
    assert "note:" not in captured.err and json.loads(captured.out)["model"] == "float checkpoint weights/lenet.json"


def test_the_shipped_files_are_package_data_found_beside_the_code_not_in_the_current_directory():
    setup = (ROOT / "setup.py").read_text()
    assert '"pretrained/*.json", "pretrained/*.bin"' in setup and '"*.bin", "*.json"' in setup
    assert checkpoint.SHIPPED_DIR == Path(checkpoint.__file__).resolve().parent / "pretrained"
    assert blob.shipped_path().parent == Path(blob.__file__).resolve().parent.parent / "overlay"
    assert weights.checkpoint_paths(checkpoint.SHIPPED_DIR, "lenet")[0].is_file()


# --- logs ---------------------------------------------------------------------------------------

def test_an_unwritable_log_directory_is_a_warning_not_a_failure(workdir, capsys):
    (workdir / "file").write_text("")
    assert cli.main(["test", "--json", "--log-dir", "file/logs"]) == 0
    captured = capsys.readouterr()
    warnings = [s for s in captured.err.splitlines() if s.startswith("warning:")]
    assert len(warnings) == 1 and "cannot write the log" in warnings[0] and "--log-dir" in warnings[0]
    assert json.loads(captured.out)["total"] == 10000


def test_a_failed_command_logs_its_error_and_leaves_no_empty_log(workdir, capsys):
    with pytest.raises(SystemExit):
        cli.main(["test", "--no-such-option"])
    assert not (workdir / "logs").exists()  # refused before running: no log file at all, not an empty one
    assert cli.main(["infer", "--weights-dir", "nowhere"]) == 1
    assert cli.main(["test", "--weights-dir", "nowhere", "--log-dir", "build/logs"]) == 1
    capsys.readouterr()
    (infer_log,) = (workdir / "logs").glob("infer_*.log")
    (test_log,) = (workdir / "build" / "logs").glob("test_*.log")
    for log in (infer_log, test_log):
        assert "ERROR - error: " in log.read_text() and "no such checkpoint manifest" in log.read_text()


def test_the_log_directory_comes_from_the_environment_too(workdir, capsys, monkeypatch):
    monkeypatch.setenv(runlog.ENV_VAR, "elsewhere")
    assert cli.main(["infer"]) == 0
    assert list((workdir / "elsewhere").glob("infer_*.log")) and not (workdir / "logs").exists()


def test_a_read_only_current_directory_does_not_stop_lenet_test(tmp_path):
    """As a user without write access would see it (root bypasses permissions, so a read-only mount is
    simulated by pointing the log directory where no directory can be made)."""
    blocker = tmp_path / "ro"
    blocker.write_text("")
    r = lenet("test", "--json", cwd=tmp_path, env={runlog.ENV_VAR: str(blocker / "logs")})
    assert r.returncode == 0 and json.loads(r.stdout)["accuracy"] == SHIPPED_ACCURACY
    assert "warning: cannot write the log" in r.stderr


# --- results on stdout, diagnostics on stderr, bars only on a terminal ------------------------------

def test_infer_prints_its_result_on_stdout_and_as_json(tmp_path):
    r = lenet("infer", "--test-sample", "3", cwd=tmp_path)
    assert r.returncode == 0 and "Predicted class: 0" in r.stdout and "True class: 0" in r.stdout
    assert "Predicted" not in r.stderr and "note: " in r.stderr  # the shipped checkpoint's note
    j = lenet("infer", "--test-sample", "3", "--json", cwd=tmp_path)
    doc = json.loads(j.stdout)
    assert doc["predicted"] == doc["label"] == 0 and doc["correct"] and 0.5 < doc["confidence"] <= 1
    assert doc["layers"]["fc3"]["shape"] == [1, 10] and doc["dump"] is None


class _Terminal:
    """A stderr that says it is a terminal, recording what is written."""

    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_progress_bars_only_on_a_terminal(monkeypatch, capsys):
    images, labels = np.zeros((640, 28, 28), np.uint8), np.zeros(640, np.int64)
    logits = lambda x: np.zeros((len(x), 10))
    report.evaluate(logits, images, labels, 64, progress=True)
    assert capsys.readouterr().err == ""  # redirected: nothing
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    report.evaluate(logits, images, labels, 64, progress=True)
    assert "Testing" in terminal.text


def test_training_writes_no_bar_into_a_redirected_log(tmp_path):
    r = lenet("train", "--epochs", "1", "--train-limit", "640", cwd=tmp_path)
    assert r.returncode == 0 and "batch/s" not in r.stderr and "it/s" not in r.stderr and "\r" not in r.stderr
    assert "Epoch 1/1 - loss:" in r.stderr


# --- messages ----------------------------------------------------------------------------------

def test_a_wrong_layer_shape_names_the_bytes_it_must_have(tmp_path):
    checkpoint.save(LeNet5().params, tmp_path, "m")
    doc = json.loads((tmp_path / "m.json").read_text())
    doc["layers"][0]["shape"] = [6, 1, 4, 4]
    (tmp_path / "m.json").write_text(json.dumps(doc))
    with pytest.raises(LenetError, match=r"expected \[6, 1, 5, 5\] float32 at 0\+600"):
        checkpoint.load(tmp_path, "m")


def test_a_manifest_without_its_checksum_says_so(tmp_path):
    checkpoint.save(LeNet5().params, tmp_path, "m")
    doc = json.loads((tmp_path / "m.json").read_text())
    del doc["sha256"]
    (tmp_path / "m.json").write_text(json.dumps(doc))
    with pytest.raises(LenetError, match="no checksum"):
        checkpoint.load(tmp_path, "m")


def test_a_data_dir_that_is_a_file_says_it_is_a_file(workdir, capsys):
    (workdir / "mnist.gz").write_text("")
    one_error_line(capsys, ["test", "--data-dir", "mnist.gz"], "--data-dir mnist.gz is a file, not a directory")


def test_lenet_mnist_stops_at_once_with_one_line_without_data_or_network(workdir, capsys, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", ["http://127.0.0.1:9/"])
    one_error_line(capsys, ["mnist", "--data-dir", "empty"], "could not be downloaded")
    assert cli.main(["mnist"]) == 0
    assert "60,000 training and 10,000 test images" in capsys.readouterr().out


# --- the Makefile, the README and .gitignore ---------------------------------------------------------

def make_n(target: str) -> list[str]:
    """The commands `make -n target` would run in a checkout with no .venv yet."""
    r = subprocess.run(["make", "-n", "-C", str(ROOT), target, "VENV=/nonexistent/venv"], capture_output=True,
                       text=True, check=True)
    return r.stdout.splitlines()


def test_make_demo_installs_light_and_prints_the_float_evaluation_once():
    lines = make_n("demo")
    installs = [s for s in lines if "pip install" in s and "--upgrade pip" not in s]
    assert installs and all("[dev]" not in s and "hls4ml" not in s for s in installs)
    lenet_runs = [s.split("/venv/bin/lenet ", 1)[1] for s in lines if "/venv/bin/lenet " in s]
    float_evaluations = [s for s in lenet_runs if s.startswith("train") or (s.startswith("test") and "--int" not in s)]
    assert len(float_evaluations) == 1 and any(s.startswith("test") and "--int" in s for s in lenet_runs)


def test_make_test_checks_mnist_before_the_suite():
    lines = make_n("test")
    checks = [i for i, s in enumerate(lines) if s.endswith(" mnist --log-dir build/logs")]
    suite = [i for i, s in enumerate(lines) if "pytest" in s]
    assert checks and suite and checks[0] < suite[0]
    assert any("[dev]" in s for s in lines)


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```\n(.*?)```", text, re.S)
    return [line.split("#")[0].strip() for b in blocks for line in b.splitlines()
            if line.strip().startswith("lenet ")]


def test_the_readme_says_how_to_run_lenet_and_what_is_reproducible():
    text = (ROOT / "README.md").read_text()
    assert "source .venv/bin/activate" in text and ".venv/bin/lenet" in text
    assert "same machine" in text and "`--threads`" in text and "about a minute" not in text


OUTPUT_OPTIONS = ("--out", "-o", "--dump-dir", "--plot", "--save-predictions", "--log-dir")


def test_what_the_readme_examples_and_the_defaults_write_is_ignored_by_git(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout")
    written = []
    for cmd in readme_commands():
        words = cmd.split()
        written += [words[i + 1] for i, w in enumerate(words[:-1])
                    if w in OUTPUT_OPTIONS and not words[i + 1].startswith("/")]  # absolute: not in the checkout
    assert written, "the README's examples name no output"
    defaults = ["weights/lenet.json", "weights/lenet_last.state.npz", "weights/lenet_int8.bin", "logs/x.log",
                str(report.PREDICTIONS_FILE), "results/lenet_training.png", "build/intermediate/manifest.json",
                "build/vectors/vectors.json", "data/mnist/t10k-images-idx3-ubyte.gz"]
    for path in written + defaults:
        probe = path.rstrip("/") + "/x" if "." not in Path(path).name else path
        r = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", "--no-index", probe], check=False)
        assert r.returncode == 0, f"{path} is not ignored by git"


def test_trainer_defaults_match_the_readme_recipe():
    c = trainer.Config()
    text = (ROOT / "README.md").read_text()
    assert f"{c.epochs} epochs, SGD momentum {c.momentum}, lr {c.lr} cosine, weight decay 5e-4, batch {c.batch_size}" \
        in text


# --- long steps say what they are doing ---------------------------------------------------------------

def test_a_long_step_prints_its_start_and_its_time_on_stderr(capsys):
    with progress.step("counting"):
        print("result")
    captured = capsys.readouterr()
    assert captured.out == "result\n"
    assert re.fullmatch(r"counting \.\.\.\ncounting: done in \d+\.\d s\n", captured.err)


def test_csim_full_reports_progress_while_it_runs(capsys):
    if shutil.which("g++") is None:
        pytest.skip("needs g++ (the C-sim)")
    assert cli.main(["csim", "full", "--count", "20", "--blob", str(blob.shipped_path())]) == 0
    captured = capsys.readouterr()
    assert "C-sim on 20 images ...\n" in captured.err and "C-sim on 20 images: done in" in captured.err
    assert "logits differ: 0 images" in captured.out
