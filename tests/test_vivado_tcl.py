"""The Vivado flow of vivado_tcl/, run under tclsh against tests/vivado_stub.tcl.

There is no Vivado here, so these tests run the real scripts against a stub
of the Vivado commands they use and check what the scripts ask for: the IP
configurations, every connection of the block design, the address map, the
build steps and their order (timing is checked before the bitstream is
written), and where the .bit and .hwh end up. The mutation test removes each
of those from a copy of the Tcl and shows that the checks catch it.

What this does not prove: that Vivado 2024.1 accepts every property name
and value, that the PYNQ-Z2 preset and the IPs behave as the stub models
them, that the design meets timing. Only a run of `make bitstream` with the
real tools shows that.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lenet_pynq import contract

ROOT = Path(__file__).resolve().parent.parent
VIVADO_TCL = ROOT / "vivado_tcl"
STUB = Path(__file__).resolve().parent / "vivado_stub.tcl"
TCLSH = shutil.which("tclsh") or "tclsh"  # Debian package tcl; part of this machine

# The PYNQ-Z2 carries 512 MiB of DDR3; the DMA must see all of it through HP0.
PYNQ_Z2_DDR_BYTES = 512 << 20
GP0_WINDOW = (0x4000_0000, 0x8000_0000)
PS = "processing_system7_0"
IP = contract.BD_IP_NAME
DMA = contract.BD_DMA_NAME
INTERCONNECTS = ("xilinx.com:ip:smartconnect:", "xilinx.com:ip:axi_interconnect:")

# --- running the scripts under the stub ------------------------------------------


def write_contract_tcl(path: Path) -> Path:
    subprocess.run(
        ["python3", str(VIVADO_TCL / "write_contract_tcl.py"), str(path)], check=True, cwd=ROOT
    )
    return path


def fake_hls_repo(path: Path) -> Path:
    """An IP repository as `make hls` leaves it, as far as the catalog cares."""
    vendor, library, name, version = contract.VLNV_HLS.split(":")
    path.mkdir(parents=True)
    (path / "component.xml").write_text(
        f"<spirit:component><spirit:vendor>{vendor}</spirit:vendor>"
        f"<spirit:library>{library}</spirit:library><spirit:name>{name}</spirit:name>"
        f"<spirit:version>{version}</spirit:version></spirit:component>\n"
    )
    return path


def fake_rtl_dir(path: Path) -> Path:
    """A top module with the ports of docs/contract.md section 3 (no body)."""
    path.mkdir(parents=True)
    ports = ["ap_clk", "ap_rst_n", "interrupt"]
    ports += [f"in_r_T{s}" for s in ("DATA", "VALID", "READY", "LAST", "KEEP", "STRB")]
    ports += [f"out_r_T{s}" for s in ("DATA", "VALID", "READY", "LAST", "KEEP", "STRB")]
    ports += [f"s_axi_control_{s}" for s in (
        "AWADDR", "AWVALID", "AWREADY", "WDATA", "WSTRB", "WVALID", "WREADY", "BRESP",
        "BVALID", "BREADY", "ARADDR", "ARVALID", "ARREADY", "RDATA", "RRESP", "RVALID", "RREADY")]
    (path / f"{contract.TOP_NAME}.v").write_text(
        f"`default_nettype none\nmodule {contract.TOP_NAME} (\n    "
        + ",\n    ".join(ports) + "\n);\nendmodule\n"
    )
    shutil.copy(ROOT / "rtl" / "lenet_contract.vh", path / "lenet_contract.vh")
    return path


class Run:
    """One tclsh run of a vivado_tcl script: its exit, output and the stub's model."""

    def __init__(self, proc: subprocess.CompletedProcess, model: dict):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.model = model
        self.calls = model["calls"]

    def index(self, cmd: str, *words: str) -> int:
        """Position of the first call of cmd whose arguments include all words."""
        for i, call in enumerate(self.calls):
            if call["cmd"] == cmd and all(w in call["args"] for w in words):
                return i
        raise AssertionError(f"the script never calls {cmd} {' '.join(words)}")

    def called(self, cmd: str, *words: str) -> bool:
        try:
            self.index(cmd, *words)
        except AssertionError:
            return False
        return True


def run_stub(tmp: Path, script: Path, args: list[str], env: dict | None = None) -> Run:
    model_path = tmp / f"{script.stem}.model.json"
    proc = subprocess.run(
        [TCLSH, str(STUB), str(model_path), str(script), *args],
        cwd=tmp, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, **(env or {})},
    )
    return Run(proc, json.loads(model_path.read_text()))


