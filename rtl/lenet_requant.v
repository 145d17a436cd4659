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
    input  wire [22:0]         above,   // bit i: shift <= i (acc bit i + 8 saturates)
    output wire [LANES*8-1:0]  q       // two clocks later
);

// Written without the shifted value itself, which would put a 32-bit barrel
// shifter in front of the compares: (acc >>> s) < 0 is acc's sign, and for a
// non-negative acc, (acc >>> s) > 255 means a bit set at or above s + 8
// (`above` marks those bits, decoded once for all lanes). The shift itself
// is split: by whole bytes (s[4:3]) in the first stage, by s[2:0] in the
// second, each a small multiplexer.
reg [2:0] shift_lo_reg = 3'd0;
always @(posedge clk) shift_lo_reg <= shift[2:0];

genvar l;
generate
    for (l = 0; l < LANES; l = l + 1) begin : lane
        wire [31:0] a = acc[l*32 +: 32];
        wire [38:0] a_ext = {7'd0, a};       // zeros above bit 31: the shift of a non-negative acc
        reg         neg_reg = 1'b0, big_reg = 1'b0;
        reg  [14:0] part_reg = 15'd0;        // a >> 8 * s[4:3], the bits s[2:0] picks 8 from
        reg  [7:0]  q_reg = 8'd0;

        always @(posedge clk) begin
            neg_reg <= a[31];
            big_reg <= |(a[30:8] & above);
            case (shift[4:3])
                2'd0: part_reg <= a_ext[0 +: 15];
                2'd1: part_reg <= a_ext[8 +: 15];
                2'd2: part_reg <= a_ext[16 +: 15];
                default: part_reg <= a_ext[24 +: 15];
            endcase
            q_reg <= neg_reg ? 8'd0 : big_reg ? 8'd255 : part_reg[shift_lo_reg +: 8];
        end

        assign q[l*8 +: 8] = q_reg;
    end
endgenerate

endmodule

`resetall
