# A stand-in for Vivado 2024.1 in batch mode, for the Tcl commands that
# vivado_tcl/ uses, so plain tclsh can run those scripts, refuse what Vivado
# would refuse, and record what they ask Vivado for.
#
#   tclsh tests/stand_ins/vivado/run.tcl MODEL.json SCRIPT.tcl [SCRIPT ARGS...]
#
# runs SCRIPT as `vivado -mode batch -source SCRIPT -tclargs ARGS` would: on
# an error it prints Vivado's "ERROR: ..." line and exits 1. MODEL.json ("" for
# none) receives every call made and the design they describe (cells and
# their CONFIG, nets, interface nets, address map, runs, the packaged core).
# tests/stand_ins/vivado/vivado takes Vivado's own command line.
#
# One file per job: core.tcl (state, errors, parsing, JSON), catalog.tcl
# (the IPs: parameters and legal values with their sources, pins, segments),
# project.tcl, block_design.tcl, runs.tcl, ipx.tcl, model.tcl.
#
# Environment knobs for tests:
#   LENET_STUB_LENIENT=1      record design-rule problems (open pins, two drivers)
#                             in "problems" and carry on; unknown parameters,
#                             illegal values and bad addresses still fail
#   LENET_STUB_VERSION        what `version -short` says (2024.1)
#   LENET_STUB_BOARD_PARTS    installed board parts (none)
#   LENET_STUB_HWH_TREE       where generate_target puts the .hwh: gen, srcs or none
#   and those of runs.tcl (slack, clock period, a failing run).

set stub_here [file dirname [file normalize [info script]]]
foreach stub_part {core catalog project block_design runs ipx model} {
    source [file join $stub_here $stub_part.tcl]
}

if {[llength $::argv] < 2} {
    puts stderr "usage: tclsh run.tcl MODEL.json SCRIPT.tcl \[ARGS...\]"
    exit 2
}
set stub_model [lindex $::argv 0]
set stub_script [lindex $::argv 1]
set ::argv [lrange $::argv 2 end]
set ::argc [llength $::argv]
set stub_status ok
if {[catch {uplevel #0 [list source $stub_script]} stub_message]} {
    set stub_status error
    puts stderr "ERROR: $stub_message"
} else {
    set stub_message ""
}
if {$stub_model ne ""} {
    set stub_f [open $stub_model w]
    puts $stub_f [stub::model_json $stub_status $stub_message]
    close $stub_f
}
exit [expr {$stub_status eq "ok" ? 0 : 1}]
