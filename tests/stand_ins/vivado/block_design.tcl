# Block design commands: cells, pins, nets, automation, addresses, validation,
# and the outputs generate_target/make_wrapper leave in the project.

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
        stub::fail "create_bd_cell before create_bd_design"
    }
    if {$vlnv ni [concat [stub::xilinx_ips] [stub::repo_vlnvs]]} {
        stub::fail "\[BD 41-74\] IP $vlnv is not in the catalog (IP repositories: [stub::repo_paths])"
    }
    if {[dict exists $stub::cells $name]} {
        stub::fail "a cell named $name exists already"
    }
    dict set stub::cells $name [dict create vlnv $vlnv config [dict create] preset 0]
    return /$name
}

proc get_bd_cells {args} {
    stub::record get_bd_cells $args
    lassign [stub::parse get_bd_cells $args {filter}] opts pats
    set out {}
    foreach name [dict keys $stub::cells] {
        foreach pat $pats {
            if {[string match [string trimleft $pat /] $name]} {
                lappend out /$name
            }
        }
    }
    return $out
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

# An unknown pin, interface, space or segment is refused: Vivado's get_bd_*
# returns nothing (with a warning) and the command it feeds then fails.
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
        addr_seg { set known [dict keys [segs_of $cell]] }
    }
    if {$rest ni $known} {
        fail "$kind /$cell/$rest does not exist on [dict get $cells $cell vlnv] as configured\
              (it has: [lsort $known])"
    }
    return /$cell/$rest
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
    if {[llength $drivers] > 1} {
        stub::problem "\[BD 41-249\] Net already has a source port: {$merged} has [llength $drivers]: $drivers"
    } elseif {[llength $drivers] == 0} {
        stub::problem "connect_bd_net: the net {$merged} has no driver"
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

# The keys the processing_system7 automation rule takes (as Vivado-exported
# designs and the PS7 rule's dialog name them); another key is refused.
namespace eval stub {
    variable ps7_rule_keys {make_external apply_board_preset Master Slave}
}

proc apply_bd_automation {args} {
    stub::record apply_bd_automation $args
    lassign [stub::parse apply_bd_automation $args {rule config opts dict}] opts pos
    set rule [dict get $opts rule]
    set config [dict get $opts config]
    set objs [stub::flatten $pos]
    lappend stub::automation [list $rule $config $objs]
    if {$rule ne "xilinx.com:bd_rule:processing_system7"} {
        stub::fail "automation rule $rule is not modelled"
    }
    dict for {key value} $config {
        if {$key ni $stub::ps7_rule_keys} {
            stub::fail "\[BD 41-1273\] Error running apply_rule TCL procedure: the\
                        processing_system7 rule has no option '$key' (it has: $stub::ps7_rule_keys)"
        }
    }
    set preset [expr {[dict exists $config apply_board_preset] ? [dict get $config apply_board_preset] : 0}]
    if {$preset ni {0 1}} {
        stub::fail "\[BD 41-1273\] apply_board_preset must be 0 or 1, got '$preset'"
    }
    foreach obj $objs {
        set cell [string trimleft $obj /]
        if {$preset} {
            if {![dict exists $stub::props project:[dict get $stub::project name] board_part]} {
                stub::fail "\[BD 41-1273\] apply_board_preset 1 in a project without a board part"
            }
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

# Refuses what Vivado's address editor refuses: a range that is not a power
# of two, smaller than the segment needs or larger than it has, and an offset
# not aligned to its range ("[BD 41-1075] The proposed address ... is
# misaligned"), and two segments overlapping in one address space.
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
    set offset ""
    set range ""
    foreach {name var} {offset offset range range} {
        if {[dict exists $opts $name]} {
            set $var [stub::size [dict get $opts $name]]
            if {[set $var] eq ""} {
                stub::fail "assign_bd_address: -$name '[dict get $opts $name]' is not an address or size"
            }
        }
    }
    foreach seg $segs {
        if {$range ne ""} {
            lassign [stub::split_path $seg] cell rest
            lassign [dict get [stub::segs_of $cell] $rest] smallest largest
            if {![stub::is_pow2 $range]} {
                stub::fail "assign_bd_address: the range [dict get $opts range] of $seg is not a power of two"
            }
            if {$range < $smallest || $range > $largest} {
                stub::fail "assign_bd_address: range [dict get $opts range] of $seg is outside\
                            what the segment takes ($smallest..$largest bytes)"
            }
            if {$offset ne "" && $offset % $range != 0} {
                set next [expr {($offset / $range + 1) * $range}]
                stub::fail [format "\[BD 41-1075\] The proposed address '0x%08X \[ %s \]' of %s is\
                    misaligned. The next aligned offset for this range is '0x%08X'." \
                    $offset [dict get $opts range] $seg $next]
            }
            foreach a $stub::addresses {
                if {[dict get $a space] ne $space || [dict get $a seg] eq $seg
                        || [dict get $a offset] eq "" || $offset eq ""} {
                    continue
                }
                set lo [dict get $a offset]
                set hi [expr {$lo + [dict get $a range]}]
                if {$offset < $hi && $lo < $offset + $range} {
                    stub::fail "assign_bd_address: $seg at [format 0x%08X $offset] overlaps\
                                [dict get $a seg] in $space"
                }
            }
        }
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
    set assigned_segs {}
    set assigned_spaces {}
    foreach a $stub::addresses {
        lappend assigned_segs [dict get $a seg]
        lappend assigned_spaces [dict get $a space]
    }
    dict for {cell info} $stub::cells {
        dict for {pin meta} [stub::pins_of $cell] {
            if {[lindex $meta 1] && ![stub::connected /$cell/$pin $stub::nets]} {
                stub::problem "\[BD 41-758\] validate_bd_design: pin /$cell/$pin is not connected"
            }
        }
        dict for {pin meta} [stub::intf_of $cell] {
            if {[lindex $meta 2] && ![stub::connected /$cell/$pin $stub::intf_nets]} {
                stub::problem "validate_bd_design: interface /$cell/$pin is not connected"
            }
        }
        if {![string match *:processing_system7:* [dict get $info vlnv]]} {
            foreach seg [dict keys [stub::segs_of $cell]] {
                if {"/$cell/$seg" ni $assigned_segs} {
                    stub::problem "\[BD 41-1356\] validate_bd_design: slave segment /$cell/$seg is not\
                                   assigned into address space"
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
    puts $f "stand-in block design $stub::bd"
    close $f
    lappend stub::files [file join $dir $stub::bd.bd]
    set stub::bd_saved 1
}

# The hand-off file appears when the design's outputs are generated; where,
# depends on the Vivado release (LENET_STUB_HWH_TREE). It lists the cells
# with their VLNV and parameters, as the real one's MODULE elements do.
proc generate_target {args} {
    stub::record generate_target $args
    lassign [stub::parse generate_target $args {} {force}] opts pos
    if {!$stub::bd_saved} {
        stub::fail "generate_target on a block design that was never saved"
    }
    set tree [stub::env LENET_STUB_HWH_TREE gen]
    if {$tree eq "none"} {
        return
    }
    set dir [file join [stub::bd_dir $tree] hw_handoff]
    file mkdir $dir
    set f [open [file join $dir $stub::bd.hwh] w]
    puts $f "<EDKSYSTEM VIVADOVERSION=\"[stub::env LENET_STUB_VERSION 2024.1]\"><MODULES>"
    dict for {cell info} $stub::cells {
        puts $f "<MODULE FULLNAME=\"/$cell\" INSTANCE=\"$cell\" VLNV=\"[dict get $info vlnv]\"><PARAMETERS>"
        dict for {k v} [dict get $info config] {
            puts $f "<PARAMETER NAME=\"[string range $k 7 end]\" VALUE=\"$v\"/>"
        }
        puts $f "</PARAMETERS></MODULE>"
    }
    puts $f "</MODULES></EDKSYSTEM>"
    close $f
}

proc make_wrapper {args} {
    stub::record make_wrapper $args
    lassign [stub::parse make_wrapper $args {files fileset inst_template} {top}] opts pos
    if {[llength [dict get $opts files]] != 1} {
        stub::fail "make_wrapper -files needs the .bd file, got '[dict get $opts files]'"
    }
    set dir [file join [stub::bd_dir gen] hdl]
    file mkdir $dir
    set path [file join $dir ${stub::bd}_wrapper.v]
    set f [open $path w]
    puts $f "module ${stub::bd}_wrapper(); endmodule"
    close $f
    return $path
}
