// The LOAD_WEIGHTS job (docs/contract.md sections 2, 4, 6): checks the blob's
// header and CRC-32 as the words arrive, writes the weight sections into the
// lanes' weight banks (through lenet_weight_repack) and the bias sections into
// the lanes' bias banks, and keeps the four requantization shifts. The stored
// weights count as valid only after a clean job; any error, or a reset, makes
// them invalid. After an error the rest of the input is discarded up to TLAST.
//
// Output o of a layer belongs to lane o % LANES in pass o / LANES; conv1's
// outputs are also mirrored into lanes CONV1_OUT.. (and conv2's into lanes
// MIRROR_CONV2.. if set), which compute a second output column at the same time.

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_weight_loader #(
    parameter LANES = 16,         // compute lanes (output channels computed in parallel)
    parameter TAPS = 5,           // weights per bank entry (the conv kernel width)
    parameter WADDR_WIDTH = 10,   // weight bank address bits
    parameter BADDR_WIDTH = 5,    // bias bank address bits
    parameter MIRROR_CONV2 = 0,   // conv2's outputs also go to lanes MIRROR_CONV2.. (0: they do not)
    // Bank layout (lenet.v derives it): first entry of each layer, and for the
    // fc layers the entries one pass of LANES outputs occupies.
    parameter WBASE_CONV1 = 0,
    parameter WBASE_CONV2 = 0,
    parameter WBASE_FC1 = 0,
    parameter WBASE_FC2 = 0,
    parameter WBASE_FC3 = 0,
    parameter EPR_FC1 = 0,
    parameter EPR_FC2 = 0,
    parameter EPR_FC3 = 0,
    parameter BBASE_CONV1 = 0,    // first bias entry of each layer
    parameter BBASE_CONV2 = 0,
    parameter BBASE_FC1 = 0,
    parameter BBASE_FC2 = 0,
    parameter BBASE_FC3 = 0
) (
    input  wire                   clk,
    input  wire                   rst,

    input  wire                   start,          // pulse: a LOAD_WEIGHTS job begins
    output wire                   done,           // pulse: the job's input is consumed
    output wire [7:0]             error,          // valid with done
    output wire                   weights_valid,
    output wire [31:0]            crc_word,       // the blob's CRC word, while weights_valid
    output wire [31:0]            shifts,         // blob word 3

    input  wire [31:0]            s_tdata,
    input  wire                   s_tvalid,
    input  wire                   s_tlast,
    output wire                   s_tready,

    output wire                   wbank_wr_en,
    output wire [LANES-1:0]       wbank_wr_lanes,
    output wire [WADDR_WIDTH-1:0] wbank_wr_addr,
    output wire [TAPS*8-1:0]      wbank_wr_data,
    output wire                   bbank_wr_en,
    output wire [LANES-1:0]       bbank_wr_lanes,
    output wire [BADDR_WIDTH-1:0] bbank_wr_addr,
    output wire [31:0]            bbank_wr_data
);

