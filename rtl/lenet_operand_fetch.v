// The activation memories between layers (pool1, pool2, fc1, fc2) and the
// operand window of each step: the TAPS input values every lane multiplies
// (conv: TAPS+1 values, since mirrored lanes compute the next column).
// Reads take two clocks: memory read, then window selection.
//
// Layouts, chosen so that one step reads one row:
//   pool1: row y holds, per channel c < CONV1_OUT, the pooled row (14 pixels)
//   pool2: row y holds, per channel c < CONV2_OUT, the pooled row (5 pixels);
//          fc1's input c*25+y*5+x is row y, channel c, pixel x
//   fc1, fc2: flat byte vectors, output o at byte o

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_operand_fetch #(
    parameter LANES = 16,   // compute lanes
    parameter TAPS = 5,     // MACs per lane per step
    // pool1 and pool2 widths, derived from the contract (do not override)
    parameter P1_SIDE = (`LENET_PADDED_SIDE - `LENET_CONV1_KERNEL + 1) / 2,
    parameter P2_SIDE = (P1_SIDE - `LENET_CONV1_KERNEL + 1) / 2
) (
    input  wire                      clk,

    // the step being issued (stage 0)
    input  wire [2:0]                layer,
    input  wire                      img_zero,
    input  wire [4:0]                x,
    input  wire [3:0]                act_lane,
    input  wire [3:0]                act_row,
    input  wire [6:0]                k,

    // the image row it addressed, one clock later
    input  wire [`LENET_IMAGE_SIDE*8-1:0] img_row,

    // results of earlier layers
    input  wire                      p1_wr_en,
    input  wire [3:0]                p1_wr_row,
    input  wire [`LENET_CONV1_OUT*P1_SIDE*8-1:0] p1_wr_data,
    input  wire                      p2_wr_en,
    /* verilator lint_off UNUSEDSIGNAL */  // pool2 has fewer rows than the row field holds
    input  wire [3:0]                p2_wr_row,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [`LENET_CONV2_OUT*P2_SIDE*8-1:0] p2_wr_data,
    input  wire                      f1_wr_en,
    input  wire [3:0]                f1_wr_pass,
    input  wire [LANES*8-1:0]        f1_wr_data,
    input  wire                      f2_wr_en,
    input  wire [3:0]                f2_wr_pass,
    input  wire [LANES*8-1:0]        f2_wr_data,

    // two clocks after the step: value t in bits 8t+7:8t
    output wire [(TAPS+1)*8-1:0]     window
);

localparam PAD_BITS = `LENET_PAD * 8;
localparam F1_BYTES = (`LENET_FC1_OUT + LANES - 1) / LANES * LANES;
localparam F2_BYTES = (`LENET_FC2_OUT + LANES - 1) / LANES * LANES;
localparam W = TAPS * 8;

localparam [2:0] L_CONV1 = 3'd0, L_CONV2 = 3'd1, L_FC1 = 3'd2, L_FC2 = 3'd3;

initial begin
    if (F2_BYTES < ((`LENET_FC3_IN + TAPS - 1) / TAPS) * TAPS) begin
        $error("Error: fc3's last input word would read past fc2's outputs (instance %m)");
        $finish;
    end
end

// Selections below are indexed part-selects (f1_reg[k*W +: W]): synthesis
// builds a balanced multiplexer tree of a few levels from them, where a loop
// of `if (k == i)` over the slices becomes a chain as long as the loop.

reg [`LENET_CONV1_OUT*P1_SIDE*8-1:0] p1_mem [0:P1_SIDE-1];
reg [`LENET_CONV2_OUT*P2_SIDE*8-1:0] p2_mem [0:P2_SIDE-1];
reg [F1_BYTES*8-1:0]                 f1_reg;
reg [F2_BYTES*8-1:0]                 f2_reg;

integer i;

always @(posedge clk) begin
    if (p1_wr_en) p1_mem[p1_wr_row] <= p1_wr_data;
    if (p2_wr_en) p2_mem[p2_wr_row] <= p2_wr_data;
    for (i = 0; i < F1_BYTES / LANES; i = i + 1) begin
        if (f1_wr_en && f1_wr_pass == i) f1_reg[i*LANES*8 +: LANES*8] <= f1_wr_data;
    end
    for (i = 0; i < F2_BYTES / LANES; i = i + 1) begin
        if (f2_wr_en && f2_wr_pass == i) f2_reg[i*LANES*8 +: LANES*8] <= f2_wr_data;
    end
end

// stage 1: the row (or bytes) the step needs
reg [P1_SIDE*8-1:0] p1_q = {P1_SIDE*8{1'b0}};
reg [W-1:0]         p2_q = {W{1'b0}}, f1_q = {W{1'b0}}, f2_q = {W{1'b0}};
reg [2:0]           layer_q = 3'd0;
reg                 zero_q = 1'b0;
reg [4:0]           x_q = 5'd0;

wire [`LENET_CONV1_OUT*P1_SIDE*8-1:0] p1_row = p1_mem[act_row];
wire [`LENET_CONV2_OUT*P2_SIDE*8-1:0] p2_row = p2_mem[act_row];

always @(posedge clk) begin
    p1_q <= p1_row[act_lane*P1_SIDE*8 +: P1_SIDE*8];
    p2_q <= p2_row[act_lane*P2_SIDE*8 +: W];
    f1_q <= f1_reg[k*W +: W];
    f2_q <= f2_reg[k*W +: W];
    layer_q <= layer;
    zero_q <= img_zero;
    x_q <= x;
end

// stage 2: the window
reg [(TAPS+1)*8-1:0] window_reg = {(TAPS+1)*8{1'b0}};
assign window = window_reg;

wire [(P1_SIDE+1)*8-1:0] p1_ext = {8'd0, p1_q};
wire [`LENET_PADDED_SIDE*8-1:0] padded = zero_q ? {`LENET_PADDED_SIDE*8{1'b0}}
                                                : {{PAD_BITS{1'b0}}, img_row, {PAD_BITS{1'b0}}};

always @(posedge clk) begin
    case (layer_q)
        // conv1 windows start at even columns 0, 2, ..
        L_CONV1: window_reg <= padded[{x_q[4:1], 1'b0}*8 +: (TAPS+1)*8];
        // (a zero beyond the row's end: only a mirrored conv2 uses the 6th value)
        L_CONV2: window_reg <= p1_ext[x_q*8 +: (TAPS+1)*8];
        L_FC1:   window_reg <= {8'd0, p2_q};
        L_FC2:   window_reg <= {8'd0, f1_q};
        default: window_reg <= {8'd0, f2_q};
    endcase
end

endmodule

`resetall
