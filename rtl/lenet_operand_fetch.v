// The activation memories between layers (pool1, pool2, fc1, fc2) and the
// operand window of each step: the TAPS input values every lane multiplies,
// as two rows of SPAN values (lenet_layout.vh). A conv step's positions take
// their TAPS values from it at their own row and column offset: the second
// row is the input row below the first, the values past TAPS the columns to
// the right. fc steps use row 0's first TAPS values.
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
    parameter TAPS = 5      // MACs per lane per step
) (
    clk,
    layer, x, act_lane, act_row, act_row1, k,
    img_row, img_row1,
    p1_wr_en, p1_wr_row, p1_wr_data, p2_wr_en, p2_wr_row, p2_wr_data, f1_wr_en, f1_wr_pass,
    f1_wr_data, f2_wr_en, f2_wr_pass, f2_wr_data,
    window
);

// The layout; the ports' widths depend on it (rtl/lenet_layout.vh).
`include "lenet_layout.vh"

input  wire                      clk;

// the step being issued (stage 0)
input  wire [2:0]                layer;
input  wire [4:0]                x;
input  wire [3:0]                act_lane;
input  wire [3:0]                act_row;
input  wire [3:0]                act_row1;   // the row below act_row (conv2)
/* verilator lint_off UNUSEDSIGNAL */  // fewer words than k's range
input  wire [6:0]                k;
/* verilator lint_on UNUSEDSIGNAL */

// the image rows it addressed, one clock later (zero for a padding row)
input  wire [`LENET_IMAGE_SIDE*8-1:0] img_row;
input  wire [`LENET_IMAGE_SIDE*8-1:0] img_row1;

// results of earlier layers
input  wire                      p1_wr_en;
input  wire [3:0]                p1_wr_row;
input  wire [`LENET_CONV1_OUT*P1_SIDE*8-1:0] p1_wr_data;
input  wire                      p2_wr_en;
/* verilator lint_off UNUSEDSIGNAL */  // pool2 has fewer rows than the row field holds
input  wire [3:0]                p2_wr_row;
/* verilator lint_on UNUSEDSIGNAL */
input  wire [`LENET_CONV2_OUT*P2_SIDE*8-1:0] p2_wr_data;
input  wire                      f1_wr_en;
input  wire [3:0]                f1_wr_pass;
input  wire [LANES*8-1:0]        f1_wr_data;
input  wire                      f2_wr_en;
input  wire [3:0]                f2_wr_pass;
input  wire [LANES*8-1:0]        f2_wr_data;

// two clocks after the step: row r's value t in bits 8(r*SPAN+t)+7..
output wire [2*SPAN*8-1:0]       window;

localparam PAD_BITS = `LENET_PAD * 8;
localparam F1_BYTES = PASSES_FC1 * LANES;
localparam F2_BYTES = PASSES_FC2 * LANES;
localparam W = TAPS * 8;

// Every selection below indexes an array of candidate words (f1_word[k]),
// which synthesis builds as a balanced multiplexer (a LUT and the slice's
// wide multiplexers); a loop of `if (k == i)` would become a chain as long
// as the loop, and a part-select at k*W a shifter over the whole vector.

reg [`LENET_CONV1_OUT*P1_SIDE*8-1:0] p1_mem [0:P1_SIDE-1];
reg [`LENET_CONV2_OUT*P2_SIDE*8-1:0] p2_mem [0:P2_SIDE-1];
/* verilator lint_off UNUSEDSIGNAL */  // the bytes after the last whole word of TAPS are no input
reg [F1_BYTES*8-1:0]                 f1_reg;
reg [F2_BYTES*8-1:0]                 f2_reg;
/* verilator lint_on UNUSEDSIGNAL */

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

// the candidates: words of TAPS inputs (fc), channel rows (conv2 from pool1,
// fc1 from pool2), windows of SPAN values (conv1 at its steps' first
// columns, 2 * WINS_CONV1 apart; conv2 at every column)
localparam F1_WORDS = F1_BYTES / TAPS;
localparam F2_WORDS = F2_BYTES / TAPS;
localparam C1_X = P1_SIDE / WINS_CONV1;
localparam C1_STEP = 2 * WINS_CONV1;
localparam C2_X = C2_SIDE;
localparam SW = SPAN * 8;
localparam C2_END = C2_X - 1 + SPAN;  // values a conv2 window may reach

initial begin
    if (F2_BYTES < ((`LENET_FC3_IN + TAPS - 1) / TAPS) * TAPS) begin
        $error("Error: fc3's last input word would read past fc2's outputs (instance %m)");
        $finish;
    end
    if ((C1_X - 1) * C1_STEP + SPAN > `LENET_PADDED_SIDE) begin
        $error("Error: conv1's last window would read past the padded row (instance %m)");
        $finish;
    end
end

wire [`LENET_CONV1_OUT*P1_SIDE*8-1:0] p1_row = p1_mem[act_row];
wire [`LENET_CONV1_OUT*P1_SIDE*8-1:0] p1_row1 = p1_mem[act_row1];
wire [`LENET_CONV2_OUT*P2_SIDE*8-1:0] p2_row = p2_mem[act_row];
wire [W-1:0]                          f1_word [0:F1_WORDS-1];
wire [W-1:0]                          f2_word [0:F2_WORDS-1];
wire [P1_SIDE*8-1:0]                  p1_chan [0:`LENET_CONV1_OUT-1];
wire [P1_SIDE*8-1:0]                  p1_chan1 [0:`LENET_CONV1_OUT-1];
wire [W-1:0]                          p2_chan [0:`LENET_CONV2_OUT-1];

genvar g;
generate
    for (g = 0; g < F1_WORDS; g = g + 1) begin : f1_words
        assign f1_word[g] = f1_reg[g*W +: W];
    end
    for (g = 0; g < F2_WORDS; g = g + 1) begin : f2_words
        assign f2_word[g] = f2_reg[g*W +: W];
    end
    for (g = 0; g < `LENET_CONV1_OUT; g = g + 1) begin : p1_chans
        assign p1_chan[g] = p1_row[g*P1_SIDE*8 +: P1_SIDE*8];
        assign p1_chan1[g] = p1_row1[g*P1_SIDE*8 +: P1_SIDE*8];
    end
    for (g = 0; g < `LENET_CONV2_OUT; g = g + 1) begin : p2_chans
        assign p2_chan[g] = p2_row[g*P2_SIDE*8 +: W];
    end
endgenerate

// stage 1: the pool1 rows of conv2, or the fc layers' word (of TAPS values)
reg [P1_SIDE*8-1:0] s1_p1_reg = {P1_SIDE*8{1'b0}}, s1_p1_row1_reg = {P1_SIDE*8{1'b0}};
reg [W-1:0]         s1_fc_reg = {W{1'b0}};
reg [2:0]           s1_layer_reg = 3'd0;
reg [4:0]           s1_x_reg = 5'd0;

always @(posedge clk) begin
    s1_p1_reg <= p1_chan[act_lane];
    s1_p1_row1_reg <= p1_chan1[act_lane];
    case (layer)
        L_FC1:   s1_fc_reg <= p2_chan[act_lane];
        L_FC2:   s1_fc_reg <= f1_word[k];
        default: s1_fc_reg <= f2_word[k];
    endcase
    s1_layer_reg <= layer;
    s1_x_reg <= x;
end

// stage 2: the window
reg [2*SW-1:0] window_reg = {2*SW{1'b0}};
assign window = window_reg;

wire [`LENET_IMAGE_SIDE*8-1:0] img_rows [0:1];
wire [P1_SIDE*8-1:0]           p1_rows [0:1];
assign img_rows[0] = img_row;
assign img_rows[1] = img_row1;
assign p1_rows[0] = s1_p1_reg;
assign p1_rows[1] = s1_p1_row1_reg;

genvar r;
generate
    for (r = 0; r < 2; r = r + 1) begin : row
        // (conv2: zeros past pool1's row end, where no position the step
        // computes reads)
        wire [`LENET_PADDED_SIDE*8-1:0] padded = {{PAD_BITS{1'b0}}, img_rows[r], {PAD_BITS{1'b0}}};
        wire [C2_END*8-1:0]             p1_ext = {{(C2_END-P1_SIDE)*8{1'b0}}, p1_rows[r]};
        wire [SW-1:0]                   c1_win [0:C1_X-1];
        wire [SW-1:0]                   c2_win [0:C2_X-1];

        for (g = 0; g < C1_X; g = g + 1) begin : c1_wins
            assign c1_win[g] = padded[C1_STEP*g*8 +: SW];
        end
        for (g = 0; g < C2_X; g = g + 1) begin : c2_wins
            assign c2_win[g] = p1_ext[g*8 +: SW];
        end

        always @(posedge clk) begin
            case (s1_layer_reg)
                L_CONV1: window_reg[r*SW +: SW] <= c1_win[s1_x_reg >> $clog2(C1_STEP)];
                L_CONV2: window_reg[r*SW +: SW] <= c2_win[s1_x_reg];
                default: window_reg[r*SW +: SW] <= r == 0 ? {{SW-W{1'b0}}, s1_fc_reg} : {SW{1'b0}};
            endcase
        end
    end
endgenerate

endmodule

`resetall
