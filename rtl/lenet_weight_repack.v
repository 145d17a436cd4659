// Regroups one weight section of the blob (int8, four per stream word) into
// the compute lanes' bank entries of TAPS weights each: one entry per TAPS
// consecutive weights of a row (an output's weights), the row's last entry
// zero-padded when the row length is not a multiple of TAPS. Since an entry
// holds more bytes than a word, at most one entry completes per word.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module lenet_weight_repack #(
    parameter TAPS = 5,              // weights per bank entry; must exceed the 4 bytes of a word
    parameter ROW_BYTES_WIDTH = 9,   // bits of the row length (fc1's 400 weights per output)
    parameter ROW_WIDTH = 7,         // bits of the row index (fc1's 120 outputs)
    parameter ENTRY_WIDTH = 7        // bits of the entry index within a row
) (
    input  wire                       clk,
    input  wire                       rst,

    input  wire                       in_valid,
    input  wire                       in_first,    // first word of a section: start at row 0
    input  wire [31:0]                in_data,
    input  wire [ROW_BYTES_WIDTH-1:0] row_bytes,   // weights per row (held for the whole section)
    input  wire [ROW_WIDTH-1:0]       rows,        // rows in the section; later bytes are padding

    output wire                       out_valid,
    output wire [TAPS*8-1:0]          out_data,    // tap t in bits 8t+7:8t
    output wire [ROW_WIDTH-1:0]       out_row,
    output wire [ENTRY_WIDTH-1:0]     out_entry
);

initial begin
    if (TAPS <= 4) begin
        $error("Error: TAPS must exceed the 4 bytes of a word, or two entries could complete at once (instance %m)");
        $finish;
    end
end

reg [3:0]                 tap_reg = 4'd0, tap_next;
reg [TAPS*8-1:0]          fill_reg = {TAPS*8{1'b0}}, fill_next;
reg [ROW_BYTES_WIDTH-1:0] pos_reg = {ROW_BYTES_WIDTH{1'b0}}, pos_next;
reg [ROW_WIDTH-1:0]       row_reg = {ROW_WIDTH{1'b0}}, row_next;
reg [ENTRY_WIDTH-1:0]     entry_reg = {ENTRY_WIDTH{1'b0}}, entry_next;

reg                       out_valid_reg = 1'b0, out_valid_next;
reg [TAPS*8-1:0]          out_data_reg = {TAPS*8{1'b0}}, out_data_next;
reg [ROW_WIDTH-1:0]       out_row_reg = {ROW_WIDTH{1'b0}}, out_row_next;
reg [ENTRY_WIDTH-1:0]     out_entry_reg = {ENTRY_WIDTH{1'b0}}, out_entry_next;

assign out_valid = out_valid_reg;
assign out_data = out_data_reg;
assign out_row = out_row_reg;
assign out_entry = out_entry_reg;

integer b;

always @* begin
    tap_next = tap_reg;
    fill_next = fill_reg;
    pos_next = pos_reg;
    row_next = row_reg;
    entry_next = entry_reg;
    out_valid_next = 1'b0;
    out_data_next = out_data_reg;
    out_row_next = out_row_reg;
    out_entry_next = out_entry_reg;

    if (in_valid) begin
        if (in_first) begin
            tap_next = 4'd0;
            fill_next = {TAPS*8{1'b0}};
            pos_next = {ROW_BYTES_WIDTH{1'b0}};
            row_next = {ROW_WIDTH{1'b0}};
            entry_next = {ENTRY_WIDTH{1'b0}};
        end
        for (b = 0; b < 4; b = b + 1) begin
            if (row_next < rows) begin
                fill_next[tap_next*8 +: 8] = in_data[b*8 +: 8];
                tap_next = tap_next + 4'd1;
                pos_next = pos_next + 1'b1;
                if (tap_next == TAPS || pos_next == row_bytes) begin
                    out_valid_next = 1'b1;
                    out_data_next = fill_next;
                    out_row_next = row_next;
                    out_entry_next = entry_next;
                    fill_next = {TAPS*8{1'b0}};
                    tap_next = 4'd0;
                    entry_next = entry_next + 1'b1;
                    if (pos_next == row_bytes) begin
                        pos_next = {ROW_BYTES_WIDTH{1'b0}};
                        entry_next = {ENTRY_WIDTH{1'b0}};
                        row_next = row_next + 1'b1;
                    end
                end
            end
        end
    end
end

always @(posedge clk) begin
    tap_reg <= tap_next;
    fill_reg <= fill_next;
    pos_reg <= pos_next;
    row_reg <= row_next;
    entry_reg <= entry_next;
    out_valid_reg <= out_valid_next;
    out_data_reg <= out_data_next;
    out_row_reg <= out_row_next;
    out_entry_reg <= out_entry_next;

    if (rst) begin
        out_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
