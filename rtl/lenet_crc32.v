// One step of the blob's CRC-32 (docs/contract.md section 2) over a whole
// 32-bit word per clock: reflected IEEE 802.3, byte 0 of the word first.
// Purely combinational; the caller holds the running value.
//
// The step is linear over GF(2): each result bit is the parity of a fixed
// set of crc_in's and data's bits. The sets are found at elaboration by
// running the bit-serial definition (`serial`) on every unit vector, so the
// hardware is one balanced XOR tree per bit, a few LUTs deep, where the
// serial loop written out would be a chain 32 XORs long.

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

// The definition: the word's bits enter LSB first, which is byte 0 first.
function [31:0] serial(input [31:0] crc, input [31:0] word);
    integer i;
    reg fb;
    begin
        serial = crc;
        for (i = 0; i < 32; i = i + 1) begin
            fb = serial[0] ^ word[i];
            serial = {1'b0, serial[31:1]} ^ (fb ? POLY : 32'd0);
        end
    end
endfunction

// which bits of the remainder (of_data = 0) or of the word (1) result bit o depends on
function [31:0] taps(input integer o, input integer of_data);
    integer j;
    reg [31:0] unit;
    begin
        for (j = 0; j < 32; j = j + 1) begin
            unit = 32'd1 << j;
            taps[j] = of_data ? serial(32'd0, unit) >> o : serial(unit, 32'd0) >> o;
        end
    end
endfunction

genvar o;
generate
    for (o = 0; o < 32; o = o + 1) begin : out_bit
        localparam [31:0] CRC_TAPS = taps(o, 0);
        localparam [31:0] DATA_TAPS = taps(o, 1);
        assign crc_out[o] = ^(crc_in & CRC_TAPS) ^ ^(data & DATA_TAPS);
    end
endgenerate

endmodule

`resetall
