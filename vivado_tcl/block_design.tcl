# The block design: Zynq PS7 + AXI DMA (simple mode) + the LeNet IP.
#
#   DDR ◄─ HP0 ◄─ smartconnect ◄─ DMA M_AXI_MM2S / M_AXI_S2MM
#   DMA M_AXIS_MM2S ─► lenet in_r      lenet out_r ─► DMA S_AXIS_S2MM
#   PS M_AXI_GP0 ─► interconnect ─► DMA S_AXI_LITE, lenet s_axi_control, intc s_axi
#   lenet interrupt, DMA mm2s_introut, s2mm_introut ─► concat ─► axi_intc ─► IRQ_F2P[0]
#
# Everything runs on FCLK_CLK0 (docs/contract.md: one 100 MHz clock), reset
# by one proc_sys_reset. Instance names of the DMA and the IP come from the
# contract: the driver finds them by those names in the .hwh.
#
# No board files are needed: the PS7 settings the PYNQ-Z2 needs are set here
# explicitly (ps7_board_settings). With board files (-board_part), the board
# preset is applied first and the same explicit settings then win.

namespace eval lenet_bd {
    # Register windows on M_AXI_GP0 (0x4000_0000-0x7FFF_FFFF): the addresses
    # Vivado's own assignment gives these cores (PYNQ v3.1's Z2 base design
    # puts its axi_intc at 0x4180_0000 too), pinned so that every build (HLS
    # or RTL IP) has the same map.
    variable dma_base 0x40400000
    variable intc_base 0x41800000
    variable ip_base 0x43C00000
    variable reg_range 64K
    # The PYNQ-Z2's 512 MiB of DDR3, seen by the DMA through HP0.
    variable ddr_base 0x00000000
    variable ddr_range 512M
    variable intc_name axi_intc_0
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

# The PYNQ-Z2's PS7 configuration that matters to this overlay, as PYNQ v3.1's
# own Z2 base design sets it (boards/Pynq-Z2/base/base.tcl, exported by Vivado
# 2024.1). The 50 MHz PS crystal matters most: Vivado derives the FCLK0
# divisors the .hwh states from it, and pynq's Overlay.download programs FCLK0
# with those divisors (pynq/overlay.py, Clocks.set_pl_clk) on the board's real
# IO PLL; a PS7 left at its default 33.333 MHz crystal states divisors 4 and 4
# for 100 MHz (a preset-less .hwh in pynqmetadata's tests, resizer.hwh), made
# for another IO PLL. Also the bank voltages and the DDR3 (one 4 Gbit x16
# device on a 16-bit bus: 512 MiB, the size of the HP0 DDR segment the DMA is
# given below). MIO peripherals are left out: the board's boot loader
# configures them, and pynq reads none of them from the .hwh
# (pynq/metadata/*_view.py).
proc lenet_bd::ps7_board_settings {} {
    return [list \
        CONFIG.PCW_PRESET_BANK0_VOLTAGE {LVCMOS 3.3V} \
        CONFIG.PCW_PRESET_BANK1_VOLTAGE {LVCMOS 1.8V} \
        CONFIG.PCW_CRYSTAL_PERIPHERAL_FREQMHZ 50 \
        CONFIG.PCW_APU_PERIPHERAL_FREQMHZ 650 \
        CONFIG.PCW_UIPARAM_DDR_MEMORY_TYPE {DDR 3} \
        CONFIG.PCW_UIPARAM_DDR_PARTNO Custom \
        CONFIG.PCW_UIPARAM_DDR_BUS_WIDTH {16 Bit} \
        CONFIG.PCW_UIPARAM_DDR_DEVICE_CAPACITY {4096 MBits} \
        CONFIG.PCW_UIPARAM_DDR_DRAM_WIDTH {16 Bits} \
        CONFIG.PCW_UIPARAM_DDR_SPEED_BIN DDR3_1066F \
        CONFIG.PCW_UIPARAM_DDR_FREQ_MHZ 525 \
        CONFIG.PCW_UIPARAM_DDR_ROW_ADDR_COUNT 15 \
        CONFIG.PCW_UIPARAM_DDR_COL_ADDR_COUNT 10 \
        CONFIG.PCW_UIPARAM_DDR_BANK_ADDR_COUNT 3 \
        CONFIG.PCW_UIPARAM_DDR_CL 7 \
        CONFIG.PCW_UIPARAM_DDR_CWL 6 \
        CONFIG.PCW_UIPARAM_DDR_T_RCD 13.125 \
        CONFIG.PCW_UIPARAM_DDR_T_RP 13.125 \
        CONFIG.PCW_UIPARAM_DDR_T_RC 50.625 \
        CONFIG.PCW_UIPARAM_DDR_T_RAS_MIN 35.0 \
        CONFIG.PCW_UIPARAM_DDR_T_FAW 40.0 \
    ]
}

# PS7 for the PYNQ-Z2, then the ports this design uses. DDR and FIXED_IO are
# made external by the PS7 automation; the board preset (board_preset 1, only
# with board files) rewrites the PS configuration, so every setting of ours
# comes after it.
proc lenet_bd::add_ps7 {clock_mhz board_preset} {
    set ps [cell xilinx.com:ip:processing_system7:5.5 processing_system7_0]
    apply_bd_automation -rule xilinx.com:bd_rule:processing_system7 -config [list \
        make_external "FIXED_IO, DDR" apply_board_preset $board_preset \
        Master Disable Slave Disable] $ps
    set_property -dict [ps7_board_settings] $ps
    set_property -dict [list \
        CONFIG.PCW_FPGA_FCLK0_ENABLE 1 \
        CONFIG.PCW_FCLK0_PERIPHERAL_CLKSRC {IO PLL} \
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
# job alone is 62,436 bytes). Both channels, 32 bits wide on the stream side
# (the IP's TDATA) and on the memory side.
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

# PYNQ 3.1 sees only interrupts that reach IRQ_F2P[0] through an AXI interrupt
# controller (pynq/metadata/interrupt_controllers_view.py walks from the PS
# IRQ pin to axi_intc cells; docs: pynq_libraries/interrupt.rst), as its Z2
# base overlay wires them (system_interrupts -> IRQ_F2P). Its inputs are
# edge-triggered, as PYNQ's interrupt documentation tells (the default, level,
# makes every second wait return at once: the IP's level interrupt is still
# high when pynq acknowledges the controller). Its output is a single level,
# active-high wire: IRQ_F2P[0] is the one fabric interrupt the PYNQ image
# gives a UIO device, declared level-high (meta-pynq pynq_uio_zynq.dtsi,
# interrupts = <0 29 4>). The input kind is marked user-set (VALUE_SRC USER,
# the GUI's "Manual") so that validation does not propagate it back to level
# from the sources' LEVEL_HIGH sensitivity.
proc lenet_bd::add_intc {} {
    variable intc_name
    set intc [cell xilinx.com:ip:axi_intc:4.1 $intc_name]
    set_property -dict [list \
        CONFIG.C_KIND_OF_INTR.VALUE_SRC USER \
        CONFIG.C_KIND_OF_INTR 0xFFFFFFFF \
        CONFIG.C_KIND_OF_EDGE 0xFFFFFFFF \
        CONFIG.C_IRQ_CONNECTION 0 \
        CONFIG.C_IRQ_IS_LEVEL 1 \
        CONFIG.C_IRQ_ACTIVE 0x1 \
    ] $intc
    return $intc
}

proc lenet_bd::add_interconnects {} {
    # Control: one PS master; the DMA's, the IP's and the intc's registers.
    set ctrl [cell xilinx.com:ip:axi_interconnect:2.1 axi_ctrl_ic]
    set_property -dict [list CONFIG.NUM_SI 1 CONFIG.NUM_MI 3] $ctrl
    # Data: both DMA masters share HP0.
    set mem [cell xilinx.com:ip:smartconnect:1.0 axi_mem_sc]
    set_property -dict [list CONFIG.NUM_SI 2 CONFIG.NUM_MI 1] $mem
    return [list $ctrl $mem]
}

proc lenet_bd::connect_axi {ip dma intc} {
    # Streams: MM2S feeds the IP, the IP's results go back through S2MM.
    connect_bd_intf_net [intf $dma/M_AXIS_MM2S] [intf $ip/in_r]
    connect_bd_intf_net [intf $ip/out_r] [intf $dma/S_AXIS_S2MM]
    # DMA data into DDR through HP0.
    connect_bd_intf_net [intf $dma/M_AXI_MM2S] [intf axi_mem_sc/S00_AXI]
    connect_bd_intf_net [intf $dma/M_AXI_S2MM] [intf axi_mem_sc/S01_AXI]
    connect_bd_intf_net [intf axi_mem_sc/M00_AXI] [intf processing_system7_0/S_AXI_HP0]
    # Registers of the DMA, the IP and the interrupt controller behind M_AXI_GP0.
    connect_bd_intf_net [intf processing_system7_0/M_AXI_GP0] [intf axi_ctrl_ic/S00_AXI]
    connect_bd_intf_net [intf axi_ctrl_ic/M00_AXI] [intf $dma/S_AXI_LITE]
    connect_bd_intf_net [intf axi_ctrl_ic/M01_AXI] [intf $ip/s_axi_control]
    connect_bd_intf_net [intf axi_ctrl_ic/M02_AXI] [intf $intc/s_axi]
}

proc lenet_bd::connect_clock_and_reset {ip dma intc} {
    set rst [cell xilinx.com:ip:proc_sys_reset:5.0 proc_sys_reset_0]
    connect_bd_net [pin processing_system7_0/FCLK_CLK0] \
        [pin processing_system7_0/M_AXI_GP0_ACLK] \
        [pin processing_system7_0/S_AXI_HP0_ACLK] \
        [pin proc_sys_reset_0/slowest_sync_clk] \
        [pin $dma/s_axi_lite_aclk] \
        [pin $dma/m_axi_mm2s_aclk] \
        [pin $dma/m_axi_s2mm_aclk] \
        [pin $ip/ap_clk] \
        [pin $intc/s_axi_aclk] \
        [pin axi_mem_sc/aclk] \
        [pin axi_ctrl_ic/ACLK] \
        [pin axi_ctrl_ic/S00_ACLK] \
        [pin axi_ctrl_ic/M00_ACLK] \
        [pin axi_ctrl_ic/M01_ACLK] \
        [pin axi_ctrl_ic/M02_ACLK]
    connect_bd_net [pin processing_system7_0/FCLK_RESET0_N] [pin proc_sys_reset_0/ext_reset_in]
    connect_bd_net [pin proc_sys_reset_0/peripheral_aresetn] \
        [pin $dma/axi_resetn] \
        [pin $ip/ap_rst_n] \
        [pin $intc/s_axi_aresetn] \
        [pin axi_mem_sc/aresetn] \
        [pin axi_ctrl_ic/S00_ARESETN] \
        [pin axi_ctrl_ic/M00_ARESETN] \
        [pin axi_ctrl_ic/M01_ARESETN] \
        [pin axi_ctrl_ic/M02_ARESETN]
    # The interconnect's own reset comes from the interconnect output, as
    # Vivado's connection automation wires it.
    connect_bd_net [pin proc_sys_reset_0/interconnect_aresetn] [pin axi_ctrl_ic/ARESETN]
    return $rst
}

# pynq numbers the controller's inputs in the order its concat's In pins
# reach them (pynq/metadata/interrupt_pins_view.py): the IP's interrupt is
# input 0, the DMA's mm2s_introut 1 and s2mm_introut 2.
proc lenet_bd::connect_interrupts {ip dma intc} {
    set irq [cell xilinx.com:ip:xlconcat:2.1 irq_concat]
    set_property -dict [list CONFIG.NUM_PORTS 3] $irq
    connect_bd_net [pin $ip/interrupt] [pin irq_concat/In0]
    connect_bd_net [pin $dma/mm2s_introut] [pin irq_concat/In1]
    connect_bd_net [pin $dma/s2mm_introut] [pin irq_concat/In2]
    connect_bd_net [pin irq_concat/dout] [pin $intc/intr]
    connect_bd_net [pin $intc/irq] [pin processing_system7_0/IRQ_F2P]
    return $irq
}

proc lenet_bd::assign_addresses {ip dma intc} {
    variable dma_base
    variable intc_base
    variable ip_base
    variable reg_range
    variable ddr_base
    variable ddr_range
    set ps_data [get_bd_addr_spaces processing_system7_0/Data]
    assign_bd_address -offset $dma_base -range $reg_range -target_address_space $ps_data \
        [get_bd_addr_segs $dma/S_AXI_LITE/Reg] -force
    assign_bd_address -offset $ip_base -range $reg_range -target_address_space $ps_data \
        [get_bd_addr_segs $ip/s_axi_control/Reg] -force
    assign_bd_address -offset $intc_base -range $reg_range -target_address_space $ps_data \
        [get_bd_addr_segs $intc/S_AXI/Reg] -force
    set ddr [get_bd_addr_segs processing_system7_0/S_AXI_HP0/HP0_DDR_LOWOCM]
    foreach space {Data_MM2S Data_S2MM} {
        assign_bd_address -offset $ddr_base -range $ddr_range \
            -target_address_space [get_bd_addr_spaces $dma/$space] $ddr -force
    }
}

# Creates, validates and saves the design; returns its .bd file.
# board_preset: 1 to apply the board files' PS7 preset first (-board_part).
proc lenet_bd::create {bd_name ip_vlnv ip_name dma_name clock_mhz board_preset} {
    variable intc_name
    create_bd_design $bd_name
    add_ps7 $clock_mhz $board_preset
    add_dma $dma_name
    cell $ip_vlnv $ip_name
    add_intc
    add_interconnects
    connect_axi $ip_name $dma_name $intc_name
    connect_clock_and_reset $ip_name $dma_name $intc_name
    connect_interrupts $ip_name $dma_name $intc_name
    assign_addresses $ip_name $dma_name $intc_name
    validate_bd_design
    save_bd_design
    return [get_files $bd_name.bd]
}
