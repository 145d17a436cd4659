# Shared machinery of the Vivado stand-in: its state, errors as Vivado prints
# them, the call record, option parsing, JSON.

namespace eval stub {
    variable calls {}
    variable problems {}
    variable cells [dict create]
    variable nets {}
    variable intf_nets {}
    variable ports {}
    variable addresses {}
    variable automation {}
    variable project [dict create]
    variable files {}
    variable props [dict create]
    variable params [dict create]
    variable runs [dict create]
    variable bd ""
    variable bd_saved 0
    variable validated 0
    variable opened_run ""
    variable core [dict create]
}
namespace eval ipx {}

proc stub::env {name default} {
    if {[info exists ::env($name)] && $::env($name) ne ""} {
        return $::env($name)
    }
    return $default
}

# What Vivado refuses outright (an unknown parameter, an illegal value, a
# misaligned address): the command fails, and in batch mode so does the run.
proc stub::fail {msg} {
    return -code error $msg
}

# Design-rule problems (a pin left open, two drivers): fatal like fail,
# unless LENET_STUB_LENIENT=1 asks to record them and carry on, so a test can
# run its own checks on a design Vivado would refuse.
proc stub::problem {msg} {
    variable problems
    if {[env LENET_STUB_LENIENT 0]} {
        lappend problems $msg
    } else {
        fail $msg
    }
}

proc stub::record {cmd argv} {
    variable calls
    lappend calls "{\"cmd\":[jstr $cmd],\"args\":[jstrs $argv]}"
    return
}

# Splits argv into options (-name value, or -flag) and positional words.
# An option Vivado's command does not have is an error, as in Vivado.
proc stub::parse {cmd argv valued {flags {}}} {
    set opts [dict create]
    set pos {}
    for {set i 0} {$i < [llength $argv]} {incr i} {
        set word [lindex $argv $i]
        if {[string match -* $word] && ![string is double -strict $word]} {
            set name [string range $word 1 end]
            if {$name in $valued} {
                dict set opts $name [lindex $argv [incr i]]
                continue
            }
            if {$name in [concat $flags quiet verbose]} {
                dict set opts $name 1
                continue
            }
            fail "\[Common 17-170\] Unknown option '$word', please type '$cmd -help' for usage info."
        }
        lappend pos $word
    }
    return [list $opts $pos]
}

# Object arguments arrive as lists of lists (one per [get_*] call).
proc stub::flatten {objs} {
    set out {}
    foreach o $objs {
        foreach x $o {
            lappend out $x
        }
    }
    return $out
}

# "64K", "512M", "0x10000" or "4096" -> bytes; "" if it is none of those.
proc stub::size {text} {
    if {[regexp {^(\d+)([KMG])$} $text -> n unit]} {
        return [expr {$n * [dict get {K 1024 M 1048576 G 1073741824} $unit]}]
    }
    if {[string is wideinteger -strict $text]} {
        return [expr {$text + 0}]
    }
    return ""
}

proc stub::is_pow2 {n} {
    return [expr {$n > 0 && ($n & ($n - 1)) == 0}]
}

# --- JSON ---------------------------------------------------------------------

proc stub::jstr {s} {
    set out ""
    foreach ch [split $s ""] {
        scan $ch %c code
        if {$ch eq "\""} {
            append out "\\\""
        } elseif {$ch eq "\\"} {
            append out "\\\\"
        } elseif {$code < 32} {
            append out [format "\\u%04x" $code]
        } else {
            append out $ch
        }
    }
    return "\"$out\""
}

proc stub::jlist {items} {
    return "\[[join $items ,]\]"
}

proc stub::jstrs {strings} {
    set out {}
    foreach s $strings {
        lappend out [jstr $s]
    }
    return [jlist $out]
}

# A Tcl dict of strings (values nested dicts, depth levels down).
proc stub::jdict {d {depth 0}} {
    set out {}
    dict for {k v} $d {
        if {$depth > 0} {
            lappend out "[jstr $k]:[jdict $v [expr {$depth - 1}]]"
        } else {
            lappend out "[jstr $k]:[jstr $v]"
        }
    }
    return "{[join $out ,]}"
}

proc stub::jnum_or_null {v} {
    if {$v eq ""} {
        return null
    }
    return $v
}
