"""A minimal .hwh (and stand-in .bit) of our block design, for the off-board seam.

pynq's ``Overlay`` reads everything it knows about a design from the .hwh
beside the .bit: the IP instances, their VLNV (which picks the driver),
their base addresses and their parameters (which the DMA driver and ours
check). Off the board there is no Vivado output, so this module writes the
smallest .hwh that pynq 3.1's parser (pynqmetadata's ``HwhFrontend`` +
``RuntimeMetadataParser``) turns into the same ``ip_dict`` entries as the
real one: the PS7 with FCLK0 at 100 MHz, ``axi_dma_0`` in simple mode with
``c_sg_length_width`` 26, ``lenet_0`` with the register map of
docs/contract.md section 3, and the interrupt path of vivado_tcl/block_design.tcl
(``lenet_0/interrupt``, ``axi_dma_0/mm2s_introut`` and ``s2mm_introut`` through
the concat ``irq_concat`` into ``axi_intc_0``, whose ``irq`` drives the PS's
``IRQ_F2P``), so pynq's ``interrupt_controllers`` and ``interrupt_pins`` come
out as on the board.

Parameters can be overridden to build *wrong* designs, so tests can check
that the driver refuses them before touching the hardware.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from .. import build_record
from .. import contract as C
from ..host import axi_dma

PS_NAME = "processing_system7_0"
INTC_NAME = "axi_intc_0"
CONCAT_NAME = "irq_concat"
IP_BASE = 0x43C0_0000  # where Vivado's address editor puts the first GP0 peripheral
DMA_BASE = 0x4040_0000  # and an AXI DMA
INTC_BASE = 0x4180_0000  # and an AXI interrupt controller (PYNQ's Z2 base design too)
# The concat's inputs in order, as block_design.tcl wires them: pynq numbers
# the controller's interrupts in this order.
IRQ_SOURCES = ((C.BD_IP_NAME, "interrupt"), (C.BD_DMA_NAME, "mm2s_introut"), (C.BD_DMA_NAME, "s2mm_introut"))
SEGMENT = 0x1_0000  # 64 KiB address segments, Vivado's default

DMA_PARAMETERS = {
    "c_include_sg": "0",
    "c_sg_length_width": "26",
    "c_micro_dma": "0",
    "c_include_mm2s": "1",
    "c_include_s2mm": "1",
    "c_m_axi_mm2s_data_width": "32",
    "c_m_axis_mm2s_tdata_width": "32",
    "c_m_axi_s2mm_data_width": "32",
    "c_s_axis_s2mm_tdata_width": "32",
    "c_include_mm2s_dre": "0",
    "c_include_s2mm_dre": "0",
    "c_mm2s_burst_size": "16",
    "c_s2mm_burst_size": "16",
    "c_addr_width": "32",
}

IP_PARAMETERS = {
    "C_S_AXI_CONTROL_ADDR_WIDTH": str(C.ADDR_WIDTH),
    "C_S_AXI_CONTROL_DATA_WIDTH": "32",
}

# What vivado_tcl/block_design.tcl sets (edge-triggered inputs, one level
# output), and the input count Vivado propagates from the concat.
INTC_PARAMETERS = {
    "C_NUM_INTR_INPUTS": str(len(IRQ_SOURCES)),
    "C_KIND_OF_INTR": "0xFFFFFFFF",
    "C_KIND_OF_EDGE": "0xFFFFFFFF",
    "C_IRQ_CONNECTION": "0",
    "C_IRQ_IS_LEVEL": "1",
    "C_IRQ_ACTIVE": "0x1",
}

# Register name, offset, access, description: contract section 3
REGISTERS = (
    ("CTRL", C.REG_CTRL, "read-write", "ap_start/ap_done/ap_idle/ap_ready/auto_restart/interrupt"),
    ("GIER", C.REG_GIE, "read-write", "global interrupt enable"),
    ("IP_IER", C.REG_IER, "read-write", "interrupt enable"),
    ("IP_ISR", C.REG_ISR, "read-write", "interrupt status (toggle on write)"),
    ("command", C.REG_COMMAND, "write-only", "the job: LOAD_WEIGHTS or INFER"),
    ("count", C.REG_COUNT, "write-only", "INFER: images in the job"),
    ("status", C.REG_STATUS, "read-only", "error code of the last job"),
    ("weights_crc", C.REG_WEIGHTS_CRC, "read-only", "CRC word of the loaded weights"),
    ("images_done", C.REG_IMAGES_DONE, "read-only", "images classified by the last job"),
)


def _parameters(params: dict[str, str]) -> str:
    rows = "\n".join(f"        <PARAMETER NAME={quoteattr(k)} VALUE={quoteattr(str(v))}/>" for k, v in params.items())
    return f"      <PARAMETERS>\n{rows}\n      </PARAMETERS>"


def _memrange(master: str, instance: str, slave: str, base: int, memtype: str, block: str) -> str:
    return (f'        <MEMRANGE ADDRESSBLOCK="{block}" BASENAME="C_BASEADDR" BASEVALUE="{base:#010x}" '
            f'HIGHNAME="C_HIGHADDR" HIGHVALUE="{base + SEGMENT - 1:#010x}" INSTANCE="{instance}" '
            f'IS_DATA="TRUE" IS_INSTRUCTION="TRUE" MASTERBUSINTERFACE="{master}" MEMTYPE="{memtype}" '
            f'SLAVEBUSINTERFACE="{slave}"/>')


def _port(name: str, direction: str, connections: tuple[tuple[str, str], ...], sigis: str = "INTERRUPT") -> str:
    """A scalar port and the instance/port pairs its net reaches, as Vivado writes them."""
    rows = "".join(f'\n            <CONNECTION INSTANCE="{i}" PORT="{p}"/>' for i, p in connections)
    sense = ' SENSITIVITY="LEVEL_HIGH"' if sigis == "INTERRUPT" and direction == "O" else ""
    return (f'        <PORT DIR="{direction}" NAME="{name}"{sense} SIGIS="{sigis}">\n'
            f'          <CONNECTIONS>{rows}\n          </CONNECTIONS>\n        </PORT>')


def _bus(name: str, kind: str, vlnv_name: str) -> str:
    return f'        <BUSINTERFACE NAME="{name}" TYPE="{kind}" VLNV="xilinx.com:interface:{vlnv_name}:1.0"/>'


def _concat_ports() -> str:
    ports = [_port(f"In{i}", "I", (src,)) for i, src in enumerate(IRQ_SOURCES)]
    ports.append(_port("dout", "O", ((INTC_NAME, "intr"),)))
    return "\n".join(ports)


def _source_ports(instance: str) -> str:
    """The interrupt outputs of one core, each wired to its concat input."""
    return "\n".join(_port(pin, "O", ((CONCAT_NAME, f"In{i}"),))
                     for i, (inst, pin) in enumerate(IRQ_SOURCES) if inst == instance)


def _registers() -> str:
    out = []
    for name, offset, access, text in REGISTERS:
        out.append(
            f'            <REGISTER NAME="{name}">\n'
            f'              <PROPERTY NAME="DESCRIPTION" VALUE={quoteattr(text)}/>\n'
            f'              <PROPERTY NAME="ADDRESS_OFFSET" VALUE="{offset:#x}"/>\n'
            f'              <PROPERTY NAME="SIZE" VALUE="32"/>\n'
            f'              <PROPERTY NAME="ACCESS" VALUE="{access}"/>\n'
            f'              <PROPERTY NAME="IS_ENABLED" VALUE="true"/>\n'
            f'            </REGISTER>')
    return "\n".join(out)


def hwh_text(ip_vlnv: str = C.VLNV_HLS, dma: dict[str, str] | None = None,
             ip: dict[str, str] | None = None, name: str = "lenet") -> str:
    """The .hwh of our block design; ``dma``/``ip`` override parameters of the two cores."""
    dma_params = {**DMA_PARAMETERS, **(dma or {})}
    ip_params = {**IP_PARAMETERS, **(ip or {})}
    ps_params = {}
    for clk in range(4):  # the parser asks about all four PL clocks; only FCLK0 is used
        ps_params.update({
            f"PCW_FPGA_FCLK{clk}_ENABLE": "1" if clk == 0 else "0",
            f"PCW_FCLK{clk}_PERIPHERAL_CLKSRC": "IO PLL",
            f"PCW_FCLK{clk}_PERIPHERAL_DIVISOR0": "5" if clk == 0 else "1",
            f"PCW_FCLK{clk}_PERIPHERAL_DIVISOR1": "2" if clk == 0 else "1",
            f"PCW_FPGA{clk}_PERIPHERAL_FREQMHZ": str(C.CLOCK_MHZ) if clk == 0 else "0",
        })
    _, _, ipname, version = ip_vlnv.split(":")
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<EDKSYSTEM EDWVERSION="1.2" TIMESTAMP="generated by lenet_pynq.sim.hwh" VIVADOVERSION="2024.1">
  <SYSTEMINFO ARCH="zynq" DEVICE="7z020" NAME="{name}" PACKAGE="clg400" SPEEDGRADE="-1"/>
  <EXTERNALPORTS/>
  <EXTERNALINTERFACES/>
  <MODULES>
    <MODULE FULLNAME="/{PS_NAME}" INSTANCE="{PS_NAME}" IPTYPE="PERIPHERAL" IS_PL="FALSE" MODTYPE="processing_system7" VLNV="xilinx.com:ip:processing_system7:5.5">
{_parameters(ps_params)}
      <PORTS>
{_port("IRQ_F2P", "I", ((INTC_NAME, "irq"),))}
      </PORTS>
      <BUSINTERFACES>
{_bus("M_AXI_GP0", "MASTER", "aximm")}
{_bus("S_AXI_HP0", "SLAVE", "aximm")}
      </BUSINTERFACES>
      <MEMORYMAP>
{_memrange("M_AXI_GP0", C.BD_DMA_NAME, "S_AXI_LITE", DMA_BASE, "REGISTER", "Reg")}
{_memrange("M_AXI_GP0", C.BD_IP_NAME, "s_axi_control", IP_BASE, "REGISTER", "Reg")}
{_memrange("M_AXI_GP0", INTC_NAME, "s_axi", INTC_BASE, "REGISTER", "Reg")}
      </MEMORYMAP>
    </MODULE>
    <MODULE FULLNAME="/{INTC_NAME}" HWVERSION="4.1" INSTANCE="{INTC_NAME}" IPTYPE="PERIPHERAL" MODCLASS="PERIPHERAL" MODTYPE="axi_intc" VLNV="xilinx.com:ip:axi_intc:4.1">
{_parameters(INTC_PARAMETERS)}
      <PORTS>
{_port("intr", "I", ((CONCAT_NAME, "dout"),))}
{_port("irq", "O", ((PS_NAME, "IRQ_F2P"),))}
      </PORTS>
      <ADDRESSBLOCKS>
        <ADDRESSBLOCK ACCESS="read-write" INTERFACE="s_axi" NAME="Reg" RANGE="{SEGMENT}" USAGE="register"/>
      </ADDRESSBLOCKS>
      <BUSINTERFACES>
{_bus("s_axi", "SLAVE", "aximm")}
      </BUSINTERFACES>
    </MODULE>
    <MODULE FULLNAME="/{CONCAT_NAME}" HWVERSION="2.1" INSTANCE="{CONCAT_NAME}" IPTYPE="PERIPHERAL" MODTYPE="xlconcat" VLNV="xilinx.com:ip:xlconcat:2.1">
{_parameters({"NUM_PORTS": str(len(IRQ_SOURCES))})}
      <PORTS>
{_concat_ports()}
      </PORTS>
    </MODULE>
    <MODULE FULLNAME="/{C.BD_DMA_NAME}" HWVERSION="7.1" INSTANCE="{C.BD_DMA_NAME}" IPTYPE="PERIPHERAL" MODCLASS="PERIPHERAL" MODTYPE="axi_dma" VLNV="{axi_dma.VLNV}">
{_parameters(dma_params)}
      <PORTS>
{_source_ports(C.BD_DMA_NAME)}
      </PORTS>
      <ADDRESSBLOCKS>
        <ADDRESSBLOCK ACCESS="read-write" INTERFACE="S_AXI_LITE" NAME="Reg" RANGE="{SEGMENT}" USAGE="register"/>
      </ADDRESSBLOCKS>
      <BUSINTERFACES>
{_bus("S_AXI_LITE", "SLAVE", "aximm")}
{_bus("M_AXI_MM2S", "MASTER", "aximm")}
{_bus("M_AXI_S2MM", "MASTER", "aximm")}
{_bus("M_AXIS_MM2S", "INITIATOR", "axis")}
{_bus("S_AXIS_S2MM", "TARGET", "axis")}
      </BUSINTERFACES>
      <MEMORYMAP>
        <MEMRANGE ADDRESSBLOCK="HP0_DDR_LOWOCM" BASENAME="C_BASEADDR" BASEVALUE="0x00000000" HIGHNAME="C_HIGHADDR" HIGHVALUE="0x1FFFFFFF" INSTANCE="{PS_NAME}" IS_DATA="TRUE" IS_INSTRUCTION="TRUE" MASTERBUSINTERFACE="M_AXI_MM2S" MEMTYPE="MEMORY" SLAVEBUSINTERFACE="S_AXI_HP0"/>
        <MEMRANGE ADDRESSBLOCK="HP0_DDR_LOWOCM" BASENAME="C_BASEADDR" BASEVALUE="0x00000000" HIGHNAME="C_HIGHADDR" HIGHVALUE="0x1FFFFFFF" INSTANCE="{PS_NAME}" IS_DATA="TRUE" IS_INSTRUCTION="TRUE" MASTERBUSINTERFACE="M_AXI_S2MM" MEMTYPE="MEMORY" SLAVEBUSINTERFACE="S_AXI_HP0"/>
      </MEMORYMAP>
    </MODULE>
    <MODULE FULLNAME="/{C.BD_IP_NAME}" HWVERSION="{version}" INSTANCE="{C.BD_IP_NAME}" IPTYPE="PERIPHERAL" MODCLASS="PERIPHERAL" MODTYPE="{ipname}" VLNV="{ip_vlnv}">
{_parameters(ip_params)}
      <PORTS>
{_source_ports(C.BD_IP_NAME)}
      </PORTS>
      <ADDRESSBLOCKS>
        <ADDRESSBLOCK ACCESS="read-write" INTERFACE="s_axi_control" NAME="Reg" RANGE="{SEGMENT}" USAGE="register">
          <REGISTERS>
{_registers()}
          </REGISTERS>
        </ADDRESSBLOCK>
      </ADDRESSBLOCKS>
      <BUSINTERFACES>
{_bus("s_axi_control", "SLAVE", "aximm")}
{_bus("in_r", "TARGET", "axis")}
{_bus("out_r", "INITIATOR", "axis")}
      </BUSINTERFACES>
    </MODULE>
  </MODULES>
</EDKSYSTEM>
"""


def write_design(directory: str | Path, name: str = "lenet", **overrides) -> Path:
    """Write ``<name>.hwh``, a stand-in ``<name>.bit`` and their build record to ``directory``; return the .bit path.

    The .bit only has to exist (pynq resolves the overlay by it); the seam
    never downloads it. The record (lenet_pynq/build_record.py) says what
    built it: no Vivado, no timing, no utilization. ``overrides`` go to
    :func:`hwh_text`.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    hwh = d / f"{name}.hwh"
    hwh.write_text(hwh_text(name=name, **overrides), encoding="utf-8")
    bit = d / f"{name}.bit"
    bit.write_bytes(b"lenet-pynq seam: not a bitstream; the off-board device never downloads it\n")
    ip_vlnv = overrides.get("ip_vlnv", C.VLNV_HLS)
    facts = {"vivado_version": "none (lenet_pynq.sim.hwh)", "ip": ip_vlnv.split(":")[1], "ip_vlnv": ip_vlnv,
             "clock_mhz": C.CLOCK_MHZ, "wns_ns": None, "whs_ns": None, "utilization": None}
    build_record.write_record(build_record.record_path(bit), build_record.make_record(facts, bit, hwh, "none", None))
    return bit
