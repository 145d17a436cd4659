// LANES x TAPS multipliers (uint8 activation x int8 weight) with one int32
// accumulator per lane: acc = bias + sum of the steps' products, wrapping
// modulo 2^32 (docs/contract.md section 1). Four stages: multiply, add the
// TAPS products in pairs, add the pairs, accumulate (two adder levels at
// most per stage). In a conv layer each lane takes its TAPS values from the
// step's operand window at its position's row and column (lenet_layout.vh):
// a constant per lane and layer, so the choice is the layer's.
//
// Lanes 2m and 2m+1 always see the same activations, so each pair shares one
// 25 x 18 DSP48E1 multiplier: (w1 * 2^16 + w0) * x = w1*x * 2^16 + w0*x, and
// |w0*x| <= 128 * 255 < 2^15 lets the two products be taken apart again
// exactly. (A shift of 17 would overflow the 25-bit port for w1 = -128.)

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_mac_array #(
    parameter LANES = 16,   // output lanes; even (lanes are paired per multiplier)
    parameter TAPS = 5      // multipliers per lane
) (
    clk, rst, valid, first, layer, window, weights, bias, acc
);

// The layout; the window's width depends on it (rtl/lenet_layout.vh).
`include "lenet_layout.vh"

input  wire                    clk;
input  wire                    rst;

// stage 2: operands
input  wire                    valid;
input  wire                    first;      // start from the bias
input  wire [2:0]              layer;
/* verilator lint_off UNUSEDSIGNAL */  // row 1: when a conv step computes a pool window's two rows
input  wire [2*SPAN*8-1:0]     window;     // unsigned values, row r value t in bits 8(r*SPAN+t)+7..
/* verilator lint_on UNUSEDSIGNAL */
// stage 1: the step's weights (packed in pairs and registered here)
input  wire [LANES*TAPS*8-1:0] weights;    // lane l tap t in bits 8(l*TAPS+t)+7..
// stage 5: the lanes' biases (read with the step's bias address at stage 4)
input  wire [LANES*32-1:0]     bias;

// stage 6: the accumulators after the step
output wire [LANES*32-1:0]     acc;

initial begin
    if (LANES % 2 != 0 || `LENET_CONV1_OUT % 2 != 0 || `LENET_CONV2_OUT % 2 != 0) begin
        $error("Error: lanes share multipliers in pairs, so LANES and the conv layers' outputs must be even (instance %m)");
        $finish;
    end
end

// where a lane's TAPS values start in the window, in values: its position's
// row and column (0 for a lane no position of the layer uses)
function integer window_offset(input integer lane, input integer outputs, input integer positions);
    integer p;
    begin
        p = lane / outputs;
        window_offset = p < positions ? pos_row(p) * SPAN + pos_col(p) : 0;
    end
endfunction

localparam LO = 16;                    // the low product's field: a uint8 x int8 product fits
localparam PW = 25 + 9;                // packed product: 25-bit weights x 9-bit activation
localparam SW = LO + $clog2(TAPS);     // sum of TAPS products

reg v3_reg = 1'b0, v4_reg = 1'b0, v5_reg = 1'b0;
reg f3_reg = 1'b0, f4_reg = 1'b0, f5_reg = 1'b0;

always @(posedge clk) begin
    v3_reg <= valid;
    v4_reg <= v3_reg;
    v5_reg <= v4_reg;
    f3_reg <= first;
    f4_reg <= f3_reg;
    f5_reg <= f4_reg;
    if (rst) begin
        v3_reg <= 1'b0;
        v4_reg <= 1'b0;
        v5_reg <= 1'b0;
    end
end

// Unpacking: the low field (sign-extended) is lane 2m's product; the rest,
// plus the borrow the low field's sign took from it, is lane 2m+1's. Each
// lane's TAPS products (and the high lane's borrows) are added as a
// balanced tree over two stages: the products in pairs, then the pairs and
// the borrow count. (The count is not paired with a product: its gates in
// front of an adder would make the first stage the deepest path.)
localparam NT = TAPS + 1;              // terms per lane: TAPS products and the borrows
localparam NP = (TAPS + 1) / 2 + 1;    // the second stage's terms: pair sums and the borrows
localparam LEVELS = $clog2(NP);        // adder levels of the second stage

// terms left at level lvl of the second stage's tree
`define LENET_TREE_WIDTH(lvl) ((NP + (1 << (lvl)) - 1) >> (lvl))

