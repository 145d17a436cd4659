"""`lenet train | test | infer`, the float checkpoint format and the shared evaluation.

The end-to-end test trains briefly on a subset (the suite stays quick); the
full 5-epoch run that must reach 99.0% is `make train` followed by
`lenet test`.
"""

import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from lenet_pynq import cli, contract, dumps, mnist
from lenet_pynq.errors import LenetError
from lenet_pynq.train import checkpoint, evaluate, optim, trainer
from lenet_pynq.train.model import LeNet5, preprocess


@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    """Run in a fresh directory: logs/, results/ and weights/ land there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture()
def saved(workdir):
    """An untrained but valid checkpoint in weights/lenet.*."""
    net = LeNet5(seed=3)
    checkpoint.save(net.params, "weights", "lenet")
    return net


def lenet(*args: str, cwd) -> subprocess.CompletedProcess:
    """The real command line, in a new process."""
    return subprocess.run([sys.executable, "-m", "lenet_pynq", *args], check=False, cwd=cwd, capture_output=True,
                          text=True, timeout=600,
                          env={**os.environ, mnist.ENV_VAR: str(mnist.default_data_dir().resolve())})


def one_line_error(capsys, argv: list[str], match: str) -> str:
    """Run `lenet argv` in-process; it must fail with exit 1 and a single `error:` line."""
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0], err
    assert match in err[0], err[0]
    return err[0]


# --- end to end ----------------------------------------------------------------

def test_test_in_a_new_process_reproduces_the_predictions_at_the_end_of_training(tmp_path):
    train = lenet("train", "--epochs", "1", "--train-limit", "3000", "--save-predictions", cwd=tmp_path)
    assert train.returncode == 0, train.stderr
    assert "Epoch 1/1 - loss:" in train.stderr and "Per-class accuracy:" in train.stdout
    at_training = (tmp_path / "results" / "test_predictions.txt").read_text()
    (tmp_path / "results" / "test_predictions.txt").unlink()

    test = lenet("test", "--save-predictions", "--json", cwd=tmp_path)
    assert test.returncode == 0, test.stderr
    assert (tmp_path / "results" / "test_predictions.txt").read_text() == at_training
    metrics = json.loads(test.stdout)
    assert metrics["total"] == 10000 and sum(c["total"] for c in metrics["per_class"]) == 10000
    assert metrics["accuracy"] > 0.7  # 3,000 images, one epoch: learning, not yet accurate
    assert f"Accuracy: {metrics['accuracy']:.4f}" in train.stdout
    assert set(metrics["confidence"]) == {"mean", "min", "max"}
    assert len(at_training.splitlines()) == 1 + 10000
    assert list((tmp_path / "logs").glob("train_*.log")) and list((tmp_path / "logs").glob("test_*.log"))

    manifest = json.loads((tmp_path / "weights" / "lenet.json").read_text())
    assert manifest["meta"]["test_accuracy"] == metrics["accuracy"]


def test_infer_prints_every_layer_and_dumps_them_for_compare(saved, workdir, capsys):
    assert cli.main(["infer", "--test-sample", "3", "--save-intermediate", "--dump-dir", "dump"]) == 0
    out = capsys.readouterr().out  # the result, on stdout
    for name, shape in contract.ACTIVATIONS:
        assert f"{name}: shape {(1, *shape)}" in out
    assert "True class: 0" in out
    layers, _, source = dumps.read(workdir / "dump")
    images, _ = mnist.load("test")
    trace = {}
    logits = saved.forward(preprocess(images[3:4]), trace)
    for name, _ in contract.ACTIVATIONS:
        assert layers[name].dtype == np.float32 and np.array_equal(layers[name], trace[name]), name
    assert layers["class"].tolist() == [int(logits.argmax())] and "test sample 3" in source
    manifest = json.loads((workdir / "dump" / dumps.MANIFEST).read_text())
    assert all("stats" in e for e in manifest["layers"])


# --- training ------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_data():
    images, labels = mnist.load("train")
    test_images, test_labels = mnist.load("test")
    return images[:512], labels[:512], test_images[:300], test_labels[:300]


def run_fit(data, **config):
    net = LeNet5(seed=config.get("seed", 0))
    results = list(trainer.fit(net, *data, trainer.Config(**config), progress=False))
    return net, results


def test_training_is_seeded_and_reproducible(small_data):
    a, ra = run_fit(small_data, epochs=2, batch_size=32)
    b, _ = run_fit(small_data, epochs=2, batch_size=32)
    c, _ = run_fit(small_data, epochs=2, batch_size=32, seed=1)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not np.array_equal(a.params["fc3.w"], c.params["fc3.w"])
    assert [r.epoch for r, *_ in ra] == [1, 2] and ra[1][0].loss < ra[0][0].loss
    assert all(p.dtype == np.float32 for p in a.params.values())


def test_adam_trains_too(small_data):
    _, results = run_fit(small_data, epochs=2, batch_size=32, optimizer="adam", lr=1e-3)
    assert results[1][0].loss < results[0][0].loss and results[1][0].test_accuracy > 0.5


def test_sgd_step_follows_momentum_and_weight_decay_formulas():
    w = np.array([1.0, -2.0])
    opt = optim.SGD({"w": w}, momentum=0.5, weight_decay=0.1)
    opt.step({"w": np.array([1.0, 1.0])}, lr=0.1)  # v = g + wd*w = [1.1, 0.8]
    assert w == pytest.approx([1 - 0.11, -2 - 0.08])
    opt.step({"w": np.zeros(2)}, lr=0.1)  # v = 0.5*v + wd*w
    v = 0.5 * np.array([1.1, 0.8]) + 0.1 * np.array([0.89, -2.08])
    assert w == pytest.approx(np.array([0.89, -2.08]) - 0.1 * v)


def test_cosine_schedule_runs_from_the_base_rate_to_zero():
    assert optim.cosine_lr(0.05, 0, 100) == 0.05
    assert optim.cosine_lr(0.05, 50, 100) == pytest.approx(0.025)
    assert optim.cosine_lr(0.05, 100, 100) == pytest.approx(0.0)


# --- evaluation ----------------------------------------------------------------

def test_evaluation_counts_every_image_once_whatever_the_batch():
    images, labels = mnist.load("test")
    images, labels = images[:1000], labels[:1000]
    fn = evaluate.float_logits(LeNet5(seed=0).params)
    reports = [evaluate.evaluate(fn, images, labels, b) for b in (64, 7, 1000)]
    assert all(r.total == 1000 and sum(n for _, n in r.per_class()) == 1000 for r in reports)
    assert all(np.array_equal(r.predictions, reports[0].predictions) for r in reports)
    assert np.allclose(reports[1].confidences, reports[0].confidences, rtol=1e-6)


def test_report_ties_go_to_the_lowest_class():
    report = evaluate.evaluate(lambda x: np.zeros((len(x), 10)), np.zeros((3, 28, 28)), np.array([0, 1, 2]))
    assert report.predictions.tolist() == [0, 0, 0] and report.correct == 1
    assert report.confidence_stats()["max"] == pytest.approx(0.1)


# --- the float checkpoint ------------------------------------------------------

def test_checkpoint_round_trips_exactly(tmp_path):
    params = LeNet5(seed=5).params
    path = checkpoint.save(params, tmp_path, "m", meta={"note": "x"})
    manifest = json.loads(path.read_text())
    assert [e["name"] for e in manifest["layers"]] == [s.name for s in contract.SECTIONS]
    assert manifest["layers"][1] == {"name": "conv1.b", "shape": [6], "dtype": "float32", "offset": 600, "size": 24}
    assert (tmp_path / "m.bin").stat().st_size == manifest["total_size"] == 4 * 61706
    loaded = checkpoint.load(tmp_path, "m")
    assert all(np.array_equal(loaded[k], params[k]) and loaded[k].dtype == np.float32 for k in params)
    assert np.array_equal(np.fromfile(tmp_path / "m.bin", "<f4", count=150), params["conv1.w"].ravel())


def damage_manifest(tmp_path, edit):
    checkpoint.save(LeNet5().params, tmp_path, "m")
    path = tmp_path / "m.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("edit, match", [
    (lambda m: m["layers"].pop(), "expected exactly"),
    (lambda m: m["layers"][0].update(shape=[6, 1, 25]), "layer conv1.w is"),
    (lambda m: m["layers"][2].update(dtype="float64"), "layer conv2.w is"),
    (lambda m: m["layers"][3].update(offset=0), "layer conv2.b is"),
    (lambda m: m.update(format="other"), "format 'other'"),
])
def test_checkpoint_load_is_strict(tmp_path, edit, match):
    damage_manifest(tmp_path, edit)
    with pytest.raises(LenetError, match=match):
        checkpoint.load(tmp_path, "m")


def test_checkpoint_with_corrupted_data_is_refused(tmp_path):
    checkpoint.save(LeNet5().params, tmp_path, "m")
    data = bytearray((tmp_path / "m.bin").read_bytes())
    data[100] ^= 1
    (tmp_path / "m.bin").write_bytes(bytes(data))
    with pytest.raises(LenetError, match="SHA-256 differs"):
        checkpoint.load(tmp_path, "m")


# --- bad input: one line, exit 1, no traceback ----------------------------------

def test_missing_checkpoint(workdir, capsys):
    one_line_error(capsys, ["test", "--weights-dir", "nowhere"], "no such checkpoint manifest")
    one_line_error(capsys, ["infer", "--model-name", "absent"], "lenet train")


def test_truncated_checkpoint(saved, workdir, capsys):
    data = (workdir / "weights" / "lenet.bin").read_bytes()
    (workdir / "weights" / "lenet.bin").write_bytes(data[:-8])
    one_line_error(capsys, ["test"], "truncated")
    (workdir / "weights" / "lenet.bin").unlink()
    one_line_error(capsys, ["test"], "cannot read the checkpoint data")


def test_manifest_that_is_not_json(saved, workdir, capsys):
    (workdir / "weights" / "lenet.json").write_text("{half")
    one_line_error(capsys, ["infer"], "not a readable JSON manifest")


@pytest.mark.parametrize("index", ["10000", "-1"])
def test_test_sample_out_of_range(saved, workdir, capsys, index):
    one_line_error(capsys, ["infer", "--test-sample", index], "use 0 to 9999")


def test_missing_data_without_network(workdir, capsys, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", ["http://127.0.0.1:9/"])
    one_line_error(capsys, ["train", "--data-dir", "empty"], "could not be downloaded")


def test_corrupted_data(saved, workdir, capsys):
    bad = workdir / "bad"
    bad.mkdir()
    for name in mnist.FILES["test"]:
        (bad / name).write_bytes(idx_bytes(mnist.load_file(mnist.default_data_dir(), name)))
    path = bad / mnist.FILES["test"][0]
    data = bytearray(path.read_bytes())
    data[5000] ^= 0x80
    path.write_bytes(bytes(data))
    one_line_error(capsys, ["test", "--data-dir", str(bad)], "SHA-256")
    path.write_bytes(bytes(data[:-1]))
    one_line_error(capsys, ["test", "--data-dir", str(bad)], "truncated")


def idx_bytes(a: np.ndarray) -> bytes:
    return struct.pack(">HBB", 0, 8, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


def test_train_limit_beyond_the_data(workdir, capsys):
    one_line_error(capsys, ["train", "--train-limit", "70000"], "has only 60000")
