"""The `lenet` command: one subcommand per step of the flow.

Each subcommand lives in the module that does the work and exposes
``add_arguments(parser)`` and ``run(args) -> int``. Only the chosen module is
imported, so `lenet --help` is instant and a broken optional dependency of one
step (pynq, say) never stops the others.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__, runlog
from .errors import LenetError

COMMANDS = {
    "mnist": ("lenet_pynq.mnist", "check the MNIST files, downloading any that are missing"),
    "train": ("lenet_pynq.train.trainer", "train the float LeNet-5 on MNIST"),
    "test": ("lenet_pynq.train.evaluate", "evaluate a checkpoint (float or --int) on the test set"),
    "infer": ("lenet_pynq.train.infer", "classify single test images, optionally dumping every layer"),
    "quantize": ("lenet_pynq.train.quantize", "int8 post-training quantization: write the weights blob"),
    "export": ("lenet_pynq.export", "write hardware test vectors (stream words, per-layer dumps)"),
    "compare": ("lenet_pynq.compare", "name the first layer and element where two dumps differ"),
    "bench": ("lenet_pynq.host.bench", "accuracy and throughput of a backend (board, model, RTL, C-sim, NumPy)"),
    "selftest": ("lenet_pynq.host.selftest", "bring-up checks of the board (or the model device / RTL): PASS/FAIL"),
    "bench-train": ("lenet_pynq.train.bench_train", "training images/s of the float model at 1 and 2 threads"),
    "bench-golden": ("lenet_pynq.bench_golden", "images/s of the golden integer model"),
    "csim": ("lenet_pynq.sim.csim", "the HLS C++ IP under g++: testbench, all test images, per-layer dump"),
    "rtl": ("lenet_pynq.sim.rtl_tools", "the Verilog IP: sources, cycle bench, Yosys estimate, dump, all test images"),
    "timing": ("lenet_pynq.sim.timing", "worst register-to-register paths of rtl/ (Yosys xc7, pessimistic model)"),
    "notebook": ("lenet_pynq.sim.notebook", "execute a notebook headless in this Python (the device model's board)"),
    "plot": ("lenet_pynq.train.plot", "draw a checkpoint's training curves (loss and accuracy per epoch)"),
}


def _parser(command: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lenet", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"lenet-pynq {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            importlib.import_module(module).add_arguments(p)
            p.add_argument("--log-dir", default=None,
                           help=f"where the command's log goes (default ${runlog.ENV_VAR}, else {runlog.DEFAULT_DIR})")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in COMMANDS:
        command = None
    args = _parser(command).parse_args(argv)
    if args.command is None:
        _parser(None).print_help()
        return 2
    runlog.configure(args.log_dir)
    try:
        return importlib.import_module(COMMANDS[args.command][0]).run(args) or 0
    # An unwritable output path or a full disk (OSError): the OS says what and where.
    except (LenetError, OSError) as e:
        return _fail(f"error: {e}", 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    finally:
        runlog.close()


def _fail(message: str, status: int) -> int:
    print(message, file=sys.stderr)
    runlog.log_error(message)
    return status


if __name__ == "__main__":
    sys.exit(main())