localparam K = `LENET_CONV1_KERNEL;
localparam MIRROR = `LENET_CONV1_OUT;
localparam LANE_BITS = $clog2(LANES);
localparam IDX_WIDTH = $clog2(`LENET_BLOB_WORDS + 1);
localparam [IDX_WIDTH-1:0] CRC_IDX = `LENET_CRC_WORD_INDEX;

initial begin
    if (LANES < 2 * `LENET_CONV1_OUT || LANES < `LENET_CONV2_OUT || (LANES & (LANES - 1)) != 0) begin
        $error("Error: LANES must be a power of two holding conv2's outputs and conv1's twice (instance %m)");
        $finish;
    end
    // lenet_weight_repack's buffer bound: a row's last entry is full or holds >= 4 weights
    if (`LENET_CONV1_IN * K * K % TAPS % 4 != 0 || `LENET_CONV2_IN * K * K % TAPS % 4 != 0
            || `LENET_FC1_IN % TAPS % 4 != 0 || `LENET_FC2_IN % TAPS % 4 != 0 || `LENET_FC3_IN % TAPS % 4 != 0) begin
        $error("Error: a weight row ends in a partial entry of 1..3 weights (instance %m)");
        $finish;
    end
end

// Sections in blob order.
localparam [3:0]
    // 0: the header
    SEC_CONV1_W = 4'd1, SEC_CONV1_B = 4'd2,
    SEC_CONV2_W = 4'd3, SEC_CONV2_B = 4'd4,
    SEC_FC1_W = 4'd5, SEC_FC1_B = 4'd6,
    SEC_FC2_W = 4'd7, SEC_FC2_B = 4'd8,
    SEC_FC3_W = 4'd9, SEC_FC3_B = 4'd10,
    SEC_CRC = 4'd11;

reg                 active_reg = 1'b0, active_next;
reg [IDX_WIDTH-1:0] idx_reg = {IDX_WIDTH{1'b0}}, idx_next;
reg [31:0]          crc_reg = 32'd0, crc_next;
reg [7:0]           error_reg = 8'd0, error_next;
reg                 done_reg = 1'b0, done_next;
reg                 valid_reg = 1'b0, valid_next;
reg [31:0]          crc_word_reg = 32'd0, crc_word_next;
reg [31:0]          shifts_reg = 32'd0, shifts_next;

assign s_tready = active_reg;
assign done = done_reg;
assign error = error_reg;
assign weights_valid = valid_reg;
assign crc_word = crc_word_reg;
assign shifts = shifts_reg;

wire        accept = s_tvalid && active_reg;
wire [31:0] crc_step;

lenet_crc32 crc32_inst (.crc_in(crc_reg), .data(s_tdata), .crc_out(crc_step));

// Section tables. Functions in continuous assignments rather than always
// blocks, so that simulators evaluate them at time zero too.
function [IDX_WIDTH-1:0] section_start(input [3:0] sec);
    case (sec)
        SEC_CONV1_W: section_start = `LENET_CONV1_W_OFFSET_WORDS;
        SEC_CONV1_B: section_start = `LENET_CONV1_B_OFFSET_WORDS;
        SEC_CONV2_W: section_start = `LENET_CONV2_W_OFFSET_WORDS;
        SEC_CONV2_B: section_start = `LENET_CONV2_B_OFFSET_WORDS;
        SEC_FC1_W:   section_start = `LENET_FC1_W_OFFSET_WORDS;
        SEC_FC1_B:   section_start = `LENET_FC1_B_OFFSET_WORDS;
        SEC_FC2_W:   section_start = `LENET_FC2_W_OFFSET_WORDS;
        SEC_FC2_B:   section_start = `LENET_FC2_B_OFFSET_WORDS;
        SEC_FC3_W:   section_start = `LENET_FC3_W_OFFSET_WORDS;
        SEC_FC3_B:   section_start = `LENET_FC3_B_OFFSET_WORDS;
        SEC_CRC:     section_start = CRC_IDX;
        default:     section_start = 0;
    endcase
endfunction

// weights per output (row) and outputs of a weight section
function [8:0] row_bytes_of(input [3:0] sec);
    case (sec)
        SEC_CONV1_W: row_bytes_of = `LENET_CONV1_IN * K * K;
        SEC_CONV2_W: row_bytes_of = `LENET_CONV2_IN * K * K;
        SEC_FC1_W:   row_bytes_of = `LENET_FC1_IN;
        SEC_FC2_W:   row_bytes_of = `LENET_FC2_IN;
        default:     row_bytes_of = `LENET_FC3_IN;
    endcase
endfunction

function [6:0] rows_of(input [3:0] sec);
    case (sec)
        SEC_CONV1_W: rows_of = `LENET_CONV1_OUT;
        SEC_CONV2_W: rows_of = `LENET_CONV2_OUT;
        SEC_FC1_W:   rows_of = `LENET_FC1_OUT;
        SEC_FC2_W:   rows_of = `LENET_FC2_OUT;
        default:     rows_of = `LENET_FC3_OUT;
    endcase
endfunction

// first bank entry of a weight section, and entries per pass of LANES outputs
function [WADDR_WIDTH-1:0] wbase_of(input [3:0] sec);
    case (sec)
        SEC_CONV1_W: wbase_of = WBASE_CONV1;
        SEC_CONV2_W: wbase_of = WBASE_CONV2;
        SEC_FC1_W:   wbase_of = WBASE_FC1;
        SEC_FC2_W:   wbase_of = WBASE_FC2;
        default:     wbase_of = WBASE_FC3;
    endcase
endfunction

function [WADDR_WIDTH-1:0] pass_entries_of(input [3:0] sec);
    case (sec)
        SEC_FC1_W: pass_entries_of = EPR_FC1;
        SEC_FC2_W: pass_entries_of = EPR_FC2;
        SEC_FC3_W: pass_entries_of = EPR_FC3;
        default:   pass_entries_of = 0;  // conv layers fit in one pass
    endcase
endfunction

function [BADDR_WIDTH-1:0] bbase_of(input [3:0] sec);
    case (sec)
        SEC_CONV1_B: bbase_of = BBASE_CONV1;
        SEC_CONV2_B: bbase_of = BBASE_CONV2;
        SEC_FC1_B:   bbase_of = BBASE_FC1;
        SEC_FC2_B:   bbase_of = BBASE_FC2;
        default:     bbase_of = BBASE_FC3;
    endcase
endfunction

// The current word's section: how many section starts it has passed.
wire [3:0] sec = (idx_reg >= `LENET_CONV1_W_OFFSET_WORDS) + (idx_reg >= `LENET_CONV1_B_OFFSET_WORDS)
               + (idx_reg >= `LENET_CONV2_W_OFFSET_WORDS) + (idx_reg >= `LENET_CONV2_B_OFFSET_WORDS)
               + (idx_reg >= `LENET_FC1_W_OFFSET_WORDS) + (idx_reg >= `LENET_FC1_B_OFFSET_WORDS)
               + (idx_reg >= `LENET_FC2_W_OFFSET_WORDS) + (idx_reg >= `LENET_FC2_B_OFFSET_WORDS)
               + (idx_reg >= `LENET_FC3_W_OFFSET_WORDS) + (idx_reg >= `LENET_FC3_B_OFFSET_WORDS)
               + (idx_reg >= CRC_IDX);
wire [IDX_WIDTH-1:0] sec_start = section_start(sec);

// --- weight sections: bytes to bank entries --------------------------------

wire [8:0] row_bytes = row_bytes_of(sec);
wire [6:0] rows = rows_of(sec);

// Weight words and section starts straight from the index (parallel compares,
// not through `sec`): they steer the repacker, which has work of its own.
`define LENET_IN(lo, hi) (idx_reg >= (lo) && idx_reg < (hi))
wire is_wsec = `LENET_IN(`LENET_CONV1_W_OFFSET_WORDS, `LENET_CONV1_B_OFFSET_WORDS)
            || `LENET_IN(`LENET_CONV2_W_OFFSET_WORDS, `LENET_CONV2_B_OFFSET_WORDS)
            || `LENET_IN(`LENET_FC1_W_OFFSET_WORDS, `LENET_FC1_B_OFFSET_WORDS)
            || `LENET_IN(`LENET_FC2_W_OFFSET_WORDS, `LENET_FC2_B_OFFSET_WORDS)
            || `LENET_IN(`LENET_FC3_W_OFFSET_WORDS, `LENET_FC3_B_OFFSET_WORDS);
`undef LENET_IN
wire wsec_first = idx_reg == `LENET_CONV1_W_OFFSET_WORDS || idx_reg == `LENET_CONV2_W_OFFSET_WORDS
               || idx_reg == `LENET_FC1_W_OFFSET_WORDS || idx_reg == `LENET_FC2_W_OFFSET_WORDS
               || idx_reg == `LENET_FC3_W_OFFSET_WORDS;

wire              rp_valid;
wire [TAPS*8-1:0] rp_data;
wire [6:0]        rp_row;
wire [6:0]        rp_entry;
reg  [3:0]        rp_sec_reg = 4'd0;

lenet_weight_repack #(
    .TAPS(TAPS),
    .ROW_BYTES_WIDTH(9),
    .ROW_WIDTH(7),
    .ENTRY_WIDTH(7)
) repack_inst (
    .clk(clk),
    .rst(rst),
    .in_valid(accept && is_wsec),
    .in_first(wsec_first),
    .in_data(s_tdata),
    .row_bytes(row_bytes),
    .rows(rows),
    .out_valid(rp_valid),
    .out_data(rp_data),
    .out_row(rp_row),
    .out_entry(rp_entry)
);

wire [WADDR_WIDTH-1:0] rp_base = wbase_of(rp_sec_reg);
wire [WADDR_WIDTH-1:0] rp_pass_entries = pass_entries_of(rp_sec_reg);

wire [LANES-1:0] rp_lane = {{LANES-1{1'b0}}, 1'b1} << rp_row[LANE_BITS-1:0];

assign wbank_wr_en = rp_valid;
assign wbank_wr_lanes = rp_sec_reg == SEC_CONV1_W ? rp_lane | (rp_lane << MIRROR)
                      : rp_sec_reg == SEC_CONV2_W && MIRROR_CONV2 != 0 ? rp_lane | (rp_lane << MIRROR_CONV2)
                      : rp_lane;
assign wbank_wr_addr = rp_base + rp_pass_entries * (rp_row >> LANE_BITS) + rp_entry;
assign wbank_wr_data = rp_data;

// --- bias sections: one int32 per word -------------------------------------

reg                   b_en_reg = 1'b0;
reg [LANES-1:0]       b_lanes_reg = {LANES{1'b0}};
reg [BADDR_WIDTH-1:0] b_addr_reg = {BADDR_WIDTH{1'b0}};
reg [31:0]            b_data_reg = 32'd0;

assign bbank_wr_en = b_en_reg;
assign bbank_wr_lanes = b_lanes_reg;
assign bbank_wr_addr = b_addr_reg;
assign bbank_wr_data = b_data_reg;

wire [IDX_WIDTH-1:0] b_out = idx_reg - sec_start;
wire [LANES-1:0]     b_lane = {{LANES-1{1'b0}}, 1'b1} << b_out[LANE_BITS-1:0];
wire [BADDR_WIDTH-1:0] b_base = bbase_of(sec);
// The requantization's rounding term 1 << (s-1) (s > 0) of the layer, added
// to its biases here once instead of to every accumulator (lenet_requant.v);
// fc3 is not requantized. The shifts (blob word 3) come before any bias.
wire [4:0]  b_shift = sec == SEC_CONV1_B ? shifts_reg[0*`LENET_SHIFT_FIELD_STRIDE +: `LENET_SHIFT_FIELD_BITS]
                    : sec == SEC_CONV2_B ? shifts_reg[1*`LENET_SHIFT_FIELD_STRIDE +: `LENET_SHIFT_FIELD_BITS]
                    : sec == SEC_FC1_B ? shifts_reg[2*`LENET_SHIFT_FIELD_STRIDE +: `LENET_SHIFT_FIELD_BITS]
                    : sec == SEC_FC2_B ? shifts_reg[3*`LENET_SHIFT_FIELD_STRIDE +: `LENET_SHIFT_FIELD_BITS]
                    : 5'd0;
wire [31:0] bias_round = b_shift == 5'd0 ? 32'd0 : 32'd1 << (b_shift - 5'd1);

wire is_bsec = sec == SEC_CONV1_B || sec == SEC_CONV2_B || sec == SEC_FC1_B
            || sec == SEC_FC2_B || sec == SEC_FC3_B;

always @(posedge clk) begin
    b_en_reg <= accept && is_bsec;  // int32 sections have no padding words
    b_lanes_reg <= sec == SEC_CONV1_B ? b_lane | (b_lane << MIRROR)
                 : sec == SEC_CONV2_B && MIRROR_CONV2 != 0 ? b_lane | (b_lane << MIRROR_CONV2)
                 : b_lane;
    b_addr_reg <= b_base + (b_out >> LANE_BITS);
    b_data_reg <= s_tdata + bias_round;
    // the section being repacked; its last entries leave after its last word
    if (accept && wsec_first) begin
        rp_sec_reg <= sec;
    end
    if (rst) begin
        b_en_reg <= 1'b0;
    end
end

// --- header, CRC and TLAST checks ------------------------------------------

always @* begin
    active_next = active_reg;
    idx_next = idx_reg;
    crc_next = crc_reg;
    error_next = error_reg;
    done_next = 1'b0;
    valid_next = valid_reg;
    crc_word_next = crc_word_reg;
    shifts_next = shifts_reg;

    if (start) begin
        // The load overwrites the banks: the old weights are gone from here on.
        active_next = 1'b1;
        idx_next = {IDX_WIDTH{1'b0}};
        crc_next = `LENET_CRC32_INIT;
        error_next = `LENET_ERR_OK;
        valid_next = 1'b0;
    end else if (accept) begin
        if (idx_reg < CRC_IDX) begin
            crc_next = crc_step;
        end
        if (idx_reg <= CRC_IDX) begin
            idx_next = idx_reg + 1'b1;
        end
        // The first error of a job is the one reported; a word's contents are
        // checked before its TLAST.
        if (error_reg == `LENET_ERR_OK) begin
            if (idx_reg == 0 && s_tdata != `LENET_BLOB_MAGIC) begin
                error_next = `LENET_ERR_BAD_MAGIC;
            end else if (idx_reg == 1 && s_tdata != `LENET_BLOB_VERSION) begin
                error_next = `LENET_ERR_BAD_VERSION;
            end else if (idx_reg == 2 && s_tdata != `LENET_BLOB_WORDS) begin
                error_next = `LENET_ERR_BAD_LENGTH;
            end else if (idx_reg == 3 && (s_tdata & ~`LENET_SHIFT_MASK) != 32'd0) begin
                error_next = `LENET_ERR_BAD_SHIFT;
            end else if (idx_reg == CRC_IDX && s_tdata != ~crc_reg) begin
                error_next = `LENET_ERR_BAD_CRC;
            end else if (s_tlast && idx_reg < CRC_IDX) begin
                error_next = `LENET_ERR_EARLY_TLAST;
            end else if (!s_tlast && idx_reg == CRC_IDX) begin
                error_next = `LENET_ERR_LATE_TLAST;
            end
        end
        if (idx_reg == 3) begin
            shifts_next = s_tdata;
        end
        if (idx_reg == CRC_IDX) begin
            crc_word_next = s_tdata;
        end
        if (s_tlast) begin
            active_next = 1'b0;
            done_next = 1'b1;
            valid_next = error_next == `LENET_ERR_OK;
        end
    end
end

always @(posedge clk) begin
    active_reg <= active_next;
    idx_reg <= idx_next;
    crc_reg <= crc_next;
    error_reg <= error_next;
    done_reg <= done_next;
    valid_reg <= valid_next;
    crc_word_reg <= crc_word_next;
    shifts_reg <= shifts_next;

    if (rst) begin
        active_reg <= 1'b0;
        error_reg <= `LENET_ERR_OK;
        done_reg <= 1'b0;
        valid_reg <= 1'b0;
    end
end

endmodule

`resetall
