// Walks the network's loops for one image at a time and issues one step per
// clock to the MAC array: which weights (bank address), which inputs (a row
// window of an activation memory), and where the result goes. A step is
// TAPS multiply-accumulates in each lane.
//
// Loop order per layer, outermost first (the innermost loops accumulate one
// output; the dy and dx loops visit the outputs of a 2x2 max-pool window back
// to back, so pooling is a running max):
//   conv1, conv2: py px dy dx ci ky
//                 lanes p*OUT+c compute channel c at position p of the step
//                 (lenet_layout.vh): with POS_* >= 2 positions the window's
//                 two columns at once (no dx loop), with 4 its two rows too
//                 (no dy loop), with 8 two windows (px counts window pairs)
//   fc1:   pass   c  y      lane = output pass*LANES+lane; input c*25+y*5+tap
//   fc2, fc3: pass   k      input k*TAPS+tap
// Between layers it waits for the pipeline to drain, since each layer reads
// what the previous one wrote.
//
// Steps per image, the product of the loop counts (at 64 lanes): conv1
// 14 x 7 x 5 = 490 (8 positions: two pool windows), conv2 5 x 5 x 6 x 5 = 750
// (4 positions: a pool window), fc1 2 passes x 80, fc2 2 x 24, fc3 1 x 17;
// and DRAIN_CYCLES + 1 idle clocks after each layer. `make sim-bench` prints
// the counts of the build it runs and how busy they keep the multipliers.

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_sequencer #(
    parameter LANES = 16,          // compute lanes
    parameter TAPS = 5             // MACs per lane per step
) (
    clk, rst,
    img_full, img_sel, img_release, slot_free,
    step_valid, step_layer, step_first, step_last, step_pool_first, step_pool_last, step_row_last,
    step_row, step_waddr, step_baddr, step_img_row, step_img_zero, step_img_row1, step_img_zero1,
    step_x, step_act_lane, step_act_row, step_act_row1, step_k
);

// The layout; the ports' widths depend on it (rtl/lenet_layout.vh).
`include "lenet_layout.vh"

input  wire                   clk;
input  wire                   rst;

input  wire [1:0]             img_full;     // image buffers holding an unread image
output wire                   img_sel;      // the buffer being read
output wire                   img_release;  // pulse: done reading img_sel
input  wire                   slot_free;    // the result slot can take this image's logits

// the step, one per clock while step_valid
output wire                   step_valid;
output wire [2:0]             step_layer;
output wire                   step_first;   // first step of an accumulation: start from the bias
output wire                   step_last;    // last step: the accumulator is final
output wire                   step_pool_first;
output wire                   step_pool_last;
output wire                   step_row_last; // last pooled output of an activation row
output wire [3:0]             step_row;     // pooled row (conv) or pass (fc) being produced
output wire [WADDR_WIDTH-1:0] step_waddr;
output wire [BADDR_WIDTH-1:0] step_baddr;
// where the inputs come from
output wire [4:0]             step_img_row; // conv1: image row, valid unless step_img_zero
output wire                   step_img_zero; // conv1: the row is padding
output wire [4:0]             step_img_row1; // conv1: the row below, for the positions of a
output wire                   step_img_zero1; //  pool window's second row
output wire [4:0]             step_x;       // conv: first column of the window (conv1: padded)
output wire [3:0]             step_act_lane; // conv2: input channel; fc1: pool2 channel
output wire [3:0]             step_act_row; // conv2: pool1 row; fc1: pool2 row
output wire [3:0]             step_act_row1; // conv2: the pool1 row below
output wire [6:0]             step_k;        // fc2, fc3: input word of TAPS values

initial begin
    if (TAPS != K || P2_SIDE != K || `LENET_FC1_IN != `LENET_CONV2_OUT * P2_SIDE * P2_SIDE) begin
        $error("Error: the loop nest needs TAPS = kernel width = pool2 width (instance %m)");
        $finish;
    end
    // conv1's windows are fetched at even columns only (lenet_operand_fetch.v)
    if (POS_CONV1 < 2) begin
        $error("Error: conv1 must compute a pool window's two columns at once: LANES >= %0d (instance %m)",
               2 * `LENET_CONV1_OUT);
        $finish;
    end
