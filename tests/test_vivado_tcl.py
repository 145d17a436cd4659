"""The Vivado flow of vivado_tcl/, run under tclsh against the Vivado stand-in.

There is no Vivado here, so these tests run the real scripts against
tests/stand_ins/vivado/, a stand-in for the Vivado commands they use that
refuses what Vivado 2024.1 refuses (a parameter the IP does not have, a value
outside its legal range, a misaligned or wrong-sized address window, an
unknown pin, interface or ipx:: property) and records what the scripts ask
for. The tests check every CONFIG setting, every connection of the block
design, the address map, the build steps and their order (timing is checked
before the bitstream is written), the build facts, and where the .bit and
.hwh end up. The mutation test edits a copy of the Tcl as a typo would
(misspelled names, illegal values, deleted settings and connections), finding
each target by its meaning, not its line, and shows that the stand-in or the
checks catch every edit.

What this does not prove: that the stand-in's list of names and values is
all Vivado checks, that the IPs behave as modelled, that the design meets
timing. Only a run of `make bitstream` with the real tools shows that.
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
from lenet_pynq.errors import LenetError

ROOT = Path(__file__).resolve().parent.parent
VIVADO_TCL = ROOT / "vivado_tcl"
STAND_IN = Path(__file__).resolve().parent / "stand_ins" / "vivado"
TCLSH = shutil.which("tclsh") or "tclsh"  # Debian package tcl; part of this machine

# The PYNQ-Z2 carries 512 MiB of DDR3; the DMA must see all of it through HP0.
PYNQ_Z2_DDR_BYTES = 512 << 20
GP0_WINDOW = (0x4000_0000, 0x8000_0000)
PS = "processing_system7_0"
INTC = "axi_intc_0"
IP = contract.BD_IP_NAME
DMA = contract.BD_DMA_NAME
INTERCONNECTS = ("xilinx.com:ip:smartconnect:", "xilinx.com:ip:axi_interconnect:")

# --- running the scripts under the stand-in-------------------------------------


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
    for header in (ROOT / "rtl").glob("*.vh"):
        shutil.copy(header, path / header.name)
    return path


class Run:
    """One tclsh run of a vivado_tcl script: its exit, output and the stand-in's model."""

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


def run_stand_in(tmp: Path, script: Path, args: list[str], env: dict | None = None) -> Run:
    model_path = tmp / f"{script.stem}.model.json"
    proc = subprocess.run(
        [TCLSH, str(STAND_IN / "run.tcl"), str(model_path), str(script), *args],
        cwd=tmp, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, **(env or {})},
    )
    return Run(proc, json.loads(model_path.read_text()))


def package_rtl(tmp: Path, tcl_dir: Path = VIVADO_TCL, env: dict | None = None) -> Run:
    contract_tcl = tmp / "lenet_contract.tcl"
    if not contract_tcl.exists():
        write_contract_tcl(contract_tcl)
    rtl = tmp / "rtl" if (tmp / "rtl").exists() else fake_rtl_dir(tmp / "rtl")
    return run_stand_in(tmp, tcl_dir / "package_rtl_ip.tcl", [
        "-contract", str(contract_tcl), "-rtl_dir", str(rtl),
        "-build_dir", str(tmp / "pkg_project"), "-ip_dir", str(tmp / "ip" / "rtl"),
    ], env)


def build_overlay(tmp: Path, ip: str = "hls", tcl_dir: Path = VIVADO_TCL,
                  env: dict | None = None, ip_repo: Path | None = None, board_part: str = "none") -> Run:
    contract_tcl = tmp / "lenet_contract.tcl"
    if not contract_tcl.exists():
        write_contract_tcl(contract_tcl)
    if ip_repo is None:
        ip_repo = tmp / "ip" / ip
        if ip == "hls" and not ip_repo.exists():
            fake_hls_repo(ip_repo)
    return run_stand_in(tmp, tcl_dir / "build_bitstream.tcl", [
        "-contract", str(contract_tcl), "-ip", ip, "-ip_repo", str(ip_repo),
        "-build_dir", str(tmp / "project"), "-reports_dir", str(tmp / "reports" / "vivado"),
        "-overlay", str(tmp / "overlay" / "lenet"), "-board_part", board_part, "-jobs", "2",
    ], env)


# --- what the block design must be ------------------------------------------------

# Every CONFIG setting vivado_tcl/block_design.tcl makes, cell by cell: the
# model's settings must be exactly these (a missing, extra or changed one
# fails). The PS7's board settings come from PYNQ v3.1's Z2 base design
# (boards/Pynq-Z2/base/base.tcl, Vivado 2024.1): 50 MHz crystal, 650 MHz CPU,
# bank voltages, one 4 Gbit x16 DDR3 device on a 16-bit bus (512 MiB).
EXPECTED_CONFIG = {
    PS: {
        "PCW_PRESET_BANK0_VOLTAGE": "LVCMOS 3.3V", "PCW_PRESET_BANK1_VOLTAGE": "LVCMOS 1.8V",
        "PCW_CRYSTAL_PERIPHERAL_FREQMHZ": "50", "PCW_APU_PERIPHERAL_FREQMHZ": "650",
        "PCW_UIPARAM_DDR_MEMORY_TYPE": "DDR 3", "PCW_UIPARAM_DDR_PARTNO": "Custom",
        "PCW_UIPARAM_DDR_BUS_WIDTH": "16 Bit", "PCW_UIPARAM_DDR_DEVICE_CAPACITY": "4096 MBits",
        "PCW_UIPARAM_DDR_DRAM_WIDTH": "16 Bits", "PCW_UIPARAM_DDR_SPEED_BIN": "DDR3_1066F",
        "PCW_UIPARAM_DDR_FREQ_MHZ": "525", "PCW_UIPARAM_DDR_ROW_ADDR_COUNT": "15",
        "PCW_UIPARAM_DDR_COL_ADDR_COUNT": "10", "PCW_UIPARAM_DDR_BANK_ADDR_COUNT": "3",
        "PCW_UIPARAM_DDR_CL": "7", "PCW_UIPARAM_DDR_CWL": "6", "PCW_UIPARAM_DDR_T_RCD": "13.125",
        "PCW_UIPARAM_DDR_T_RP": "13.125", "PCW_UIPARAM_DDR_T_RC": "50.625",
        "PCW_UIPARAM_DDR_T_RAS_MIN": "35.0", "PCW_UIPARAM_DDR_T_FAW": "40.0",
        "PCW_FPGA_FCLK0_ENABLE": "1", "PCW_FCLK0_PERIPHERAL_CLKSRC": "IO PLL",
        "PCW_FPGA0_PERIPHERAL_FREQMHZ": str(contract.CLOCK_MHZ),
        "PCW_EN_CLK0_PORT": "1", "PCW_EN_RST0_PORT": "1", "PCW_USE_M_AXI_GP0": "1",
        "PCW_USE_S_AXI_HP0": "1", "PCW_USE_FABRIC_INTERRUPT": "1", "PCW_IRQ_F2P_INTR": "1",
    },
    DMA: {
        "c_include_sg": "0", "c_micro_dma": "0", "c_sg_length_width": "26",
        "c_include_mm2s": "1", "c_include_s2mm": "1",
        "c_m_axis_mm2s_tdata_width": "32", "c_s_axis_s2mm_tdata_width": "32",
        "c_m_axi_mm2s_data_width": "32", "c_m_axi_s2mm_data_width": "32",
    },
    # Edge-triggered inputs (PYNQ's interrupt docs), one level-high irq wire
    # (the PYNQ image's UIO interrupt on IRQ_F2P[0] is level-high).
    INTC: {
        "C_KIND_OF_INTR.VALUE_SRC": "USER", "C_KIND_OF_INTR": "0xFFFFFFFF", "C_KIND_OF_EDGE": "0xFFFFFFFF",
        "C_IRQ_CONNECTION": "0",
        "C_IRQ_IS_LEVEL": "1", "C_IRQ_ACTIVE": "0x1",
    },
    "axi_ctrl_ic": {"NUM_SI": "1", "NUM_MI": "3"},
    "axi_mem_sc": {"NUM_SI": "2", "NUM_MI": "1"},
    "irq_concat": {"NUM_PORTS": "3"},
    "proc_sys_reset_0": {},
    IP: {},
}
VLNVS = {
    PS: "xilinx.com:ip:processing_system7:5.5", DMA: "xilinx.com:ip:axi_dma:7.1",
    INTC: "xilinx.com:ip:axi_intc:4.1", "axi_ctrl_ic": "xilinx.com:ip:axi_interconnect:2.1",
    "axi_mem_sc": "xilinx.com:ip:smartconnect:1.0", "irq_concat": "xilinx.com:ip:xlconcat:2.1",
    "proc_sys_reset_0": "xilinx.com:ip:proc_sys_reset:5.0",
}


