// One step of the blob's CRC-32 (docs/contract.md section 2) over a whole
// 32-bit word per clock: reflected IEEE 802.3, byte 0 of the word first.
// Purely combinational; the caller holds the running value.
//
// The step is linear over GF(2): each result bit is the parity of a fixed
// set of crc_in's and data's bits. The sets are found at elaboration by
// running the bit-serial definition on dependency masks, so the hardware is
// one balanced XOR tree per bit, a few LUTs deep, where the serial loop
// written out would be a chain 32 XORs long.

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_crc32 (
    input  wire [31:0] crc_in,   // running remainder (start: LENET_CRC32_INIT)
    input  wire [31:0] data,     // the next stream word, byte 0 in bits 7:0
    output wire [31:0] crc_out   // remainder after the word; final CRC = ~crc_out
);

localparam [31:0] POLY = `LENET_CRC32_POLY;

// The bit-serial definition (the word's bits enter LSB first, which is byte
// 0 first), run once at elaboration on dependency masks instead of bits:
// entry o says which of {data, crc_in} (bits 63:32 and 31:0) result bit o is
// the parity of. One call: Yosys evaluates constant functions slowly.
function [32*64-1:0] dependencies(input [31:0] poly);
    integer i, j;
    reg [63:0] fb;
    begin
        for (j = 0; j < 32; j = j + 1) begin
            dependencies[j*64 +: 64] = 64'd1 << j;
        end
        for (i = 0; i < 32; i = i + 1) begin
            fb = dependencies[0 +: 64] ^ (64'd1 << (32 + i));
            for (j = 0; j < 31; j = j + 1) begin
                dependencies[j*64 +: 64] = dependencies[(j+1)*64 +: 64] ^ (poly[j] ? fb : 64'd0);
            end
            dependencies[31*64 +: 64] = poly[31] ? fb : 64'd0;
        end
    end
endfunction

localparam [32*64-1:0] DEPS = dependencies(POLY);

genvar o;
generate
    for (o = 0; o < 32; o = o + 1) begin : out_bit
        assign crc_out[o] = ^({data, crc_in} & DEPS[o*64 +: 64]);
    end
endgenerate

endmodule

`resetall
