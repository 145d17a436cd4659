# A stand-in for the Vivado Tcl commands that vivado_tcl/ uses, so plain
# tclsh can run those scripts and record what they ask Vivado for.
#
#   tclsh tests/vivado_stub.tcl MODEL.json SCRIPT.tcl [SCRIPT ARGS...]
#
# runs SCRIPT as `vivado -mode batch -source SCRIPT -tclargs ARGS` would, then
# writes MODEL.json: every call made, and the design those calls describe
# (cells and their CONFIG, nets, interface nets, address map, runs, the IP
# core packaged). It exits 1 if the script raised an error, like Vivado.
#
# It knows the ports of the few IPs the design uses (from their product
# guides: PG082 processing_system7, PG021 axi_dma, PG247 smartconnect, PG059
# axi_interconnect, PG164 proc_sys_reset, xlconcat; the LeNet IP from
# docs/contract.md) and refuses what Vivado would refuse: unknown options, a
# pin the configured IP does not have, two drivers on a net, a master joined
# to a master, stream widths that differ, a required clock, reset or bus left
# unconnected at validate_bd_design. Xilinx IP behaviour beyond that (what
# the board preset really sets, how synthesis goes) is not modelled.
#
# Environment knobs for tests:
#   LENET_STUB_LENIENT=1      record the refusals above in "problems" and carry on
#   LENET_STUB_VERSION        what `version -short` says (2024.1)
#   LENET_STUB_BOARD_PARTS    installed board parts (the PYNQ-Z2 one)
#   LENET_STUB_WNS / _WHS     worst setup / hold slack in ns (0.412 / 0.031)
#   LENET_STUB_PERIOD         period of clk_fpga_0 in ns (10.000)
#   LENET_STUB_HWH_TREE       where generate_target puts the .hwh: gen, srcs or none
#   LENET_STUB_RUN_FAIL       name of a run that fails (synth_1, impl_1)

namespace eval stub {
    variable calls {}
    variable problems {}
    variable cells [dict create]
    variable nets {}
    variable intf_nets {}
    variable ports {}
    variable addresses {}
    variable automation {}
    variable project [dict create]
    variable files {}
    variable props [dict create]
    variable params [dict create]
    variable runs [dict create]
    variable bd ""
    variable bd_saved 0
    variable validated 0
    variable opened_run ""
    variable core [dict create]
    variable xilinx_ips {
        xilinx.com:ip:processing_system7:5.5
        xilinx.com:ip:axi_dma:7.1
        xilinx.com:ip:smartconnect:1.0
        xilinx.com:ip:axi_interconnect:2.1
        xilinx.com:ip:proc_sys_reset:5.0
        xilinx.com:ip:xlconcat:2.1
    }
}
namespace eval ipx {}

proc stub::env {name default} {
    if {[info exists ::env($name)] && $::env($name) ne ""} {
        return $::env($name)
    }
    return $default
}

proc stub::problem {msg} {
    variable problems
    if {[env LENET_STUB_LENIENT 0]} {
        lappend problems $msg
    } else {
        error "stub: $msg"
    }
}

# --- JSON --------------------------------------------------------------------

proc stub::jstr {s} {
    set out ""
    foreach ch [split $s ""] {
        scan $ch %c code
        if {$ch eq "\""} {
            append out "\\\""
        } elseif {$ch eq "\\"} {
            append out "\\\\"
        } elseif {$code < 32} {
            append out [format "\\u%04x" $code]
        } else {
            append out $ch
        }
    }
    return "\"$out\""
}

proc stub::jlist {items} {
    return "\[[join $items ,]\]"
}

proc stub::jstrs {strings} {
    set out {}
    foreach s $strings {
        lappend out [jstr $s]
    }
    return [jlist $out]
}

# A Tcl dict of strings (values may be nested dicts when nested is 1).
proc stub::jdict {d {depth 0}} {
    set out {}
    dict for {k v} $d {
        if {$depth > 0} {
            lappend out "[jstr $k]:[jdict $v [expr {$depth - 1}]]"
        } else {
            lappend out "[jstr $k]:[jstr $v]"
        }
    }
    return "{[join $out ,]}"
}

proc stub::jnum_or_null {v} {
    if {$v eq ""} {
        return null
    }
    return $v
}

# --- recording and option parsing --------------------------------------------

proc stub::record {cmd argv} {
    variable calls
    lappend calls "{\"cmd\":[jstr $cmd],\"args\":[jstrs $argv]}"
    return
}

# Splits argv into options (-name value, or -flag) and positional words.
# An option Vivado's command does not have is an error, as in Vivado.
proc stub::parse {cmd argv valued {flags {}}} {
    set opts [dict create]
    set pos {}
    for {set i 0} {$i < [llength $argv]} {incr i} {
        set word [lindex $argv $i]
        if {[string match -* $word] && ![string is double -strict $word]} {
            set name [string range $word 1 end]
            if {$name in $valued} {
                dict set opts $name [lindex $argv [incr i]]
                continue
            }
            if {$name in [concat $flags quiet verbose]} {
                dict set opts $name 1
                continue
            }
            error "stub: $cmd has no option $word"
        }
        lappend pos $word
    }
    return [list $opts $pos]
}

# Object arguments arrive as lists of lists (one per [get_*] call).
proc stub::flatten {objs} {
    set out {}
    foreach o $objs {
        foreach x $o {
            lappend out $x
        }
    }
    return $out
}

