// Where each requantized result goes: conv outputs are max-pooled 2x2,
// collected into rows and written a row at a time to the pool1 / pool2
// memories; fc1 and fc2 outputs are written a pass of LANES outputs at a
// time, outputs beyond the layer's size forced to zero.
// A pool window's outputs come on the lanes of the positions a step
// computes at once (lenet_layout.vh) and, for the rest, from steps back to
// back (lenet_sequencer.v). One compare per clock: the running max of each
// lane over its steps (stage A), the max with the lane of the window's other
// column (B), with the lanes of its other row (C), where the step's pool
// windows also join their row; a row is written three clocks after its last
// result.

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_layer_writer #(
    parameter LANES = 16,   // compute lanes
    parameter TAPS = 5      // MACs per lane per step (lenet_layout.vh's input)
) (
    clk, rst,
    valid, layer, last, pool_first, pool_last, row_last, row, q,
    p1_wr_en, p1_wr_row, p1_wr_data, p2_wr_en, p2_wr_row, p2_wr_data, f1_wr_en, f2_wr_en, f_wr_pass,
    f_wr_data
);

// The layout; the ports' widths depend on it (rtl/lenet_layout.vh).
`include "lenet_layout.vh"

input  wire                 clk;
input  wire                 rst;

// a requantized result of every lane, with the step that completed it
input  wire                 valid;
input  wire [2:0]           layer;
input  wire                 last;
input  wire                 pool_first;
input  wire                 pool_last;
input  wire                 row_last;
input  wire [3:0]           row;        // pooled row (conv) or pass (fc)
input  wire [LANES*8-1:0]   q;

output wire                 p1_wr_en;
output wire [3:0]           p1_wr_row;
output wire [`LENET_CONV1_OUT*P1_SIDE*8-1:0] p1_wr_data;
output wire                 p2_wr_en;
output wire [3:0]           p2_wr_row;
output wire [`LENET_CONV2_OUT*P2_SIDE*8-1:0] p2_wr_data;
output wire                 f1_wr_en;
output wire                 f2_wr_en;
output wire [3:0]           f_wr_pass;
output wire [LANES*8-1:0]   f_wr_data;

localparam RB = P1_SIDE * 8;    // bits of a row shift register

wire result = valid && last;
wire is_conv = layer == L_CONV1 || layer == L_CONV2;

reg                 p1_en_reg = 1'b0, p2_en_reg = 1'b0, f1_en_reg = 1'b0, f2_en_reg = 1'b0;
reg [3:0]           row_reg = 4'd0, prow_reg = 4'd0;  // the fc pass; the pooled row

assign p1_wr_en = p1_en_reg;
assign p1_wr_row = prow_reg;
assign p2_wr_en = p2_en_reg;
assign p2_wr_row = prow_reg;
assign f1_wr_en = f1_en_reg;
assign f2_wr_en = f2_en_reg;
assign f_wr_pass = row_reg;

// stage A: each lane's max over its steps (held in stage B); B: the max
// over the window's columns (held in C); C: over its rows, into the row
reg       pooled_reg = 1'b0, pooled_c_reg = 1'b0;
reg [2:0] layer_b_reg = 3'd0, layer_c_reg = 3'd0;
reg       row_last_b_reg = 1'b0, row_last_c_reg = 1'b0;
reg [3:0] row_b_reg = 4'd0, row_c_reg = 4'd0;

always @(posedge clk) begin
    pooled_reg <= result && is_conv && pool_last;
    pooled_c_reg <= pooled_reg;
    layer_b_reg <= layer;
    layer_c_reg <= layer_b_reg;
    row_last_b_reg <= row_last;
    row_last_c_reg <= row_last_b_reg;
    row_b_reg <= row;
    row_c_reg <= row_b_reg;
    p1_en_reg <= pooled_c_reg && layer_c_reg == L_CONV1 && row_last_c_reg;
    p2_en_reg <= pooled_c_reg && layer_c_reg == L_CONV2 && row_last_c_reg;
    f1_en_reg <= result && layer == L_FC1;
    f2_en_reg <= result && layer == L_FC2;
    row_reg <= row;
    prow_reg <= row_c_reg;
    if (rst) begin
        pooled_reg <= 1'b0;
        pooled_c_reg <= 1'b0;
        p1_en_reg <= 1'b0;
        p2_en_reg <= 1'b0;
        f1_en_reg <= 1'b0;
        f2_en_reg <= 1'b0;
    end
end

// The passes in which lane `lane` holds one of a layer's `outputs` outputs,
// bit p for pass p: a constant per lane, so the check is a table lookup (as
// arithmetic it would put a compare's carry chain in front of the register).
function [15:0] passes_with_output(input integer lane, input integer outputs);
    integer p;
    begin
        for (p = 0; p < 16; p = p + 1) begin
            passes_with_output[p] = p * LANES + lane < outputs;
        end
    end
endfunction

initial begin
    if (WINS_CONV2 != 1) begin
        $error("Error: the writer collects one pool window per conv2 step (instance %m)");
        $finish;
    end
end

// the lanes from a window's first position to its other column (position
// 1) and its other row (position 2), per conv layer
localparam DX_CONV1 = pos_lanes(1, `LENET_CONV1_OUT, POS_CONV1);
localparam DY_CONV1 = pos_lanes(2, `LENET_CONV1_OUT, POS_CONV1);
localparam DX_CONV2 = pos_lanes(1, `LENET_CONV2_OUT, POS_CONV2);
localparam DY_CONV2 = pos_lanes(2, `LENET_CONV2_OUT, POS_CONV2);

function [7:0] max8(input [7:0] a, input [7:0] b);
    max8 = b > a ? b : a;
endfunction

/* verilator lint_off UNUSEDSIGNAL */  // read only at the lanes of a window's first position
wire [LANES*8-1:0] pooled_all;    // held in stage B: each lane's max over its steps
wire [LANES*8-1:0] col_all;       // held in stage C: and over the window's columns
/* verilator lint_on UNUSEDSIGNAL */

genvar l, w;
generate
    for (l = 0; l < LANES; l = l + 1) begin : lane
        wire [7:0] v = q[l*8 +: 8];
        reg  [7:0] max_reg = 8'd0;
        reg  [7:0] pooled_val_reg = 8'd0;  // stage B: the lane's max over its steps
        reg  [7:0] f_reg = 8'd0;

        // running max over the pool window's steps
        wire [7:0] pooled = pool_first || v > max_reg ? v : max_reg;
        assign pooled_all[l*8 +: 8] = pooled_val_reg;

        always @(posedge clk) begin
            if (result && is_conv) begin
                max_reg <= pooled;
            end
            pooled_val_reg <= pooled;
        end

        // stage B: the max with the lane of the window's other column
        reg [7:0] col_reg = 8'd0;
        assign col_all[l*8 +: 8] = col_reg;
        always @(posedge clk) begin
            col_reg <= layer_b_reg == L_CONV1 ? max8(pooled_val_reg, pooled_all[(l + DX_CONV1) % LANES*8 +: 8])
                                               : max8(pooled_val_reg, pooled_all[(l + DX_CONV2) % LANES*8 +: 8]);
        end

        // Stage C: a channel's lane collects its pooled rows: each of the
        // step's windows, the max with the lanes of the window's other row.
        if (l < `LENET_CONV2_OUT) begin : pooled_row
            wire [WINS_CONV1*8-1:0] c1_wins;
            for (w = 0; w < WINS_CONV1; w = w + 1) begin : c1_win
                localparam A = (l + pos_lanes(4 * w, `LENET_CONV1_OUT, POS_CONV1)) % LANES;
                assign c1_wins[w*8 +: 8] = max8(col_all[A*8 +: 8], col_all[(A + DY_CONV1) % LANES*8 +: 8]);
            end
            wire [7:0] c2_win = max8(col_reg, col_all[(l + DY_CONV2) % LANES*8 +: 8]);
            /* verilator lint_off UNUSEDSIGNAL */  // the oldest values shift out
            reg  [RB-1:0] row_sr_reg = {RB{1'b0}};
            /* verilator lint_on UNUSEDSIGNAL */
            // (conv1's windows only on conv1's channels, the first value lowest)
            wire [RB-1:0] row_sr_next = layer_c_reg == L_CONV1 && l < `LENET_CONV1_OUT
                                      ? {c1_wins, row_sr_reg[RB-1:WINS_CONV1*8]}
                                      : {c2_win, row_sr_reg[RB-1:8]};

            always @(posedge clk) begin
                if (pooled_c_reg) begin
                    row_sr_reg <= row_sr_next;
                end
            end

            // after a row's last pooled value the row is complete, first value lowest
            if (l < `LENET_CONV1_OUT) begin : pool1_row
                reg [RB-1:0] p1_data_reg = {RB{1'b0}};
                always @(posedge clk) p1_data_reg <= row_sr_next;
                assign p1_wr_data[l*RB +: RB] = p1_data_reg;
            end
            reg [P2_SIDE*8-1:0] p2_data_reg = {P2_SIDE*8{1'b0}};
            always @(posedge clk) p2_data_reg <= row_sr_next[RB-1 -: P2_SIDE*8];
            assign p2_wr_data[l*P2_SIDE*8 +: P2_SIDE*8] = p2_data_reg;
        end

        // fc outputs past the layer's last are never read as data, only as
        // the zero-weight tail of fc3's last input word: keep them zero
        localparam [15:0] FC1_PASSES = passes_with_output(l, `LENET_FC1_OUT);
        localparam [15:0] FC2_PASSES = passes_with_output(l, `LENET_FC2_OUT);
        always @(posedge clk) begin
            f_reg <= (layer == L_FC1 ? FC1_PASSES[row] : FC2_PASSES[row]) ? v : 8'd0;
        end
        assign f_wr_data[l*8 +: 8] = f_reg;
    end
endgenerate

endmodule

`resetall
