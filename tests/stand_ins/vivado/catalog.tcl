# What the stand-in knows of each IP the design uses: its CONFIG parameters
# with the values Vivado 2024.1 accepts and their defaults, and the pins,
# interfaces, address spaces and segments each configuration has.
#
# Sources (names and values were checked against these, nothing copied):
#  - Xilinx/PYNQ v3.1 boards/Pynq-Z2/base/base.tcl: a block design exported
#    by Vivado 2024.1 (scripts_vivado_version 2024.1) with processing_system7
#    5.5, axi_dma 7.1, axi_intc 4.1, axi_interconnect 2.1, xlconcat 2.1 and
#    proc_sys_reset 5.0: parameter names, their spelling and value formats
#    ({16 Bit}, {DDR 3}, {LVCMOS 3.3V}, IO PLL), the axi_intc pin and segment
#    names (s_axi, intr, irq, S_AXI/Reg).
#  - The product guides: PG082 Processing System 7 (FCLK up to 250 MHz), UG585
#    Zynq-7000 TRM (PS_CLK 30-60 MHz), PG021 AXI DMA 7.1 (stream widths 8..1024,
#    memory-map widths 32..1024, buffer length register 8..26 bits, burst
#    sizes 2..256), PG099 AXI Interrupt Controller 4.1 (C_KIND_OF_INTR: one bit
#    per input, 1 = edge; C_IRQ_CONNECTION 0 = single irq wire, 1 = bus;
#    C_IRQ_IS_LEVEL, C_IRQ_ACTIVE; CONFIG.C_KIND_OF_INTR.VALUE_SRC USER as
#    public block-design scripts set it before the value), PG059 AXI Interconnect 2.1 (NUM_SI 1..16,
#    NUM_MI 1..64), PG247 SmartConnect (NUM_SI/NUM_MI 1..16), PG164 Processor
#    System Reset 5.0 (its pins).
#  - The PS7's defaults with no board preset (crystal 33.333333 MHz, APU
#    666.666666 MHz, 3.3 V banks, DDR3 MT41J128M8 JP-125, 32-bit bus of 1 Gbit
#    x8 devices at 533.333333 MHz): a preset-less Vivado .hwh shipped in
#    pynqmetadata's tests (pynqmetadata/tests/hwhs/resizer.hwh).
#  - Vivado's own messages for refused values, as users quote them:
#    "[IP_Flow 19-3461] Value 'X' is out of the range for parameter ... Valid
#    values are - ..." and "[IP_Flow 19-3458] Validation failed for parameter
#    ... Value 'X' is out of the range (lo,hi)".
# A parameter that is not listed here is refused, as Vivado refuses a name the
# IP does not have; one that Vivado knows but this list lacks is added here,
# with its source, before the design may use it.

namespace eval stub {
    # vlnv -> parameter -> {kind spec default}; kinds: enum {values},
    # int {lo hi}, float {lo hi}, hex32 {} (a 32-bit mask 0x...).
    variable ip_params [dict create]
}

proc stub::define_ip {vlnv params} {
    variable ip_params
    set table [dict create]
    foreach {name kind spec default} $params {
        dict set table $name [list $kind $spec $default]
    }
    dict set ip_params $vlnv $table
}