def check_configuration(model: dict, board_preset: bool = False) -> None:
    assert set(model["cells"]) == set(EXPECTED_CONFIG), f"cells: {sorted(model['cells'])}"
    for cell, vlnv in VLNVS.items():
        assert model["cells"][cell]["vlnv"] == vlnv, f"{cell} is {model['cells'][cell]['vlnv']}, want {vlnv}"
    for cell, want in EXPECTED_CONFIG.items():
        got = {k.removeprefix("CONFIG."): v for k, v in model["cells"][cell]["config"].items()}
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        wrong = sorted(k for k in set(want) & set(got) if got[k] != want[k])
        assert not (missing or extra or wrong), (
            f"{cell} CONFIG differs from what the design needs: missing {missing}, unexpected {extra}, "
            f"wrong {[(k, got[k], want[k]) for k in wrong]}")
    auto = [a for a in model["automation"] if f"/{PS}" in a["objects"]]
    assert len(auto) == 1 and auto[0]["rule"] == "xilinx.com:bd_rule:processing_system7", "PS7 automation missing"
    config = auto[0]["config"]
    assert config.get("apply_board_preset") == ("1" if board_preset else "0"), f"PS7 board preset: {config}"
    external = {p.strip() for p in config.get("make_external", "").split(",")}
    assert {"FIXED_IO", "DDR"} <= external, f"PS7 DDR and FIXED_IO not made external: {external}"
    assert (config.get("Master"), config.get("Slave")) == ("Disable", "Disable"), f"PS7 automation: {config}"


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


def check_connections(model: dict) -> None:
    # Streams, DMA data into DDR, register access from the PS.
    for a, b in ((f"{DMA}/M_AXIS_MM2S", f"{IP}/in_r"), (f"{IP}/out_r", f"{DMA}/S_AXIS_S2MM")):
        assert [f"/{a}", f"/{b}"] in model["intf_nets"], f"stream {a} -> {b} is not connected"
    for master, slave in (
        (f"{DMA}/M_AXI_MM2S", f"{PS}/S_AXI_HP0"),
        (f"{DMA}/M_AXI_S2MM", f"{PS}/S_AXI_HP0"),
        (f"{PS}/M_AXI_GP0", f"{DMA}/S_AXI_LITE"),
        (f"{PS}/M_AXI_GP0", f"{IP}/s_axi_control"),
        (f"{PS}/M_AXI_GP0", f"{INTC}/s_axi"),
    ):
        assert reaches(model, master, slave), f"AXI {master} does not reach {slave}"

    clock_loads = [
        f"{PS}/M_AXI_GP0_ACLK", f"{PS}/S_AXI_HP0_ACLK", "proc_sys_reset_0/slowest_sync_clk",
        f"{DMA}/s_axi_lite_aclk", f"{DMA}/m_axi_mm2s_aclk", f"{DMA}/m_axi_s2mm_aclk", f"{IP}/ap_clk",
        f"{INTC}/s_axi_aclk",
    ]
    reset_loads = [f"{DMA}/axi_resetn", f"{IP}/ap_rst_n", f"{INTC}/s_axi_aresetn"]
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

    # pynq sees interrupts only through an axi_intc on IRQ_F2P, and numbers
    # them in the order of the concat inputs feeding it.
    assert net_with(model, f"{PS}/IRQ_F2P") == {f"/{PS}/IRQ_F2P", f"/{INTC}/irq"}, (
        f"IRQ_F2P is not driven by {INTC}/irq alone: {sorted(net_with(model, f'{PS}/IRQ_F2P'))}")
    assert net_with(model, f"{INTC}/intr") == {f"/{INTC}/intr", "/irq_concat/dout"}, (
        f"{INTC}/intr is not fed by irq_concat/dout: {sorted(net_with(model, f'{INTC}/intr'))}")
    for i, source in enumerate((f"{IP}/interrupt", f"{DMA}/mm2s_introut", f"{DMA}/s2mm_introut")):
        assert net_with(model, source) == {f"/{source}", f"/irq_concat/In{i}"}, (
            f"interrupt {source} does not reach irq_concat/In{i} -> {INTC}: {sorted(net_with(model, source))}")


def address(model: dict, space: str, seg: str) -> dict:
    found = [a for a in model["addresses"] if a["space"] == f"/{space}" and a["seg"] == f"/{seg}"]
    assert len(found) == 1, f"address of {seg} in {space}: {found or 'not assigned'}"
    return found[0]


# The register map pynq reads from the .hwh: Vivado's default addresses,
# PYNQ's base design's for the interrupt controller (sim/hwh.py has the same).
REGISTER_WINDOWS = {
    f"{DMA}/S_AXI_LITE/Reg": 0x4040_0000,
    f"{IP}/s_axi_control/Reg": 0x43C0_0000,
    f"{INTC}/S_AXI/Reg": 0x4180_0000,
}


