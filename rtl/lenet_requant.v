// Requantization of every lane's accumulator (docs/contract.md section 1):
// out = clamp((acc + r) >>> s, 0, 255), r = 1 << (s-1) for s > 0, the add
// wrapping modulo 2^32. The clamp's lower bound is the ReLU. One stage.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module lenet_requant #(
    parameter LANES = 16    // accumulators converted in parallel
) (
    input  wire               clk,
    input  wire [LANES*32-1:0] acc,
    input  wire [4:0]          shift,
    output wire [LANES*8-1:0]  q       // one clock later
);

wire [31:0] round = shift == 5'd0 ? 32'd0 : 32'd1 << (shift - 5'd1);

genvar l;
generate
    for (l = 0; l < LANES; l = l + 1) begin : lane
        wire        [31:0] sum = acc[l*32 +: 32] + round;
        wire signed [31:0] shifted = $signed(sum) >>> shift;
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
