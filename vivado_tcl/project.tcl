# The Vivado project for the PYNQ-Z2: tool version, part, optional board files.

# The release the PYNQ-Z2 v3.1 image is built with; other releases may work
# but make a bitstream whose IP versions the image was never tested with.
set ::LENET_VIVADO_VERSION 2024.1

proc lenet_warn_if_other_version {} {
    set have [version -short]
    if {$have ne $::LENET_VIVADO_VERSION} {
        puts "WARNING: lenet: this is Vivado $have; the build is written and checked for\
              $::LENET_VIVADO_VERSION (PYNQ v3.1). Carrying on, but IP versions pinned in\
              vivado_tcl/ (processing_system7 5.5, axi_dma 7.1) may be missing or differ."
    }
}

# The build needs no board files: block_design.tcl sets the PS7 for the
# PYNQ-Z2 from the part alone. A user who has the PYNQ-Z2 board files may ask
# for them (`make bitstream BOARD_PART=<vendor:board:part:version>`): the
# project then carries the board part and the PS7 gets the board preset
# first. LENET_BOARD_REPO may name the folder that holds them (added to
# board.repoPaths) when they are not installed in Vivado.
proc lenet_require_board_part {board_part} {
    if {[info exists ::env(LENET_BOARD_REPO)] && $::env(LENET_BOARD_REPO) ne ""} {
        set_param board.repoPaths [list $::env(LENET_BOARD_REPO)]
    }
    if {[llength [get_board_parts -quiet $board_part]] == 0} {
        error "lenet: board part $board_part is not installed in this Vivado. The build\
               needs no board files: run `make bitstream` without BOARD_PART. To use them,\
               copy the board folder into\
               <Vivado>/data/xhub/boards/XilinxBoardStore/boards/Xilinx/ (where PYNQ's\
               docs install them), or set LENET_BOARD_REPO to the folder holding it (the\
               build passes it to `set_param board.repoPaths`)."
    }
}

# board_part: "none" (the default) or the board part to use. Returns 1 when
# the board part, and so its PS7 preset, is used.
proc lenet_create_project {name dir part board_part} {
    lenet_warn_if_other_version
    set use_board [expr {$board_part ne "none"}]
    # The board check needs no project, so it runs before anything is created.
    if {$use_board} {
        lenet_require_board_part $board_part
    }
    create_project -force $name $dir -part $part
    if {$use_board} {
        set_property board_part $board_part [current_project]
    }
    set_property target_language Verilog [current_project]
    return $use_board
}