def check_address_map(model: dict) -> None:
    for seg, base in REGISTER_WINDOWS.items():
        a = address(model, f"{PS}/Data", seg)
        assert (a["offset"], a["range"]) == (base, 0x1_0000), (
            f"{seg} at {a['offset']:#x}+{a['range']:#x}, want {base:#x}+64K")
        assert a["range"] >= 1 << contract.ADDR_WIDTH, f"{seg} window of {a['range']} bytes is too small"
    for space in ("Data_MM2S", "Data_S2MM"):
        a = address(model, f"{DMA}/{space}", f"{PS}/S_AXI_HP0/HP0_DDR_LOWOCM")
        assert a["offset"] == 0 and a["range"] == PYNQ_Z2_DDR_BYTES, (
            f"{DMA}/{space} sees DDR through HP0 at {a['offset']:#x}+{a['range']:#x}, not all 512 MiB"
        )


def check_block_design(run: Run, ip_vlnv: str, board_preset: bool = False) -> None:
    assert run.returncode == 0, f"the script failed under the stand-in: {run.stderr}"
    model = run.model
    assert model["cells"].get(IP, {}).get("vlnv") == ip_vlnv, f"{IP} is not {ip_vlnv}"
    check_configuration(model, board_preset)
    check_connections(model)
    check_address_map(model)
    assert not model["problems"], f"Vivado would refuse: {model['problems']}"


def check_build_flow(run: Run, tmp: Path, ip: str = "hls") -> None:
    """Project for the part, design validated, runs in order, reports, the
    timing gate before write_bitstream, the build facts, and the outputs in overlay/."""
    call = run.calls[run.index("create_project")]
    assert contract.PART in call["args"], f"create_project is not for {contract.PART}: {call}"
    repos = run.model["props"].get("project:lenet_" + ip, {}).get("ip_repo_paths")
    assert repos == str(tmp / "ip" / ip), f"ip_repo_paths is {repos!r}, not the {ip} IP repository"
    assert run.index("update_ip_catalog", "-rebuild") > run.index("set_property", "ip_repo_paths")
    last_edit = max(i for i, c in enumerate(run.calls)
                    if c["cmd"] in ("connect_bd_net", "connect_bd_intf_net", "assign_bd_address"))
    assert run.index("validate_bd_design") > last_edit, "validate_bd_design does not follow the last edit"
    assert run.index("make_wrapper") > run.index("validate_bd_design"), "no HDL wrapper after validation"
    run.index("set_property", "target_language", "Verilog")
    run.index("set_property", "top", "lenet_bd_wrapper")
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

    assert (reports / "build_facts.json").exists(), "no build_facts.json under reports/vivado/"
    facts = json.loads((reports / "build_facts.json").read_text())
    vlnv = contract.VLNV_HLS if ip == "hls" else contract.VLNV_RTL
    assert (facts["ip"], facts["ip_vlnv"], facts["part"]) == (ip, vlnv, contract.PART), f"build facts: {facts}"
    assert (facts["clock_mhz"], facts["period_ns"]) == (contract.CLOCK_MHZ, 1000 / contract.CLOCK_MHZ), facts
    assert facts["wns_ns"] >= 0 and facts["whs_ns"] >= 0, f"build facts of a failed timing: {facts}"
    assert set(facts["utilization"]) == {"lut", "ff", "bram", "dsp"}, f"build facts utilization: {facts}"
    assert facts["utilization"]["lut"]["available"] == 53200, f"xc7z020 LUTs: {facts['utilization']}"

    bit, hwh = tmp / "overlay" / "lenet.bit", tmp / "overlay" / "lenet.hwh"
    written = Path(run.calls[write]["args"][-1])
    assert bit.exists() and bit.read_bytes() == written.read_bytes(), "overlay/lenet.bit is not the bitstream"
    assert hwh.exists() and contract.BD_IP_NAME in hwh.read_text(), "overlay/lenet.hwh is not the hand-off file"
    assert not list((tmp / "overlay").glob("*.part")), "partial files left in overlay/"


def bus_param(core: dict, busif: str, name: str) -> str | None:
    return core["props"].get(f"ipx:param:{busif}:{name}", {}).get("value")


def check_rtl_package(run: Run, tmp: Path) -> None:
    assert run.returncode == 0, f"packaging failed under the stand-in: {run.stderr}"
    core = run.model["core"]
    vendor, library, name, version = contract.VLNV_RTL.split(":")
    assert (core["vendor"], core["library"]) == (vendor, library), f"core VLNV {core}"
    assert core["props"]["ipx:core"].get("name") == name, "core name not set from VLNV_RTL"
    assert core["props"]["ipx:core"].get("version") == version, "core version not set from VLNV_RTL"
    for prop in ("display_name", "description"):
        assert core["props"]["ipx:core"].get(prop), f"the core has no {prop} (the IP catalog shows it)"
    assert run.calls[run.index("ipx::package_project")]["args"].count("/UserIP") == 1, "taxonomy is not /UserIP"
    assert Path(core["root_dir"]) == tmp / "ip" / "rtl", f"IP written to {core['root_dir']}"
    packaged = sorted(Path(f).name for f in core["files"])
    assert packaged == sorted(p.name for p in (tmp / "rtl").glob("*.v*")), f"packaged sources: {packaged}"
    outside = [f for f in core["files"] if not Path(f).is_relative_to(core["root_dir"])]
    assert not outside, f"sources not packaged under the IP (-import_files): {outside}"
    run.index("set_property", "file_type", "Verilog Header")
    untyped = [p.name for p in (tmp / "rtl").glob("*.vh")
               if run.model["props"].get(str(p.resolve()), {}).get("file_type") != "Verilog Header"]
    assert not untyped, f"headers not typed Verilog Header: {untyped}"
    run.index("set_property", "top", contract.TOP_NAME)
    busifs = core["busifs"]
    assert busifs.get("in_r") == busifs.get("out_r") == "xilinx.com:interface:axis_rtl:1.0", busifs
    assert busifs.get("s_axi_control") == "xilinx.com:interface:aximm_rtl:1.0", busifs
    associated = set((bus_param(core, "ap_clk", "ASSOCIATED_BUSIF") or "").split(":"))
    for busif in ("in_r", "out_r", "s_axi_control"):
        assert busif in associated, f"{busif} is not associated with ap_clk (ASSOCIATED_BUSIF {associated})"
    assert bus_param(core, "ap_clk", "ASSOCIATED_RESET") == "ap_rst_n", "ap_rst_n is not ap_clk's reset"
    assert bus_param(core, "ap_clk", "FREQ_HZ") == str(contract.CLOCK_MHZ * 1_000_000), "ap_clk FREQ_HZ"
    assert core["props"]["ipx:param:ap_clk:FREQ_HZ"].get("value_resolve_type") == "user", "FREQ_HZ resolve type"
    assert bus_param(core, "ap_rst_n", "POLARITY") == "ACTIVE_LOW", "reset polarity"
    assert bus_param(core, "interrupt", "SENSITIVITY") == "LEVEL_HIGH", "interrupt sensitivity"
    assert core["props"].get("ipx:busif:s_axi_control", {}).get("slave_memory_map_ref") == "s_axi_control", (
        "s_axi_control has no memory map"
    )
    assert core["memory_maps"].get("s_axi_control") == ["Reg"], f"address block: {core['memory_maps']}"
    block = core["props"].get("ipx:block:s_axi_control:Reg", {})
    want = {"base_address": "0", "range": str(1 << contract.ADDR_WIDTH), "width": "32", "usage": "register"}
    assert block == want, f"address block Reg: {block}, want {want}"
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
    check_build_flow(run, tmp_path, ip="rtl")


