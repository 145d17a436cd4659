// One step of the blob's CRC-32 (docs/contract.md section 2) over a whole
// 32-bit word per clock: reflected IEEE 802.3, byte 0 of the word first.
// Purely combinational; the caller holds the running value.

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_crc32 (
    input  wire [31:0] crc_in,   // running remainder (start: LENET_CRC32_INIT)
    input  wire [31:0] data,     // the next stream word, byte 0 in bits 7:0
    output reg  [31:0] crc_out   // remainder after the word; final CRC = ~crc_out
);

localparam [31:0] POLY = `LENET_CRC32_POLY;

integer i;
reg fb;

// Reflected CRC: the word's bits enter LSB first, which is byte 0 first.
always @* begin
    crc_out = crc_in;
    for (i = 0; i < 32; i = i + 1) begin
        fb = crc_out[0] ^ data[i];
        crc_out = {1'b0, crc_out[31:1]} ^ (fb ? POLY : 32'd0);
    end
end

endmodule

`resetall