def package_rtl(tmp: Path, tcl_dir: Path = VIVADO_TCL, env: dict | None = None) -> Run:
    contract_tcl = tmp / "lenet_contract.tcl"
    if not contract_tcl.exists():
        write_contract_tcl(contract_tcl)
    rtl = tmp / "rtl" if (tmp / "rtl").exists() else fake_rtl_dir(tmp / "rtl")
    return run_stub(tmp, tcl_dir / "package_rtl_ip.tcl", [
        "-contract", str(contract_tcl), "-rtl_dir", str(rtl),
        "-build_dir", str(tmp / "pkg_project"), "-ip_dir", str(tmp / "ip" / "rtl"),
    ], env)


def build_overlay(tmp: Path, ip: str = "hls", tcl_dir: Path = VIVADO_TCL,
                  env: dict | None = None, ip_repo: Path | None = None) -> Run:
    contract_tcl = tmp / "lenet_contract.tcl"
    if not contract_tcl.exists():
        write_contract_tcl(contract_tcl)
    if ip_repo is None:
        ip_repo = tmp / "ip" / ip
        if ip == "hls" and not ip_repo.exists():
            fake_hls_repo(ip_repo)
    return run_stub(tmp, tcl_dir / "build_bitstream.tcl", [
        "-contract", str(contract_tcl), "-ip", ip, "-ip_repo", str(ip_repo),
        "-build_dir", str(tmp / "project"), "-reports_dir", str(tmp / "reports" / "vivado"),
        "-overlay", str(tmp / "overlay" / "lenet"), "-jobs", "2",
    ], env)


# --- what the block design must be ------------------------------------------------


def config_of(model: dict, cell: str) -> dict:
    assert cell in model["cells"], f"the block design has no cell {cell}"
    return model["cells"][cell]["config"]


def check_config(model: dict, cell: str, key: str, want) -> None:
    got = config_of(model, cell).get(f"CONFIG.{key}")
    ok = got is not None and (float(got) == float(want) if isinstance(want, (int, float)) else got == want)
    assert ok, f"{cell} CONFIG.{key} is {got!r}, want {want!r}"


def net_with(model: dict, pin: str) -> set:
    for net in model["nets"]:
        if f"/{pin}" in net:
            return set(net)
    return set()


def check_net(model: dict, source: str, loads: list[str], what: str) -> None:
    net = net_with(model, source)
    missing = [p for p in loads if f"/{p}" not in net]
    assert not missing, f"{what}: {source} does not reach {missing}"


def interconnect_cells(model: dict) -> dict:
    return {name: c for name, c in model["cells"].items() if c["vlnv"].startswith(INTERCONNECTS)}


def reaches(model: dict, start: str, goal: str) -> bool:
    """Whether an AXI master pin reaches a slave pin through interface nets
    and the crossbars of interconnect cells (any Sxx_AXI to any Mxx_AXI)."""
    edges: dict[str, set] = {}
    for a, b in model["intf_nets"]:
        edges.setdefault(a, set()).add(b)
        edges.setdefault(b, set()).add(a)
    crossbars = interconnect_cells(model)
    seen, todo = set(), [f"/{start}"]
    while todo:
        pin = todo.pop()
        if pin in seen:
            continue
        seen.add(pin)
        if pin == f"/{goal}":
            return True
        todo += edges.get(pin, ())
        cell, port = pin.strip("/").split("/", 1)
        if cell in crossbars and re.fullmatch(r"S\d\d_AXI", port):
            todo += [p for n in model["intf_nets"] for p in n
                     if p.startswith(f"/{cell}/M") and p.endswith("_AXI")]
    return False


def check_configuration(model: dict) -> None:
    ps = model["cells"].get(PS, {})
    assert ps.get("vlnv") == "xilinx.com:ip:processing_system7:5.5", f"PS7 cell: {ps}"
    auto = [a for a in model["automation"] if f"/{PS}" in a["objects"]]
    assert auto and auto[0]["rule"] == "xilinx.com:bd_rule:processing_system7", "PS7 automation missing"
    assert auto[0]["config"].get("apply_board_preset") == "1", "PS7 board preset (apply_board_preset) not applied"
    external = {p.strip() for p in auto[0]["config"].get("make_external", "").split(",")}
    assert {"FIXED_IO", "DDR"} <= external, f"PS7 DDR and FIXED_IO not made external: {external}"
    check_config(model, PS, "PCW_FPGA0_PERIPHERAL_FREQMHZ", contract.CLOCK_MHZ)
    check_config(model, PS, "PCW_USE_S_AXI_HP0", "1")
    check_config(model, PS, "PCW_USE_M_AXI_GP0", "1")
    check_config(model, PS, "PCW_USE_FABRIC_INTERRUPT", "1")
    check_config(model, PS, "PCW_IRQ_F2P_INTR", "1")

    assert model["cells"].get(DMA, {}).get("vlnv") == "xilinx.com:ip:axi_dma:7.1", "AXI DMA 7.1 cell"
    check_config(model, DMA, "c_include_sg", "0")
    check_config(model, DMA, "c_micro_dma", "0")
    check_config(model, DMA, "c_sg_length_width", "26")
    check_config(model, DMA, "c_m_axis_mm2s_tdata_width", "32")
    check_config(model, DMA, "c_s_axis_s2mm_tdata_width", "32")


