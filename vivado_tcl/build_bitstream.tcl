# `make bitstream`: block design -> synthesis -> implementation -> timing
# check -> overlay/lenet.bit + overlay/lenet.hwh. Run by the Makefile as
#
#   vivado -mode batch -source vivado_tcl/build_bitstream.tcl -tclargs \
#       -contract F -ip hls|rtl -ip_repo DIR -build_dir DIR -reports_dir DIR \
#       -overlay PATH_WITHOUT_EXTENSION -board_part none|BOARD_PART -jobs N
#
# Any failure is a Tcl error, which ends Vivado's batch mode with exit code 1.
# Besides the overlay it writes REPORTS_DIR/build_facts.json (release, clock,
# slack, utilization), from which vivado_tcl/write_build_record.py makes the
# build record overlay/lenet.json.

set here [file dirname [file normalize [info script]]]
source [file join $here args.tcl]
source [file join $here project.tcl]
source [file join $here block_design.tcl]

set usage "build_bitstream.tcl -contract F -ip hls|rtl -ip_repo DIR -build_dir DIR\
           -reports_dir DIR -overlay PATH -board_part none|BOARD_PART -jobs N"
set opts [lenet_parse_args $argv {contract ip ip_repo build_dir reports_dir overlay board_part jobs} \
    $usage]
lenet_source_contract [dict get $opts contract]

set ip_kind [dict get $opts ip]
if {$ip_kind eq "hls"} {
    set ip_vlnv $::LENET_VLNV_HLS
    set ip_hint "run `make hls` first (needs Vitis HLS $::LENET_VIVADO_VERSION)"
} elseif {$ip_kind eq "rtl"} {
    set ip_vlnv $::LENET_VLNV_RTL
    set ip_hint "run `make bitstream` (IP=rtl, the default), which packages rtl/ first"
} else {
    error "build_bitstream.tcl: -ip must be hls or rtl, got '$ip_kind'"
}
set ip_repo [file normalize [dict get $opts ip_repo]]
set build_dir [file normalize [dict get $opts build_dir]]
set reports_dir [file normalize [dict get $opts reports_dir]]
set overlay [file normalize [dict get $opts overlay]]
set board_part [dict get $opts board_part]
set jobs [dict get $opts jobs]
set proj_name lenet_$ip_kind
set bd_name lenet_bd

proc lenet_run_or_fail {run} {
    wait_on_run $run
    if {[get_property PROGRESS [get_runs $run]] ne "100%"} {
        error "lenet: $run failed ([get_property STATUS [get_runs $run]]); see its log under\
               [get_property DIRECTORY [get_runs $run]]"
    }
}

# Vivado writes the hand-off file under .gen/ since 2020-ish releases and
# under .srcs/ before that; take whichever this release wrote.
proc lenet_find_hwh {proj_dir proj_name bd_name} {
    foreach tree {gen srcs} {
        set path [file join $proj_dir $proj_name.$tree sources_1 bd $bd_name hw_handoff $bd_name.hwh]
        if {[file exists $path]} {
            return $path
        }
    }
    error "lenet: no $bd_name.hwh under $proj_dir/$proj_name.{gen,srcs}/sources_1/bd/$bd_name/hw_handoff/"
}

# Setup and hold must both close at the contract clock, and the clock the
# PS drives must really be that clock (a preset could have changed it).
# Returns {period wns whs}.
proc lenet_check_timing {reports_dir clock_mhz} {
    set want [expr {1000.0 / $clock_mhz}]
    set period [get_property PERIOD [get_clocks clk_fpga_0]]
    if {abs($period - $want) > 0.001} {
        error "lenet: FCLK_CLK0 (clk_fpga_0) has period $period ns, not $want ns ($clock_mhz MHz)"
    }
    set wns [get_property SLACK [get_timing_paths -delay_type max -max_paths 1 -nworst 1]]
    set whs [get_property SLACK [get_timing_paths -delay_type min -max_paths 1 -nworst 1]]
    set summary [report_timing_summary -return_string -max_paths 10]
    if {$wns eq "" || $whs eq "" || $wns < 0 || $whs < 0
            || [string first "All user specified timing constraints are met" $summary] < 0} {
        error "lenet: timing is not met at $clock_mhz MHz (WNS $wns ns, WHS $whs ns); no bitstream\
               written. See $reports_dir/timing_summary.rpt"
    }
    puts "lenet: timing met at $clock_mhz MHz (WNS $wns ns, WHS $whs ns)"
    return [list $period $wns $whs]
}

