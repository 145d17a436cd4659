# The block design: Zynq PS7 + AXI DMA (simple mode) + the LeNet IP.
#
#   DDR ◄─ HP0 ◄─ smartconnect ◄─ DMA M_AXI_MM2S / M_AXI_S2MM
#   DMA M_AXIS_MM2S ─► lenet in_r      lenet out_r ─► DMA S_AXIS_S2MM
#   PS M_AXI_GP0 ─► interconnect ─► DMA S_AXI_LITE, lenet s_axi_control
#   lenet interrupt, DMA mm2s_introut, s2mm_introut ─► concat ─► PS IRQ_F2P
#
# Everything runs on FCLK_CLK0 (docs/contract.md: one 100 MHz clock), reset
# by one proc_sys_reset. Instance names of the DMA and the IP come from the
# contract: the driver finds them by those names in the .hwh.

namespace eval lenet_bd {
    # Register windows on M_AXI_GP0 (0x4000_0000-0x7FFF_FFFF): the addresses
    # Vivado's own assignment gives these cores, pinned so that every build
    # (HLS or RTL IP) has the same map.
    variable dma_base 0x40400000
    variable ip_base 0x43C00000
    variable reg_range 64K
    # The PYNQ-Z2's 512 MiB of DDR3, seen by the DMA through HP0.
    variable ddr_base 0x00000000
    variable ddr_range 512M
}

proc lenet_bd::cell {vlnv name} {
    return [create_bd_cell -type ip -vlnv $vlnv $name]
}

proc lenet_bd::pin {path} {
    return [get_bd_pins $path]
}

proc lenet_bd::intf {path} {
    return [get_bd_intf_pins $path]
}

# PS7 with the PYNQ-Z2 preset (DDR, MIO, clocks as the board needs them),
# then the ports this design uses. The preset rewrites the PS configuration,
# so our settings come after it.
proc lenet_bd::add_ps7 {clock_mhz} {
    set ps [cell xilinx.com:ip:processing_system7:5.5 processing_system7_0]
    apply_bd_automation -rule xilinx.com:bd_rule:processing_system7 \
        -config {make_external "FIXED_IO, DDR" apply_board_preset "1" Master "Disable" Slave "Disable"} $ps
    set_property -dict [list \
        CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ $clock_mhz \
        CONFIG.PCW_EN_CLK0_PORT 1 \
        CONFIG.PCW_EN_RST0_PORT 1 \
        CONFIG.PCW_USE_M_AXI_GP0 1 \
        CONFIG.PCW_USE_S_AXI_HP0 1 \
        CONFIG.PCW_USE_FABRIC_INTERRUPT 1 \
        CONFIG.PCW_IRQ_F2P_INTR 1 \
    ] $ps
    return $ps
}

# Simple mode (no scatter-gather, no micro DMA) is what pynq's DMA driver and
# ours (host/driver.py refuses anything else) drive; 26 length bits allow
# 64 MiB per transfer where the default 14 stops at 16 KiB (a LOAD_WEIGHTS
# job alone is 62,436 bytes).
proc lenet_bd::add_dma {name} {
    set dma [cell xilinx.com:ip:axi_dma:7.1 $name]
    set_property -dict [list \
        CONFIG.c_include_sg 0 \
        CONFIG.c_micro_dma 0 \
        CONFIG.c_sg_length_width 26 \
        CONFIG.c_include_mm2s 1 \
        CONFIG.c_include_s2mm 1 \
        CONFIG.c_m_axis_mm2s_tdata_width 32 \
        CONFIG.c_s_axis_s2mm_tdata_width 32 \
        CONFIG.c_m_axi_mm2s_data_width 32 \
        CONFIG.c_m_axi_s2mm_data_width 32 \
    ] $dma
    return $dma
}

proc lenet_bd::add_interconnects {} {
    # Control: one PS master, two AXI-Lite register files.
    set ctrl [cell xilinx.com:ip:axi_interconnect:2.1 axi_ctrl_ic]
    set_property -dict [list CONFIG.NUM_SI 1 CONFIG.NUM_MI 2] $ctrl
    # Data: both DMA masters share HP0.
    set mem [cell xilinx.com:ip:smartconnect:1.0 axi_mem_sc]
    set_property -dict [list CONFIG.NUM_SI 2 CONFIG.NUM_MI 1] $mem
    return [list $ctrl $mem]
}