def check_connections(model: dict) -> None:
    # Streams, DMA data into DDR, register access from the PS.
    for a, b in ((f"{DMA}/M_AXIS_MM2S", f"{IP}/in_r"), (f"{IP}/out_r", f"{DMA}/S_AXIS_S2MM")):
        assert [f"/{a}", f"/{b}"] in model["intf_nets"], f"stream {a} -> {b} is not connected"
    for master, slave in (
        (f"{DMA}/M_AXI_MM2S", f"{PS}/S_AXI_HP0"),
        (f"{DMA}/M_AXI_S2MM", f"{PS}/S_AXI_HP0"),
        (f"{PS}/M_AXI_GP0", f"{DMA}/S_AXI_LITE"),
        (f"{PS}/M_AXI_GP0", f"{IP}/s_axi_control"),
    ):
        assert reaches(model, master, slave), f"AXI {master} does not reach {slave}"

    clock_loads = [
        f"{PS}/M_AXI_GP0_ACLK", f"{PS}/S_AXI_HP0_ACLK", "proc_sys_reset_0/slowest_sync_clk",
        f"{DMA}/s_axi_lite_aclk", f"{DMA}/m_axi_mm2s_aclk", f"{DMA}/m_axi_s2mm_aclk", f"{IP}/ap_clk",
    ]
    reset_loads = [f"{DMA}/axi_resetn", f"{IP}/ap_rst_n"]
    for name, cell in interconnect_cells(model).items():
        if cell["vlnv"].startswith("xilinx.com:ip:smartconnect:"):
            clock_loads.append(f"{name}/aclk")
            reset_loads.append(f"{name}/aresetn")
            continue
        ports = [f"S{i:02d}" for i in range(int(cell["config"].get("CONFIG.NUM_SI", 1)))]
        ports += [f"M{i:02d}" for i in range(int(cell["config"].get("CONFIG.NUM_MI", 2)))]
        clock_loads += [f"{name}/ACLK"] + [f"{name}/{p}_ACLK" for p in ports]
        reset_loads += [f"{name}/{p}_ARESETN" for p in ports]
        check_net(model, "proc_sys_reset_0/interconnect_aresetn", [f"{name}/ARESETN"], "interconnect reset")
    check_net(model, f"{PS}/FCLK_CLK0", clock_loads, "clock")
    check_net(model, f"{PS}/FCLK_RESET0_N", ["proc_sys_reset_0/ext_reset_in"], "reset")
    check_net(model, "proc_sys_reset_0/peripheral_aresetn", reset_loads, "reset")

    irq = net_with(model, f"{PS}/IRQ_F2P")
    concat = next((p.strip("/").split("/")[0] for p in irq if p.endswith("/dout")), None)
    assert concat, f"IRQ_F2P is not driven by an xlconcat: {sorted(irq)}"
    for source in (f"{IP}/interrupt", f"{DMA}/mm2s_introut", f"{DMA}/s2mm_introut"):
        inputs = [p for p in net_with(model, source) if p.startswith(f"/{concat}/In")]
        assert inputs, f"interrupt {source} does not reach {concat} -> IRQ_F2P"
    check_config(model, concat, "NUM_PORTS", "3")


def address(model: dict, space: str, seg: str) -> dict:
    found = [a for a in model["addresses"] if a["space"] == f"/{space}" and a["seg"] == f"/{seg}"]
    assert len(found) == 1, f"address of {seg} in {space}: {found or 'not assigned'}"
    return found[0]


def check_address_map(model: dict) -> None:
    windows = []
    for seg in (f"{DMA}/S_AXI_LITE/Reg", f"{IP}/s_axi_control/Reg"):
        a = address(model, f"{PS}/Data", seg)
        lo, hi = a["offset"], a["offset"] + a["range"]
        assert GP0_WINDOW[0] <= lo and hi <= GP0_WINDOW[1], f"{seg} at {lo:#x}-{hi:#x} is outside M_AXI_GP0"
        assert a["range"] >= 1 << contract.ADDR_WIDTH, f"{seg} window of {a['range']} bytes is too small"
        windows.append((lo, hi, seg))
    (lo1, hi1, s1), (lo2, hi2, s2) = windows
    assert hi1 <= lo2 or hi2 <= lo1, f"{s1} and {s2} overlap"
    for space in ("Data_MM2S", "Data_S2MM"):
        a = address(model, f"{DMA}/{space}", f"{PS}/S_AXI_HP0/HP0_DDR_LOWOCM")
        assert a["offset"] == 0 and a["range"] >= PYNQ_Z2_DDR_BYTES, (
            f"{DMA}/{space} sees DDR through HP0 at {a['offset']:#x}+{a['range']:#x}, not all 512 MiB"
        )