proc stub::size {text} {
    if {[regexp {^(\d+)([KMG])$} $text -> n unit]} {
        return [expr {$n * [dict get {K 1024 M 1048576 G 1073741824} $unit]}]
    }
    return [expr {$text + 0}]
}

# --- the IPs' ports ------------------------------------------------------------

proc stub::cfg {cell key default} {
    variable cells
    set config [dict get $cells $cell config]
    if {[dict exists $config CONFIG.$key]} {
        return [dict get $config CONFIG.$key]
    }
    return $default
}

proc stub::two {i} {
    return [format %02d $i]
}

# Plain pins: name -> {direction required}.
proc stub::pins_of {cell} {
    variable cells
    set vlnv [dict get $cells $cell vlnv]
    set p [dict create]
    switch -glob -- $vlnv {
        *:processing_system7:* {
            if {[cfg $cell PCW_EN_CLK0_PORT 1]} { dict set p FCLK_CLK0 {O 0} }
            if {[cfg $cell PCW_EN_RST0_PORT 1]} { dict set p FCLK_RESET0_N {O 0} }
            if {[cfg $cell PCW_USE_M_AXI_GP0 0]} { dict set p M_AXI_GP0_ACLK {I 1} }
            if {[cfg $cell PCW_USE_S_AXI_HP0 0]} { dict set p S_AXI_HP0_ACLK {I 1} }
            if {[cfg $cell PCW_USE_FABRIC_INTERRUPT 0] && [cfg $cell PCW_IRQ_F2P_INTR 0]} {
                dict set p IRQ_F2P {I 0}
            }
        }
        *:axi_dma:* {
            dict set p s_axi_lite_aclk {I 1}
            dict set p axi_resetn {I 1}
            if {[cfg $cell c_include_mm2s 1]} {
                dict set p m_axi_mm2s_aclk {I 1}
                dict set p mm2s_introut {O 0}
            }
            if {[cfg $cell c_include_s2mm 1]} {
                dict set p m_axi_s2mm_aclk {I 1}
                dict set p s2mm_introut {O 0}
            }
            if {[cfg $cell c_include_sg 1]} { dict set p m_axi_sg_aclk {I 1} }
        }
        *:smartconnect:* {
            dict set p aclk {I 1}
            dict set p aresetn {I 1}
        }
        *:axi_interconnect:* {
            dict set p ACLK {I 1}
            dict set p ARESETN {I 1}
            for {set i 0} {$i < [cfg $cell NUM_SI 1]} {incr i} {
                dict set p S[two $i]_ACLK {I 1}
                dict set p S[two $i]_ARESETN {I 1}
            }
            for {set i 0} {$i < [cfg $cell NUM_MI 2]} {incr i} {
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
            for {set i 0} {$i < [cfg $cell NUM_PORTS 2]} {incr i} { dict set p In$i {I 1} }
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
            if {[cfg $cell PCW_USE_M_AXI_GP0 0]} { dict set p M_AXI_GP0 {Master aximm 0} }
            if {[cfg $cell PCW_USE_S_AXI_HP0 0]} { dict set p S_AXI_HP0 {Slave aximm 0} }
        }
        *:axi_dma:* {
            dict set p S_AXI_LITE {Slave aximm 1}
            if {[cfg $cell c_include_mm2s 1]} {
                dict set p M_AXI_MM2S {Master aximm 1}
                dict set p M_AXIS_MM2S [list Master axis:[expr {[cfg $cell c_m_axis_mm2s_tdata_width 32] / 8}] 1]
            }
            if {[cfg $cell c_include_s2mm 1]} {
                dict set p M_AXI_S2MM {Master aximm 1}
                dict set p S_AXIS_S2MM [list Slave axis:[expr {[cfg $cell c_s_axis_s2mm_tdata_width 32] / 8}] 1]
            }
            if {[cfg $cell c_include_sg 1]} { dict set p M_AXI_SG {Master aximm 1} }
        }
        *:smartconnect:* {
            for {set i 0} {$i < [cfg $cell NUM_SI 1]} {incr i} { dict set p S[two $i]_AXI {Slave aximm 1} }
            for {set i 0} {$i < [cfg $cell NUM_MI 1]} {incr i} { dict set p M[two $i]_AXI {Master aximm 1} }
        }
        *:axi_interconnect:* {
            for {set i 0} {$i < [cfg $cell NUM_SI 1]} {incr i} { dict set p S[two $i]_AXI {Slave aximm 1} }
            for {set i 0} {$i < [cfg $cell NUM_MI 2]} {incr i} { dict set p M[two $i]_AXI {Master aximm 1} }
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
            if {[cfg $cell c_include_mm2s 1]} { lappend s Data_MM2S }
            if {[cfg $cell c_include_s2mm 1]} { lappend s Data_S2MM }
            if {[cfg $cell c_include_sg 1]} { lappend s Data_SG }
            return $s
        }
    }
    return {}
}

proc stub::segs_of {cell} {
    variable cells
    switch -glob -- [dict get $cells $cell vlnv] {
        *:processing_system7:* {
            if {[cfg $cell PCW_USE_S_AXI_HP0 0]} { return {S_AXI_HP0/HP0_DDR_LOWOCM} }
        }
        *:axi_dma:* { return {S_AXI_LITE/Reg} }
        lenet-pynq.org:*:lenet:* { return {s_axi_control/Reg} }
    }
    return {}
}

# "/cell/rest" or "cell/rest" -> {cell rest}
proc stub::split_path {path} {
    set path [string trimleft $path /]
    set i [string first / $path]
    if {$i < 0} {
        return [list $path ""]
    }
    return [list [string range $path 0 [expr {$i - 1}]] [string range $path [expr {$i + 1}] end]]
}

proc stub::lookup {kind path} {
    variable cells
    lassign [split_path $path] cell rest
    if {![dict exists $cells $cell]} {
        problem "$kind $path: there is no cell '$cell'"
        return /$cell/$rest
    }
    switch -- $kind {
        pin { set known [dict keys [pins_of $cell]] }
        intf_pin { set known [dict keys [intf_of $cell]] }
        addr_space { set known [spaces_of $cell] }
        addr_seg { set known [segs_of $cell] }
    }
    if {$rest ni $known} {
        problem "$kind $path does not exist on [dict get $cells $cell vlnv] as configured\
                 (it has: [lsort $known])"
    }
    return /$cell/$rest
}

# --- project, board, IP catalog ---------------------------------------------

proc version {args} {
    stub::record version $args
    return [stub::env LENET_STUB_VERSION 2024.1]
}

proc set_param {args} {
    stub::record set_param $args
    dict set stub::params [lindex $args 0] [lindex $args 1]
}

proc get_board_parts {args} {
    stub::record get_board_parts $args
    lassign [stub::parse get_board_parts $args {filter of_objects} {latest_file_version}] opts pats
    set installed [stub::env LENET_STUB_BOARD_PARTS tul.com.tw:pynq-z2:part0:1.0]
    if {$installed eq "none"} {
        set installed {}
    }
    set out {}
    foreach part $installed {
        foreach pat $pats {
            if {[string match $pat $part]} {
                lappend out $part
            }
        }
    }
    return $out
}

proc create_project {args} {
    stub::record create_project $args
    lassign [stub::parse create_project $args {part} {force in_memory}] opts pos
    lassign $pos name dir
    if {![dict exists $opts part]} {
        error "stub: create_project without -part"
    }
    file mkdir $dir
    set stub::project [dict create name $name dir [file normalize $dir] part [dict get $opts part]]
    set stub::files {}
    set stub::runs [dict create synth_1 [dict create launched 0 progress 0%] \
                               impl_1 [dict create launched 0 progress 0%]]
    return $name
}

proc current_project {args} {
    stub::record current_project $args
    if {[dict size $stub::project] == 0} {
        error "stub: no project is open"
    }
    return project:[dict get $stub::project name]
}

proc current_fileset {args} {
    stub::record current_fileset $args
    return fileset:sources_1
}

proc close_project {args} {
    stub::record close_project $args
}

proc update_ip_catalog {args} {
    stub::record update_ip_catalog $args
    stub::parse update_ip_catalog $args {} {rebuild}
}

# VLNVs of the component.xml files under the project's IP repositories.
proc stub::repo_paths {} {
    set key project:[dict get $stub::project name]
    if {[dict exists $stub::props $key ip_repo_paths]} {
        return [dict get $stub::props $key ip_repo_paths]
    }
    return {}
}

proc stub::repo_vlnvs {} {
    set out {}
    foreach repo [repo_paths] {
        foreach xml [concat [glob -nocomplain -directory $repo component.xml] \
                            [glob -nocomplain -directory $repo */component.xml]] {
            set f [open $xml]
            set text [read $f]
            close $f
            set parts {}
            foreach field {vendor library name version} {
                if {[regexp "<spirit:$field>(\[^<\]*)</spirit:$field>" $text -> value]} {
                    lappend parts $value
                }
            }
            lappend out [join $parts :]
        }
    }
    return $out
}

proc get_ipdefs {args} {
    stub::record get_ipdefs $args
    lassign [stub::parse get_ipdefs $args {filter} {all}] opts pats
    set out {}
    foreach vlnv [concat $stub::xilinx_ips [stub::repo_vlnvs]] {
        foreach pat $pats {
            if {[string match $pat $vlnv]} {
                lappend out $vlnv
            }
        }
    }
    return $out
}

proc set_property {args} {
    stub::record set_property $args
    lassign [stub::parse set_property $args {dict}] opts pos
    if {[dict exists $opts dict]} {
        set values [dict get $opts dict]
        set objs [stub::flatten $pos]
    } else {
        set values [list [lindex $pos 0] [lindex $pos 1]]
        set objs [stub::flatten [lrange $pos 2 end]]
    }
    if {[llength $objs] == 0} {
        error "stub: set_property $values on no object"
    }
    foreach obj $objs {
        if {[regexp {^/[^/]+$} $obj]} {
            set cell [string trimleft $obj /]
            if {![dict exists $stub::cells $cell]} {
                error "stub: set_property on unknown cell $obj"
            }
            dict for {k v} $values {
                if {![string match CONFIG.* $k]} {
                    error "stub: cell property $k is not a CONFIG.* parameter"
                }
                dict set stub::cells $cell config $k $v
            }
        } elseif {[string match ipx:* $obj]} {
            dict for {k v} $values {
                dict set stub::core props $obj $k $v
            }
        } else {
            dict for {k v} $values {
                dict set stub::props $obj $k $v
            }
        }
    }
}

# --- block design ------------------------------------------------------------

proc create_bd_design {args} {
    stub::record create_bd_design $args
    set stub::bd [lindex $args 0]
    return $stub::bd
}

proc current_bd_design {args} {
    stub::record current_bd_design $args
    return $stub::bd
}

proc create_bd_cell {args} {
    stub::record create_bd_cell $args
    lassign [stub::parse create_bd_cell $args {type vlnv reference}] opts pos
    set name [lindex $pos 0]
    set vlnv [dict get $opts vlnv]
    if {$stub::bd eq ""} {
        error "stub: create_bd_cell before create_bd_design"
    }
    if {$vlnv ni [concat $stub::xilinx_ips [stub::repo_vlnvs]]} {
        error "stub: IP $vlnv is not in the catalog (IP repositories: [stub::repo_paths])"
    }
    if {[dict exists $stub::cells $name]} {
        error "stub: a cell named $name exists already"
    }
    dict set stub::cells $name [dict create vlnv $vlnv config [dict create] preset 0]
    return /$name
}

proc get_bd_cells {args} {
    stub::record get_bd_cells $args
    lassign [stub::parse get_bd_cells $args {filter}] opts pats
    set out {}
    foreach name [dict keys $stub::cells] {
        if {[llength $pats] == 0} {
            lappend out /$name
        }
        foreach pat $pats {
            if {[string match [string trimleft $pat /] $name]} {
                lappend out /$name
            }
        }
    }
    return $out
}

foreach {cmd kind} {get_bd_pins pin get_bd_intf_pins intf_pin
                    get_bd_addr_spaces addr_space get_bd_addr_segs addr_seg} {
    proc $cmd {args} [string map [list @CMD@ $cmd @KIND@ $kind] {
        stub::record @CMD@ $args
        lassign [stub::parse @CMD@ $args {}] opts paths
        set out {}
        foreach path $paths {
            lappend out [stub::lookup @KIND@ $path]
        }
        return $out
    }]
}

proc stub::pin_info {obj} {
    lassign [split_path $obj] cell pin
    variable cells
    if {[dict exists $cells $cell]} {
        set pins [pins_of $cell]
        if {[dict exists $pins $pin]} {
            return [dict get $pins $pin]
        }
    }
    return {}
}

proc stub::intf_info {obj} {
    lassign [split_path $obj] cell pin
    variable cells
    if {[dict exists $cells $cell]} {
        set pins [intf_of $cell]
        if {[dict exists $pins $pin]} {
            return [dict get $pins $pin]
        }
    }
    return {}
}

# Joining pins that already sit on nets merges those nets, as Vivado does.
proc connect_bd_net {args} {
    stub::record connect_bd_net $args
    lassign [stub::parse connect_bd_net $args {net}] opts pos
    set objs [stub::flatten $pos]
    if {[llength $objs] < 2} {
        stub::problem "connect_bd_net needs two or more pins, got '$objs'"
    }
    set merged $objs
    set keep {}
    foreach net $stub::nets {
        set shared 0
        foreach o $objs {
            if {$o in $net} {
                set shared 1
            }
        }
        if {$shared} {
            set merged [concat $merged $net]
        } else {
            lappend keep $net
        }
    }
    set merged [lsort -unique $merged]
    set drivers {}
    foreach o $merged {
        set info [stub::pin_info $o]
        if {$info eq ""} {
            stub::problem "connect_bd_net: $o is not a pin"
        } elseif {[lindex $info 0] eq "O"} {
            lappend drivers $o
        }
    }
    if {[llength $drivers] != 1} {
        stub::problem "connect_bd_net: a net needs one driver, {$merged} has [llength $drivers]: $drivers"
    }
    lappend keep $merged
    set stub::nets $keep
}

proc connect_bd_intf_net {args} {
    stub::record connect_bd_intf_net $args
    lassign [stub::parse connect_bd_intf_net $args {intf_net} {boundary_type}] opts pos
    set objs [stub::flatten $pos]
    if {[llength $objs] != 2} {
        stub::problem "connect_bd_intf_net joins exactly two interface pins, got '$objs'"
        return
    }
    lassign $objs a b
    set ia [stub::intf_info $a]
    set ib [stub::intf_info $b]
    if {$ia eq "" || $ib eq ""} {
        stub::problem "connect_bd_intf_net: $a or $b is not an interface pin"
    } elseif {[lindex $ia 0] eq [lindex $ib 0] || [lindex $ia 1] ne [lindex $ib 1]} {
        stub::problem "connect_bd_intf_net: $a ($ia) and $b ($ib) are not a master and a slave\
                       of one bus type"
    }
    foreach net $stub::intf_nets {
        foreach o $objs {
            if {$o in $net} {
                stub::problem "connect_bd_intf_net: $o is connected already"
            }
        }
    }
    lappend stub::intf_nets $objs
}

proc apply_bd_automation {args} {
    stub::record apply_bd_automation $args
    lassign [stub::parse apply_bd_automation $args {rule config opts dict}] opts pos
    set rule [dict get $opts rule]
    set config [dict get $opts config]
    set objs [stub::flatten $pos]
    lappend stub::automation [list $rule $config $objs]
    if {$rule ne "xilinx.com:bd_rule:processing_system7"} {
        error "stub: automation rule $rule is not modelled"
    }
    foreach obj $objs {
        set cell [string trimleft $obj /]
        if {[dict exists $config apply_board_preset] && [dict get $config apply_board_preset]} {
            # The preset replaces the PS configuration: settings made before it are gone.
            dict set stub::cells $cell config [dict create]
            dict set stub::cells $cell preset 1
        }
        if {[dict exists $config make_external]} {
            foreach port [split [dict get $config make_external] ", "] {
                if {$port eq ""} {
                    continue
                }
                lappend stub::ports $port
                lappend stub::intf_nets [list /$cell/$port /$port]
            }
        }
    }
}

proc assign_bd_address {args} {
    stub::record assign_bd_address $args
    lassign [stub::parse assign_bd_address $args {offset range target_address_space} \
        {force boundary export_to_file import_from_file}] opts pos
    set space ""
    if {[dict exists $opts target_address_space]} {
        set space [stub::flatten [dict get $opts target_address_space]]
        if {[llength $space] != 1} {
            stub::problem "assign_bd_address: -target_address_space must be one space, got '$space'"
        }
    }
    set segs [stub::flatten $pos]
    if {[llength $segs] == 0} {
        stub::problem "assign_bd_address: no segment given"
    }
    set offset [expr {[dict exists $opts offset] ? [stub::size [dict get $opts offset]] : ""}]
    set range [expr {[dict exists $opts range] ? [stub::size [dict get $opts range]] : ""}]
    foreach seg $segs {
        lappend stub::addresses [dict create space $space seg $seg offset $offset range $range]
    }
}

proc stub::connected {obj nets} {
    foreach net $nets {
        if {$obj in $net} {
            return 1
        }
    }
    return 0
}

# What Vivado's validation reports as errors: required clocks, resets and
# buses left open, slave registers and master spaces without an address.
proc validate_bd_design {args} {
    stub::record validate_bd_design $args
    dict for {cell info} $stub::cells {
        dict for {pin meta} [stub::pins_of $cell] {
            if {[lindex $meta 1] && ![stub::connected /$cell/$pin $stub::nets]} {
                stub::problem "validate_bd_design: pin /$cell/$pin is not connected"
            }
        }
        dict for {pin meta} [stub::intf_of $cell] {
            if {[lindex $meta 2] && ![stub::connected /$cell/$pin $stub::intf_nets]} {
                stub::problem "validate_bd_design: interface /$cell/$pin is not connected"
            }
        }
        set assigned_segs {}
        set assigned_spaces {}
        foreach a $stub::addresses {
            lappend assigned_segs [dict get $a seg]
            lappend assigned_spaces [dict get $a space]
        }
        if {![string match *:processing_system7:* [dict get $info vlnv]]} {
            foreach seg [stub::segs_of $cell] {
                if {"/$cell/$seg" ni $assigned_segs} {
                    stub::problem "validate_bd_design: /$cell/$seg has no address"
                }
            }
        }
        foreach space [stub::spaces_of $cell] {
            if {[string match *:axi_dma:* [dict get $info vlnv]] && "/$cell/$space" ni $assigned_spaces} {
                stub::problem "validate_bd_design: address space /$cell/$space maps nothing"
            }
        }
    }
    set stub::validated 1
}

proc stub::bd_dir {tree} {
    set p $stub::project
    return [file join [dict get $p dir] [dict get $p name].$tree sources_1 bd $stub::bd]
}

proc save_bd_design {args} {
    stub::record save_bd_design $args
    set dir [stub::bd_dir srcs]
    file mkdir $dir
    set f [open [file join $dir $stub::bd.bd] w]
    puts $f "stub block design $stub::bd"
    close $f
    lappend stub::files [file join $dir $stub::bd.bd]
    set stub::bd_saved 1
}

proc get_files {args} {
    stub::record get_files $args
    lassign [stub::parse get_files $args {of_objects filter} {all}] opts pats
    set out {}
    foreach path $stub::files {
        foreach pat $pats {
            if {$path eq $pat || [string match *[file tail $pat] $path]} {
                lappend out $path
            }
        }
    }
    return [lsort -unique $out]
}

# The hand-off file appears when the design's outputs are generated; where,
# depends on the Vivado release (LENET_STUB_HWH_TREE).
proc generate_target {args} {
    stub::record generate_target $args
    lassign [stub::parse generate_target $args {} {force}] opts pos
    if {!$stub::bd_saved} {
        error "stub: generate_target on a block design that was never saved"
    }
    set tree [stub::env LENET_STUB_HWH_TREE gen]
    if {$tree eq "none"} {
        return
    }
    set dir [file join [stub::bd_dir $tree] hw_handoff]
    file mkdir $dir
    set f [open [file join $dir $stub::bd.hwh] w]
    puts $f "<EDKSYSTEM><MODULES>"
    dict for {cell info} $stub::cells {
        puts $f "<MODULE FULLNAME=\"/$cell\" VLNV=\"[dict get $info vlnv]\"/>"
    }
    puts $f "</MODULES></EDKSYSTEM>"
    close $f
}

proc make_wrapper {args} {
    stub::record make_wrapper $args
    lassign [stub::parse make_wrapper $args {files fileset inst_template} {top}] opts pos
    if {[llength [dict get $opts files]] != 1} {
        error "stub: make_wrapper -files needs the .bd file, got '[dict get $opts files]'"
    }
    set dir [file join [stub::bd_dir gen] hdl]
    file mkdir $dir
    set path [file join $dir ${stub::bd}_wrapper.v]
    set f [open $path w]
    puts $f "module ${stub::bd}_wrapper(); endmodule"
    close $f
    return $path
}

proc add_files {args} {
    stub::record add_files $args
    lassign [stub::parse add_files $args {fileset} {norecurse}] opts pos
    foreach path [stub::flatten $pos] {
        if {![file exists $path]} {
            error "stub: add_files: $path does not exist"
        }
        lappend stub::files [file normalize $path]
    }
}

proc update_compile_order {args} {
    stub::record update_compile_order $args
    stub::parse update_compile_order $args {fileset}
}

# --- runs, reports, bitstream -------------------------------------------------

proc launch_runs {args} {
    stub::record launch_runs $args
    lassign [stub::parse launch_runs $args {jobs to_step next_step}] opts pos
    foreach run $pos {
        if {![dict exists $stub::runs $run]} {
            error "stub: no run $run"
        }
        if {$run eq "impl_1" && [dict get $stub::runs synth_1 progress] ne "100%"} {
            stub::problem "impl_1 launched before synth_1 was waited on and completed"
        }
        if {[lsearch -glob $stub::files *_wrapper.v] < 0} {
            error "stub: $run launched without an HDL top (make_wrapper + add_files)"
        }
        dict set stub::runs $run launched 1
    }
}

proc wait_on_run {args} {
    stub::record wait_on_run $args
    set run [lindex $args 0]
    if {![dict get $stub::runs $run launched]} {
        error "stub: wait_on_run $run, which was never launched"
    }
    if {[stub::env LENET_STUB_RUN_FAIL ""] eq $run} {
        dict set stub::runs $run progress 0%
        dict set stub::runs $run status "ERROR"
    } else {
        dict set stub::runs $run progress 100%
        dict set stub::runs $run status "Complete!"
    }
}

proc get_runs {args} {
    stub::record get_runs $args
    set run [lindex $args end]
    if {![dict exists $stub::runs $run]} {
        error "stub: no run $run"
    }
    return run:$run
}

proc open_run {args} {
    stub::record open_run $args
    set run [lindex $args 0]
    if {[dict get $stub::runs $run progress] ne "100%"} {
        error "stub: open_run $run, which has not completed"
    }
    set stub::opened_run $run
}

proc stub::need_routed {cmd} {
    if {$stub::opened_run ne "impl_1"} {
        error "stub: $cmd needs the implemented design (open_run impl_1)"
    }
}

proc stub::timing_met {} {
    return [expr {[stub::env LENET_STUB_WNS 0.412] >= 0 && [stub::env LENET_STUB_WHS 0.031] >= 0}]
}

proc stub::write_report {path text} {
    file mkdir [file dirname $path]
    set f [open $path w]
    puts $f $text
    close $f
}

proc report_utilization {args} {
    stub::record report_utilization $args
    lassign [stub::parse report_utilization $args {file} {hierarchical return_string}] opts pos
    stub::need_routed report_utilization
    if {[dict exists $opts file]} {
        stub::write_report [dict get $opts file] "stub utilization report"
    }
}

proc report_timing_summary {args} {
    stub::record report_timing_summary $args
    lassign [stub::parse report_timing_summary $args {file max_paths delay_type} {return_string}] opts pos
    stub::need_routed report_timing_summary
    if {[stub::timing_met]} {
        set text "All user specified timing constraints are met."
    } else {
        set text "Timing constraints are not met."
    }
    if {[dict exists $opts file]} {
        stub::write_report [dict get $opts file] $text
    }
    if {[dict exists $opts return_string]} {
        return $text
    }
}

proc get_clocks {args} {
    stub::record get_clocks $args
    stub::need_routed get_clocks
    set out {}
    foreach name $args {
        if {$name eq "clk_fpga_0"} {
            lappend out clock:clk_fpga_0
        }
    }
    return $out
}

proc get_timing_paths {args} {
    stub::record get_timing_paths $args
    lassign [stub::parse get_timing_paths $args {delay_type max_paths nworst} {setup hold}] opts pos
    stub::need_routed get_timing_paths
    return path:[dict get $opts delay_type]
}

proc get_property {args} {
    stub::record get_property $args
    lassign [stub::parse get_property $args {} {min max}] opts pos
    lassign $pos name obj
    set obj [lindex $obj 0]
    switch -glob -- $obj {
        run:* {
            set run [string range $obj 4 end]
            switch -- $name {
                PROGRESS { return [dict get $stub::runs $run progress] }
                STATUS { return [dict get $stub::runs $run status] }
                DIRECTORY {
                    return [file join [dict get $stub::project dir] [dict get $stub::project name].runs $run]
                }
            }
        }
        clock:* {
            if {$name eq "PERIOD"} { return [stub::env LENET_STUB_PERIOD 10.000] }
        }
        path:max {
            if {$name eq "SLACK"} { return [stub::env LENET_STUB_WNS 0.412] }
        }
        path:min {
            if {$name eq "SLACK"} { return [stub::env LENET_STUB_WHS 0.031] }
        }
        ipx:* {
            if {[dict exists $stub::core props $obj $name]} {
                return [dict get $stub::core props $obj $name]
            }
            if {$name eq "name"} { return [lindex [split $obj :] end] }
        }
    }
    error "stub: get_property $name of '$obj' is not modelled"
}

proc write_bitstream {args} {
    stub::record write_bitstream $args
    lassign [stub::parse write_bitstream $args {} {force bin_file}] opts pos
    stub::need_routed write_bitstream
    stub::write_report [lindex $pos 0] "stub bitstream of $stub::bd"
}

# --- IP packaging (ipx::) ---------------------------------------------------

# Infers interfaces from port names the way Vivado's packager does for the
# names we use: PREFIX_TDATA -> AXI4-Stream PREFIX, PREFIX_AWADDR -> AXI4
# memory-mapped PREFIX, and the clock, reset and interrupt by name.
proc ipx::package_project {args} {
    stub::record ipx::package_project $args
    lassign [stub::parse ipx::package_project $args {root_dir vendor library taxonomy set_current} \
        {import_files force}] opts pos
    set top ""
    if {[dict exists $stub::props fileset:sources_1 top]} {
        set top [dict get $stub::props fileset:sources_1 top]
    }
    set text ""
    foreach path $stub::files {
        if {[file extension $path] eq ".v"} {
            set f [open $path]
            append text [read $f]
            close $f
        }
    }
    if {$top eq "" || ![regexp "module\\s+$top\\M" $text]} {
        error "stub: ipx::package_project: top module '$top' is not in the project's sources"
    }
    set busifs [dict create]
    foreach {- prefix} [regexp -all -inline {\m([A-Za-z0-9_]+)_TDATA\M} $text] {
        dict set busifs $prefix xilinx.com:interface:axis_rtl:1.0
    }
    foreach {- prefix} [regexp -all -inline {\m([A-Za-z0-9_]+)_AWADDR\M} $text] {
        dict set busifs $prefix xilinx.com:interface:aximm_rtl:1.0
    }
    foreach {port abstraction} {ap_clk xilinx.com:signal:clock_rtl:1.0
                                ap_rst_n xilinx.com:signal:reset_rtl:1.0
                                interrupt xilinx.com:signal:interrupt_rtl:1.0} {
        if {[regexp "\\m$port\\M" $text]} {
            dict set busifs $port $abstraction
        }
    }
    file mkdir [dict get $opts root_dir]
    set stub::core [dict create root_dir [dict get $opts root_dir] vendor [dict get $opts vendor] \
        library [dict get $opts library] busifs $busifs props [dict create] assoc {} \
        mmaps [dict create] saved 0 checked 0]
}

proc ipx::current_core {args} {
    stub::record ipx::current_core $args
    if {[dict size $stub::core] == 0} {
        error "stub: no current IP core"
    }
    return ipx:core
}

proc ipx::get_bus_interfaces {args} {
    stub::record ipx::get_bus_interfaces $args
    lassign [stub::parse ipx::get_bus_interfaces $args {of_objects}] opts pos
    set out {}
    foreach name [dict keys [dict get $stub::core busifs]] {
        if {[llength $pos] == 0 || [string match [lindex $pos 0] $name]} {
            lappend out ipx:busif:$name
        }
    }
    return $out
}

proc ipx::get_bus_parameters {args} {
    stub::record ipx::get_bus_parameters $args
    lassign [stub::parse ipx::get_bus_parameters $args {of_objects}] opts pos
    set busif [string range [dict get $opts of_objects] 10 end]
    set obj ipx:param:$busif:[lindex $pos 0]
    if {[dict exists $stub::core props $obj]} {
        return $obj
    }
    return {}
}

proc ipx::add_bus_parameter {args} {
    stub::record ipx::add_bus_parameter $args
    lassign $args param busif
    set obj ipx:param:[string range $busif 10 end]:$param
    dict set stub::core props $obj [dict create name $param]
    return $obj
}

proc ipx::associate_bus_interfaces {args} {
    stub::record ipx::associate_bus_interfaces $args
    lassign [stub::parse ipx::associate_bus_interfaces $args {busif clock reset} {remove}] opts pos
    foreach key [dict keys $opts] {
        if {$key in {busif clock reset}
                && ![dict exists $stub::core busifs [dict get $opts $key]]} {
            error "stub: ipx::associate_bus_interfaces: no interface [dict get $opts $key]"
        }
    }
    set assoc [dict get $stub::core assoc]
    lappend assoc $opts
    dict set stub::core assoc $assoc
}

proc ipx::get_memory_maps {args} {
    stub::record ipx::get_memory_maps $args
    lassign [stub::parse ipx::get_memory_maps $args {of_objects}] opts pos
    set name [lindex $pos 0]
    if {[dict exists $stub::core mmaps $name]} {
        return ipx:mmap:$name
    }
    return {}
}

proc ipx::add_memory_map {args} {
    stub::record ipx::add_memory_map $args
    set name [lindex $args 0]
    dict set stub::core mmaps $name [dict create]
    return ipx:mmap:$name
}

proc ipx::get_address_blocks {args} {
    stub::record ipx::get_address_blocks $args
    lassign [stub::parse ipx::get_address_blocks $args {of_objects}] opts pos
    set mmap [string range [dict get $opts of_objects] 9 end]
    set out {}
    foreach block [dict keys [dict get $stub::core mmaps $mmap]] {
        lappend out ipx:block:$mmap:$block
    }
    return $out
}

proc ipx::remove_address_block {args} {
    stub::record ipx::remove_address_block $args
    lassign $args name mmap
    dict unset stub::core mmaps [string range $mmap 9 end] $name
}

proc ipx::add_address_block {args} {
    stub::record ipx::add_address_block $args
    lassign $args name mmap
    set m [string range $mmap 9 end]
    dict set stub::core mmaps $m $name 1
    return ipx:block:$m:$name
}

foreach cmd {create_xgui_files update_checksums} {
    proc ipx::$cmd {args} "stub::record ipx::$cmd \$args"
}

proc ipx::check_integrity {args} {
    stub::record ipx::check_integrity $args
    dict set stub::core checked 1
}

# Writes a component.xml carrying the VLNV, which get_ipdefs finds again.
proc ipx::save_core {args} {
    stub::record ipx::save_core $args
    set props [dict get $stub::core props]
    foreach key {name version} {
        if {![dict exists $props ipx:core $key]} {
            error "stub: ipx::save_core: the core has no $key"
        }
    }
    set f [open [file join [dict get $stub::core root_dir] component.xml] w]
    puts $f "<spirit:component>"
    puts $f "<spirit:vendor>[dict get $stub::core vendor]</spirit:vendor>"
    puts $f "<spirit:library>[dict get $stub::core library]</spirit:library>"
    puts $f "<spirit:name>[dict get $props ipx:core name]</spirit:name>"
    puts $f "<spirit:version>[dict get $props ipx:core version]</spirit:version>"
    puts $f "</spirit:component>"
    close $f
    dict set stub::core saved 1
}

# --- the model file -----------------------------------------------------------

proc stub::model_json {status message} {
    variable cells
    set jcells {}
    dict for {name info} $cells {
        lappend jcells "[jstr $name]:{\"vlnv\":[jstr [dict get $info vlnv]],\"preset\":[expr {[dict get $info preset] ? "true" : "false"}],\"config\":[jdict [dict get $info config]]}"
    }
    set jnets {}
    foreach net $stub::nets {
        lappend jnets [jstrs $net]
    }
    set jintf {}
    foreach net $stub::intf_nets {
        lappend jintf [jstrs $net]
    }
    set jaddr {}
    foreach a $stub::addresses {
        lappend jaddr "{\"space\":[jstr [dict get $a space]],\"seg\":[jstr [dict get $a seg]],\"offset\":[jnum_or_null [dict get $a offset]],\"range\":[jnum_or_null [dict get $a range]]}"
    }
    set jauto {}
    foreach a $stub::automation {
        lassign $a rule config objs
        lappend jauto "{\"rule\":[jstr $rule],\"config\":[jdict $config],\"objects\":[jstrs $objs]}"
    }
    set jcore "null"
    if {[dict size $stub::core]} {
        set c $stub::core
        set jassoc {}
        foreach a [dict get $c assoc] {
            lappend jassoc [jdict $a]
        }
        set jmmaps {}
        dict for {m blocks} [dict get $c mmaps] {
            lappend jmmaps "[jstr $m]:[jstrs [dict keys $blocks]]"
        }
        set jcore "{\"root_dir\":[jstr [dict get $c root_dir]],\"vendor\":[jstr [dict get $c vendor]],\"library\":[jstr [dict get $c library]],\"busifs\":[jdict [dict get $c busifs]],\"props\":[jdict [dict get $c props] 1],\"assoc\":[jlist $jassoc],\"memory_maps\":{[join $jmmaps ,]},\"checked\":[dict get $c checked],\"saved\":[dict get $c saved]}"
    }
    set jproject [jdict $stub::project]
    return "{\"status\":[jstr $status],\"message\":[jstr $message],\"problems\":[jstrs $stub::problems],\"project\":$jproject,\"props\":[jdict $stub::props 1],\"params\":[jdict $stub::params],\"cells\":{[join $jcells ,]},\"nets\":[jlist $jnets],\"intf_nets\":[jlist $jintf],\"ports\":[jstrs $stub::ports],\"addresses\":[jlist $jaddr],\"automation\":[jlist $jauto],\"validated\":[expr {$stub::validated ? "true" : "false"}],\"core\":$jcore,\"calls\":[jlist $stub::calls]}"
}

# --- run a script as `vivado -mode batch -source SCRIPT -tclargs ...` ---------

if {[info script] eq $::argv0} {
    if {[llength $::argv] < 2} {
        puts stderr "usage: tclsh vivado_stub.tcl MODEL.json SCRIPT.tcl \[ARGS...\]"
        exit 2
    }
    set stub_model [lindex $::argv 0]
    set stub_script [lindex $::argv 1]
    set ::argv [lrange $::argv 2 end]
    set ::argc [llength $::argv]
    set stub_status ok
    set stub_message ""
    if {[catch {uplevel #0 [list source $stub_script]} stub_message]} {
        set stub_status error
        puts stderr "ERROR: $stub_message"
    } else {
        set stub_message ""
    }
    set stub_f [open $stub_model w]
    puts $stub_f [stub::model_json $stub_status $stub_message]
    close $stub_f
    exit [expr {$stub_status eq "ok" ? 0 : 1}]
}
