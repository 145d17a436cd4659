// Where each requantized result goes: conv outputs are max-pooled 2x2 (the
// sequencer delivers a pool window's outputs back to back, so pooling is a
// running max per lane), collected into rows and written a row at a time to
// the pool1 / pool2 memories; fc1 and fc2 outputs are written a pass of
// LANES outputs at a time, outputs beyond the layer's size forced to zero.
// A pooled value joins its row a clock after the pool window's last result
// (one compare per clock: the window's max, then the max with the mirrored
// lane), so a row is written two clocks after its last result.

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

// the pool window's max is out (stage A), then it joins its row (stage B)
reg       pooled_reg = 1'b0;  // stage B: pooled_val_reg holds a window's max
reg [2:0] layer_b_reg = 3'd0;
reg       row_last_b_reg = 1'b0;
reg [3:0] row_b_reg = 4'd0;

always @(posedge clk) begin
    pooled_reg <= result && is_conv && pool_last;
    layer_b_reg <= layer;
    row_last_b_reg <= row_last;
    row_b_reg <= row;
    p1_en_reg <= pooled_reg && layer_b_reg == L_CONV1 && row_last_b_reg;
    p2_en_reg <= pooled_reg && layer_b_reg == L_CONV2 && row_last_b_reg;
    f1_en_reg <= result && layer == L_FC1;
    f2_en_reg <= result && layer == L_FC2;
    row_reg <= row;
    prow_reg <= row_b_reg;
    if (rst) begin
        pooled_reg <= 1'b0;
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

/* verilator lint_off UNUSEDSIGNAL */  // read only where a lane is another's odd column
wire [LANES*8-1:0] pooled_all;
/* verilator lint_on UNUSEDSIGNAL */

genvar l;
generate
    for (l = 0; l < LANES; l = l + 1) begin : lane
        wire [7:0] v = q[l*8 +: 8];
        reg  [7:0] max_reg = 8'd0;
        reg  [7:0] pooled_val_reg = 8'd0;  // stage B: the window's max
        reg  [7:0] f_reg = 8'd0;

        // running max over the pool window
        wire [7:0] pooled = pool_first || v > max_reg ? v : max_reg;
        assign pooled_all[l*8 +: 8] = pooled_val_reg;

        always @(posedge clk) begin
            if (result && is_conv) begin
                max_reg <= pooled;
            end
            pooled_val_reg <= pooled;
        end

        // Lanes holding a channel's even column collect the pooled rows: the
        // max with the mirrored lane (odd column) when there is one.
        if (l < `LENET_CONV2_OUT) begin : pooled_row
            wire [7:0] own = pooled_val_reg;
            wire [7:0] odd1 = pooled_all[((l + MIRROR) % LANES)*8 +: 8];
            wire [7:0] odd2 = pooled_all[((l + MIRROR_CONV2) % LANES)*8 +: 8];
            wire [7:0] out = layer_b_reg == L_CONV1 && l < MIRROR && odd1 > own ? odd1
                           : layer_b_reg == L_CONV2 && MIRROR_CONV2 != 0 && odd2 > own ? odd2
                           : own;
            /* verilator lint_off UNUSEDSIGNAL */  // the oldest value shifts out
            reg  [RB-1:0] row_sr_reg = {RB{1'b0}};
            /* verilator lint_on UNUSEDSIGNAL */
            wire [RB-1:0] row_sr_next = {out, row_sr_reg[RB-1:8]};

            always @(posedge clk) begin
                if (pooled_reg) begin
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