def check_block_design(run: Run, ip_vlnv: str) -> None:
    assert run.returncode == 0, f"the script failed under the stub: {run.stderr}"
    model = run.model
    assert model["cells"].get(IP, {}).get("vlnv") == ip_vlnv, f"{IP} is not {ip_vlnv}"
    check_configuration(model)
    check_connections(model)
    check_address_map(model)
    assert not model["problems"], f"Vivado would refuse: {model['problems']}"


def check_build_flow(run: Run, tmp: Path) -> None:
    """Project for the board, design validated, runs in order, reports, the
    timing gate before write_bitstream, and the outputs in overlay/."""
    call = run.calls[run.index("create_project")]
    assert contract.PART in call["args"], f"create_project is not for {contract.PART}: {call}"
    assert run.index("get_board_parts", contract.BOARD_PART) < run.index("create_project"), (
        "the board files are not checked (get_board_parts) before the project is created"
    )
    run.index("set_property", "board_part", contract.BOARD_PART)
    last_edit = max(i for i, c in enumerate(run.calls)
                    if c["cmd"] in ("connect_bd_net", "connect_bd_intf_net", "assign_bd_address"))
    assert run.index("validate_bd_design") > last_edit, "validate_bd_design does not follow the last edit"
    assert run.index("make_wrapper") > run.index("validate_bd_design"), "no HDL wrapper after validation"
    order = [run.index("launch_runs", "synth_1"), run.index("wait_on_run", "synth_1"),
             run.index("launch_runs", "impl_1"), run.index("wait_on_run", "impl_1"),
             run.index("open_run", "impl_1")]
    assert order == sorted(order), "synthesis and implementation are not run in order"
    assert run.index("get_property", "PROGRESS", "run:synth_1") < order[2], "synthesis success not checked"
    assert run.index("get_property", "PROGRESS", "run:impl_1") < order[4], "implementation success not checked"

    reports = tmp / "reports" / "vivado"
    for name in ("utilization.rpt", "timing_summary.rpt"):
        assert (reports / name).exists(), f"no report {name} under reports/vivado/"
    write = run.index("write_bitstream")
    for gate in (run.index("get_timing_paths", "max"), run.index("get_timing_paths", "min"),
                 run.index("get_property", "PERIOD", "clock:clk_fpga_0"),
                 run.index("report_timing_summary", "-return_string")):
        assert gate < write, "timing is not checked before write_bitstream"

    bit, hwh = tmp / "overlay" / "lenet.bit", tmp / "overlay" / "lenet.hwh"
    written = Path(run.calls[write]["args"][-1])
    assert bit.exists() and bit.read_bytes() == written.read_bytes(), "overlay/lenet.bit is not the bitstream"
    assert hwh.exists() and contract.BD_IP_NAME in hwh.read_text(), "overlay/lenet.hwh is not the hand-off file"
    assert not list((tmp / "overlay").glob("*.part")), "partial files left in overlay/"


def check_rtl_package(run: Run, tmp: Path) -> None:
    assert run.returncode == 0, f"packaging failed under the stub: {run.stderr}"
    core = run.model["core"]
    vendor, library, name, version = contract.VLNV_RTL.split(":")
    assert (core["vendor"], core["library"]) == (vendor, library), f"core VLNV {core}"
    assert core["props"]["ipx:core"].get("name") == name, "core name not set from VLNV_RTL"
    assert core["props"]["ipx:core"].get("version") == version, "core version not set from VLNV_RTL"
    assert Path(core["root_dir"]) == tmp / "ip" / "rtl", f"IP written to {core['root_dir']}"
    added = [a for c in run.calls if c["cmd"] == "add_files" for a in c["args"] if not a.startswith("-")]
    added = " ".join(added)
    for src in (tmp / "rtl").glob("*.v*"):
        assert str(src) in added, f"{src.name} is not packaged"
    run.index("set_property", "file_type", "Verilog Header")
    run.index("set_property", "top", contract.TOP_NAME)
    busifs = core["busifs"]
    assert busifs.get("in_r") == busifs.get("out_r") == "xilinx.com:interface:axis_rtl:1.0", busifs
    assert busifs.get("s_axi_control") == "xilinx.com:interface:aximm_rtl:1.0", busifs
    for busif in ("in_r", "out_r", "s_axi_control"):
        assert {"busif": busif, "clock": "ap_clk"} in core["assoc"], f"{busif} is not associated with ap_clk"
    assert {"clock": "ap_clk", "reset": "ap_rst_n"} in core["assoc"], "ap_rst_n is not ap_clk's reset"
    assert core["props"].get("ipx:param:ap_rst_n:POLARITY", {}).get("value") == "ACTIVE_LOW", "reset polarity"
    assert core["props"].get("ipx:busif:s_axi_control", {}).get("slave_memory_map_ref") == "s_axi_control", (
        "s_axi_control has no memory map"
    )
    assert core["memory_maps"].get("s_axi_control") == ["Reg"], f"address block: {core['memory_maps']}"
    assert core["checked"] and core["saved"], "core not checked and saved"