# Used and available sites of the rows the build record keeps, read from the
# tables of report_utilization (7-series names: "Slice LUTs", "Slice
# Registers", "Block RAM Tile", "DSPs"; the columns are Site Type | Used |
# Fixed | [Prohibited |] Available | Util%, so Used comes first and Available
# last but one). A row that is missing is an error: the record would lie.
proc lenet_utilization {report} {
    set out {}
    foreach {key row} {lut {Slice LUTs} ff {Slice Registers} bram {Block RAM Tile} dsp DSPs} {
        set found 0
        foreach line [split $report "\n"] {
            set cols {}
            foreach c [split [string trim $line] |] {
                lappend cols [string trim $c]
            }
            if {[llength $cols] >= 6 && [string trimright [lindex $cols 1] *] eq $row} {
                lappend out $key [list [lindex $cols 2] [lindex $cols end-2]]
                set found 1
                break
            }
        }
        if {!$found} {
            error "lenet: report_utilization has no '$row' row; cannot write the build record"
        }
    }
    return $out
}

# The facts of this build that only Vivado knows, as JSON for
# vivado_tcl/write_build_record.py (which adds git, hashes and the contract).
proc lenet_write_build_facts {path ip_kind ip_vlnv clock_mhz timing utilization} {
    lassign $timing period wns whs
    set util {}
    foreach {key pair} $utilization {
        lassign $pair used available
        lappend util "\"$key\": {\"used\": $used, \"available\": $available}"
    }
    set f [open $path w]
    puts $f "{\"vivado_version\": \"[version -short]\", \"part\": \"$::LENET_PART\",\
             \"ip\": \"$ip_kind\", \"ip_vlnv\": \"$ip_vlnv\", \"clock_mhz\": $clock_mhz,\
             \"period_ns\": $period, \"wns_ns\": $wns, \"whs_ns\": $whs,\
             \"utilization\": {[join $util {, }]}}"
    close $f
}

# Copy under temporary names first, then rename both, so overlay/ never holds
# a half-written file or a .bit without its matching .hwh.
proc lenet_publish {bit hwh overlay} {
    file mkdir [file dirname $overlay]
    if {[catch {
        file copy -force $bit $overlay.bit.part
        file copy -force $hwh $overlay.hwh.part
    } message]} {
        file delete -force $overlay.bit.part $overlay.hwh.part
        error "lenet: could not copy the overlay into [file dirname $overlay]: $message"
    }
    file rename -force $overlay.bit.part $overlay.bit
    file rename -force $overlay.hwh.part $overlay.hwh
    puts "lenet: wrote $overlay.bit and $overlay.hwh"
}

# --- project and IP --------------------------------------------------------

set board_preset [lenet_create_project $proj_name $build_dir $::LENET_PART $board_part]
set_property ip_repo_paths [list $ip_repo] [current_project]
update_ip_catalog -rebuild
if {[llength [get_ipdefs -all $ip_vlnv]] == 0} {
    error "lenet: IP $ip_vlnv not found in $ip_repo: $ip_hint"
}

# --- block design ----------------------------------------------------------

set bd_file [lenet_bd::create $bd_name $ip_vlnv $::LENET_BD_IP_NAME $::LENET_BD_DMA_NAME \
    $::LENET_CLOCK_MHZ $board_preset]
generate_target all $bd_file
set wrapper [make_wrapper -files $bd_file -top]
add_files -norecurse $wrapper
set_property top ${bd_name}_wrapper [current_fileset]
update_compile_order -fileset sources_1

# --- synthesis, implementation, reports ------------------------------------

launch_runs synth_1 -jobs $jobs
lenet_run_or_fail synth_1
launch_runs impl_1 -jobs $jobs
lenet_run_or_fail impl_1
open_run impl_1

# Reports go to reports/vivado/<ip>/ (the Makefile's -reports_dir), one set per IP.
file mkdir $reports_dir
report_utilization -file [file join $reports_dir utilization.rpt]
report_utilization -hierarchical -file [file join $reports_dir utilization_hierarchical.rpt]
report_timing_summary -max_paths 10 -file [file join $reports_dir timing_summary.rpt]
set timing [lenet_check_timing $reports_dir $::LENET_CLOCK_MHZ]
lenet_write_build_facts [file join $reports_dir build_facts.json] $ip_kind $ip_vlnv \
    $::LENET_CLOCK_MHZ $timing [lenet_utilization [report_utilization -return_string]]

# --- bitstream and hand-off ------------------------------------------------

set bit [file join $build_dir $bd_name.bit]
write_bitstream -force $bit
lenet_publish $bit [lenet_find_hwh $build_dir $proj_name $bd_name] $overlay
close_project
