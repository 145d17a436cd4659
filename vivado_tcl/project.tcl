# The Vivado project for the PYNQ-Z2: tool version, board files, part.

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

# Board files are not part of a Vivado install. LENET_BOARD_REPO may name a
# folder that holds them (it is added to board.repoPaths) when they are not
# under <Vivado>/data/boards/board_files.
proc lenet_require_board_part {board_part} {
    if {[info exists ::env(LENET_BOARD_REPO)] && $::env(LENET_BOARD_REPO) ne ""} {
        set_param board.repoPaths [list $::env(LENET_BOARD_REPO)]
    }
    if {[llength [get_board_parts -quiet $board_part]] == 0} {
        error "lenet: board part $board_part (PYNQ-Z2) is not installed in this Vivado.\
               Install the board files: copy the pynq-z2 board folder (from Xilinx's\
               board-files repository XilinxBoardStore, or TUL's PYNQ-Z2 board files)\
               into <Vivado>/data/boards/board_files/, or set LENET_BOARD_REPO to a folder\
               holding it (the build passes it to `set_param board.repoPaths`).\
               Then run `make bitstream` again."
    }
}

proc lenet_create_project {name dir part board_part} {
    lenet_warn_if_other_version
    # The board check needs no project, so it runs before anything is created.
    lenet_require_board_part $board_part
    create_project -force $name $dir -part $part
    set_property board_part $board_part [current_project]
    set_property target_language Verilog [current_project]
}
