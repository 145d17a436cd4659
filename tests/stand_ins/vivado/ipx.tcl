# IP packaging (ipx::), as vivado_tcl/package_rtl_ip.tcl uses it and as
# Xilinx's own packaging scripts do (Xilinx/Vitis_Accel_Examples
# rtl_kernels/rtl_vadd/scripts/package_kernel.tcl: -import_files, FREQ_HZ on
# ap_clk with value_resolve_type user, associate_bus_interfaces for
# ASSOCIATED_BUSIF and ASSOCIATED_RESET, slave_memory_map_ref).

namespace eval stub {
    # Properties per ipx object kind, with the values the packager accepts
    # ({} = any); another property name is refused.
    variable ipx_props {
        core {name {} version {} display_name {} description {} vendor {} library {}
              taxonomy {} core_revision {} supported_families {}}
        busif {slave_memory_map_ref {} interface_mode {master slave monitor} name {}}
        param {value {} value_resolve_type {user immediate generated dependent}}
        block {base_address {} range {} width {} usage {memory register reserved}
               access {read-write read-only write-only}}
    }
    # Legal values of the bus parameters this flow sets (the packager's
    # interface definitions: reset_rtl POLARITY, interrupt_rtl SENSITIVITY).
    variable bus_param_values {
        POLARITY {ACTIVE_LOW ACTIVE_HIGH}
        SENSITIVITY {LEVEL_HIGH LEVEL_LOW EDGE_RISING EDGE_FALLING}
    }
}

proc ipx::kind {obj} {
    return [lindex [split $obj :] 1]
}

# set_property on an ipx object: a known property with a legal value.
proc ipx::set_props {obj values} {
    set kind [kind $obj]
    if {![dict exists $stub::ipx_props $kind]} {
        stub::fail "set_property on the ipx $kind $obj is not modelled"
    }
    set known [dict get $stub::ipx_props $kind]
    dict for {k v} $values {
        if {![dict exists $known $k]} {
            stub::fail "set_property: '$k' is not a property of the ipx $kind $obj\
                        (it has: [lsort [dict keys $known]])"
        }
        set legal [dict get $known $k]
        if {$legal ne "" && $v ni $legal} {
            stub::fail "set_property: '$v' is not a legal $k of $obj ([join $legal {, }])"
        }
        if {$kind eq "param" && $k eq "value"} {
            set pname [lindex [split $obj :] end]
            if {[dict exists $stub::bus_param_values $pname]
                    && $v ni [dict get $stub::bus_param_values $pname]} {
                stub::fail "set_property: '$v' is not a legal $pname\
                            ([join [dict get $stub::bus_param_values $pname] {, }])"
            }
            if {$pname eq "FREQ_HZ" && !([string is wideinteger -strict $v] && $v > 0)} {
                stub::fail "set_property: FREQ_HZ '$v' is not a frequency in Hz"
            }
        }
        if {$kind eq "block" && $k eq "range" && !([string is wideinteger -strict $v] && $v > 0)} {
            stub::fail "set_property: range '$v' of $obj is not a size in bytes"
        }
        dict set stub::core props $obj $k $v
    }
}

# Infers interfaces from port names the way Vivado's packager does for the
# names we use: PREFIX_TDATA -> AXI4-Stream PREFIX, PREFIX_AWADDR -> AXI4
# memory-mapped PREFIX, and the clock, reset and interrupt by name. With
# -import_files the sources are copied under ROOT_DIR/src; without, the IP
# points at them where they are.
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
        stub::fail "ipx::package_project: top module '$top' is not in the project's sources"
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
    set root [file normalize [dict get $opts root_dir]]
    file mkdir $root
    set packaged {}
    foreach path $stub::files {
        if {[dict exists $opts import_files]} {
            file mkdir [file join $root src]
            file copy -force $path [file join $root src]
            lappend packaged [file join $root src [file tail $path]]
        } else {
            lappend packaged $path
        }
    }
    set stub::core [dict create root_dir $root vendor [dict get $opts vendor] \
        library [dict get $opts library] busifs $busifs files $packaged props [dict create] \
        assoc {} mmaps [dict create] saved 0 checked 0]
}

proc ipx::current_core {args} {
    stub::record ipx::current_core $args
    if {[dict size $stub::core] == 0} {
        stub::fail "no current IP core"
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
    set busif [lindex [split [dict get $opts of_objects] :] end]
    set obj ipx:param:$busif:[lindex $pos 0]
    if {[dict exists $stub::core props $obj]} {
        return $obj
    }
    return {}
}

proc ipx::add_bus_parameter {args} {
    stub::record ipx::add_bus_parameter $args
    lassign [stub::parse ipx::add_bus_parameter $args {}] opts pos
    lassign $pos param busif
    set name [lindex [split $busif :] end]
    if {![string match ipx:busif:* $busif] || ![dict exists $stub::core busifs $name]} {
        stub::fail "ipx::add_bus_parameter $param: '$busif' is not a bus interface of the core"
    }
    set obj ipx:param:$name:$param
    dict set stub::core props $obj name $param
    return $obj
}

# -busif B -clock C adds B to C's ASSOCIATED_BUSIF; -clock C -reset R sets
# C's ASSOCIATED_RESET, as the packager records them (bus parameters of the
# clock interface).
proc ipx::associate_bus_interfaces {args} {
    stub::record ipx::associate_bus_interfaces $args
    lassign [stub::parse ipx::associate_bus_interfaces $args {busif clock reset} {remove}] opts pos
    foreach key [dict keys $opts] {
        if {$key in {busif clock reset}
                && ![dict exists $stub::core busifs [dict get $opts $key]]} {
            stub::fail "ipx::associate_bus_interfaces: no interface [dict get $opts $key]"
        }
    }
    if {![dict exists $opts clock]} {
        stub::fail "ipx::associate_bus_interfaces needs -clock"
    }
    set clock [dict get $opts clock]
    foreach {opt param} {busif ASSOCIATED_BUSIF reset ASSOCIATED_RESET} {
        if {![dict exists $opts $opt]} {
            continue
        }
        set obj ipx:param:$clock:$param
        set old {}
        if {[dict exists $stub::core props $obj value]} {
            set old [split [dict get $stub::core props $obj value] :]
        }
        set value [join [lsort -unique [concat $old [list [dict get $opts $opt]]]] :]
        dict set stub::core props $obj [dict create name $param value $value]
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
    lassign [stub::parse ipx::add_memory_map $args {}] opts pos
    set name [lindex $pos 0]
    dict set stub::core mmaps $name [dict create]
    return ipx:mmap:$name
}

proc ipx::get_address_blocks {args} {
    stub::record ipx::get_address_blocks $args
    lassign [stub::parse ipx::get_address_blocks $args {of_objects}] opts pos
    set mmap [lindex [split [dict get $opts of_objects] :] end]
    set out {}
    foreach block [dict keys [dict get $stub::core mmaps $mmap]] {
        lappend out ipx:block:$mmap:$block
    }
    return $out
}

proc ipx::remove_address_block {args} {
    stub::record ipx::remove_address_block $args
    lassign $args name mmap
    dict unset stub::core mmaps [lindex [split $mmap :] end] $name
}

proc ipx::add_address_block {args} {
    stub::record ipx::add_address_block $args
    lassign [stub::parse ipx::add_address_block $args {}] opts pos
    lassign $pos name mmap
    set m [lindex [split $mmap :] end]
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
            stub::fail "ipx::save_core: the core has no $key"
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