# --- the tests --------------------------------------------------------------------


def test_contract_include_carries_the_contract(tmp_path):
    text = write_contract_tcl(tmp_path / "c.tcl").read_text()
    for name in ("PART", "BOARD_PART", "CLOCK_MHZ", "VLNV_HLS", "VLNV_RTL", "BD_IP_NAME", "BD_DMA_NAME"):
        assert f"set ::LENET_{name} {{{getattr(contract, name)}}}" in text


def test_no_tcl_file_retypes_a_contract_constant():
    values = [contract.PART, contract.BOARD_PART, contract.VLNV_HLS, contract.VLNV_RTL,
              contract.BD_IP_NAME, contract.BD_DMA_NAME, "lenet-pynq.org"]
    for path in VIVADO_TCL.glob("*.tcl"):
        text = path.read_text()
        for value in values:
            assert value not in text, f"{path.name} retypes {value!r}: read it from the contract include"


@pytest.mark.parametrize("path", sorted(VIVADO_TCL.glob("*.tcl")), ids=lambda p: p.name)
def test_every_tcl_file_parses(path):
    proc = subprocess.run(
        [TCLSH], input=f"puts [info complete [read [open {{{path}}}]]]\n",
        capture_output=True, text=True, check=False,
    )
    assert proc.stdout.strip() == "1", f"{path.name} is not complete Tcl: {proc.stderr}"


def test_hls_overlay_block_design_and_build(tmp_path):
    run = build_overlay(tmp_path)
    check_block_design(run, contract.VLNV_HLS)
    check_build_flow(run, tmp_path)
    assert "timing met" in run.stdout


def test_rtl_ip_is_packaged_and_built_into_the_same_overlay(tmp_path):
    check_rtl_package(package_rtl(tmp_path), tmp_path)
    run = build_overlay(tmp_path, ip="rtl")
    check_block_design(run, contract.VLNV_RTL)
    check_build_flow(run, tmp_path)


def test_real_rtl_sources_package(tmp_path):
    """The packager infers the interfaces from rtl/'s real top module."""
    shutil.copytree(ROOT / "rtl", tmp_path / "rtl")
    check_rtl_package(package_rtl(tmp_path), tmp_path)


def test_hwh_is_found_under_srcs_as_older_releases_write_it(tmp_path):
    run = build_overlay(tmp_path, env={"LENET_STUB_HWH_TREE": "srcs"})
    check_build_flow(run, tmp_path)


@pytest.mark.parametrize("env, message", [
    ({"LENET_STUB_WNS": "-0.125"}, "timing is not met at 100 MHz"),
    ({"LENET_STUB_WHS": "-0.010"}, "timing is not met at 100 MHz"),
    ({"LENET_STUB_PERIOD": "20.000"}, "not 10.0 ns"),
    ({"LENET_STUB_RUN_FAIL": "synth_1"}, "synth_1 failed"),
    ({"LENET_STUB_RUN_FAIL": "impl_1"}, "impl_1 failed"),
    ({"LENET_STUB_HWH_TREE": "none"}, "no lenet_bd.hwh"),
], ids=["setup", "hold", "clock", "synth", "impl", "no-hwh"])
def test_a_failed_build_leaves_no_overlay(tmp_path, env, message):
    run = build_overlay(tmp_path, env=env)
    assert run.returncode != 0 and message in run.stderr, run.stderr
    assert not (tmp_path / "overlay").exists() or not any((tmp_path / "overlay").iterdir())
    if "LENET_STUB_WNS" in env or "LENET_STUB_WHS" in env or "LENET_STUB_PERIOD" in env:
        assert not run.called("write_bitstream"), "a bitstream was written although timing failed"


def test_missing_board_files_say_how_to_install_them(tmp_path):
    run = build_overlay(tmp_path, env={"LENET_STUB_BOARD_PARTS": "none"})
    assert run.returncode != 0
    for words in (contract.BOARD_PART, "data/boards/board_files", "XilinxBoardStore", "board.repoPaths"):
        assert words in run.stderr, f"the board-files message lacks {words!r}: {run.stderr}"
    assert not run.called("create_project"), "a project was created before the board check"


def test_board_repo_from_the_environment_is_searched(tmp_path):
    run = build_overlay(tmp_path, env={"LENET_BOARD_REPO": str(tmp_path / "boards")})
    assert run.model["params"].get("board.repoPaths") == str(tmp_path / "boards")
    assert run.index("set_param", "board.repoPaths") < run.index("get_board_parts")


def test_missing_hls_ip_says_run_make_hls(tmp_path):
    (tmp_path / "empty").mkdir()
    run = build_overlay(tmp_path, ip_repo=tmp_path / "empty")
    assert run.returncode != 0 and "run `make hls` first" in run.stderr, run.stderr


