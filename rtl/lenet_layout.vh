// The engine's shared layout, derived once from the including module's LANES
// and TAPS parameters and the contract header: the layer codes, the feature
// map sides, the outputs a conv step computes at once (its positions) and the
// operand window they read, the weight and bias bank layout, and the
// pipeline's drain time.
// Every module that needs one of these includes this file; none derives them
// itself or takes them as parameters.
//
// Included inside a module body, after its parameter port list and before
// its port declarations, which therefore use the Verilog-2001 (non-ANSI)
// style: the port widths depend on these values. Vivado takes that style as
// the Verilog that Vitis HLS exports for it is written: body parameters,
// then the port declarations that use them (e.g. wanone111/FPGA_Code,
// FIR/build_linux/lk_prj/solution1/impl/ip/hdl/verilog/fir_top.v, Vitis HLS
// 2024.2). The alternatives fail one of our tools: a localparam in the
// parameter port list (SystemVerilog) is refused by Icarus before v12
// (steveicarus/iverilog issue 977; Debian has 11) and, on a module's ports,
// by Vivado's IP packager (ZipCPU/wb2axip pull request 17, Vivado 2019.2 in
// project and block design mode); `define functions of LANES would put the
// layout in two forms, macros for the ports and localparams for the body.
// No include guard: each module includes it.
//
// Requires: `include "lenet_contract.vh" before it; parameters LANES, TAPS.

/* verilator lint_off UNUSEDPARAM */  // each module uses a part of the layout

// the sequencer's layer codes, as the steps carry them
localparam [2:0] L_CONV1 = 3'd0, L_CONV2 = 3'd1, L_FC1 = 3'd2, L_FC2 = 3'd3, L_FC3 = 3'd4;

// feature map sides: conv1's output, pool1, conv2's output, pool2
localparam K = `LENET_CONV1_KERNEL;
localparam C1_SIDE = `LENET_PADDED_SIDE - K + 1;
localparam P1_SIDE = C1_SIDE / 2;
localparam C2_SIDE = P1_SIDE - K + 1;
localparam P2_SIDE = C2_SIDE / 2;

// Output positions a conv layer computes in one step: lanes p*OUT.. (p <
// POS_*) compute position p of the layer's outputs, p's bit 0 the column
// within a 2x2 pool window, bit 1 its row, and the bits above the pool
// window along the pooled row. As many as LANES holds, a power of two, up to
// a whole pool window, and more only while the pooled row holds whole groups
// of windows (conv1's row of 14: two windows; conv2's of 5: one). Each lane
// of a position is a copy of the lane of its output channel: the same
// weights and bias (lenet_weight_loader.v), another part of the input.
function integer positions_of(input integer outputs, input integer pooled_side);
    positions_of = LANES >= 8 * outputs && pooled_side % 2 == 0 ? 8
                 : LANES >= 4 * outputs ? 4 : LANES >= 2 * outputs ? 2 : 1;
endfunction
localparam POS_CONV1 = positions_of(`LENET_CONV1_OUT, P1_SIDE);
localparam POS_CONV2 = positions_of(`LENET_CONV2_OUT, P2_SIDE);

// What a step covers: output columns side by side, and pool windows along
// the row (its rows: 2 from 4 positions on).
function integer cols_of(input integer pos);
    cols_of = pos >= 8 ? pos / 2 : pos >= 2 ? 2 : 1;
endfunction
function integer wins_of(input integer pos);
    wins_of = pos >= 8 ? pos / 4 : 1;
endfunction
localparam COLS_CONV1 = cols_of(POS_CONV1);
localparam COLS_CONV2 = cols_of(POS_CONV2);
localparam WINS_CONV1 = wins_of(POS_CONV1);
localparam WINS_CONV2 = wins_of(POS_CONV2);
// A step's operand window: per input row, the TAPS values of its first
// column and those the other columns add (lenet_operand_fetch.v).
localparam SPAN = TAPS + (COLS_CONV1 > COLS_CONV2 ? COLS_CONV1 : COLS_CONV2) - 1;

// where position p's window starts in the operand window: row, column
function integer pos_row(input integer p);
    pos_row = p / 2 % 2;