function [NP*SW-1:0] pair_sums(input [NT*SW-1:0] terms);
    integer i;
    begin
        pair_sums = {NP*SW{1'b0}};
        for (i = 0; i < TAPS / 2; i = i + 1) begin
            pair_sums[i*SW +: SW] = terms[2*i*SW +: SW] + terms[(2*i+1)*SW +: SW];
        end
        if (TAPS % 2 == 1) begin
            pair_sums[(TAPS/2)*SW +: SW] = terms[(TAPS-1)*SW +: SW];
        end
        pair_sums[(NP-1)*SW +: SW] = terms[TAPS*SW +: SW];
    end
endfunction

function signed [SW-1:0] tree_sum(input [NP*SW-1:0] terms);
    reg [NP*SW-1:0] v;
    integer lvl, i;
    begin
        v = terms;
        // constant loop bounds (Yosys 0.23 unrolls nothing else); the ifs
        // are constant once unrolled
        for (lvl = 0; lvl < LEVELS; lvl = lvl + 1) begin
            for (i = 0; i < NP / 2; i = i + 1) begin
                if (i < `LENET_TREE_WIDTH(lvl) / 2) begin
                    v[i*SW +: SW] = v[2*i*SW +: SW] + v[(2*i+1)*SW +: SW];
                end
            end
            if (`LENET_TREE_WIDTH(lvl) % 2 == 1) begin
                v[(`LENET_TREE_WIDTH(lvl) / 2)*SW +: SW] = v[(`LENET_TREE_WIDTH(lvl) - 1)*SW +: SW];
            end
        end
        tree_sum = v[0 +: SW];
    end
endfunction

`undef LENET_TREE_WIDTH

function [NT*SW-1:0] low_terms(input [TAPS*PW-1:0] p);
    integer t;
    begin
        low_terms = {NT*SW{1'b0}};
        for (t = 0; t < TAPS; t = t + 1) begin
            low_terms[t*SW +: SW] = {{SW-LO{p[t*PW+LO-1]}}, p[t*PW +: LO]};
        end
    end
endfunction

// The borrows are counted with gates, not `+`: an adder per bit would be
// mapped to a carry chain each, five in a row in front of the pair sums.
localparam CB = $clog2(TAPS + 1);      // bits of the borrow count

function [CB-1:0] ones(input [TAPS-1:0] v);
    integer t, b;
    reg carry;
    begin
        ones = {CB{1'b0}};
        for (t = 0; t < TAPS; t = t + 1) begin
            carry = v[t];
            for (b = 0; b < CB; b = b + 1) begin
                {ones[b], carry} = {ones[b] ^ carry, ones[b] & carry};
            end
        end
    end
endfunction

function [NT*SW-1:0] high_terms(input [TAPS*PW-1:0] p);
    integer t;
    reg [TAPS-1:0] borrows;
    begin
        high_terms = {NT*SW{1'b0}};
        for (t = 0; t < TAPS; t = t + 1) begin
            high_terms[t*SW +: SW] = {{SW-(PW-LO){p[t*PW+PW-1]}}, p[t*PW+LO +: PW-LO]};
            borrows[t] = p[t*PW+LO-1];
        end
        high_terms[TAPS*SW +: SW] = {{SW-CB{1'b0}}, ones(borrows)};
    end
endfunction

genvar m, h;
generate
    for (m = 0; m < LANES / 2; m = m + 1) begin : pair
        localparam OFS_CONV1 = window_offset(2 * m, `LENET_CONV1_OUT, POS_CONV1);
        localparam OFS_CONV2 = window_offset(2 * m, `LENET_CONV2_OUT, POS_CONV2);
        wire [TAPS*8-1:0] x = layer == L_CONV1 ? window[OFS_CONV1*8 +: TAPS*8]
                            : layer == L_CONV2 ? window[OFS_CONV2*8 +: TAPS*8] : window[0 +: TAPS*8];
        wire [TAPS*PW-1:0]  prods;
        reg [NP*SW-1:0]     pairs_reg [0:1];
        reg signed [SW-1:0] sum_reg [0:1];

        for (h = 0; h < TAPS; h = h + 1) begin : tap
            wire [7:0] w0 = weights[(2*m*TAPS+h)*8 +: 8];
            wire [7:0] w1 = weights[((2*m+1)*TAPS+h)*8 +: 8];
            // 25-bit A port: w1 * 2^16 + w0, packed a stage ahead so that the
            // bank's read, this add and the multiply are not one path
            reg signed [24:0]   a_reg = 25'd0;
            wire signed [8:0]   b = {1'b0, x[h*8 +: 8]};  // 9-bit B port: the activation
            reg signed [PW-1:0] prod_reg = {PW{1'b0}};

            always @(posedge clk) begin
                a_reg <= {w1[7], w1, {LO{1'b0}}} + {{LO+1{w0[7]}}, w0};
                prod_reg <= a_reg * b;
            end

            assign prods[h*PW +: PW] = prod_reg;
        end

        always @(posedge clk) begin
            pairs_reg[0] <= pair_sums(low_terms(prods));
            pairs_reg[1] <= pair_sums(high_terms(prods));
            sum_reg[0] <= tree_sum(pairs_reg[0]);
            sum_reg[1] <= tree_sum(pairs_reg[1]);
        end

        for (h = 0; h < 2; h = h + 1) begin : lane
            reg [31:0] acc_reg = 32'd0;

            always @(posedge clk) begin
                if (v5_reg) begin
                    acc_reg <= (f5_reg ? bias[(2*m+h)*32 +: 32] : acc_reg)
                               + {{32-SW{sum_reg[h][SW-1]}}, sum_reg[h]};
                end
            end

            assign acc[(2*m+h)*32 +: 32] = acc_reg;
        end
    end
endgenerate

endmodule

`resetall