def test_other_vivado_release_warns_and_carries_on(tmp_path):
    run = build_overlay(tmp_path, env={"LENET_STUB_VERSION": "2023.2"})
    assert run.returncode == 0, run.stderr
    assert "WARNING" in run.stdout and "2024.1" in run.stdout


# --- the proof that the checks catch a removed connection or setting -------------------

BD = "block_design.tcl"
BUILD = "build_bitstream.tcl"
PKG = "package_rtl_ip.tcl"


def line(text: str) -> tuple[str, str]:
    """Remove the one line of the Tcl that holds text."""
    return text, ""


# The two lines of block_design.tcl that apply the PYNQ-Z2 preset to the PS7.
PS7_AUTOMATION = (
    "    apply_bd_automation -rule xilinx.com:bd_rule:processing_system7 \\\n"
    '        -config {make_external "FIXED_IO, DDR" apply_board_preset "1" Master "Disable" Slave "Disable"} $ps\n'
)

# (file, text to change, replacement, what the failing assertion names)
MUTATIONS = {
    # IP configuration
    "dma-sg": (BD, *line("CONFIG.c_include_sg 0 \\"), "c_include_sg"),
    "dma-micro": (BD, *line("CONFIG.c_micro_dma 0 \\"), "c_micro_dma"),
    "dma-length-width": (BD, *line("CONFIG.c_sg_length_width 26 \\"), "c_sg_length_width"),
    "dma-mm2s-width": (BD, "CONFIG.c_m_axis_mm2s_tdata_width 32", "CONFIG.c_m_axis_mm2s_tdata_width 64",
                       "c_m_axis_mm2s_tdata_width"),
    "dma-s2mm-width": (BD, *line("CONFIG.c_s_axis_s2mm_tdata_width 32 \\"), "c_s_axis_s2mm_tdata_width"),
    "ps-fclk": (BD, *line("CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ $clock_mhz \\"), "PCW_FPGA0_PERIPHERAL_FREQMHZ"),
    "ps-hp0": (BD, *line("CONFIG.PCW_USE_S_AXI_HP0 1 \\"), "PCW_USE_S_AXI_HP0"),
    "ps-gp0": (BD, *line("CONFIG.PCW_USE_M_AXI_GP0 1 \\"), "PCW_USE_M_AXI_GP0"),
    "ps-fabric-irq": (BD, *line("CONFIG.PCW_USE_FABRIC_INTERRUPT 1 \\"), "PCW_USE_FABRIC_INTERRUPT"),
    "ps-irq-f2p": (BD, *line("CONFIG.PCW_IRQ_F2P_INTR 1 \\"), "PCW_IRQ_F2P_INTR"),
    "ps-preset": (BD, 'apply_board_preset "1"', 'apply_board_preset "0"', "apply_board_preset"),
    "ps-no-automation": (BD, PS7_AUTOMATION, "", "PS7 automation"),
    # The preset rewrites the PS configuration: our settings must come after it.
    "ps-config-before-preset": (
        BD, ("move", PS7_AUTOMATION, "    ] $ps"),
        "", "PCW_FPGA0_PERIPHERAL_FREQMHZ"),
    "concat-ports": (BD, "CONFIG.NUM_PORTS 3", "CONFIG.NUM_PORTS 2", "NUM_PORTS"),
    # interface connections
    "mm2s-stream": (BD, *line("connect_bd_intf_net [intf $dma/M_AXIS_MM2S] [intf $ip/in_r]"), "M_AXIS_MM2S"),
    "s2mm-stream": (BD, *line("connect_bd_intf_net [intf $ip/out_r] [intf $dma/S_AXIS_S2MM]"), "S_AXIS_S2MM"),
    "mm2s-to-hp0": (BD, *line("connect_bd_intf_net [intf $dma/M_AXI_MM2S] [intf axi_mem_sc/S00_AXI]"),
                    "M_AXI_MM2S does not reach"),
    "s2mm-to-hp0": (BD, *line("connect_bd_intf_net [intf $dma/M_AXI_S2MM] [intf axi_mem_sc/S01_AXI]"),
                    "M_AXI_S2MM does not reach"),
    "sc-to-hp0": (BD, *line("connect_bd_intf_net [intf axi_mem_sc/M00_AXI] [intf processing_system7_0/S_AXI_HP0]"),
                  "S_AXI_HP0"),
    "gp0-to-ic": (BD, *line("connect_bd_intf_net [intf processing_system7_0/M_AXI_GP0] [intf axi_ctrl_ic/S00_AXI]"),
                  "M_AXI_GP0 does not reach"),
    "ic-to-dma-lite": (BD, *line("connect_bd_intf_net [intf axi_ctrl_ic/M00_AXI] [intf $dma/S_AXI_LITE]"),
                       "S_AXI_LITE"),
    "ic-to-ip-control": (BD, *line("connect_bd_intf_net [intf axi_ctrl_ic/M01_AXI] [intf $ip/s_axi_control]"),
                         "s_axi_control"),
    # interrupts
    "irq-ip": (BD, *line("connect_bd_net [pin $ip/interrupt] [pin irq_concat/In0]"), "interrupt"),
    "irq-mm2s": (BD, *line("connect_bd_net [pin $dma/mm2s_introut] [pin irq_concat/In1]"), "mm2s_introut"),
    "irq-s2mm": (BD, *line("connect_bd_net [pin $dma/s2mm_introut] [pin irq_concat/In2]"), "s2mm_introut"),
    "irq-to-ps": (BD, *line("connect_bd_net [pin irq_concat/dout] [pin processing_system7_0/IRQ_F2P]"), "IRQ_F2P"),
    # resets
    "ext-reset": (BD, *line("connect_bd_net [pin processing_system7_0/FCLK_RESET0_N] [pin proc_sys_reset_0/ext_reset_in]"),
                  "ext_reset_in"),
    "ic-reset": (BD, *line("connect_bd_net [pin proc_sys_reset_0/interconnect_aresetn] [pin axi_ctrl_ic/ARESETN]"),
                 "ARESETN"),
    # addresses
    "addr-dma": (BD, "-offset $dma_base", "-offset 0x80400000", "S_AXI_LITE/Reg at 0x80400000"),
    "addr-ip-missing": (BD, "[get_bd_addr_segs $ip/s_axi_control/Reg] -force", "{} -force",
                        "s_axi_control/Reg in"),
    "addr-overlap": (BD, "variable ip_base 0x43C00000", "variable ip_base 0x40400000", "overlap"),
    "addr-ddr-range": (BD, "variable ddr_range 512M", "variable ddr_range 256M", "not all 512 MiB"),
    "addr-ddr-s2mm": (BD, "foreach space {Data_MM2S Data_S2MM}", "foreach space {Data_MM2S}", "Data_S2MM"),
    # the build flow
    "no-validate": (BD, *line("    validate_bd_design"), "validate_bd_design"),
    "no-board-check": ("project.tcl", *line("    lenet_require_board_part $board_part"), "get_board_parts"),
    "no-synth-check": (BUILD, *line("lenet_run_or_fail synth_1"), "synth_1"),
    "no-timing-gate": (BUILD, *line("lenet_check_timing $reports_dir $::LENET_CLOCK_MHZ"),
                       "get_timing_paths|timing is not checked"),
    "no-utilization": (BUILD, *line("report_utilization -file [file join $reports_dir utilization.rpt]"),
                       "utilization.rpt"),
    "hwh-gen-tree": (BUILD, "foreach tree {gen srcs}", "foreach tree {srcs}", "hwh"),
    "overlay-name": (BUILD, "$overlay.hwh.part $overlay.hwh", "$overlay.hwh.part $overlay.xml", "lenet.hwh"),
    "bitstream-before-timing": (
        BUILD, ("move", "lenet_check_timing $reports_dir $::LENET_CLOCK_MHZ\n", "write_bitstream -force $bit"),
        "", "timing is not checked"),
    # RTL packaging
    "pkg-clock-in_r": (PKG, "foreach busif [concat $streams s_axi_control]", "foreach busif [concat out_r s_axi_control]",
                       "in_r is not associated"),
    "pkg-clock-control": (PKG, "foreach busif [concat $streams s_axi_control]", "foreach busif $streams",
                          "s_axi_control is not associated"),
    "pkg-reset": (PKG, *line("ipx::associate_bus_interfaces -clock ap_clk -reset ap_rst_n $core"), "ap_rst_n"),
    "pkg-polarity": (PKG, "POLARITY ACTIVE_LOW", "POLARITY ACTIVE_HIGH", "polarity"),
    "pkg-memory-map": (PKG, *line("set_property slave_memory_map_ref s_axi_control [lenet_busif $core s_axi_control]"),
                       "memory map"),
    "pkg-reg-block": (PKG, "ipx::add_address_block Reg $mmap", "ipx::add_address_block reg0 $mmap", "address block"),
    "pkg-header": (PKG, *line("set_property file_type {Verilog Header} [get_files $header]"), "Verilog Header"),
}

