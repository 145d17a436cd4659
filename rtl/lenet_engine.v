// The compute engine: the sequencer's steps go through operand fetch, the
// MAC array, requantization and the layer writer; fc3's accumulators are
// the logits. Stages (S0 = the step as issued):
//   S1 weight bank read, activation read    S2 window, packed weights; multiply
//   S3 add the taps in pairs                S4 add the pairs; bias bank read
//   S5 accumulate                           S6 requantize: shift (fc3: logits out)
//   S7 requantize: clamp                    S8 pool: running max per lane
//   (lenet_layer_writer: S9 the pool window's columns, S10 its rows, S11 the write)

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_engine #(
    parameter LANES = 16,          // compute lanes
    parameter TAPS = 5             // MACs per lane per step
) (
    clk, rst,
    img_full, img_release, img_rd_sel, img_rd_row, img_rd_zero, img_rd_data, img_rd_row1,
    img_rd_zero1, img_rd_data1,
    wbank_wr_en, wbank_wr_lanes, wbank_wr_addr, wbank_wr_data, bbank_wr_en, bbank_wr_lanes,
    bbank_wr_addr, bbank_wr_data, shifts,
    slot_free, logits_valid, logits
);

// The layout; the ports' widths depend on it (rtl/lenet_layout.vh).
`include "lenet_layout.vh"

input  wire                   clk;
input  wire                   rst;

// image buffers
input  wire [1:0]             img_full;
output wire                   img_release;
output wire                   img_rd_sel;
output wire [4:0]             img_rd_row;
output wire                   img_rd_zero;   // the row is conv1's padding: read zeros
input  wire [`LENET_IMAGE_SIDE*8-1:0] img_rd_data;
output wire [4:0]             img_rd_row1;   // the row below, read at the same time
output wire                   img_rd_zero1;
input  wire [`LENET_IMAGE_SIDE*8-1:0] img_rd_data1;

// weights, biases and shifts from the loader
input  wire                   wbank_wr_en;
input  wire [LANES-1:0]       wbank_wr_lanes;
input  wire [WADDR_WIDTH-1:0] wbank_wr_addr;
input  wire [TAPS*8-1:0]      wbank_wr_data;
input  wire                   bbank_wr_en;
input  wire [LANES-1:0]       bbank_wr_lanes;
input  wire [BADDR_WIDTH-1:0] bbank_wr_addr;
input  wire [31:0]            bbank_wr_data;
/* verilator lint_off UNUSEDSIGNAL */  // blob word 3: only the four shift fields
input  wire [31:0]            shifts;
/* verilator lint_on UNUSEDSIGNAL */

// the logits of each image
input  wire                   slot_free;
output wire                   logits_valid;
output wire [`LENET_NUM_CLASSES*32-1:0] logits;

localparam SB = `LENET_SHIFT_FIELD_BITS;
localparam SS = `LENET_SHIFT_FIELD_STRIDE;

// --- S0: the step ------------------------------------------------------------

wire                   s0_valid, s0_first, s0_last, s0_pfirst, s0_plast, s0_rlast;
wire [2:0]             s0_layer;
wire [3:0]             s0_row;
wire [WADDR_WIDTH-1:0] s0_waddr;
wire [BADDR_WIDTH-1:0] s0_baddr;
wire [4:0]             s0_x;
wire [3:0]             s0_act_lane, s0_act_row, s0_act_row1;
wire [6:0]             s0_k;

lenet_sequencer #(.LANES(LANES), .TAPS(TAPS)) sequencer_inst (
    .clk(clk), .rst(rst),
    .img_full(img_full), .img_sel(img_rd_sel), .img_release(img_release), .slot_free(slot_free),
    .step_valid(s0_valid), .step_layer(s0_layer), .step_first(s0_first), .step_last(s0_last),
    .step_pool_first(s0_pfirst), .step_pool_last(s0_plast), .step_row_last(s0_rlast),
    .step_row(s0_row), .step_waddr(s0_waddr), .step_baddr(s0_baddr),
    .step_img_row(img_rd_row), .step_img_zero(img_rd_zero), .step_img_row1(img_rd_row1),
    .step_img_zero1(img_rd_zero1), .step_x(s0_x), .step_act_lane(s0_act_lane),
    .step_act_row(s0_act_row), .step_act_row1(s0_act_row1), .step_k(s0_k)
);

// The step's control travels with its data: one token register per stage.
localparam TW = 1 + 3 + 5 + 4 + BADDR_WIDTH;
wire [TW-1:0] tok0 = {s0_valid, s0_layer, s0_first, s0_last, s0_pfirst, s0_plast, s0_rlast,
                      s0_row, s0_baddr};