set stub_bool {enum {0 1}}
set stub_voltage {enum {{LVCMOS 3.3V} {LVCMOS 2.5V} {LVCMOS 1.8V}}}
stub::define_ip xilinx.com:ip:processing_system7:5.5 [list \
    PCW_FPGA0_PERIPHERAL_FREQMHZ float {0.1 250} 50 \
    PCW_FPGA_FCLK0_ENABLE {*}$stub_bool 1 \
    PCW_FCLK0_PERIPHERAL_CLKSRC enum {{IO PLL} {ARM PLL} {DDR PLL}} {IO PLL} \
    PCW_EN_CLK0_PORT {*}$stub_bool 1 \
    PCW_EN_RST0_PORT {*}$stub_bool 1 \
    PCW_USE_M_AXI_GP0 {*}$stub_bool 0 \
    PCW_USE_S_AXI_HP0 {*}$stub_bool 0 \
    PCW_USE_FABRIC_INTERRUPT {*}$stub_bool 0 \
    PCW_IRQ_F2P_INTR {*}$stub_bool 0 \
    PCW_PRESET_BANK0_VOLTAGE {*}$stub_voltage {LVCMOS 3.3V} \
    PCW_PRESET_BANK1_VOLTAGE {*}$stub_voltage {LVCMOS 3.3V} \
    PCW_CRYSTAL_PERIPHERAL_FREQMHZ float {30 60} 33.333333 \
    PCW_APU_PERIPHERAL_FREQMHZ float {50 667} 666.666666 \
    PCW_UIPARAM_DDR_MEMORY_TYPE enum {{DDR 3} {DDR 3 (Low Voltage)} {DDR 2} {LPDDR 2}} {DDR 3} \
    PCW_UIPARAM_DDR_PARTNO enum {Custom {MT41K256M16 RE-125} {MT41J128M8 JP-125}} {MT41J128M8 JP-125} \
    PCW_UIPARAM_DDR_BUS_WIDTH enum {{16 Bit} {32 Bit}} {32 Bit} \
    PCW_UIPARAM_DDR_DEVICE_CAPACITY enum {{1024 MBits} {2048 MBits} {4096 MBits} {8192 MBits}} {1024 MBits} \
    PCW_UIPARAM_DDR_DRAM_WIDTH enum {{8 Bits} {16 Bits} {32 Bits}} {8 Bits} \
    PCW_UIPARAM_DDR_SPEED_BIN enum {DDR3_1066E DDR3_1066F DDR3_1066G} DDR3_1066F \
    PCW_UIPARAM_DDR_FREQ_MHZ float {200 533.333333} 533.333333 \
    PCW_UIPARAM_DDR_ROW_ADDR_COUNT int {12 16} 14 \
    PCW_UIPARAM_DDR_COL_ADDR_COUNT int {9 12} 10 \
    PCW_UIPARAM_DDR_BANK_ADDR_COUNT int {2 3} 3 \
    PCW_UIPARAM_DDR_CL int {4 14} 7 \
    PCW_UIPARAM_DDR_CWL int {5 10} 6 \
    PCW_UIPARAM_DDR_T_RCD float {1 100} 7 \
    PCW_UIPARAM_DDR_T_RP float {1 100} 7 \
    PCW_UIPARAM_DDR_T_RC float {1 200} 48.91 \
    PCW_UIPARAM_DDR_T_RAS_MIN float {1 100} 35.0 \
    PCW_UIPARAM_DDR_T_FAW float {1 100} 30.0 \
]
set stub_stream_width {enum {8 16 32 64 128 256 512 1024}}
set stub_mm_width {enum {32 64 128 256 512 1024}}
set stub_burst {enum {2 4 8 16 32 64 128 256}}
stub::define_ip xilinx.com:ip:axi_dma:7.1 [list \
    c_include_sg {*}$stub_bool 1 \
    c_micro_dma {*}$stub_bool 0 \
    c_sg_length_width int {8 26} 14 \
    c_include_mm2s {*}$stub_bool 1 \
    c_include_s2mm {*}$stub_bool 1 \
    c_m_axis_mm2s_tdata_width {*}$stub_stream_width 32 \
    c_s_axis_s2mm_tdata_width {*}$stub_stream_width 32 \
    c_m_axi_mm2s_data_width {*}$stub_mm_width 32 \
    c_m_axi_s2mm_data_width {*}$stub_mm_width 32 \
    c_mm2s_burst_size {*}$stub_burst 16 \
    c_s2mm_burst_size {*}$stub_burst 16 \
    c_include_mm2s_dre {*}$stub_bool 0 \
    c_include_s2mm_dre {*}$stub_bool 0 \
    c_addr_width int {32 64} 32 \
]
stub::define_ip xilinx.com:ip:axi_intc:4.1 [list \
    C_KIND_OF_INTR hex32 {} 0xFFFFFFFF \
    C_KIND_OF_EDGE hex32 {} 0xFFFFFFFF \
    C_KIND_OF_LVL hex32 {} 0xFFFFFFFF \
    C_IRQ_CONNECTION {*}$stub_bool 0 \
    C_IRQ_IS_LEVEL {*}$stub_bool 1 \
    C_IRQ_ACTIVE enum {0x0 0x1} 0x1 \
    C_HAS_FAST {*}$stub_bool 0 \
    C_NUM_SW_INTR int {0 31} 0 \
]
stub::define_ip xilinx.com:ip:axi_interconnect:2.1 [list \
    NUM_SI int {1 16} 1 \
    NUM_MI int {1 64} 2 \
]
stub::define_ip xilinx.com:ip:smartconnect:1.0 [list \
    NUM_SI int {1 16} 1 \
    NUM_MI int {1 16} 1 \
]
stub::define_ip xilinx.com:ip:proc_sys_reset:5.0 {}
stub::define_ip xilinx.com:ip:xlconcat:2.1 [list \
    NUM_PORTS int {1 128} 2 \
]
unset stub_bool stub_voltage stub_stream_width stub_mm_width stub_burst