def test_real_rtl_sources_package(tmp_path):
    """The packager infers the interfaces from rtl/'s real top module, and packages the headers it includes."""
    shutil.copytree(ROOT / "rtl", tmp_path / "rtl")
    run = package_rtl(tmp_path)
    check_rtl_package(run, tmp_path)
    packaged = {Path(f).name for f in run.model["core"]["files"]}
    assert {"lenet_contract.vh", "lenet_layout.vh"} <= packaged, f"headers missing from the IP: {packaged}"


def test_build_needs_no_board_files(tmp_path):
    """A fresh Vivado has no PYNQ-Z2 board files: the default build neither asks for them nor sets a board part."""
    run = build_overlay(tmp_path, env={"LENET_STUB_BOARD_PARTS": "none"})
    check_block_design(run, contract.VLNV_HLS)
    assert not run.called("get_board_parts") and not run.called("set_property", "board_part")


def test_board_files_when_asked_for_give_the_same_design(tmp_path):
    run = build_overlay(tmp_path, board_part=contract.BOARD_PART,
                        env={"LENET_STUB_BOARD_PARTS": contract.BOARD_PART})
    check_block_design(run, contract.VLNV_HLS, board_preset=True)
    assert run.index("get_board_parts", contract.BOARD_PART) < run.index("create_project")
    run.index("set_property", "board_part", contract.BOARD_PART)
    # The preset came first, so the explicit settings are what the PS7 has.
    assert run.model["cells"][PS]["preset"]


def test_missing_board_files_say_how_to_install_them(tmp_path):
    run = build_overlay(tmp_path, board_part=contract.BOARD_PART)
    assert run.returncode != 0
    for words in (contract.BOARD_PART, "data/xhub/boards/XilinxBoardStore/boards/Xilinx/", "board.repoPaths",
                  "without BOARD_PART"):
        assert words in run.stderr, f"the board-files message lacks {words!r}: {run.stderr}"
    assert not run.called("create_project"), "a project was created before the board check"


def test_board_repo_from_the_environment_is_searched(tmp_path):
    run = build_overlay(tmp_path, board_part=contract.BOARD_PART,
                        env={"LENET_BOARD_REPO": str(tmp_path / "boards"),
                             "LENET_STUB_BOARD_PARTS": contract.BOARD_PART})
    assert run.model["params"].get("board.repoPaths") == str(tmp_path / "boards")
    assert run.index("set_param", "board.repoPaths") < run.index("get_board_parts")


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
        assert (tmp_path / "reports" / "vivado" / "timing_summary.rpt").exists(), "no timing report to read"


def test_missing_hls_ip_says_run_make_hls(tmp_path):
    (tmp_path / "empty").mkdir()
    run = build_overlay(tmp_path, ip_repo=tmp_path / "empty")
    assert run.returncode != 0 and "run `make hls` first" in run.stderr, run.stderr


def test_other_vivado_release_warns_and_carries_on(tmp_path):
    run = build_overlay(tmp_path, env={"LENET_STUB_VERSION": "2023.2"})
    assert run.returncode == 0, run.stderr
    assert "WARNING" in run.stdout and "2024.1" in run.stdout
    assert json.loads((tmp_path / "reports" / "vivado" / "build_facts.json").read_text())["vivado_version"] == "2023.2"


# --- the stand-in on its own ------------------------------------------------------

DESIGN_PROLOGUE = """
create_project -force p [pwd]/p -part xc7z020clg400-1
create_bd_design d
set dma [create_bd_cell -type ip -vlnv xilinx.com:ip:axi_dma:7.1 axi_dma_0]
set intc [create_bd_cell -type ip -vlnv xilinx.com:ip:axi_intc:4.1 axi_intc_0]
set ps [create_bd_cell -type ip -vlnv xilinx.com:ip:processing_system7:5.5 ps]
set_property -dict [list CONFIG.PCW_USE_M_AXI_GP0 1] $ps
"""


@pytest.mark.parametrize("command, error", [
    ("set_property CONFIG.c_include_sgg 0 $dma", "axi_dma:7.1 has no parameter 'c_include_sgg'"),
    ("set_property CONFIG.c_m_axi_mm2s_data_width 16 $dma",
     r"\[IP_Flow 19-3461\] Value '16' is out of the range for parameter 'c_m_axi_mm2s_data_width' for BD Cell "
     r"'axi_dma_0' \. Valid values are - 32, 64, 128, 256, 512, 1024"),
    ("set_property CONFIG.c_sg_length_width 7 $dma", r"\[IP_Flow 19-3458\] .* out of the range \(8,26\)"),
    ("set_property CONFIG.C_KIND_OF_INTR.VALUE_SRC AUTO $intc", "'AUTO' is not a value source"),
    ("set_property CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ 300 $ps", r"out of the range \(0.1,250\)"),
    ("get_bd_pins axi_dma_0/m_axi_sg_aclkk", "pin /axi_dma_0/m_axi_sg_aclkk does not exist"),
    ("assign_bd_address -offset 0x40401000 -range 64K -target_address_space [get_bd_addr_spaces ps/Data] "
     "[get_bd_addr_segs axi_dma_0/S_AXI_LITE/Reg]",
     r"\[BD 41-1075\] The proposed address '0x40401000 \[ 64K \]' .* next aligned offset .* '0x40410000'"),
    ("assign_bd_address -offset 0x40400000 -range 2K -target_address_space [get_bd_addr_spaces ps/Data] "
     "[get_bd_addr_segs axi_dma_0/S_AXI_LITE/Reg]", "is outside what the segment takes"),
    ("create_bd_cell -type ip -vlnv xilinx.com:ip:axi_dma:7.2 d2", r"\[BD 41-74\] IP xilinx.com:ip:axi_dma:7.2"),
    ("create_bd_cell -type ip -vlmv xilinx.com:ip:axi_dma:7.1 d2", r"\[Common 17-170\] Unknown option '-vlmv'"),
], ids=["name", "enum", "range", "value-src", "fclk", "pin", "misaligned", "too-small", "version", "option"])
def test_the_stand_in_alone_fails_like_vivado(tmp_path, command, error):
    script = tmp_path / "s.tcl"
    script.write_text(DESIGN_PROLOGUE + command + "\n")
    run = run_stand_in(tmp_path, script, [])
    assert run.returncode == 1 and re.search("^ERROR: .*" + error, run.stderr, re.MULTILINE), run.stderr


