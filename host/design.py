"""The block design as the .hwh describes it, checked before any register is touched.

An impossible design (another IP at ``lenet_0``, a scatter-gather DMA, a
buffer-length width too small for the weights blob, a stream that is not 32
bits wide) is refused with :class:`LenetConfigError` naming the fix. The
parameter names are PG021's as Vivado writes them into the .hwh.
"""

from __future__ import annotations

from .. import contract as C
from . import axi_dma as R
from .errors import LenetConfigError


def _param(params: dict, name: str) -> str | None:
    """A parameter by name, whatever the case Vivado used for it."""
    for key in (name, name.lower(), name.upper()):
        if key in params:
            return str(params[key])
    return None


def check_ip_description(desc: dict) -> None:
    """Refuse an ``ip_dict`` entry for ``lenet_0`` that is not our IP as the contract defines it."""
    if desc.get("type") not in (C.VLNV_HLS, C.VLNV_RTL):
        raise LenetConfigError(
            f"{C.BD_IP_NAME} is {desc.get('type')!r}, expected {C.VLNV_HLS} or {C.VLNV_RTL}; "
            "the .hwh belongs to another design (rebuild with `make bitstream`)")
    # Vitis HLS sizes the port to the highest register it generates (docs/contract.md section 3),
    # and so does rtl/: both give ADDR_WIDTH bits. Fewer cannot reach every register the driver uses.
    width = _param(desc.get("parameters", {}), "C_S_AXI_CONTROL_ADDR_WIDTH")
    if width is not None and int(width) < C.ADDR_WIDTH:
        raise LenetConfigError(
            f"{C.BD_IP_NAME}: s_axi_control address width {width} is narrower than the {C.ADDR_WIDTH} bits of "
            f"the contract's register map (up to {C.REG_LAST:#x}; IMAGES_DONE at {C.REG_IMAGES_DONE:#x}); the IP "
            "was built from another version of the contract: rebuild it with `make hls` or from rtl/")
    if desc.get("addr_range", 0) < 1 << C.ADDR_WIDTH:
        raise LenetConfigError(
            f"{C.BD_IP_NAME}: address range {desc.get('addr_range')} bytes is smaller than the "
            f"{1 << C.ADDR_WIDTH} bytes of its registers; fix the address editor in vivado_tcl/")


def check_dma_description(desc: dict) -> int:
    """Refuse a DMA this driver cannot use; return its largest transfer in bytes.

    Requirements (PG021 parameter names, as the .hwh spells them): AXI DMA
    7.1, simple mode (``c_include_sg`` 0, ``c_micro_dma`` 0), both channels,
    32-bit memory-map and stream widths, and ``c_sg_length_width`` wide enough
    for one weights blob in a single transfer.
    """
    if desc.get("type") != R.VLNV:
        raise LenetConfigError(f"{C.BD_DMA_NAME} is {desc.get('type')!r}, expected {R.VLNV}")
    p = desc.get("parameters", {})
    problems = []

    def need(name: str, want: str, why: str) -> None:
        got = _param(p, name)
        if got is None:
            problems.append(f"{name} is missing from the .hwh ({why})")
        elif got != want:
            problems.append(f"{name} is {got}, must be {want} ({why})")

    need("c_include_sg", "0", "the driver uses simple mode; rebuild the DMA without scatter-gather")
    need("c_micro_dma", "0", "micro DMA limits a transfer to one burst")
    need("c_include_mm2s", "1", "images and weights go to the IP through MM2S")
    need("c_include_s2mm", "1", "results come back through S2MM")
    for name in ("c_m_axi_mm2s_data_width", "c_m_axis_mm2s_tdata_width",
                 "c_m_axi_s2mm_data_width", "c_s_axis_s2mm_tdata_width"):
        need(name, str(8 * C.WORD_BYTES), "the IP's streams are 32 bits wide")
    width = _param(p, "c_sg_length_width")
    max_bytes = R.length_width_max(int(width)) if width is not None else 0
    if max_bytes < C.BLOB_BYTES:
        problems.append(
            f"c_sg_length_width is {width}: transfers of at most {max_bytes} bytes, but a weights blob is "
            f"{C.BLOB_BYTES} bytes in one transfer; set it to 26 in vivado_tcl/ (the default 14 allows 16 KB)")
    if problems:
        raise LenetConfigError(f"{C.BD_DMA_NAME} cannot be used: " + "; ".join(problems))
    return max_bytes


def check_design(ip_dict: dict) -> int:
    """Check both cores of the block design in an overlay's ``ip_dict``; return the DMA's transfer limit."""
    for name in (C.BD_IP_NAME, C.BD_DMA_NAME):
        if name not in ip_dict:
            raise LenetConfigError(
                f"the .hwh has no IP named {name} (it has {sorted(ip_dict)}); "
                "is the .hwh from this project's block design, with the same base name as the .bit?")
    check_ip_description(ip_dict[C.BD_IP_NAME])
    return check_dma_description(ip_dict[C.BD_DMA_NAME])