proc stub::xilinx_ips {} {
    variable ip_params
    return [dict keys $ip_params]
}

# Checks one CONFIG.name value on a cell of vlnv, failing as Vivado does.
proc stub::check_config {cell vlnv key value} {
    variable ip_params
    set name [string range $key 7 end]
    # CONFIG.<parameter>.VALUE_SRC: who sets the parameter (the GUI's
    # Auto/Manual); USER keeps validation from propagating over it.
    if {[regexp {^(.*)\.VALUE_SRC$} $name -> param]} {
        check_config $cell $vlnv CONFIG.$param [cfg_default $vlnv $param]
        if {$value ni {USER DEFAULT PROPAGATED}} {
            fail "set_property $key on /$cell: '$value' is not a value source (USER, DEFAULT, PROPAGATED)"
        }
        return
    }
    if {![dict exists $ip_params $vlnv]} {
        # Our own IP (hls/rtl): its user parameters are fixed by the contract.
        fail "set_property $key on /$cell: $vlnv has no parameter '$name'"
    }
    set table [dict get $ip_params $vlnv]
    if {![dict exists $table $name]} {
        fail "set_property $key on /$cell: $vlnv has no parameter '$name'\
              (known: [lsort [dict keys $table]])"
    }
    lassign [dict get $table $name] kind spec
    switch -- $kind {
        enum {
            if {$value ni $spec} {
                fail "\[IP_Flow 19-3461\] Value '$value' is out of the range for parameter\
                      '$name' for BD Cell '$cell' . Valid values are - [join $spec {, }]"
            }
        }
        int - float {
            lassign $spec lo hi
            set ok [expr {$kind eq "int" ? [string is integer -strict $value]
                                         : [string is double -strict $value]}]
            if {!$ok || $value < $lo || $value > $hi} {
                fail "\[IP_Flow 19-3458\] Validation failed for parameter '$name' for BD Cell\
                      '$cell'. Value '$value' is out of the range ($lo,$hi)"
            }
        }
        hex32 {
            if {![regexp {^0x[0-9A-Fa-f]{1,8}$} $value]} {
                fail "\[IP_Flow 19-3458\] Validation failed for parameter '$name' for BD Cell\
                      '$cell'. Value '$value' is not a 32-bit hexadecimal mask (0x...)"
            }
        }
    }
}

proc stub::cfg_default {vlnv name} {
    variable ip_params
    if {[dict exists $ip_params $vlnv $name]} {
        return [lindex [dict get $ip_params $vlnv $name] 2]
    }
    return ""
}