def test_the_stand_in_takes_vivados_command_line(tmp_path):
    script = tmp_path / "s.tcl"
    script.write_text(DESIGN_PROLOGUE + "puts \"args: $argv\"\nset_property CONFIG.nope 1 $dma\n")
    proc = subprocess.run([str(STAND_IN / "vivado"), "-mode", "batch", "-nojournal", "-notrace", "-source",
                           str(script), "-tclargs", "-a", "b"], cwd=tmp_path, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 1 and "args: -a b" in proc.stdout and "ERROR: set_property CONFIG.nope" in proc.stderr
    gui = subprocess.run([str(STAND_IN / "vivado"), "-mode", "gui"], capture_output=True, text=True, check=False)
    assert gui.returncode == 1 and "only -mode batch" in gui.stderr


# --- the proof that the stand-in and the checks catch a typo-like edit ------------------

BD = "block_design.tcl"
BUILD = "build_bitstream.tcl"
PKG = "package_rtl_ip.tcl"
PROJECT = "project.tcl"


def meaning(words: str) -> str:
    """A regex for a Tcl phrase: its words in order, any whitespace (spaces,
    newlines, backslash-newline continuations) between them."""
    return r"(?:\s|\\\n)+".join(re.escape(w) for w in words.split())


def find_once(text: str, pattern: str, file: str) -> re.Match:
    found = list(re.finditer(pattern, text))
    assert len(found) == 1, f"mutation target /{pattern}/ occurs {len(found)} times in {file}"
    return found[0]


class Edit:
    """One typo-like change to a vivado_tcl file, found by meaning.

    kind: "delete" removes the phrase; "replace" swaps the phrase for `new`;
    "setting" acts on `CONFIG.NAME VALUE` (new_name, new_value or delete);
    "move" cuts the phrase and puts it after the phrase `after`.
    """

    def __init__(self, file: str, phrase: str, new: str | None = None, move_after: str | None = None):
        self.file, self.phrase, self.new, self.move_after = file, phrase, new, move_after

    def apply(self, text: str) -> str:
        m = find_once(text, meaning(self.phrase), self.file)
        if self.move_after is not None:
            cut = text[:m.start()] + text[m.end():]
            a = find_once(cut, meaning(self.move_after), self.file)
            return cut[:a.end()] + "\n" + m.group(0) + "\n" + cut[a.end():]
        return text[:m.start()] + (self.new or "") + text[m.end():]


def setting(name: str, value: str | None = None, rename: str | None = None, current: str | None = None,
            file: str = BD) -> Edit:
    """CONFIG.name (the one now set to `current`, where two cells share the
    name): deleted (no value, no rename), given `value`, or spelled `rename`."""
    text = (VIVADO_TCL / file).read_text()
    now = r"(\{[^}]*\}|[^\s\]]+)" if current is None else r"\{?" + re.escape(current) + r"\}?"
    m = find_once(text, r"CONFIG\." + re.escape(name) + r"\s+" + now, file)
    old = m.group(0)
    if rename:
        new = old.replace(name, rename, 1)
    elif value is not None:
        new = f"CONFIG.{name} {value}"
    else:
        new = ""
    return Edit(file, old, new)


def word(file: str, old: str, new: str) -> Edit:
    return Edit(file, old, new)


PS7_AUTOMATION = ("apply_bd_automation -rule xilinx.com:bd_rule:processing_system7 -config [list make_external "
                  "\"FIXED_IO, DDR\" apply_board_preset $board_preset Master Disable Slave Disable] $ps")

# Each edit listed in issue 13 section 2, and more like them: the stand-in
# refuses them as Vivado would (an ERROR line, exit 1). name -> (edit, the
# stand-in's message).
REFUSED = {
    "misspelled-c_include_mm2s": (setting("c_include_mm2s", rename="c_include_mms2"),
                                  "ERROR: .*axi_dma:7.1 has no parameter 'c_include_mms2'"),
    "misspelled-PCW_EN_CLK0_PORT": (setting("PCW_EN_CLK0_PORT", rename="PCW_EN_CLK_0_PORT"),
                                    "ERROR: .*processing_system7:5.5 has no parameter 'PCW_EN_CLK_0_PORT'"),
    "dma-memory-width-33": (setting("c_m_axi_mm2s_data_width", "33"),
                            r"ERROR: \[IP_Flow 19-3461\] Value '33' is out of the range for parameter "
                            r"'c_m_axi_mm2s_data_width'"),
    "dma-stream-width-33": (setting("c_s_axis_s2mm_tdata_width", "33"),
                            r"ERROR: \[IP_Flow 19-3461\] Value '33' .*'c_s_axis_s2mm_tdata_width'"),
    "dma-length-width-27": (setting("c_sg_length_width", "27"),
                            r"ERROR: \[IP_Flow 19-3458\] .*'c_sg_length_width'.*out of the range \(8,26\)"),
    "register-range-48K": (word(BD, "variable reg_range 64K", "variable reg_range 48K"),
                           "ERROR: .*range 48K .* is not a power of two"),
    "register-range-too-small": (word(BD, "variable reg_range 64K", "variable reg_range 2K"),
                                 "ERROR: .*range 2K .* is outside what the segment takes"),
    "address-misaligned": (word(BD, "variable ip_base 0x43C00000", "variable ip_base 0x43C08000"),
                           r"ERROR: \[BD 41-1075\] The proposed address '0x43C08000 \[ 64K \]'.* misaligned"),
    "address-overlap": (word(BD, "variable intc_base 0x41800000", "variable intc_base 0x40400000"),
                        "ERROR: .*overlaps"),
    "ddr-range-1G": (word(BD, "variable ddr_range 512M", "variable ddr_range 1G"),
                     "ERROR: .*range 1G of .*HP0_DDR_LOWOCM is outside"),
    "misspelled-board-preset-key": (word(BD, "apply_board_preset $board_preset", "apply_board_presets $board_preset"),
                                    "ERROR: .*processing_system7 rule has no option 'apply_board_presets'"),
    "intc-mask-not-32-bit": (setting("C_KIND_OF_INTR", "0x1FFFFFFFF"),
                             r"ERROR: \[IP_Flow 19-3458\] .*'C_KIND_OF_INTR'.*32-bit"),
    "ddr-bus-width": (setting("PCW_UIPARAM_DDR_BUS_WIDTH", "{16 Bits}"),
                      r"ERROR: \[IP_Flow 19-3461\] Value '16 Bits' .*PCW_UIPARAM_DDR_BUS_WIDTH"),
    "interconnect-no-masters": (setting("NUM_MI", "0", current="3"), r"ERROR: \[IP_Flow 19-3458\] .*'NUM_MI'"),
    "unknown-pin": (word(BD, "[pin $ip/ap_clk]", "[pin $ip/ap_clock]"),
                    "ERROR: pin /lenet_0/ap_clock does not exist on lenet-pynq.org:rtl:lenet:1.0"),
    "unknown-interface": (word(BD, "[intf $ip/in_r]", "[intf $ip/in]"),
                          "ERROR: intf_pin /lenet_0/in does not exist"),
    "unknown-segment": (word(BD, "$intc/S_AXI/Reg", "$intc/s_axi/Reg"),
                        "ERROR: addr_seg /axi_intc_0/s_axi/Reg does not exist"),
    "wrong-ipx-property": (word(PKG, "set_property slave_memory_map_ref s_axi_control",
                                "set_property slave_memory_map s_axi_control"),
                           "ERROR: set_property: 'slave_memory_map' is not a property of the ipx busif"),
    "wrong-ipx-value": (word(PKG, "usage register", "usage registers"),
                        "ERROR: set_property: 'registers' is not a legal usage"),
    "wrong-reset-polarity": (word(PKG, "POLARITY ACTIVE_LOW", "POLARITY ACTIVE_LO"),
                             "ERROR: set_property: 'ACTIVE_LO' is not a legal POLARITY"),
    "misspelled-project-property": (word(PROJECT, "set_property target_language Verilog",
                                         "set_property target_langauge Verilog"),
                                    "ERROR: set_property: 'target_langauge' is not a property"),
}

# Deletions and changes Vivado would accept but that break the overlay: the
# checks above catch them (run with LENET_STUB_LENIENT=1, so the stand-in
# records design-rule problems and the checks speak). name -> (edit, what
# the failing check names).
CHECKED = {
    "dropped-import-files": (word(PKG, "-taxonomy /UserIP -import_files", "-taxonomy /UserIP"),
                             "not packaged under the IP"),
    "ps-no-automation": (Edit(BD, PS7_AUTOMATION), "PS7 automation missing"),
    # interface connections
    "mm2s-stream": (Edit(BD, "connect_bd_intf_net [intf $dma/M_AXIS_MM2S] [intf $ip/in_r]"), "M_AXIS_MM2S"),
    "s2mm-stream": (Edit(BD, "connect_bd_intf_net [intf $ip/out_r] [intf $dma/S_AXIS_S2MM]"), "S_AXIS_S2MM"),
    "mm2s-to-hp0": (Edit(BD, "connect_bd_intf_net [intf $dma/M_AXI_MM2S] [intf axi_mem_sc/S00_AXI]"),
                    "M_AXI_MM2S does not reach"),
    "s2mm-to-hp0": (Edit(BD, "connect_bd_intf_net [intf $dma/M_AXI_S2MM] [intf axi_mem_sc/S01_AXI]"),
                    "M_AXI_S2MM does not reach"),
    "sc-to-hp0": (Edit(BD, "connect_bd_intf_net [intf axi_mem_sc/M00_AXI] [intf processing_system7_0/S_AXI_HP0]"),
                  "S_AXI_HP0"),
    "gp0-to-ic": (Edit(BD, "connect_bd_intf_net [intf processing_system7_0/M_AXI_GP0] [intf axi_ctrl_ic/S00_AXI]"),
                  "M_AXI_GP0 does not reach"),
    "ic-to-dma-lite": (Edit(BD, "connect_bd_intf_net [intf axi_ctrl_ic/M00_AXI] [intf $dma/S_AXI_LITE]"),
                       "S_AXI_LITE"),
    "ic-to-ip-control": (Edit(BD, "connect_bd_intf_net [intf axi_ctrl_ic/M01_AXI] [intf $ip/s_axi_control]"),
                         "s_axi_control"),
    "ic-to-intc": (Edit(BD, "connect_bd_intf_net [intf axi_ctrl_ic/M02_AXI] [intf $intc/s_axi]"), "s_axi"),
    # interrupts
    "irq-ip": (Edit(BD, "connect_bd_net [pin $ip/interrupt] [pin irq_concat/In0]"), "interrupt"),
    "irq-mm2s": (Edit(BD, "connect_bd_net [pin $dma/mm2s_introut] [pin irq_concat/In1]"), "mm2s_introut"),
    "irq-s2mm": (Edit(BD, "connect_bd_net [pin $dma/s2mm_introut] [pin irq_concat/In2]"), "s2mm_introut"),
    "irq-swapped": (word(BD, "[pin irq_concat/In1]", "[pin irq_concat/In9]"), "In9|mm2s_introut"),
    "concat-to-intc": (Edit(BD, "connect_bd_net [pin irq_concat/dout] [pin $intc/intr]"), "intr"),
    "intc-to-ps": (Edit(BD, "connect_bd_net [pin $intc/irq] [pin processing_system7_0/IRQ_F2P]"), "IRQ_F2P"),
    "concat-straight-to-ps": (word(BD, "[pin irq_concat/dout] [pin $intc/intr]",
                                   "[pin irq_concat/dout] [pin processing_system7_0/IRQ_F2P]"),
                              "IRQ_F2P is not driven by axi_intc_0/irq alone"),
    # resets
    "ext-reset": (Edit(BD, "connect_bd_net [pin processing_system7_0/FCLK_RESET0_N] "
                           "[pin proc_sys_reset_0/ext_reset_in]"), "ext_reset_in"),
    "ic-reset": (Edit(BD, "connect_bd_net [pin proc_sys_reset_0/interconnect_aresetn] [pin axi_ctrl_ic/ARESETN]"),
                 "ARESETN"),
    # addresses
    "addr-dma": (Edit(BD, "-offset $dma_base", "-offset 0x40410000"), "S_AXI_LITE/Reg at 0x40410000"),
    "addr-intc": (word(BD, "variable intc_base 0x41800000", "variable intc_base 0x41810000"), "S_AXI/Reg at"),
    "addr-ip-missing": (Edit(BD, "[get_bd_addr_segs $ip/s_axi_control/Reg] -force", "{} -force"),
                        "s_axi_control/Reg in"),
    "addr-ddr-range": (word(BD, "variable ddr_range 512M", "variable ddr_range 256M"), "not all 512 MiB"),
    "addr-ddr-s2mm": (word(BD, "foreach space {Data_MM2S Data_S2MM}", "foreach space {Data_MM2S}"), "Data_S2MM"),
    # the build flow
    "no-validate": (Edit(BD, "validate_bd_design"), "validate_bd_design"),
    "no-synth-check": (Edit(BUILD, "lenet_run_or_fail synth_1"), "synth_1"),
    "no-timing-gate": (Edit(BUILD, "set timing [lenet_check_timing $reports_dir $::LENET_CLOCK_MHZ]",
                            "set timing {10.0 0.5 0.1}"), "get_timing_paths|timing is not checked"),
    "no-utilization": (Edit(BUILD, "report_utilization -file [file join $reports_dir utilization.rpt]"),
                       "utilization.rpt"),
    "no-build-facts": (Edit(BUILD, "lenet_write_build_facts [file join $reports_dir build_facts.json] $ip_kind "
                                   "$ip_vlnv $::LENET_CLOCK_MHZ $timing [lenet_utilization "
                                   "[report_utilization -return_string]]"), "build_facts.json"),
    "no-target-language": (Edit(PROJECT, "set_property target_language Verilog [current_project]"),
                           "target_language"),
    "hwh-gen-tree": (word(BUILD, "foreach tree {gen srcs}", "foreach tree {srcs}"), "hwh"),
    "overlay-name": (word(BUILD, "$overlay.hwh.part $overlay.hwh", "$overlay.hwh.part $overlay.xml"), "lenet.hwh"),
    "bitstream-before-timing": (Edit(BUILD, "set bit [file join $build_dir $bd_name.bit] write_bitstream -force $bit",
                                     move_after="report_timing_summary -max_paths 10 -file "
                                                "[file join $reports_dir timing_summary.rpt]"),
                                "timing is not checked before write_bitstream"),
    # RTL packaging
    "pkg-clock-in_r": (word(PKG, "foreach busif [concat $streams s_axi_control]",
                            "foreach busif [concat out_r s_axi_control]"), "in_r is not associated"),
    "pkg-clock-control": (word(PKG, "foreach busif [concat $streams s_axi_control]", "foreach busif $streams"),
                          "s_axi_control is not associated"),
    "pkg-reset": (Edit(PKG, "ipx::associate_bus_interfaces -clock ap_clk -reset ap_rst_n $core"), "ap_rst_n"),
    "pkg-freq": (word(PKG, "FREQ_HZ [expr {$::LENET_CLOCK_MHZ * 1000000}]", "FREQ_HZ 125000000"), "FREQ_HZ"),
    "pkg-freq-resolve": (word(PKG, "set_property value_resolve_type user", "set_property value_resolve_type immediate"),
                         "resolve type"),
    "pkg-polarity": (word(PKG, "POLARITY ACTIVE_LOW", "POLARITY ACTIVE_HIGH"), "polarity"),
    "pkg-sensitivity": (word(PKG, "SENSITIVITY LEVEL_HIGH", "SENSITIVITY EDGE_RISING"), "sensitivity"),
    "pkg-memory-map": (Edit(PKG, "set_property slave_memory_map_ref s_axi_control [lenet_busif $core s_axi_control]"),
                       "memory map"),
    "pkg-reg-block": (word(PKG, "ipx::add_address_block Reg $mmap", "ipx::add_address_block reg0 $mmap"),
                      "address block"),
    "pkg-reg-range": (word(PKG, "range [expr {1 << $::LENET_ADDR_WIDTH}]", "range 64"), "address block Reg"),
    "pkg-header": (Edit(PKG, "set_property file_type {Verilog Header} [get_files $headers]"), "Verilog Header"),
    "pkg-taxonomy": (word(PKG, "-taxonomy /UserIP", "-taxonomy /User"), "taxonomy"),
    "pkg-display-name": (word(PKG, 'display_name "LeNet-5 (Verilog twin)"', 'display_name ""'), "display_name"),
    "ip-repo": (word(BUILD, "set_property ip_repo_paths [list $ip_repo]", "set_property ip_repo_paths [list $build_dir]"),
                "not found in .*ip/rtl: run `make bitstream` \\(IP=rtl, the default\\)"),
}

# Every CONFIG setting of block_design.tcl, deleted one at a time, is caught:
# by name (the checks compare each cell's settings with EXPECTED_CONFIG), or
# by the stand-in when the IP's default then lacks a pin, interface or
# address window the design uses.
for _cell, _params in EXPECTED_CONFIG.items():
    for _name in _params:
        CHECKED[f"delete-{_cell}-{_name}"] = (setting(_name, current=_params[_name]
                                                      if _cell.startswith("axi_") else None),
                                           f"{_name}|ERROR: .*(does not exist|is outside)")
# Every clock and reset load, one deletion each.
for _pin in sorted(set(re.findall(r"^\s+\[pin ([^\]]+)\]", (VIVADO_TCL / BD).read_text(), re.MULTILINE))):
    CHECKED[f"net-{_pin.replace('$', '').replace('/', '-')}"] = (Edit(BD, f"[pin {_pin}]"), _pin.split("/")[-1])


def mutate(tmp: Path, edit: Edit, reformat=None) -> Path:
    """A copy of vivado_tcl/ (reformatted by `reformat` if given) with one edit."""
    tcl = tmp / "vivado_tcl"
    shutil.copytree(VIVADO_TCL, tcl)
    if reformat:
        for path in tcl.glob("*.tcl"):
            path.write_text(reformat(path.read_text()))
    path = tcl / edit.file
    path.write_text(edit.apply(path.read_text()))
    return tcl


def check_all(tmp: Path, tcl_dir: Path, env: dict | None = None) -> None:
    """Everything the tests above check, on one set of scripts."""
    check_rtl_package(package_rtl(tmp, tcl_dir, env), tmp)
    run = build_overlay(tmp, ip="rtl", tcl_dir=tcl_dir, env=env)
    check_block_design(run, contract.VLNV_RTL)
    check_build_flow(run, tmp, ip="rtl")


def test_unmutated_scripts_pass_every_check(tmp_path):
    check_all(tmp_path, VIVADO_TCL)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_stand_in_refuses_what_vivado_refuses(tmp_path, name):
    edit, message = REFUSED[name]
    with pytest.raises(AssertionError, match=message):
        check_all(tmp_path, mutate(tmp_path, edit))


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_a_deleted_or_changed_setting_is_caught(tmp_path, name):
    edit, names = CHECKED[name]
    with pytest.raises(AssertionError, match=names):
        check_all(tmp_path, mutate(tmp_path, edit), env={"LENET_STUB_LENIENT": "1"})


def test_ps7_settings_made_before_the_board_preset_are_caught(tmp_path):
    """With board files the preset rewrites the PS7: settings made before it are lost."""
    tcl = mutate(tmp_path, Edit(BD, PS7_AUTOMATION, move_after="CONFIG.PCW_IRQ_F2P_INTR 1 \\ ] $ps"))
    run = build_overlay(tmp_path, tcl_dir=tcl, board_part=contract.BOARD_PART,
                        env={"LENET_STUB_BOARD_PARTS": contract.BOARD_PART, "LENET_STUB_LENIENT": "1"})
    # The stand-in refuses the first use of a port the wiped configuration lacks.
    with pytest.raises(AssertionError, match="ERROR: intf_pin /processing_system7_0/S_AXI_HP0 does not exist"):
        check_block_design(run, contract.VLNV_HLS, board_preset=True)


def reindent(text: str) -> str:
    """The same Tcl laid out differently: indentation doubled, runs of spaces widened."""
    return re.sub(r"(?m)^( +)", lambda m: m.group(1) * 2, text).replace("] [", "]  [")


@pytest.mark.parametrize("name", ["misspelled-c_include_mm2s", "address-misaligned", "unknown-pin"])
def test_mutations_find_their_target_in_reindented_tcl(tmp_path, name):
    edit, message = REFUSED[name]
    with pytest.raises(AssertionError, match=message):
        check_all(tmp_path, mutate(tmp_path, edit, reformat=reindent))


def test_every_edit_finds_its_target_once_in_reindented_tcl():
    for name, (edit, _) in {**REFUSED, **CHECKED}.items():
        text = reindent((VIVADO_TCL / edit.file).read_text())
        assert edit.apply(text) != text, f"{name} changes nothing"


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
    """The default IP is the RTL (the IP proven furthest here); reports and facts go to reports/vivado/<ip>/."""
    make_copy(tmp_path)
    out = make(tmp_path, "-n", "bitstream").stdout
    steps = ["check_tools.sh vivado", "write_contract_tcl.py", "package_rtl_ip.tcl", "check_tools.sh vivado",
             "write_contract_tcl.py", "build_bitstream.tcl", "-ip rtl",
             "-reports_dir " + str(tmp_path / "reports/vivado/rtl"), "-overlay " + str(tmp_path / "overlay/lenet"),
             "-board_part none", "write_build_record.py reports/vivado/rtl/build_facts.json overlay/lenet",
             "echo rtl > build/vivado/overlay-ip"]
    at = 0
    for step in steps:
        found = out.find(step, at)
        assert found >= 0, f"`make -n bitstream` lacks {step!r} after position {at}:\n{out}"
        at = found + len(step)
    hls = make(tmp_path, "-n", "bitstream", "IP=hls").stdout
    assert "-ip hls" in hls and "package_rtl_ip.tcl" not in hls and "reports/vivado/hls" in hls
    board = make(tmp_path, "-n", "bitstream", f"BOARD_PART={contract.BOARD_PART}").stdout
    assert f"-board_part {contract.BOARD_PART}" in board


def test_make_bitstream_with_the_stand_in_writes_the_overlay_and_its_build_record(tmp_path):
    """The whole `make bitstream` (IP=rtl: packaging, build, record) with the Vivado stand-in on PATH."""
    from lenet_pynq import build_record

    make_copy(tmp_path)
    subprocess.run("git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm c",
                   shell=True, cwd=tmp_path, check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True,
                            check=True).stdout.strip()
    proc = make(tmp_path, "bitstream", path=f"{STAND_IN}:{os.environ['PATH']}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    overlay = tmp_path / "overlay"
    record = json.loads((overlay / "lenet.json").read_text())
    facts = json.loads((tmp_path / "reports" / "vivado" / "rtl" / "build_facts.json").read_text())
    assert record["vivado_version"] == "2024.1" and record["ip"] == "rtl" and record["ip_vlnv"] == contract.VLNV_RTL
    assert (record["git_commit"], record["git_dirty"]) == (commit, False)
    assert record["contract_version"] == contract.CONTRACT_VERSION
    assert record["bit_sha256"] == build_record.sha256(overlay / "lenet.bit")
    assert record["hwh_sha256"] == build_record.sha256(overlay / "lenet.hwh")
    assert (record["clock_mhz"], record["wns_ns"], record["whs_ns"]) == (contract.CLOCK_MHZ, 0.412, 0.031)
    assert record["utilization"] == facts["utilization"] and record["utilization"]["dsp"]["available"] == 220
    assert build_record.check_pair(overlay / "lenet.bit", overlay / "lenet.hwh") == record
    assert (tmp_path / "reports" / "vivado" / "rtl" / "timing_summary.rpt").exists()
    # A .hwh from another build (an edited design) beside this .bit is refused, in one line.
    (overlay / "lenet.hwh").write_text((overlay / "lenet.hwh").read_text().replace("26", "23"))
    with pytest.raises(LenetError, match=r"lenet\.hwh does not match .*lenet\.json: its SHA-256 is") as e:
        build_record.check_pair(overlay / "lenet.bit", overlay / "lenet.hwh")
    assert "\n" not in str(e.value)


def test_make_bitstream_without_vivado_fails_cleanly(tmp_path):
    make_copy(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    proc = make(tmp_path, "bitstream", path="/usr/bin:/bin")
    assert proc.returncode != 0
    assert "'vivado' is not on PATH" in proc.stderr and "2024.1" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before, "make left files behind"


def test_make_bitstream_ip_hls_without_vitis_says_what_to_install(tmp_path):
    """IP=hls builds its IP with `make hls` first; with no vitis_hls that stops at once, before Vivado."""
    make_copy(tmp_path)
    (tmp_path / "hls_src").mkdir()
    shutil.copy(ROOT / "hls_src" / "make_hls.sh", tmp_path / "hls_src")
    path = ":".join(d for d in [str(STAND_IN), *os.environ["PATH"].split(":")] if not (Path(d) / "vitis_hls").exists())
    proc = make(tmp_path, "bitstream", "IP=hls", path=path)
    assert proc.returncode != 0 and "'vitis_hls' is not on PATH" in proc.stderr
    assert not (tmp_path / "overlay").exists(), "make wrote an overlay without an IP"


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
        return make(tmp_path, "-q", "overlay/lenet.bit", "IP=hls", *args).returncode == 0

    assert up_to_date(), "nothing changed, yet make would rebuild"
    assert make(tmp_path, "-q", "overlay/lenet.bit").returncode != 0, "switching to the default IP=rtl does not rebuild"
    os.utime(tmp_path / "vivado_tcl" / BD, (1e10, 1e10))
    assert not up_to_date(), "a changed Tcl file does not rebuild"
    os.utime(tmp_path / "vivado_tcl" / BD, (1e9, 1e9))
    os.utime(tmp_path / "build" / "ip" / "hls" / "component.xml", (1e10, 1e10))
    assert not up_to_date(), "a changed HLS IP does not rebuild"
    os.utime(tmp_path / "build" / "ip" / "hls" / "component.xml", (1e9, 1e9))
    (overlay / "lenet.hwh").unlink()
    assert not up_to_date(), "a missing .hwh does not rebuild"
