# The model file: every call made, and the design those calls describe.

proc stub::model_json {status message} {
    variable cells
    set jcells {}
    dict for {name info} $cells {
        lappend jcells "[jstr $name]:{\"vlnv\":[jstr [dict get $info vlnv]],\"preset\":[expr {[dict get $info preset] ? "true" : "false"}],\"config\":[jdict [dict get $info config]]}"
    }
    set jnets {}
    foreach net $stub::nets {
        lappend jnets [jstrs $net]
    }
    set jintf {}
    foreach net $stub::intf_nets {
        lappend jintf [jstrs $net]
    }
    set jaddr {}
    foreach a $stub::addresses {
        lappend jaddr "{\"space\":[jstr [dict get $a space]],\"seg\":[jstr [dict get $a seg]],\"offset\":[jnum_or_null [dict get $a offset]],\"range\":[jnum_or_null [dict get $a range]]}"
    }
    set jauto {}
    foreach a $stub::automation {
        lassign $a rule config objs
        lappend jauto "{\"rule\":[jstr $rule],\"config\":[jdict $config],\"objects\":[jstrs $objs]}"
    }
    set jcore "null"
    if {[dict size $stub::core]} {
        set c $stub::core
        set jassoc {}
        foreach a [dict get $c assoc] {
            lappend jassoc [jdict $a]
        }
        set jmmaps {}
        dict for {m blocks} [dict get $c mmaps] {
            lappend jmmaps "[jstr $m]:[jstrs [dict keys $blocks]]"
        }
        set jcore "{\"root_dir\":[jstr [dict get $c root_dir]],\"vendor\":[jstr [dict get $c vendor]],\"library\":[jstr [dict get $c library]],\"busifs\":[jdict [dict get $c busifs]],\"files\":[jstrs [dict get $c files]],\"props\":[jdict [dict get $c props] 1],\"assoc\":[jlist $jassoc],\"memory_maps\":{[join $jmmaps ,]},\"checked\":[dict get $c checked],\"saved\":[dict get $c saved]}"
    }
    set jproject [jdict $stub::project]
    return "{\"status\":[jstr $status],\"message\":[jstr $message],\"problems\":[jstrs $stub::problems],\"project\":$jproject,\"props\":[jdict $stub::props 1],\"params\":[jdict $stub::params],\"cells\":{[join $jcells ,]},\"nets\":[jlist $jnets],\"intf_nets\":[jlist $jintf],\"ports\":[jstrs $stub::ports],\"addresses\":[jlist $jaddr],\"automation\":[jlist $jauto],\"validated\":[expr {$stub::validated ? "true" : "false"}],\"core\":$jcore,\"calls\":[jlist $stub::calls]}"
}