# A cell's parameter: what was set, else the IP's default.
proc stub::cfg {cell name} {
    variable cells
    variable ip_params
    set config [dict get $cells $cell config]
    if {[dict exists $config CONFIG.$name]} {
        return [dict get $config CONFIG.$name]
    }
    return [lindex [dict get $ip_params [dict get $cells $cell vlnv] $name] 2]
}

proc stub::two {i} {
    return [format %02d $i]
}

# Bytes of DDR the PS7 configuration describes: devices of DEVICE_CAPACITY
# bits, as many as BUS_WIDTH / DRAM_WIDTH.
proc stub::ddr_bytes {cell} {
    regexp {\d+} [cfg $cell PCW_UIPARAM_DDR_DEVICE_CAPACITY] mbits
    regexp {\d+} [cfg $cell PCW_UIPARAM_DDR_BUS_WIDTH] bus
    regexp {\d+} [cfg $cell PCW_UIPARAM_DDR_DRAM_WIDTH] dram
    return [expr {$mbits * (1 << 20) / 8 * ($bus / $dram)}]
}

# Plain pins: name -> {direction required}.
proc stub::pins_of {cell} {
    variable cells
    set vlnv [dict get $cells $cell vlnv]
    set p [dict create]
    switch -glob -- $vlnv {
        *:processing_system7:* {
            if {[cfg $cell PCW_EN_CLK0_PORT]} { dict set p FCLK_CLK0 {O 0} }
            if {[cfg $cell PCW_EN_RST0_PORT]} { dict set p FCLK_RESET0_N {O 0} }
            if {[cfg $cell PCW_USE_M_AXI_GP0]} { dict set p M_AXI_GP0_ACLK {I 1} }
            if {[cfg $cell PCW_USE_S_AXI_HP0]} { dict set p S_AXI_HP0_ACLK {I 1} }
            if {[cfg $cell PCW_USE_FABRIC_INTERRUPT] && [cfg $cell PCW_IRQ_F2P_INTR]} {
                dict set p IRQ_F2P {I 0}
            }
        }
        *:axi_dma:* {
            dict set p s_axi_lite_aclk {I 1}
            dict set p axi_resetn {I 1}
            if {[cfg $cell c_include_mm2s]} {
                dict set p m_axi_mm2s_aclk {I 1}
                dict set p mm2s_introut {O 0}
            }
            if {[cfg $cell c_include_s2mm]} {
                dict set p m_axi_s2mm_aclk {I 1}
                dict set p s2mm_introut {O 0}
            }
            if {[cfg $cell c_include_sg]} { dict set p m_axi_sg_aclk {I 1} }
        }
        *:axi_intc:* {
            dict set p s_axi_aclk {I 1}
            dict set p s_axi_aresetn {I 1}
            dict set p intr {I 1}
            dict set p irq {O 0}
        }
        *:smartconnect:* {
            dict set p aclk {I 1}
            dict set p aresetn {I 1}
        }
        *:axi_interconnect:* {
            dict set p ACLK {I 1}
            dict set p ARESETN {I 1}
            for {set i 0} {$i < [cfg $cell NUM_SI]} {incr i} {
                dict set p S[two $i]_ACLK {I 1}
                dict set p S[two $i]_ARESETN {I 1}
            }
            for {set i 0} {$i < [cfg $cell NUM_MI]} {incr i} {
                dict set p M[two $i]_ACLK {I 1}
                dict set p M[two $i]_ARESETN {I 1}
            }
        }
        *:proc_sys_reset:* {
            foreach name {slowest_sync_clk ext_reset_in} { dict set p $name {I 1} }
            foreach name {aux_reset_in mb_debug_sys_rst dcm_locked} { dict set p $name {I 0} }
            foreach name {mb_reset bus_struct_reset peripheral_reset interconnect_aresetn
                          peripheral_aresetn} { dict set p $name {O 0} }
        }
        *:xlconcat:* {
            for {set i 0} {$i < [cfg $cell NUM_PORTS]} {incr i} { dict set p In$i {I 1} }
            dict set p dout {O 0}
        }
        lenet-pynq.org:*:lenet:* {
            dict set p ap_clk {I 1}
            dict set p ap_rst_n {I 1}
            dict set p interrupt {O 0}
        }
    }
    return $p
}

