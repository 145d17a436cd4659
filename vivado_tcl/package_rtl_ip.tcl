# Package the Verilog twin (rtl/) as an IP so `make bitstream IP=rtl` builds
# the same overlay around it. Run by the Makefile as
#
#   vivado -mode batch -source vivado_tcl/package_rtl_ip.tcl -tclargs \
#       -contract F -rtl_dir rtl -build_dir DIR -ip_dir build/ip/rtl
#
# The ports carry the names Vitis HLS gives (docs/contract.md section 3), so
# Vivado infers the same interfaces the HLS export declares: in_r/out_r
# AXI4-Stream, s_axi_control AXI4-Lite, ap_clk, ap_rst_n, interrupt.

set here [file dirname [file normalize [info script]]]
source [file join $here args.tcl]
source [file join $here project.tcl]

set usage "package_rtl_ip.tcl -contract F -rtl_dir DIR -build_dir DIR -ip_dir DIR"
set opts [lenet_parse_args $argv {contract rtl_dir build_dir ip_dir} $usage]
lenet_source_contract [dict get $opts contract]
set rtl_dir [file normalize [dict get $opts rtl_dir]]
set build_dir [file normalize [dict get $opts build_dir]]
set ip_dir [file normalize [dict get $opts ip_dir]]
lassign [split $::LENET_VLNV_RTL :] vendor library name version

# The sources and the headers they include (the contract, the bank layout).
set sources [lsort [glob -nocomplain -directory $rtl_dir *.v]]
set headers [lsort [glob -nocomplain -directory $rtl_dir *.vh]]
if {[llength $sources] == 0 || [file join $rtl_dir lenet_contract.vh] ni $headers} {
    error "lenet: rtl/ needs the Verilog sources (*.v) and lenet_contract.vh;\
           found [llength $sources] .v file(s) in $rtl_dir"
}

# Interfaces the block design connects (vivado_tcl/block_design.tcl), by the
# names Vivado infers from the port prefixes.
set streams {in_r out_r}
set busifs [concat $streams {s_axi_control ap_clk ap_rst_n interrupt}]

proc lenet_busif {core name} {
    set busif [ipx::get_bus_interfaces -quiet $name -of_objects $core]
    if {$busif eq ""} {
        error "lenet: no '$name' interface was inferred from rtl/; its ports must be\
               named as docs/contract.md section 3 lists (${name}_*, ap_clk, ap_rst_n, interrupt)"
    }
    return $busif
}

# A bus parameter, created if inference did not add it.
proc lenet_bus_parameter {busif param value} {
    set p [ipx::get_bus_parameters -quiet $param -of_objects $busif]
    if {$p eq ""} {
        set p [ipx::add_bus_parameter $param $busif]
    }
    set_property value $value $p
}

# A throw-away project is what ipx::package_project packages.
lenet_warn_if_other_version
create_project -force lenet_rtl_pkg $build_dir -part $::LENET_PART
add_files -norecurse [concat $sources $headers]
set_property file_type {Verilog Header} [get_files $headers]
set_property top $::LENET_TOP_NAME [current_fileset]
update_compile_order -fileset sources_1

file delete -force $ip_dir
ipx::package_project -root_dir $ip_dir -vendor $vendor -library $library \
    -taxonomy /UserIP -import_files -set_current true
set core [ipx::current_core]
set_property -dict [list name $name version $version display_name "LeNet-5 (Verilog twin)" \
    description "LeNet-5 MNIST classifier, AXI4-Stream in/out, docs/contract.md"] $core

foreach busif $busifs {
    lenet_busif $core $busif
}
# ap_clk as Xilinx's own packaging scripts declare a kernel clock
# (Xilinx/Vitis_Accel_Examples rtl_kernels/rtl_vadd/scripts/package_kernel.tcl):
# ASSOCIATED_BUSIF and ASSOCIATED_RESET through associate_bus_interfaces, and
# FREQ_HZ at the contract clock, resolved "user" so the block design may
# propagate FCLK_CLK0's frequency onto it (a fixed value that differed would
# fail validation, [BD 41-237] FREQ_HZ does not match).
foreach busif [concat $streams s_axi_control] {
    ipx::associate_bus_interfaces -busif $busif -clock ap_clk $core
}
ipx::associate_bus_interfaces -clock ap_clk -reset ap_rst_n $core
lenet_bus_parameter [lenet_busif $core ap_clk] FREQ_HZ [expr {$::LENET_CLOCK_MHZ * 1000000}]
set_property value_resolve_type user [ipx::get_bus_parameters FREQ_HZ -of_objects [lenet_busif $core ap_clk]]
lenet_bus_parameter [lenet_busif $core ap_rst_n] POLARITY ACTIVE_LOW
lenet_bus_parameter [lenet_busif $core interrupt] SENSITIVITY LEVEL_HIGH

# The register file: named Reg like the HLS export's, so the block design
# addresses both IPs the same way. 2^ADDR_WIDTH bytes (contract).
set mmap [ipx::get_memory_maps -quiet s_axi_control -of_objects $core]
if {$mmap eq ""} {
    set mmap [ipx::add_memory_map s_axi_control $core]
}
set_property slave_memory_map_ref s_axi_control [lenet_busif $core s_axi_control]
foreach block [ipx::get_address_blocks -quiet -of_objects $mmap] {
    ipx::remove_address_block [get_property name $block] $mmap
}
set block [ipx::add_address_block Reg $mmap]
set_property -dict [list base_address 0 range [expr {1 << $::LENET_ADDR_WIDTH}] width 32 \
    usage register] $block

ipx::create_xgui_files $core
ipx::update_checksums $core
ipx::check_integrity $core
ipx::save_core $core
close_project
puts "lenet: packaged $::LENET_VLNV_RTL into $ip_dir"