# Clock and reset loads, one mutation each: every continuation line of those nets.
for _pin in re.findall(r"^\s+\[pin ([^\]]+)\]( \\)?$", (VIVADO_TCL / BD).read_text(), re.MULTILINE):
    _pin = _pin[0]
    MUTATIONS[f"net-{_pin.replace('$', '').replace('/', '-')}"] = (BD, *line(f"[pin {_pin}]"), _pin.split("/")[-1])


def the_line(text: str, part: str, file: str) -> str:
    lines = [ln for ln in text.splitlines(keepends=True) if part in ln]
    assert len(lines) == 1, f"mutation target {part!r} is on {len(lines)} lines of {file}"
    return lines[0]


def mutate(tmp: Path, file: str, old, new: str) -> Path:
    """A copy of vivado_tcl/ with one change: old replaced by new, the one line
    holding old removed (new empty), or ("move", text, after) moving text to
    just after the line holding `after`."""
    tcl = tmp / "vivado_tcl"
    shutil.copytree(VIVADO_TCL, tcl)
    text = (tcl / file).read_text()
    if isinstance(old, tuple):
        _, what, after = old
        assert text.count(what) == 1, f"mutation target {what!r} occurs {text.count(what)} times in {file}"
        text = text.replace(what, "")
        anchor = the_line(text, after, file)
        (tcl / file).write_text(text.replace(anchor, anchor + what))
        return tcl
    needle = old if old.endswith("\n") or new else None
    if needle is None:  # a whole line
        needle = the_line(text, old, file)
    assert text.count(needle) == 1, f"mutation target {needle!r} occurs {text.count(needle)} times in {file}"
    (tcl / file).write_text(text.replace(needle, new))
    return tcl