# Interface pins: name -> {mode type required}. An AXI4-Stream's type
# carries its TDATA width in bytes, so mismatched widths cannot be joined.
proc stub::intf_of {cell} {
    variable cells
    set vlnv [dict get $cells $cell vlnv]
    set p [dict create]
    switch -glob -- $vlnv {
        *:processing_system7:* {
            dict set p DDR {Master ddr 1}
            dict set p FIXED_IO {Master fixed_io 1}
            if {[cfg $cell PCW_USE_M_AXI_GP0]} { dict set p M_AXI_GP0 {Master aximm 0} }
            if {[cfg $cell PCW_USE_S_AXI_HP0]} { dict set p S_AXI_HP0 {Slave aximm 0} }
        }
        *:axi_dma:* {
            dict set p S_AXI_LITE {Slave aximm 1}
            if {[cfg $cell c_include_mm2s]} {
                dict set p M_AXI_MM2S {Master aximm 1}
                dict set p M_AXIS_MM2S [list Master axis:[expr {[cfg $cell c_m_axis_mm2s_tdata_width] / 8}] 1]
            }
            if {[cfg $cell c_include_s2mm]} {
                dict set p M_AXI_S2MM {Master aximm 1}
                dict set p S_AXIS_S2MM [list Slave axis:[expr {[cfg $cell c_s_axis_s2mm_tdata_width] / 8}] 1]
            }
            if {[cfg $cell c_include_sg]} { dict set p M_AXI_SG {Master aximm 1} }
        }
        *:axi_intc:* {
            dict set p s_axi {Slave aximm 1}
        }
        *:smartconnect:* - *:axi_interconnect:* {
            for {set i 0} {$i < [cfg $cell NUM_SI]} {incr i} { dict set p S[two $i]_AXI {Slave aximm 1} }
            for {set i 0} {$i < [cfg $cell NUM_MI]} {incr i} { dict set p M[two $i]_AXI {Master aximm 1} }
        }
        lenet-pynq.org:*:lenet:* {
            dict set p in_r {Slave axis:4 1}
            dict set p out_r {Master axis:4 1}
            dict set p s_axi_control {Slave aximm 1}
        }
    }
    return $p
}

proc stub::spaces_of {cell} {
    variable cells
    switch -glob -- [dict get $cells $cell vlnv] {
        *:processing_system7:* { return {Data} }
        *:axi_dma:* {
            set s {}
            if {[cfg $cell c_include_mm2s]} { lappend s Data_MM2S }
            if {[cfg $cell c_include_s2mm]} { lappend s Data_S2MM }
            if {[cfg $cell c_include_sg]} { lappend s Data_SG }
            return $s
        }
    }
    return {}
}

# Address segments: name -> smallest range in bytes the segment can be given.
# AXI4-Lite register files take at least 4K (the smallest window Vivado's
# address editor assigns); our IP's 2^ADDR_WIDTH bytes (contract) fit in it.
# HP0's DDR segment is as large as the DDR the PS7 configuration describes,
# and no larger window fits it.
proc stub::segs_of {cell} {
    variable cells
    switch -glob -- [dict get $cells $cell vlnv] {
        *:processing_system7:* {
            if {[cfg $cell PCW_USE_S_AXI_HP0]} {
                return [list S_AXI_HP0/HP0_DDR_LOWOCM [list 4096 [ddr_bytes $cell]]]
            }
        }
        *:axi_dma:* { return {S_AXI_LITE/Reg {4096 4294967296}} }
        *:axi_intc:* { return {S_AXI/Reg {4096 4294967296}} }
        lenet-pynq.org:*:lenet:* { return {s_axi_control/Reg {4096 4294967296}} }
    }
    return {}
}
