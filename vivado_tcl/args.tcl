# Options of the vivado_tcl entry scripts, given as `-tclargs -name value ...`.
# Every option is required: the Makefile is the one place that chooses paths,
# so a script run by hand fails fast instead of guessing.

proc lenet_parse_args {argv names usage} {
    if {[llength $argv] % 2 != 0} {
        error "vivado_tcl: options come in -name value pairs, got: $argv\nusage: $usage"
    }
    set opts [dict create]
    foreach {flag value} $argv {
        set name [string trimleft $flag -]
        if {$name ni $names} {
            error "vivado_tcl: unknown option '$flag'\nusage: $usage"
        }
        dict set opts $name $value
    }
    foreach name $names {
        if {![dict exists $opts $name]} {
            error "vivado_tcl: missing option -$name\nusage: $usage"
        }
    }
    return $opts
}

# The contract constants (::LENET_PART, ::LENET_VLNV_HLS, ...) come from a file
# that vivado_tcl/write_contract_tcl.py generated from lenet_pynq/contract.py.
proc lenet_source_contract {path} {
    if {![file readable $path]} {
        error "vivado_tcl: contract include '$path' not found: generate it with\
               `python3 vivado_tcl/write_contract_tcl.py $path` (the Makefile does)"
    }
    uplevel #0 [list source $path]
}