def check_all(tmp: Path, tcl_dir: Path) -> None:
    """Everything the tests above check, on one set of scripts."""
    env = {"LENET_STUB_LENIENT": "1"}  # so the stub records what Vivado would refuse and the checks run
    check_rtl_package(package_rtl(tmp, tcl_dir, env), tmp)
    run = build_overlay(tmp, ip="rtl", tcl_dir=tcl_dir, env=env)
    check_block_design(run, contract.VLNV_RTL)
    check_build_flow(run, tmp)


def test_unmutated_scripts_pass_every_check(tmp_path):
    check_all(tmp_path, VIVADO_TCL)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_removing_a_connection_or_setting_is_caught(tmp_path, name):
    file, old, new, names = MUTATIONS[name]
    tcl = mutate(tmp_path, file, old, new)
    with pytest.raises(AssertionError, match=names):
        check_all(tmp_path, tcl)


# --- the Makefile -------------------------------------------------------------------


def make_copy(tmp: Path) -> Path:
    for part in ("Makefile", "vivado_tcl", "rtl", "lenet_pynq"):
        src = ROOT / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp / part)
    return tmp


def make(tmp: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": path or os.environ["PATH"]}
    env.pop("IP", None)
    return subprocess.run(["make", "--no-print-directory", *args], cwd=tmp, capture_output=True, text=True,
                          env=env, check=False)


def test_make_n_bitstream_shows_the_sequence(tmp_path):
    make_copy(tmp_path)
    out = make(tmp_path, "-n", "bitstream", "IP=rtl").stdout
    steps = ["check_tools.sh vivado", "write_contract_tcl.py", "package_rtl_ip.tcl", "check_tools.sh vivado",
             "write_contract_tcl.py", "build_bitstream.tcl", "-ip rtl", "-overlay " + str(tmp_path / "overlay/lenet"),
             "echo rtl > build/vivado/overlay-ip"]
    at = 0
    for step in steps:
        found = out.find(step, at)
        assert found >= 0, f"`make -n bitstream IP=rtl` lacks {step!r} after position {at}:\n{out}"
        at = found + len(step)
    hls = make(tmp_path, "-n", "bitstream").stdout
    assert "-ip hls" in hls and "package_rtl_ip.tcl" not in hls


def test_make_bitstream_without_vivado_fails_cleanly(tmp_path):
    make_copy(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    proc = make(tmp_path, "bitstream", path="/usr/bin:/bin")
    assert proc.returncode != 0
    assert "'vivado' is not on PATH" in proc.stderr and "2024.1" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before, "make left files behind"


def test_make_bitstream_is_incremental(tmp_path):
    make_copy(tmp_path)
    fake_hls_repo(tmp_path / "build" / "ip" / "hls")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "lenet.bit").write_text("bit")
    (overlay / "lenet.hwh").write_text("hwh")
    (tmp_path / "build" / "vivado").mkdir(parents=True)
    (tmp_path / "build" / "vivado" / "overlay-ip").write_text("hls\n")

    def up_to_date(*args):
        return make(tmp_path, "-q", "overlay/lenet.bit", *args).returncode == 0

    assert up_to_date(), "nothing changed, yet make would rebuild"
    assert not up_to_date("IP=rtl"), "switching to IP=rtl does not rebuild"
    os.utime(tmp_path / "vivado_tcl" / BD, (1e10, 1e10))
    assert not up_to_date(), "a changed Tcl file does not rebuild"
    os.utime(tmp_path / "vivado_tcl" / BD, (1e9, 1e9))
    os.utime(tmp_path / "build" / "ip" / "hls" / "component.xml", (1e10, 1e10))
    assert not up_to_date(), "a changed HLS IP does not rebuild"
    os.utime(tmp_path / "build" / "ip" / "hls" / "component.xml", (1e9, 1e9))
    (overlay / "lenet.hwh").unlink()
    assert not up_to_date(), "a missing .hwh does not rebuild"