proc lenet_bd::connect_axi {ip dma} {
    # Streams: MM2S feeds the IP, the IP's results go back through S2MM.
    connect_bd_intf_net [intf $dma/M_AXIS_MM2S] [intf $ip/in_r]
    connect_bd_intf_net [intf $ip/out_r] [intf $dma/S_AXIS_S2MM]
    # DMA data into DDR through HP0.
    connect_bd_intf_net [intf $dma/M_AXI_MM2S] [intf axi_mem_sc/S00_AXI]
    connect_bd_intf_net [intf $dma/M_AXI_S2MM] [intf axi_mem_sc/S01_AXI]
    connect_bd_intf_net [intf axi_mem_sc/M00_AXI] [intf processing_system7_0/S_AXI_HP0]
    # Registers of the DMA and the IP behind M_AXI_GP0.
    connect_bd_intf_net [intf processing_system7_0/M_AXI_GP0] [intf axi_ctrl_ic/S00_AXI]
    connect_bd_intf_net [intf axi_ctrl_ic/M00_AXI] [intf $dma/S_AXI_LITE]
    connect_bd_intf_net [intf axi_ctrl_ic/M01_AXI] [intf $ip/s_axi_control]
}

proc lenet_bd::connect_clock_and_reset {ip dma} {
    set rst [cell xilinx.com:ip:proc_sys_reset:5.0 proc_sys_reset_0]
    connect_bd_net [pin processing_system7_0/FCLK_CLK0] \
        [pin processing_system7_0/M_AXI_GP0_ACLK] \
        [pin processing_system7_0/S_AXI_HP0_ACLK] \
        [pin proc_sys_reset_0/slowest_sync_clk] \
        [pin $dma/s_axi_lite_aclk] \
        [pin $dma/m_axi_mm2s_aclk] \
        [pin $dma/m_axi_s2mm_aclk] \
        [pin $ip/ap_clk] \
        [pin axi_mem_sc/aclk] \
        [pin axi_ctrl_ic/ACLK] \
        [pin axi_ctrl_ic/S00_ACLK] \
        [pin axi_ctrl_ic/M00_ACLK] \
        [pin axi_ctrl_ic/M01_ACLK]
    connect_bd_net [pin processing_system7_0/FCLK_RESET0_N] [pin proc_sys_reset_0/ext_reset_in]
    connect_bd_net [pin proc_sys_reset_0/peripheral_aresetn] \
        [pin $dma/axi_resetn] \
        [pin $ip/ap_rst_n] \
        [pin axi_mem_sc/aresetn] \
        [pin axi_ctrl_ic/S00_ARESETN] \
        [pin axi_ctrl_ic/M00_ARESETN] \
        [pin axi_ctrl_ic/M01_ARESETN]
    # The interconnect's own reset comes from the interconnect output, as
    # Vivado's connection automation wires it.
    connect_bd_net [pin proc_sys_reset_0/interconnect_aresetn] [pin axi_ctrl_ic/ARESETN]
    return $rst
}

# pynq reads this wiring from the .hwh: concat inputs In0..In2 become the
# PS interrupt lines, in this order.
proc lenet_bd::connect_interrupts {ip dma} {
    set irq [cell xilinx.com:ip:xlconcat:2.1 irq_concat]
    set_property -dict [list CONFIG.NUM_PORTS 3] $irq
    connect_bd_net [pin $ip/interrupt] [pin irq_concat/In0]
    connect_bd_net [pin $dma/mm2s_introut] [pin irq_concat/In1]
    connect_bd_net [pin $dma/s2mm_introut] [pin irq_concat/In2]
    connect_bd_net [pin irq_concat/dout] [pin processing_system7_0/IRQ_F2P]
    return $irq
}

proc lenet_bd::assign_addresses {ip dma} {
    variable dma_base
    variable ip_base
    variable reg_range
    variable ddr_base
    variable ddr_range
    set ps_data [get_bd_addr_spaces processing_system7_0/Data]
    assign_bd_address -offset $dma_base -range $reg_range -target_address_space $ps_data \
        [get_bd_addr_segs $dma/S_AXI_LITE/Reg] -force
    assign_bd_address -offset $ip_base -range $reg_range -target_address_space $ps_data \
        [get_bd_addr_segs $ip/s_axi_control/Reg] -force
    set ddr [get_bd_addr_segs processing_system7_0/S_AXI_HP0/HP0_DDR_LOWOCM]
    foreach space {Data_MM2S Data_S2MM} {
        assign_bd_address -offset $ddr_base -range $ddr_range \
            -target_address_space [get_bd_addr_spaces $dma/$space] $ddr -force
    }
}

# Creates, validates and saves the design; returns its .bd file.
proc lenet_bd::create {bd_name ip_vlnv ip_name dma_name clock_mhz} {
    create_bd_design $bd_name
    add_ps7 $clock_mhz
    add_dma $dma_name
    cell $ip_vlnv $ip_name
    add_interconnects
    connect_axi $ip_name $dma_name
    connect_clock_and_reset $ip_name $dma_name
    connect_interrupts $ip_name $dma_name
    assign_addresses $ip_name $dma_name
    validate_bd_design
    save_bd_design
    return [get_files $bd_name.bd]
}