endfunction
function integer pos_col(input integer p);
    pos_col = p / 4 * 2 + p % 2;
endfunction
// the lanes from a channel's lane to its copy at position p (0 when a
// layer's step has no position p)
function integer pos_lanes(input integer p, input integer outputs, input integer positions);
    pos_lanes = p < positions ? p * outputs : 0;
endfunction

// Each lane's weight bank holds, per layer, the entries of the outputs that
// lane computes (output o: lane o % LANES, pass o / LANES): conv: one entry
// per kernel row (TAPS weights) of each input channel; fc: for each pass, the
// output's row in entries of TAPS inputs. EPR: entries per row (per output).
localparam EPR_CONV1 = (`LENET_CONV1_IN * K * K + TAPS - 1) / TAPS;
localparam EPR_CONV2 = (`LENET_CONV2_IN * K * K + TAPS - 1) / TAPS;
localparam EPR_FC1 = (`LENET_FC1_IN + TAPS - 1) / TAPS;
localparam EPR_FC2 = (`LENET_FC2_IN + TAPS - 1) / TAPS;
localparam EPR_FC3 = (`LENET_FC3_IN + TAPS - 1) / TAPS;
localparam PASSES_FC1 = (`LENET_FC1_OUT + LANES - 1) / LANES;
localparam PASSES_FC2 = (`LENET_FC2_OUT + LANES - 1) / LANES;
localparam PASSES_FC3 = (`LENET_FC3_OUT + LANES - 1) / LANES;
localparam WBASE_CONV1 = 0;
localparam WBASE_CONV2 = WBASE_CONV1 + EPR_CONV1;
localparam WBASE_FC1 = WBASE_CONV2 + EPR_CONV2;
localparam WBASE_FC2 = WBASE_FC1 + PASSES_FC1 * EPR_FC1;
localparam WBASE_FC3 = WBASE_FC2 + PASSES_FC2 * EPR_FC2;
localparam WDEPTH = WBASE_FC3 + PASSES_FC3 * EPR_FC3;
// the bias bank: one entry per layer and pass
localparam BBASE_CONV1 = 0;
localparam BBASE_CONV2 = BBASE_CONV1 + 1;
localparam BBASE_FC1 = BBASE_CONV2 + 1;
localparam BBASE_FC2 = BBASE_FC1 + PASSES_FC1;
localparam BBASE_FC3 = BBASE_FC2 + PASSES_FC2;
localparam BDEPTH = BBASE_FC3 + PASSES_FC3;
localparam WADDR_WIDTH = $clog2(WDEPTH);
localparam BADDR_WIDTH = $clog2(BDEPTH);

// The idle time between layers, so that a layer never reads early: a step
// issued in clock T has its pooled row written at the end of T+11 (S0..S8
// of lenet_engine, the writer's column and row stages, the write), and a
// step reads its activations at the end of its issue clock, so the next
// layer may start at T+12: 11 idle clocks (rtl/tb/cocotb_sequencer.py checks
// them). The sequencer's drain counts DRAIN_CYCLES down to 0 and leaves
// DRAIN_CYCLES + 1 = 12: one clock spare, kept since the full simulations
// have not been run with 11.
localparam DRAIN_CYCLES = 11;

/* verilator lint_on UNUSEDPARAM */

// A layer's first weight and bias entries, by layer code.
function [WADDR_WIDTH-1:0] wbase_of(input [2:0] code);
    case (code)
        L_CONV1: wbase_of = WBASE_CONV1;
        L_CONV2: wbase_of = WBASE_CONV2;
        L_FC1:   wbase_of = WBASE_FC1;
        L_FC2:   wbase_of = WBASE_FC2;
        default: wbase_of = WBASE_FC3;
    endcase
endfunction

function [BADDR_WIDTH-1:0] bbase_of(input [2:0] code);
    case (code)
        L_CONV1: bbase_of = BBASE_CONV1;
        L_CONV2: bbase_of = BBASE_CONV2;
        L_FC1:   bbase_of = BBASE_FC1;
        L_FC2:   bbase_of = BBASE_FC2;
        default: bbase_of = BBASE_FC3;
    endcase
endfunction
