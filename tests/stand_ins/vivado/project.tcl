# Project, board files, IP catalog, files and the generic property commands.

proc version {args} {
    stub::record version $args
    return [stub::env LENET_STUB_VERSION 2024.1]
}

proc set_param {args} {
    stub::record set_param $args
    dict set stub::params [lindex $args 0] [lindex $args 1]
}

# Board parts installed: LENET_STUB_BOARD_PARTS (none by default, as in a
# fresh Vivado install, which ships no PYNQ-Z2 board files).
proc get_board_parts {args} {
    stub::record get_board_parts $args
    lassign [stub::parse get_board_parts $args {filter of_objects} {latest_file_version}] opts pats
    set installed [stub::env LENET_STUB_BOARD_PARTS none]
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
        stub::fail "create_project without -part"
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
        stub::fail "no project is open"
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

proc stub::repo_paths {} {
    set key project:[dict get $stub::project name]
    if {[dict exists $stub::props $key ip_repo_paths]} {
        return [dict get $stub::props $key ip_repo_paths]
    }
    return {}
}

# VLNVs of the component.xml files under the project's IP repositories.
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
    foreach vlnv [concat [stub::xilinx_ips] [stub::repo_vlnvs]] {
        foreach pat $pats {
            if {[string match $pat $vlnv]} {
                lappend out $vlnv
            }
        }
    }
    return $out
}

# Project properties Vivado has and this flow sets; another name is refused.
namespace eval stub {
    variable project_props {board_part target_language ip_repo_paths}
    variable fileset_props {top}
    variable file_props {file_type}
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
        stub::fail "\[Common 17-55\] 'set_property' expects at least one object."
    }
    foreach obj $objs {
        if {[regexp {^/[^/]+$} $obj]} {
            stub::set_cell_config [string trimleft $obj /] $values
        } elseif {[string match ipx:* $obj]} {
            ipx::set_props $obj $values
        } else {
            switch -glob -- $obj {
                project:* { set known $stub::project_props }
                fileset:* { set known $stub::fileset_props }
                default { set known $stub::file_props }
            }
            dict for {k v} $values {
                if {$k ni $known} {
                    stub::fail "set_property: '$k' is not a property of $obj (known here: $known)"
                }
                dict set stub::props $obj $k $v
            }
        }
    }
}

proc stub::set_cell_config {cell values} {
    variable cells
    if {![dict exists $cells $cell]} {
        fail "set_property on unknown cell /$cell"
    }
    set vlnv [dict get $cells $cell vlnv]
    dict for {k v} $values {
        if {![string match CONFIG.* $k]} {
            fail "set_property: cell property $k of /$cell is not a CONFIG.* parameter"
        }
        check_config $cell $vlnv $k $v
        dict set cells $cell config $k $v
    }
}

proc add_files {args} {
    stub::record add_files $args
    lassign [stub::parse add_files $args {fileset} {norecurse}] opts pos
    foreach path [stub::flatten $pos] {
        if {![file exists $path]} {
            stub::fail "\[filemgmt 56-12\] File '$path' cannot be added to the project because it does not exist."
        }
        lappend stub::files [file normalize $path]
    }
}

proc update_compile_order {args} {
    stub::record update_compile_order $args
    stub::parse update_compile_order $args {fileset}
}

proc get_files {args} {
    stub::record get_files $args
    lassign [stub::parse get_files $args {of_objects filter} {all}] opts pats
    set out {}
    foreach path $stub::files {
        # each pattern argument may be a list of patterns, as Vivado takes them
        foreach pat [stub::flatten $pats] {
            if {$path eq $pat || [string match *[file tail $pat] $path]} {
                lappend out $path
            }
        }
    }
    return [lsort -unique $out]
}
