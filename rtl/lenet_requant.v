// Requantization of every lane's accumulator (docs/contract.md section 1):
// out = clamp((acc + r) >>> s, 0, 255), r = 1 << (s-1) for s > 0, the add
// wrapping modulo 2^32. The clamp's lower bound is the ReLU. One stage.
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
    output wire [LANES*8-1:0]  q       // one clock later
);

genvar l;
generate
    for (l = 0; l < LANES; l = l + 1) begin : lane
        wire signed [31:0] shifted = $signed(acc[l*32 +: 32]) >>> shift;
        reg         [7:0]  q_reg = 8'd0;

        always @(posedge clk) begin
            if (shifted < 0) begin
                q_reg <= 8'd0;
            end else if (shifted > 255) begin
                q_reg <= 8'd255;
            end else begin
                q_reg <= shifted[7:0];
            end
        end

        assign q[l*8 +: 8] = q_reg;
    end
endgenerate

endmodule

`resetall