reg  [TW-1:0] tok1 = {TW{1'b0}}, tok2 = {TW{1'b0}}, tok3 = {TW{1'b0}};
reg  [TW-1:0] tok4 = {TW{1'b0}}, tok5 = {TW{1'b0}}, tok6 = {TW{1'b0}}, tok7 = {TW{1'b0}};
reg  [TW-1:0] tok8 = {TW{1'b0}};
always @(posedge clk) begin
    {tok8, tok7, tok6, tok5, tok4, tok3, tok2, tok1} <= {tok7, tok6, tok5, tok4, tok3, tok2, tok1, tok0};
    if (rst) begin
        tok1[TW-1] <= 1'b0;
        tok2[TW-1] <= 1'b0;
        tok3[TW-1] <= 1'b0;
        tok4[TW-1] <= 1'b0;
        tok5[TW-1] <= 1'b0;
        tok6[TW-1] <= 1'b0;
        tok7[TW-1] <= 1'b0;
        tok8[TW-1] <= 1'b0;
    end
end

`define TOK_VALID(t) t[TW-1]
`define TOK_LAYER(t) t[TW-2 -: 3]

wire          tok2_first = tok2[TW-5];
wire          tok6_last = tok6[TW-6];
wire [BADDR_WIDTH-1:0] tok4_baddr = tok4[0 +: BADDR_WIDTH];

// --- S1: weights and operands --------------------------------------------------

wire [LANES*TAPS*8-1:0] weights;
wire [LANES*32-1:0]     biases;

lenet_lane_banks #(.LANES(LANES), .WIDTH(TAPS*8), .ADDR_WIDTH(WADDR_WIDTH)) weight_banks_inst (
    .clk(clk),
    .wr_en(wbank_wr_en), .wr_lanes(wbank_wr_lanes), .wr_addr(wbank_wr_addr), .wr_data(wbank_wr_data),
    .rd_addr(s0_waddr), .rd_data(weights)
);

lenet_lane_banks #(.LANES(LANES), .WIDTH(32), .ADDR_WIDTH(BADDR_WIDTH)) bias_banks_inst (
    .clk(clk),
    .wr_en(bbank_wr_en), .wr_lanes(bbank_wr_lanes), .wr_addr(bbank_wr_addr), .wr_data(bbank_wr_data),
    .rd_addr(tok4_baddr), .rd_data(biases)
);

wire                                 p1_wr_en, p2_wr_en, f1_wr_en, f2_wr_en;
wire [3:0]                           p1_wr_row, p2_wr_row, f_wr_pass;
wire [`LENET_CONV1_OUT*P1_SIDE*8-1:0] p1_wr_data;
wire [`LENET_CONV2_OUT*P2_SIDE*8-1:0] p2_wr_data;
wire [LANES*8-1:0]                   f_wr_data;
wire [2*SPAN*8-1:0]                  window;

lenet_operand_fetch #(.LANES(LANES), .TAPS(TAPS)) fetch_inst (
    .clk(clk),
    .layer(s0_layer), .x(s0_x), .act_lane(s0_act_lane),
    .act_row(s0_act_row), .act_row1(s0_act_row1), .k(s0_k),
    .img_row(img_rd_data), .img_row1(img_rd_data1),
    .p1_wr_en(p1_wr_en), .p1_wr_row(p1_wr_row), .p1_wr_data(p1_wr_data),
    .p2_wr_en(p2_wr_en), .p2_wr_row(p2_wr_row), .p2_wr_data(p2_wr_data),
    .f1_wr_en(f1_wr_en), .f1_wr_pass(f_wr_pass), .f1_wr_data(f_wr_data),
    .f2_wr_en(f2_wr_en), .f2_wr_pass(f_wr_pass), .f2_wr_data(f_wr_data),
    .window(window)
);

// --- S2..S6: multiply-accumulate -----------------------------------------------

wire [LANES*32-1:0] acc;

lenet_mac_array #(.LANES(LANES), .TAPS(TAPS)) mac_inst (
    .clk(clk), .rst(rst),
    .valid(`TOK_VALID(tok2)), .first(tok2_first), .layer(`TOK_LAYER(tok2)),
    .window(window), .weights(weights), .bias(biases),
    .acc(acc)
);

// --- S6: requantize, or the logits ---------------------------------------------

// the layer's shift, chosen a stage early so that no multiplexer sits in
// front of the requantizer's barrel shifter
reg [4:0]  shift_reg = 5'd0;
reg [22:0] above_reg = 23'd0;  // bit i: the shift is <= i (a thermometer code of it)
wire [4:0] shift_next = `TOK_LAYER(tok5) == L_CONV1 ? shifts[0*SS +: SB]
                      : `TOK_LAYER(tok5) == L_CONV2 ? shifts[1*SS +: SB]
                      : `TOK_LAYER(tok5) == L_FC1 ? shifts[2*SS +: SB] : shifts[3*SS +: SB];
// bit j of the thermometer: shift <= j, from equality compares (a `<=` each
// would be a carry chain)
function [22:0] thermometer(input [4:0] sh);
    integer i;
    begin
        thermometer = 23'd0;
        for (i = 0; i < 23; i = i + 1) begin
            thermometer = thermometer | ({23{sh == i}} & ~((23'd1 << i) - 23'd1));
        end
    end
endfunction

always @(posedge clk) begin
    shift_reg <= shift_next;
    above_reg <= thermometer(shift_next);
end

wire [LANES*8-1:0] q;
lenet_requant #(.LANES(LANES)) requant_inst (
    .clk(clk), .acc(acc), .shift(shift_reg), .above(above_reg), .q(q)
);

assign logits_valid = `TOK_VALID(tok6) && tok6_last && `TOK_LAYER(tok6) == L_FC3;
assign logits = acc[0 +: `LENET_NUM_CLASSES*32];

// --- S8: pool and write --------------------------------------------------------

lenet_layer_writer #(.LANES(LANES), .TAPS(TAPS)) writer_inst (
    .clk(clk), .rst(rst),
    .valid(`TOK_VALID(tok8)), .layer(`TOK_LAYER(tok8)), .last(tok8[TW-6]),
    .pool_first(tok8[TW-7]), .pool_last(tok8[TW-8]), .row_last(tok8[TW-9]),
    .row(tok8[TW-10 -: 4]), .q(q),
    .p1_wr_en(p1_wr_en), .p1_wr_row(p1_wr_row), .p1_wr_data(p1_wr_data),
    .p2_wr_en(p2_wr_en), .p2_wr_row(p2_wr_row), .p2_wr_data(p2_wr_data),
    .f1_wr_en(f1_wr_en), .f2_wr_en(f2_wr_en), .f_wr_pass(f_wr_pass), .f_wr_data(f_wr_data)
);

`undef TOK_VALID
`undef TOK_LAYER

endmodule

`resetall
