"""`make hls` as a user runs it: a fresh clone, plain `make hls`, the Makefile's own relative defaults.

Vitis HLS is not installed here, so `vitis_hls` is tests/stand_ins/vitis_hls:
it answers `-version` as 2024.1, runs run_hls.tcl under tclsh, records every
Vitis command with its arguments, and refuses commands and options that
UG1399's command reference does not list. What this proves is the flow
around Vitis (targets, paths, the order and options of the steps, where the
IP and reports land), not synthesis: see docs/hls.md.

The clone is `git clone` of this checkout plus its uncommitted changes to
tracked files (`git diff HEAD`), so the test checks the code as edited. It
reuses this checkout's venv through a `.venv` symlink, as building one takes
minutes: the clone's setup.py is dated before the venv's stamp so make takes
the venv as up to date (its `lenet` command then imports this checkout's
lenet_pynq, which the clone's sources equal).
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from lenet_pynq import contract as C
from lenet_pynq import mnist

ROOT = Path(__file__).resolve().parent.parent
STAND_INS = ROOT / "tests" / "stand_ins"
VENV = ROOT / ".venv"


def _path_without_vitis_hls() -> str:
    keep = [d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "vitis_hls").exists()]
    return os.pathsep.join(keep)


def _fresh_clone(tmp_path: Path) -> Path:
    clone = tmp_path / "lenet-pynq"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, capture_output=True)
    diff = subprocess.run(["git", "diff", "HEAD", "--binary"], cwd=ROOT, check=True, capture_output=True).stdout
    if diff:
        subprocess.run(["git", "apply", "--whitespace=nowarn"], cwd=clone, input=diff, check=True, capture_output=True)
    stamp = VENV / ".installed"
    if not stamp.is_file():
        pytest.fail(f"{VENV}: no installed venv to reuse; run `make setup` in {ROOT} first")
    (clone / ".venv").symlink_to(VENV)
    before = stamp.stat().st_mtime - 60
    os.utime(clone / "setup.py", (before, before))
    return clone


def _env(tmp_path: Path, **extra: str) -> dict:
    env = dict(os.environ)
    for name in ("LENET_HLS_BUILD", "LENET_HLS_IP_REPO", "LENET_HLS_REPORTS", "LENET_HLS_STEPS", "MAKEFLAGS"):
        env.pop(name, None)  # the Makefile's and make_hls.sh's own defaults, nothing inherited
    env.update(PATH=f"{STAND_INS}{os.pathsep}{_path_without_vitis_hls()}",
               VITIS_HLS_STAND_IN_CALLS=str(tmp_path / "calls.jsonl"),
               LENET_MNIST_DIR=str(mnist.default_data_dir().resolve()), **extra)
    return env


def _calls(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


# The options make_hls.sh and run_hls.tcl use that take a value (UG1399); the others are flags.
VALUED = {"f", "l", "cflags", "flow_target", "period", "name", "argv", "rtl", "format", "vendor", "library",
          "ipname", "version", "display_name", "output"}


def _options(args: list[str]) -> dict:
    """The options of one recorded call: {name: value} and {flag: True}."""
    opts, i = {}, 0
    while i < len(args):
        name = args[i][1:] if args[i].startswith("-") else None
        if name in VALUED:
            opts[name] = args[i + 1]
            i += 2
            continue
        if name:
            opts[name] = True
        i += 1
    return opts


def test_make_hls_in_a_fresh_clone_reaches_every_step_with_absolute_existing_paths(tmp_path):
    clone = _fresh_clone(tmp_path)
    assert not (clone / "build").exists()  # nothing exported yet: make hls must do it
    result = subprocess.run(["make", "hls"], cwd=clone, env=_env(tmp_path), check=False, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "warning" not in result.stderr  # the stand-in reports 2024.1

    calls = _calls(tmp_path)
    assert [c["cmd"] for c in calls] == ["vitis_hls", "open_project", "set_top", "add_files", "add_files",
                                         "open_solution", "set_part", "create_clock", "csim_design",
                                         "csynth_design", "cosim_design", "export_design", "exit"]
    by_cmd = {c["cmd"]: c for c in calls}
    build = (clone / "build" / "hls").resolve()
    assert {c["cwd"] for c in calls} == {str(build)}

    # Every path Vitis is given: the script and its log, the sources, the include folders, the testbench
    # argument, the IP archive.
    vectors = (clone / "build" / "vectors").resolve()
    command_line = _options(by_cmd["vitis_hls"]["args"])
    assert command_line.keys() == {"f", "l"}
    paths = [command_line["f"], command_line["l"]]
    for c in calls:
        opts = _options(c["args"])
        if c["cmd"] == "add_files":
            paths += [a for a in c["args"] if not a.startswith("-") and a != opts.get("cflags")]
            paths += [flag[2:] for flag in opts["cflags"].split() if flag.startswith("-I")]
        if "argv" in opts:
            paths += opts["argv"].split()
        if "output" in opts:
            paths.append(opts["output"])
    assert str(vectors) in paths and str(build / "lenet_hls_ip.zip") in paths
    assert command_line["f"] == str(clone.resolve() / "hls_src" / "run_hls.tcl")
    for p in paths:
        assert Path(p).is_absolute(), f"Vitis was handed a relative path {p!r}"
        assert Path(p).exists(), f"Vitis was handed {p!r}, which does not exist"
    assert (vectors / "vectors.json").is_file()

    # The options README.md and docs/hls.md promise, with the contract's part, clock, top and VLNV.
    assert by_cmd["open_project"]["args"] == ["-reset", "lenet_prj"]
    assert by_cmd["set_top"]["args"] == [C.TOP_NAME]
    assert _options(by_cmd["open_solution"]["args"])["flow_target"] == "vivado"
    assert by_cmd["set_part"]["args"] == [C.PART]
    assert float(_options(by_cmd["create_clock"]["args"])["period"]) == pytest.approx(1000 / C.CLOCK_MHZ)
    assert by_cmd["csim_design"]["args"] == ["-argv", str(vectors)]
    assert by_cmd["csynth_design"]["args"] == []
    assert _options(by_cmd["cosim_design"]["args"]) == {"argv": str(vectors), "rtl": "verilog"}
    export = _options(by_cmd["export_design"]["args"])
    vendor, library, name, version = C.VLNV_HLS.split(":")
    assert (export["format"], export["rtl"], export["vendor"], export["library"], export["ipname"],
            export["version"]) == ("ip_catalog", "verilog", vendor, library, name, version)

    # Where make_hls.sh puts the results: the IP repository make bitstream reads, the reports.
    assert "stand-in" in (clone / "build" / "ip" / "hls" / "component.xml").read_text()
    for report in ("lenet_csynth.rpt", "lenet_csynth.xml", "lenet_cosim.rpt"):
        assert (clone / "reports" / "hls" / report).is_file(), report


def test_make_bitstream_ip_hls_runs_the_whole_chain_from_a_fresh_clone(tmp_path):
    """Vectors, Vitis HLS (csim, csynth, cosim, export), Vivado (block design, bitstream), the build record:
    plain `make bitstream IP=hls` with both stand-ins on PATH, up to the copy into overlay/."""
    from lenet_pynq import build_record

    clone = _fresh_clone(tmp_path)
    env = _env(tmp_path)
    env["PATH"] = f"{STAND_INS / 'vivado'}{os.pathsep}{env['PATH']}"
    result = subprocess.run(["make", "bitstream", "IP=hls"], cwd=clone, env=env, check=False, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert [c["cmd"] for c in _calls(tmp_path)][-5:] == ["csim_design", "csynth_design", "cosim_design",
                                                         "export_design", "exit"]
    overlay = clone / "overlay"
    record = build_record.check_pair(overlay / "lenet.bit", overlay / "lenet.hwh")
    assert (record["ip"], record["ip_vlnv"]) == ("hls", C.VLNV_HLS)
    assert f'VLNV="{C.VLNV_HLS}"' in (overlay / "lenet.hwh").read_text()


def test_make_hls_sh_stops_before_vitis_when_the_relative_vectors_folder_is_missing(tmp_path):
    clone = _fresh_clone(tmp_path)
    result = subprocess.run(["hls_src/make_hls.sh", "build/vectors"], cwd=clone, env=_env(tmp_path), check=False,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "build/vectors: no test vectors" in result.stderr and "make export" in result.stderr
    assert not (tmp_path / "calls.jsonl").exists()  # vitis_hls never ran (-version is not a script run)


def test_make_hls_without_vitis_hls_says_what_to_install_before_building_anything(tmp_path):
    clone = _fresh_clone(tmp_path)
    env = dict(_env(tmp_path), PATH=_path_without_vitis_hls())
    result = subprocess.run(["make", "-s", "hls"], cwd=clone, env=env, check=False, capture_output=True, text=True)
    assert result.returncode != 0
    assert "'vitis_hls' is not on PATH" in result.stderr
    assert "Vitis HLS 2024.1" in result.stderr and "settings64.sh" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (clone / "build").exists()  # no vectors exported for a run that cannot happen


def test_make_hls_warns_when_vitis_hls_is_another_release(tmp_path):
    # A 2023.2 on PATH: the flow runs (its IP may still work) but says it is not the release the board needs.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "vitis_hls"
    fake.write_text(f'#!/bin/sh\nif [ "$1" = -version ]; then echo "Vitis HLS - High-Level Synthesis from C, '
                    f'C++ and OpenCL v2023.2 (64-bit)"; exit 0; fi\nexec {STAND_INS / "vitis_hls"} "$@"\n')
    fake.chmod(0o755)
    clone = _fresh_clone(tmp_path)
    env = dict(_env(tmp_path, LENET_HLS_STEPS="csim"), PATH=f"{bin_dir}{os.pathsep}{_path_without_vitis_hls()}")
    result = subprocess.run(["make", "-s", "hls"], cwd=clone, env=env, check=False, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "reports version 'v2023.2', not 2024.1" in result.stderr
    assert [c["cmd"] for c in _calls(tmp_path)][-2:] == ["csim_design", "exit"]


def _run_stand_in(tmp_path: Path, script: str) -> subprocess.CompletedProcess:
    (tmp_path / "s.tcl").write_text(script)
    return subprocess.run([str(STAND_INS / "vitis_hls"), "-f", "s.tcl"], cwd=tmp_path, check=False,
                          capture_output=True, text=True,
                          env=dict(os.environ, VITIS_HLS_STAND_IN_CALLS=str(tmp_path / "calls.jsonl")))


@pytest.mark.parametrize("script, refusal", [
    ("open_project p\nopen_solution s\ncsim_design -args x\n", "unknown option '-args'"),
    ("open_project p\nopen_solution s -flow_target vivadoo\n", "'vivadoo' is not a value of -flow_target"),
    ("open_project p\nadd_files missing.cpp\n", "cannot find the file 'missing.cpp'"),
    ("set_part xc7z020clg400-1\n", "no open project"),
    ("open_project p\nopen_solution s\nset_part xc7z020clg400-1\ncosim_design\n", "run csynth_design first"),
    ("open_project p\ncsynth_desgin\n", "invalid command name"),
    ("open_project p\nopen_solution s\nexport_design -format\n", "option '-format' needs a value"),
])
def test_the_stand_in_refuses_what_vitis_hls_would(tmp_path, script, refusal):
    result = _run_stand_in(tmp_path, script)
    assert result.returncode == 1, result.stdout
    assert refusal in result.stderr
    assert refusal in (tmp_path / "vitis_hls.log").read_text()


def test_the_stand_in_answers_version_like_2024_1():
    out = subprocess.run([str(STAND_INS / "vitis_hls"), "-version"], check=True, capture_output=True, text=True).stdout
    assert "Vitis HLS - High-Level Synthesis from C, C++ and OpenCL v2024.1 (64-bit)" in out
