# Synthesis and implementation runs, reports, timing and the bitstream.
# Their results come from the environment so tests can make a build fail:
#   LENET_STUB_WNS / _WHS     worst setup / hold slack in ns (0.412 / 0.031)
#   LENET_STUB_PERIOD         period of clk_fpga_0 in ns (10.000)
#   LENET_STUB_RUN_FAIL       name of a run that fails (synth_1, impl_1)

proc launch_runs {args} {
    stub::record launch_runs $args
    lassign [stub::parse launch_runs $args {jobs to_step next_step}] opts pos
    foreach run $pos {
        if {![dict exists $stub::runs $run]} {
            stub::fail "no run $run"
        }
        if {$run eq "impl_1" && [dict get $stub::runs synth_1 progress] ne "100%"} {
            stub::problem "impl_1 launched before synth_1 was waited on and completed"
        }
        if {[lsearch -glob $stub::files *_wrapper.v] < 0} {
            stub::fail "$run launched without an HDL top (make_wrapper + add_files)"
        }
        dict set stub::runs $run launched 1
    }
}

proc wait_on_run {args} {
    stub::record wait_on_run $args
    set run [lindex $args 0]
    if {![dict get $stub::runs $run launched]} {
        stub::fail "wait_on_run $run, which was never launched"
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
        stub::fail "no run $run"
    }
    return run:$run
}

proc open_run {args} {
    stub::record open_run $args
    set run [lindex $args 0]
    if {[dict get $stub::runs $run progress] ne "100%"} {
        stub::fail "open_run $run, which has not completed"
    }
    set stub::opened_run $run
}

proc stub::need_routed {cmd} {
    if {$stub::opened_run ne "impl_1"} {
        fail "$cmd needs the implemented design (open_run impl_1)"
    }
}

proc stub::timing_met {} {
    return [expr {[env LENET_STUB_WNS 0.412] >= 0 && [env LENET_STUB_WHS 0.031] >= 0}]
}

proc stub::write_report {path text} {
    file mkdir [file dirname $path]
    set f [open $path w]
    puts $f $text
    close $f
}

# The slice logic, memory and DSP tables as Vivado 2024.1 prints them for a
# 7-series part (Site Type | Used | Fixed | Prohibited | Available | Util%),
# with made-up Used figures: nothing here was measured.
proc stub::utilization_text {} {
    set rows {{Slice LUTs} 9121 53200 {Slice Registers} 11480 106400 {Block RAM Tile} 36.5 140
              DSPs 32 220}
    set text "1. Slice Logic\n\n| Site Type | Used | Fixed | Prohibited | Available | Util% |\n"
    foreach {row used available} $rows {
        append text [format "| %-15s | %6s | 0 | 0 | %6s | %5.2f |\n" $row $used $available \
            [expr {100.0 * $used / $available}]]
    }
    return $text
}

proc report_utilization {args} {
    stub::record report_utilization $args
    lassign [stub::parse report_utilization $args {file} {hierarchical return_string}] opts pos
    stub::need_routed report_utilization
    set text [stub::utilization_text]
    if {[dict exists $opts file]} {
        stub::write_report [dict get $opts file] $text
    }
    if {[dict exists $opts return_string]} {
        return $text
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
    stub::fail "get_property $name of '$obj' is not modelled"
}

proc write_bitstream {args} {
    stub::record write_bitstream $args
    lassign [stub::parse write_bitstream $args {} {force bin_file}] opts pos
    stub::need_routed write_bitstream
    stub::write_report [lindex $pos 0] "stand-in bitstream of $stub::bd, [clock milliseconds]"
}