end

localparam [1:0] S_IDLE = 2'd0, S_RUN = 2'd1, S_DRAIN = 2'd2;

reg [1:0]  state_reg = S_IDLE, state_next;
reg [2:0]  layer_reg = L_CONV1, layer_next;
reg        sel_reg = 1'b0, sel_next;
reg        release_reg = 1'b0, release_next;
reg [4:0]  drain_reg = 5'd0, drain_next;
reg        drain_end_reg = 1'b0;       // drain_reg reaches 0 this clock (a compare a clock early)
reg [6:0]  ky_reg = 7'd0, ky_next;     // kernel row, or fc input word
reg [3:0]  ci_reg = 4'd0, ci_next;     // input channel
reg        dx_reg = 1'b0, dx_next;
reg        dy_reg = 1'b0, dy_next;
reg [3:0]  px_reg = 4'd0, px_next;     // pooled column
reg [3:0]  py_reg = 4'd0, py_next;     // pooled row, or fc pass
reg [WADDR_WIDTH-1:0] waddr_reg = {WADDR_WIDTH{1'b0}}, waddr_next;  // the step's weight entry

// Loop bounds per layer (functions of the layer code: a few LUTs, not a
// chain of compares).
function [6:0] ky_max_of(input [2:0] layer);
    case (layer)
        L_FC2:   ky_max_of = EPR_FC2 - 1;
        L_FC3:   ky_max_of = EPR_FC3 - 1;
        default: ky_max_of = K - 1;
    endcase
endfunction

function [3:0] ci_max_of(input [2:0] layer);
    case (layer)
        L_CONV1: ci_max_of = `LENET_CONV1_IN - 1;
        L_CONV2: ci_max_of = `LENET_CONV2_IN - 1;
        L_FC1:   ci_max_of = `LENET_CONV2_OUT - 1;
        default: ci_max_of = 0;
    endcase
endfunction

// the pool window's columns and rows that take steps of their own (conv1's
// columns never: checked above)
function dx_max_of(input [2:0] layer);
    dx_max_of = layer == L_CONV2 && POS_CONV2 < 2;
endfunction

function dy_max_of(input [2:0] layer);
    dy_max_of = layer == L_CONV1 && POS_CONV1 < 4 || layer == L_CONV2 && POS_CONV2 < 4;
endfunction

function [3:0] px_max_of(input [2:0] layer);
    case (layer)
        L_CONV1: px_max_of = P1_SIDE / WINS_CONV1 - 1;
        L_CONV2: px_max_of = P2_SIDE / WINS_CONV2 - 1;
        default: px_max_of = 0;
    endcase
endfunction

function [3:0] py_max_of(input [2:0] layer);
    case (layer)
        L_CONV1: py_max_of = P1_SIDE - 1;
        L_CONV2: py_max_of = P2_SIDE - 1;
        L_FC1:   py_max_of = PASSES_FC1 - 1;
        L_FC2:   py_max_of = PASSES_FC2 - 1;
        default: py_max_of = PASSES_FC3 - 1;
    endcase
endfunction

// The layer after each (fc3's is never started). A table, not layer_reg + 1:
// the mapper shares an adder's carry chain into the compares of its operand.
function [2:0] layer_after(input [2:0] layer);
    case (layer)
        L_CONV1: layer_after = L_CONV2;
        L_CONV2: layer_after = L_FC1;
        L_FC1:   layer_after = L_FC2;
        default: layer_after = L_FC3;
    endcase
endfunction

// The weight entry runs as an address, not as an offset added to the
// layer's base: a table in front of an adder is too deep for one clock. The
// bases are registered (a clock behind layer_reg, which no step needs: a conv
// layer's first return to its base comes TAPS steps in).
reg [WADDR_WIDTH-1:0] wbase_reg = {WADDR_WIDTH{1'b0}}, next_wbase_reg = {WADDR_WIDTH{1'b0}};
// (a register: the layer's table kept off the path into cbase's adder)
reg                   dy_loop_reg = 1'b0;  // the layer steps through a pool window's rows
always @(posedge clk) begin
    wbase_reg <= wbase_of(layer_reg);
    next_wbase_reg <= wbase_of(layer_after(layer_reg));
    dy_loop_reg <= dy_max_of(layer_reg);
end

// (lenet_layout.vh's functions, in continuous assignments: simulators
// evaluate them at time zero too, though layer_reg starts at its reset value)
wire [BADDR_WIDTH-1:0] bbase = bbase_of(layer_reg);

// the end flags of a layer's first step (every counter at 0)
function [5:0] ends_at_start(input [2:0] layer);
    ends_at_start = {ky_max_of(layer) == 0, ci_max_of(layer) == 0, !dx_max_of(layer), !dy_max_of(layer),
                     px_max_of(layer) == 0, py_max_of(layer) == 0};
endfunction

// the next layer's start flags, ready before the drain ends
reg [5:0] next_ends_reg = 6'd0;
always @(posedge clk) next_ends_reg <= ends_at_start(layer_after(layer_reg));

wire is_fc = layer_reg == L_FC1 || layer_reg == L_FC2 || layer_reg == L_FC3;

// Each loop counter has a register saying it is at its bound, kept up to
// date as the counter moves, so that which loops wrap this clock is an AND
// of registers rather than six compares in a row.
reg end_ky_reg = 1'b0, end_ky_next;
reg end_ci_reg = 1'b0, end_ci_next;
reg end_dx_reg = 1'b0, end_dx_next;
reg end_dy_reg = 1'b0, end_dy_next;
reg end_px_reg = 1'b0, end_px_next;
reg end_py_reg = 1'b0, end_py_next;

wire acc_last = end_ky_reg && end_ci_reg;
wire pool_last = end_dx_reg && end_dy_reg;
// the loops that move this clock: the innermost always, the others when all inside them wrap
wire wrap_ci = acc_last;
wire wrap_dx = wrap_ci && end_dx_reg;
wire wrap_dy = wrap_dx && end_dy_reg;
wire wrap_px = wrap_dy && end_px_reg;
wire layer_done = wrap_px && end_py_reg;

// step outputs (registered)
reg                   step_valid_reg = 1'b0;
reg [2:0]             step_layer_reg = 3'd0;
reg                   step_first_reg = 1'b0, step_last_reg = 1'b0;
reg                   step_pool_first_reg = 1'b0, step_pool_last_reg = 1'b0, step_row_last_reg = 1'b0;
reg [3:0]             step_row_reg = 4'd0;
reg [WADDR_WIDTH-1:0] step_waddr_reg = {WADDR_WIDTH{1'b0}};
reg [BADDR_WIDTH-1:0] step_baddr_reg = {BADDR_WIDTH{1'b0}};
reg [4:0]             step_img_row_reg = 5'd0, step_img_row1_reg = 5'd0;
reg                   step_img_zero_reg = 1'b0, step_img_zero1_reg = 1'b0;
reg [4:0]             step_x_reg = 5'd0;
reg [3:0]             step_act_lane_reg = 4'd0, step_act_row_reg = 4'd0, step_act_row1_reg = 4'd0;
reg [6:0]             step_k_reg = 7'd0;

assign img_sel = sel_reg;
assign img_release = release_reg;
assign step_valid = step_valid_reg;
assign step_layer = step_layer_reg;
assign step_first = step_first_reg;
assign step_last = step_last_reg;
assign step_pool_first = step_pool_first_reg;
assign step_pool_last = step_pool_last_reg;
assign step_row_last = step_row_last_reg;
assign step_row = step_row_reg;
assign step_waddr = step_waddr_reg;
assign step_baddr = step_baddr_reg;
assign step_img_row = step_img_row_reg;
assign step_img_zero = step_img_zero_reg;
assign step_img_row1 = step_img_row1_reg;
assign step_img_zero1 = step_img_zero1_reg;
assign step_x = step_x_reg;
assign step_act_lane = step_act_lane_reg;
assign step_act_row = step_act_row_reg;
assign step_act_row1 = step_act_row1_reg;
assign step_k = step_k_reg;

// The row a conv step reads (conv1: padded image row, conv2: pool1 row) is
// 2py + dy + ky. It is kept in a register that moves with the loops (ky
// counts it up; when ky wraps it restarts from 2py + dy, also a register),
// so the step's image row, padding and pool1 row are one LUT away from it
// rather than behind an adder and compares. Only conv layers use it.
reg [5:0] crow_reg = 6'd0, crow_next;   // 2py + dy + ky
reg [4:0] cbase_reg = 5'd0, cbase_next; // 2py + dy


always @* begin
    state_next = state_reg;
    layer_next = layer_reg;
    sel_next = sel_reg;
    release_next = 1'b0;
    drain_next = drain_reg;
    ky_next = ky_reg;
    ci_next = ci_reg;
    dx_next = dx_reg;
    dy_next = dy_reg;
    px_next = px_reg;
    py_next = py_reg;
    waddr_next = waddr_reg;
    end_ky_next = end_ky_reg;
    end_ci_next = end_ci_reg;
    end_dx_next = end_dx_reg;
    end_dy_next = end_dy_reg;
    end_px_next = end_px_reg;
    end_py_next = end_py_reg;
    crow_next = crow_reg;
    cbase_next = cbase_reg;

    // switch buffers once the release (naming the buffer read) has gone out
    if (release_reg) begin
        sel_next = !sel_reg;
    end

    case (state_reg)
        S_IDLE: begin
            if (img_full[sel_reg] && slot_free) begin
                layer_next = L_CONV1;
                waddr_next = WBASE_CONV1;
                {end_ky_next, end_ci_next, end_dx_next, end_dy_next, end_px_next, end_py_next} = ends_at_start(L_CONV1);
                state_next = S_RUN;
            end
        end
        S_RUN: begin
            // conv weights repeat for every output; fc weights run through the bank
            waddr_next = acc_last && !is_fc ? wbase_reg : waddr_reg + 1'b1;
            ky_next = end_ky_reg ? 7'd0 : ky_reg + 1'b1;
            // 2py + dy moves when a pool window's position does: +1 from dy 0
            // to 1; to the next window of the row, back to dy 0 (-1, or 0 if
            // the rows are computed at once); to the next pooled row, +2 from
            // dy 0 (+1 from dy 1); 0 at the end
            if (wrap_dx) begin
                cbase_next = !end_dy_reg ? cbase_reg + 5'd1
                           : !end_px_reg ? cbase_reg - {4'd0, dy_loop_reg}
                           : cbase_reg + {3'd0, !dy_loop_reg, dy_loop_reg};
                if (layer_done) cbase_next = 5'd0;
            end
            crow_next = end_ky_reg ? {1'b0, cbase_next} : crow_reg + 1'b1;
            end_ky_next = end_ky_reg ? ky_max_of(layer_reg) == 0 : ky_reg == ky_max_of(layer_reg) - 1;
            if (end_ky_reg) begin
                ci_next = end_ci_reg ? 4'd0 : ci_reg + 1'b1;
                end_ci_next = end_ci_reg ? ci_max_of(layer_reg) == 0 : ci_reg == ci_max_of(layer_reg) - 1;
            end
            if (wrap_ci) begin
                dx_next = !end_dx_reg;
                end_dx_next = end_dx_reg ? !dx_max_of(layer_reg) : 1'b1;
            end
            if (wrap_dx) begin
                dy_next = !end_dy_reg;
                end_dy_next = end_dy_reg ? !dy_max_of(layer_reg) : 1'b1;
            end
            if (wrap_dy) begin
                px_next = end_px_reg ? 4'd0 : px_reg + 1'b1;
                end_px_next = end_px_reg ? px_max_of(layer_reg) == 0 : px_reg == px_max_of(layer_reg) - 1;
            end
            if (wrap_px) begin
                py_next = end_py_reg ? 4'd0 : py_reg + 1'b1;
                end_py_next = end_py_reg ? py_max_of(layer_reg) == 0 : py_reg == py_max_of(layer_reg) - 1;
            end
            drain_next = DRAIN_CYCLES;  // (counted down only in S_DRAIN)
            if (layer_done) begin
                waddr_next = next_wbase_reg;
                state_next = S_DRAIN;
            end
        end
        S_DRAIN: begin
            drain_next = drain_reg - 1'b1;
            if (drain_end_reg) begin
                if (layer_reg == L_CONV1) begin
                    release_next = 1'b1;
                end
                if (layer_reg == L_FC3) begin
                    state_next = S_IDLE;
                end else begin
                    layer_next = layer_after(layer_reg);
                    {end_ky_next, end_ci_next, end_dx_next, end_dy_next, end_px_next, end_py_next} =
                        next_ends_reg;
                    state_next = S_RUN;
                end
            end
        end
        default: state_next = S_IDLE;
    endcase
end

always @(posedge clk) begin
    state_reg <= state_next;
    layer_reg <= layer_next;
    sel_reg <= sel_next;
    release_reg <= release_next;
    drain_reg <= drain_next;
    ky_reg <= ky_next;
    ci_reg <= ci_next;
    dx_reg <= dx_next;
    dy_reg <= dy_next;
    px_reg <= px_next;
    py_reg <= py_next;
    waddr_reg <= waddr_next;
    drain_end_reg <= state_reg == S_DRAIN && drain_reg == 5'd1;
    end_ky_reg <= end_ky_next;
    end_ci_reg <= end_ci_next;
    end_dx_reg <= end_dx_next;
    end_dy_reg <= end_dy_next;
    end_px_reg <= end_px_next;
    end_py_reg <= end_py_next;
    crow_reg <= crow_next;
    cbase_reg <= cbase_next;

    step_valid_reg <= state_reg == S_RUN;
    step_layer_reg <= layer_reg;
    step_first_reg <= ky_reg == 7'd0 && ci_reg == 4'd0;
    step_last_reg <= acc_last;
    step_pool_first_reg <= dx_reg == 1'b0 && dy_reg == 1'b0;
    step_pool_last_reg <= pool_last;
    step_row_last_reg <= end_px_reg;
    step_row_reg <= py_reg;
    step_waddr_reg <= waddr_reg;
    step_baddr_reg <= bbase + (is_fc ? py_reg : 4'd0);
    step_img_row_reg <= crow_reg[4:0] - `LENET_PAD;
    step_img_zero_reg <= crow_reg < `LENET_PAD || crow_reg >= `LENET_PAD + `LENET_IMAGE_SIDE;
    step_img_row1_reg <= crow_reg[4:0] + 5'd1 - `LENET_PAD;
    step_img_zero1_reg <= crow_reg < `LENET_PAD - 1 || crow_reg >= `LENET_PAD + `LENET_IMAGE_SIDE - 1;
    // the window's first column: conv1 2 * WINS_CONV1 * px (px counts the step's
    // windows); conv2 2px + dx
    step_x_reg <= layer_reg == L_CONV1 ? px_reg * (2 * WINS_CONV1) : {px_reg, dx_reg};
    step_act_lane_reg <= ci_reg;
    step_act_row_reg <= layer_reg == L_CONV2 ? crow_reg[3:0] : ky_reg[3:0];
    step_act_row1_reg <= crow_reg[3:0] + 4'd1;  // (read by conv2's second-row lanes only)
    step_k_reg <= ky_reg;

    if (rst) begin
        state_reg <= S_IDLE;
        layer_reg <= L_CONV1;
        sel_reg <= 1'b0;
        release_reg <= 1'b0;
        ky_reg <= 7'd0;
        ci_reg <= 4'd0;
        dx_reg <= 1'b0;
        dy_reg <= 1'b0;
        px_reg <= 4'd0;
        py_reg <= 4'd0;
        waddr_reg <= {WADDR_WIDTH{1'b0}};
        drain_end_reg <= 1'b0;
        crow_reg <= 6'd0;
        cbase_reg <= 5'd0;
        step_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
