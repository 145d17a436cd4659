# Vitis HLS 2024.1: C simulation, synthesis, C/RTL co-simulation and IP
# catalog export of the LeNet IP. Run by `make hls` through hls_src/make_hls.sh,
# from the project folder (build/hls), as `vitis_hls -f run_hls.tcl`, with:
#
#   LENET_HLS_SRC       absolute path of hls_src/
#   LENET_CONTRACT_TCL  the contract include (vivado_tcl/write_contract_tcl.py):
#                       part, clock, top name and VLNV, never retyped here
#   LENET_VECTORS       a `lenet export` directory, the testbench's argument
#   LENET_HLS_STEPS     any of "csim csynth cosim export" (default: all four)
#   LENET_IP_ZIP        where export_design writes the IP archive
#
# Any failing step is a Tcl error, which ends vitis_hls with a non-zero exit.

source $::env(LENET_CONTRACT_TCL)
set src $::env(LENET_HLS_SRC)
set vectors [file normalize $::env(LENET_VECTORS)]
set steps "csim csynth cosim export"
if {[info exists ::env(LENET_HLS_STEPS)]} {
    set steps $::env(LENET_HLS_STEPS)
}

# hls_src/csim_shim is deliberately absent: Vitis HLS brings its own
# hls_stream.h, ap_axi_sdata.h and ap_int.h.
set cflags "-std=c++14 -I$src"

open_project -reset lenet_prj
set_top $::LENET_TOP_NAME
add_files $src/lenet.cpp -cflags $cflags
add_files -tb $src/tb_lenet.cpp -cflags "$cflags -Wno-unknown-pragmas"
open_solution -reset solution1 -flow_target vivado
set_part $::LENET_PART
create_clock -period [expr {1000.0 / $::LENET_CLOCK_MHZ}] -name default

if {"csim" in $steps} {
    csim_design -argv $vectors
}
if {"csynth" in $steps || "cosim" in $steps || "export" in $steps} {
    csynth_design
}
if {"cosim" in $steps} {
    # The same testbench: every exported job, every malformed job, a reload.
    cosim_design -argv $vectors -rtl verilog
}
if {"export" in $steps} {
    lassign [split $::LENET_VLNV_HLS ":"] vendor library name version
    export_design -format ip_catalog -rtl verilog -vendor $vendor -library $library -ipname $name \
        -version $version -display_name "LeNet-5 (lenet-pynq)" -output $::env(LENET_IP_ZIP)
}
exit
