"""The shipped weights: train/pretrained (float) and overlay/lenet_int8 (the blob the board loads).

They are what `make train quantize` produced with the defaults; these tests
prove the blob is exactly the quantization of the checkpoint, and that both
meet the accuracy the project promises on the full 10k test set.
"""

from pathlib import Path

import numpy as np
import pytest

from lenet_pynq import blob, golden, mnist
from lenet_pynq.train import checkpoint, evaluate, quantize

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINT = (ROOT / "train" / "pretrained", "lenet")
BLOB = ROOT / "overlay" / "lenet_int8.bin"


@pytest.fixture(scope="module")
def test_set():
    return mnist.load("test")


def test_blob_is_the_quantized_checkpoint():
    params = checkpoint.load(*CHECKPOINT)
    train_images, _ = mnist.load("train")
    q, _ = quantize.quantize(params, train_images[:1000])
    assert blob.encode(q) == BLOB.read_bytes(), \
        "re-run: lenet quantize --weights-dir train/pretrained -o overlay/lenet_int8.bin"


def test_float_and_integer_accuracy_on_all_10k(test_set):
    images, labels = test_set
    float_acc = evaluate.evaluate(evaluate.float_logits(checkpoint.load(*CHECKPOINT)), images, labels,
                                  batch_size=1000).accuracy
    int_classes = golden.classify(golden.run(blob.load(BLOB), images))
    int_acc = float(np.mean(int_classes == labels))
    assert len(labels) == 10_000
    assert float_acc >= 0.990
    assert int_acc >= 0.990
    assert abs(float_acc - int_acc) <= 0.0005, f"float {float_acc:.4f} vs integer {int_acc:.4f}"
