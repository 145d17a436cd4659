// LANES x TAPS multipliers (uint8 activation x int8 weight) with one int32
// accumulator per lane: acc = bias + sum of the steps' products, wrapping
// modulo 2^32 (docs/contract.md section 1). Three stages: multiply, add the
// TAPS products, accumulate. With `mirror` (conv1), lanes MIRROR.. take the
// window shifted by one value: they compute the next output column.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module lenet_mac_array #(
    parameter LANES = 16,   // output lanes
    parameter TAPS = 5,     // multipliers per lane
    parameter MIRROR = 6    // first lane of the shifted-window group in mirror mode
) (
    input  wire                    clk,
    input  wire                    rst,

    // stage 2: operands
    input  wire                    valid,
    input  wire                    first,      // start from the bias
    input  wire                    mirror,
    input  wire [(TAPS+1)*8-1:0]   window,     // unsigned values, t in bits 8t+7:8t
    input  wire [LANES*TAPS*8-1:0] weights,    // lane l tap t in bits 8(l*TAPS+t)+7..
    // stage 4: the lanes' biases (read with the step's bias address at stage 3)
    input  wire [LANES*32-1:0]     bias,

    // stage 5: the accumulators after the step
    output wire [LANES*32-1:0]     acc
);

initial begin
    if (MIRROR > LANES) begin
        $error("Error: MIRROR must not exceed LANES (instance %m)");
        $finish;
    end
end

localparam PW = 17;                   // uint8 x int8
localparam SW = PW + $clog2(TAPS);    // sum of TAPS products

reg v3_reg = 1'b0, v4_reg = 1'b0;
reg f3_reg = 1'b0, f4_reg = 1'b0;

always @(posedge clk) begin
    v3_reg <= valid;
    v4_reg <= v3_reg;
    f3_reg <= first;
    f4_reg <= f3_reg;
    if (rst) begin
        v3_reg <= 1'b0;
        v4_reg <= 1'b0;
    end
end

genvar l;
generate
    for (l = 0; l < LANES; l = l + 1) begin : lane
        wire [TAPS*8-1:0] x = (mirror && l >= MIRROR) ? window[8 +: TAPS*8] : window[0 +: TAPS*8];
        reg signed [PW-1:0] prod_reg [0:TAPS-1];
        reg signed [SW-1:0] sum_reg = {SW{1'b0}};
        reg        [31:0]   acc_reg = 32'd0;
        reg signed [SW-1:0] sum;
        integer i, j;

        always @(posedge clk) begin
            for (i = 0; i < TAPS; i = i + 1) begin
                prod_reg[i] <= $signed({1'b0, x[i*8 +: 8]}) * $signed(weights[(l*TAPS+i)*8 +: 8]);
            end
        end

        always @* begin
            sum = {SW{1'b0}};
            for (j = 0; j < TAPS; j = j + 1) begin
                sum = sum + prod_reg[j];
            end
        end

        always @(posedge clk) begin
            sum_reg <= sum;
            if (v4_reg) begin
                acc_reg <= (f4_reg ? bias[l*32 +: 32] : acc_reg) + {{32-SW{sum_reg[SW-1]}}, sum_reg};
            end
        end

        assign acc[l*32 +: 32] = acc_reg;
    end
endgenerate

endmodule

`resetall
