// Regroups one weight section of the blob (int8, four per stream word) into
// the compute lanes' bank entries of TAPS weights each: one entry per TAPS
// consecutive weights of a row (an output's weights), the row's last entry
// zero-padded when the row length is not a multiple of TAPS.
//
// Bytes wait in a ring of RING bytes: each clock at most one entry leaves
// from the read pointer and one word is written at the next word slot. An
// entry holds more than a word, so at most TAPS + 3 bytes ever wait (the ring
// holds them), provided a row's last entry holds 0 or at least 4 weights
// (checked by the loader); and the ring empties within two clocks of the
// section's last word, long before the next weight section (a bias section
// always comes between). Every decision is made from registers (the ring
// and its counts, whether the entry is a row's last, whether rows remain):
// no compare of a running count sits in front of the ring's write.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module lenet_weight_repack #(
    parameter TAPS = 5,              // weights per bank entry; must exceed the 4 bytes of a word
    parameter ROW_WIDTH = 7,         // bits of the row index (fc1's 120 outputs)
    parameter ENTRY_WIDTH = 7        // bits of the entry index within a row (fc1's 80)
) (
    input  wire                       clk,
    input  wire                       rst,

    input  wire                       in_valid,
    input  wire                       in_first,    // first word of a section: start at row 0
    input  wire [31:0]                in_data,
    // the section's shape, taken with in_first
    input  wire [ENTRY_WIDTH-1:0]     last_entry,  // a row's last entry: entries per row - 1
    input  wire [2:0]                 last_take,   // weights in a row's last entry (1..TAPS)
    input  wire [ROW_WIDTH-1:0]       rows,        // rows in the section

    output wire                       out_valid,
    output wire [TAPS*8-1:0]          out_data,    // tap t in bits 8t+7:8t; valid with out_valid
    output wire [ROW_WIDTH-1:0]       out_row,
    output wire [ENTRY_WIDTH-1:0]     out_entry
);

localparam RING = 1 << $clog2(TAPS + 3);   // bytes in the ring: a power of two >= TAPS + 3
localparam RB = $clog2(RING);              // bits of a byte position in the ring
localparam RW = RB - 2;                    // bits of a word position in the ring
localparam CW = $clog2(RING + 1);          // bits of a byte count

initial begin
    if (TAPS <= 4 || TAPS >= 8) begin
        $error("Error: TAPS must exceed the 4 bytes of a word and fit last_take's 3 bits (instance %m)");
        $finish;
    end
end

reg [RING*8-1:0]      ring_reg = {RING*8{1'b0}}, ring_next;
reg [RB-1:0]          rd_reg = {RB{1'b0}}, rd_next;        // first waiting byte
reg [RW-1:0]          wr_reg = {RW{1'b0}}, wr_next;        // word slot of the next word
reg [CW-1:0]          count_reg = {CW{1'b0}}, count_next;  // bytes waiting
reg [ENTRY_WIDTH-1:0] last_entry_reg = {ENTRY_WIDTH{1'b0}}, last_entry_next;
reg [2:0]             last_take_reg = 3'd0, last_take_next;
reg [ROW_WIDTH-1:0]   rows_left_reg = {ROW_WIDTH{1'b0}}, rows_left_next;  // rows not yet out, this one included
reg                   more_reg = 1'b0, more_next;          // rows_left_reg != 0
reg [ROW_WIDTH-1:0]   row_reg = {ROW_WIDTH{1'b0}}, row_next;
reg [ENTRY_WIDTH-1:0] entry_reg = {ENTRY_WIDTH{1'b0}}, entry_next;
reg [ENTRY_WIDTH-1:0] ents_left_reg = {ENTRY_WIDTH{1'b0}}, ents_left_next;  // entries of the row after this one
reg                   last_reg = 1'b0, last_next;          // ents_left_reg == 0: the row's last entry

reg                   out_valid_reg = 1'b0, out_valid_next;
reg [TAPS*8-1:0]      out_data_reg = {TAPS*8{1'b0}}, out_data_next;
reg [ROW_WIDTH-1:0]   out_row_reg = {ROW_WIDTH{1'b0}}, out_row_next;
reg [ENTRY_WIDTH-1:0] out_entry_reg = {ENTRY_WIDTH{1'b0}}, out_entry_next;

assign out_valid = out_valid_reg;
assign out_data = out_data_reg;
assign out_row = out_row_reg;
assign out_entry = out_entry_reg;

// the entry at the front: TAPS bytes, or the row's last ones
wire [2:0] take = last_reg ? last_take_reg : TAPS;
// (a section's first word overrides everything an emit would change)
wire       emit = more_reg && count_reg >= take;

integer n;

always @* begin
    ring_next = ring_reg;
    rd_next = rd_reg;
    wr_next = wr_reg;
    count_next = count_reg;
    last_entry_next = last_entry_reg;
    last_take_next = last_take_reg;
    rows_left_next = rows_left_reg;
    more_next = more_reg;
    row_next = row_reg;
    entry_next = entry_reg;
    ents_left_next = ents_left_reg;
    last_next = last_reg;
    out_valid_next = emit && !(in_valid && in_first);
    out_row_next = row_reg;
    out_entry_next = entry_reg;

    // the front entry, rotated out of the ring, past `take` zero
    for (n = 0; n < TAPS; n = n + 1) begin
        out_data_next[n*8 +: 8] = n < take ? ring_reg[((rd_reg + n) % RING)*8 +: 8] : 8'd0;
    end

    if (emit) begin
        rd_next = rd_reg + take;
        count_next = count_reg - take;
        entry_next = entry_reg + 1'b1;
        ents_left_next = ents_left_reg - 1'b1;
        last_next = ents_left_reg == 1;
        if (last_reg) begin
            entry_next = {ENTRY_WIDTH{1'b0}};
            ents_left_next = last_entry_reg;
            last_next = last_entry_reg == 0;
            row_next = row_reg + 1'b1;
            rows_left_next = rows_left_reg - 1'b1;
            more_next = rows_left_reg != 1;
        end
    end

    if (in_valid && in_first) begin
        ring_next[0 +: 32] = in_data;
        rd_next = {RB{1'b0}};
        wr_next = 1;
        count_next = 4;
        last_entry_next = last_entry;
        last_take_next = last_take;
        rows_left_next = rows;
        more_next = rows != 0;
        row_next = {ROW_WIDTH{1'b0}};
        entry_next = {ENTRY_WIDTH{1'b0}};
        ents_left_next = last_entry;
        last_next = last_entry == 0;
    end else if (in_valid) begin
        // the word joins behind the bytes still waiting (at most RING - 4 of them)
        ring_next[wr_reg*32 +: 32] = in_data;
        wr_next = wr_reg + 1'b1;
        count_next = count_next + 4;
    end
end

always @(posedge clk) begin
    ring_reg <= ring_next;
    rd_reg <= rd_next;
    wr_reg <= wr_next;
    count_reg <= count_next;
    last_entry_reg <= last_entry_next;
    last_take_reg <= last_take_next;
    rows_left_reg <= rows_left_next;
    more_reg <= more_next;
    row_reg <= row_next;
    entry_reg <= entry_next;
    ents_left_reg <= ents_left_next;
    last_reg <= last_next;
    out_valid_reg <= out_valid_next;
    out_data_reg <= out_data_next;
    out_row_reg <= out_row_next;
    out_entry_reg <= out_entry_next;

    if (rst) begin
        count_reg <= {CW{1'b0}};
        more_reg <= 1'b0;  // nothing to emit until a section starts
        out_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
