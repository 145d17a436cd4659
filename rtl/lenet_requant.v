// Requantization of every lane's accumulator (docs/contract.md section 1):
// out = clamp((acc + r) >>> s, 0, 255), r = 1 << (s-1) for s > 0, the add
// wrapping modulo 2^32. The clamp's lower bound is the ReLU. Two stages:
// the shift and the saturation tests, then the clamp.
// The rounding term r is already in the accumulator: the weight loader adds
// it to every bias (addition modulo 2^32 does not care when), which keeps a
// 32-bit adder off this stage.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module lenet_requant #(
    parameter LANES = 16    // accumulators converted in parallel
) (
    input  wire               clk,
    input  wire [LANES*32-1:0] acc,     // bias + r + sum of products
    input  wire [4:0]          shift,
    output wire [LANES*8-1:0]  q       // two clocks later
);

// Written without the shifted value itself, which would put a 32-bit barrel
// shifter in front of the compares: (acc >>> s) < 0 is acc's sign, and for a
// non-negative acc, (acc >>> s) > 255 means a bit set at or above s + 8.
genvar l;
generate
    for (l = 0; l < LANES; l = l + 1) begin : lane
        wire [31:0] a = acc[l*32 +: 32];
        wire [38:0] a_ext = {7'd0, a};       // zeros above bit 31: the shift of a non-negative acc
        wire [7:0]  low = a_ext[shift +: 8];
        reg         big;
        reg         neg_reg = 1'b0, big_reg = 1'b0;
        reg  [7:0]  low_reg = 8'd0;
        reg  [7:0]  q_reg = 8'd0;
        integer     j;

        always @* begin
            big = 1'b0;
            for (j = 8; j < 31; j = j + 1) begin
                big = big | (a[j] && shift <= j - 8);
            end
        end

        always @(posedge clk) begin
            neg_reg <= a[31];
            big_reg <= big;
            low_reg <= low;
            q_reg <= neg_reg ? 8'd0 : big_reg ? 8'd255 : low_reg;
        end

        assign q[l*8 +: 8] = q_reg;
    end
endgenerate

endmodule

`resetall
