// Regroups one weight section of the blob (int8, four per stream word) into
// the compute lanes' bank entries of TAPS weights each: one entry per TAPS
// consecutive weights of a row (an output's weights), the row's last entry
// zero-padded when the row length is not a multiple of TAPS.
//
// Bytes wait in a small buffer: each clock at most one entry leaves from its
// front and one word joins at its back. An entry holds more than a word, so
// the buffer never grows past TAPS + 3 bytes, provided a row's last entry
// holds 0 or at least 4 weights (checked by the loader); and it empties
// within two clocks of the section's last word, long before the next weight
// section (a bias section always comes between).

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
    input  wire [ROW_BYTES_WIDTH-1:0] row_bytes,   // weights per row, taken with in_first
    input  wire [ROW_WIDTH-1:0]       rows,        // rows in the section, taken with in_first

    output wire                       out_valid,
    output wire [TAPS*8-1:0]          out_data,    // tap t in bits 8t+7:8t
    output wire [ROW_WIDTH-1:0]       out_row,
    output wire [ENTRY_WIDTH-1:0]     out_entry
);

initial begin
    if (TAPS <= 4) begin
        $error("Error: TAPS must exceed the 4 bytes of a word (instance %m)");
        $finish;
    end
end

localparam BUF = TAPS + 3;           // bytes the buffer can hold
localparam CW = $clog2(BUF + 1);     // bits of a byte count

reg [BUF*8-1:0]           buf_reg = {BUF*8{1'b0}}, buf_next;
reg [CW-1:0]              count_reg = {CW{1'b0}}, count_next;
reg [ROW_BYTES_WIDTH-1:0] row_bytes_reg = {ROW_BYTES_WIDTH{1'b0}}, row_bytes_next;
reg [ROW_WIDTH-1:0]       rows_reg = {ROW_WIDTH{1'b0}}, rows_next;
reg [ROW_BYTES_WIDTH-1:0] left_reg = {ROW_BYTES_WIDTH{1'b0}}, left_next;  // bytes of the row not yet out
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

// the entry at the front: TAPS bytes, or the rest of the row
wire [CW-1:0] take = left_reg < TAPS ? left_reg[CW-1:0] : TAPS;
wire          emit = row_reg < rows_reg && count_reg >= take && !(in_valid && in_first);

integer n;

always @* begin
    buf_next = buf_reg;
    count_next = count_reg;
    row_bytes_next = row_bytes_reg;
    rows_next = rows_reg;
    left_next = left_reg;
    row_next = row_reg;
    entry_next = entry_reg;
    out_valid_next = emit;
    out_data_next = out_data_reg;
    out_row_next = row_reg;
    out_entry_next = entry_reg;

    if (emit) begin
        for (n = 0; n < TAPS; n = n + 1) begin
            out_data_next[n*8 +: 8] = n < take ? buf_reg[n*8 +: 8] : 8'd0;
        end
        for (n = 1; n <= TAPS; n = n + 1) begin
            if (take == n) buf_next = buf_reg >> (n*8);
        end
        count_next = count_reg - take;
        entry_next = entry_reg + 1'b1;
        left_next = left_reg - take;
        if (left_reg == take) begin
            left_next = row_bytes_reg;
            entry_next = {ENTRY_WIDTH{1'b0}};
            row_next = row_reg + 1'b1;
        end
    end

    if (in_valid && in_first) begin
        buf_next = {{(BUF-4)*8{1'b0}}, in_data};
        count_next = 4;
        row_bytes_next = row_bytes;
        rows_next = rows;
        left_next = row_bytes;
        row_next = {ROW_WIDTH{1'b0}};
        entry_next = {ENTRY_WIDTH{1'b0}};
    end else if (in_valid) begin
        // the word joins behind the bytes still waiting
        for (n = 0; n <= BUF - 4; n = n + 1) begin
            if (count_next == n) buf_next[n*8 +: 32] = in_data;
        end
        count_next = count_next + 4;
    end
end

always @(posedge clk) begin
    buf_reg <= buf_next;
    count_reg <= count_next;
    row_bytes_reg <= row_bytes_next;
    rows_reg <= rows_next;
    left_reg <= left_next;
    row_reg <= row_next;
    entry_reg <= entry_next;
    out_valid_reg <= out_valid_next;
    out_data_reg <= out_data_next;
    out_row_reg <= out_row_next;
    out_entry_reg <= out_entry_next;

    if (rst) begin
        count_reg <= {CW{1'b0}};
        rows_reg <= {ROW_WIDTH{1'b0}};  // nothing to emit until a section starts
        out_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
