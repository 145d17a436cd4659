// Two image buffers (double buffering): the receiver writes one 32-bit word
// (four pixels) per clock, the engine reads two whole image rows per clock
// (the rows of a pool window, when conv1 computes both at once). One memory
// per word position of a row, so a row is one parallel read.

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_image_buf (
    input  wire                                      clk,

    input  wire                                      wr_en,
    input  wire                                      wr_sel,    // which buffer
    input  wire [$clog2(`LENET_IMAGE_SIDE)-1:0]      wr_row,
    input  wire [$clog2(`LENET_IMAGE_ROW_WORDS)-1:0] wr_slot,   // word within the row
    input  wire [31:0]                               wr_data,

    input  wire                                      rd_sel,
    input  wire [$clog2(`LENET_IMAGE_SIDE)-1:0]      rd_row,
    input  wire                                      rd_zero,   // read zeros instead (conv1's padding rows)
    output wire [`LENET_IMAGE_ROW_WORDS*32-1:0]      rd_data,   // the row one clock later, pixel 0 in bits 7:0

    // a second read port, into the same buffer
    input  wire [$clog2(`LENET_IMAGE_SIDE)-1:0]      rd_row1,
    input  wire                                      rd_zero1,
    output wire [`LENET_IMAGE_ROW_WORDS*32-1:0]      rd_data1
);

localparam ROW_WORDS = `LENET_IMAGE_ROW_WORDS;
localparam ROWS = `LENET_IMAGE_SIDE;
localparam AW = $clog2(ROWS) + 1;

genvar s;
generate
    for (s = 0; s < ROW_WORDS; s = s + 1) begin : slot
        reg [31:0] mem [0:(1 << AW)-1];
        reg [31:0] rd_reg = 32'd0, rd1_reg = 32'd0;

        assign rd_data[s*32 +: 32] = rd_reg;
        assign rd_data1[s*32 +: 32] = rd1_reg;

        always @(posedge clk) begin
            if (wr_en && wr_slot == s) begin
                mem[{wr_sel, wr_row}] <= wr_data;
            end
            // the read register's synchronous reset: the padding costs no logic
            rd_reg <= rd_zero ? 32'd0 : mem[{rd_sel, rd_row}];
            rd1_reg <= rd_zero1 ? 32'd0 : mem[{rd_sel, rd_row1}];
        end
    end
endgenerate

endmodule

`resetall
