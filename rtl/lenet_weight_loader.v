// The LOAD_WEIGHTS job (docs/contract.md sections 2, 4, 6): checks the blob's
// header and CRC-32 as the words arrive, writes the weight sections into the
// lanes' weight banks (through lenet_weight_repack) and the bias sections into
// the lanes' bias banks, and keeps the four requantization shifts. The stored
// weights count as valid only after a clean job; any error, or a reset, makes
// them invalid. After an error the rest of the input is discarded up to TLAST.
//
// Output o of a layer belongs to lane o % LANES in pass o / LANES; a conv
// layer's channel c also to lanes p*OUT+c, which compute its other positions
// of a step (lenet_layout.vh's POS_*).

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_weight_loader #(
    parameter LANES = 16,         // compute lanes (output channels computed in parallel)
    parameter TAPS = 5            // weights per bank entry (the conv kernel width)
) (
    clk, rst,
    start, done, error, weights_valid, crc_word, shifts,
    s_tdata, s_tvalid, s_tlast, s_tready,
    wbank_wr_en, wbank_wr_lanes, wbank_wr_addr, wbank_wr_data, bbank_wr_en, bbank_wr_lanes,
    bbank_wr_addr, bbank_wr_data
);

// The layout; the ports' widths depend on it (rtl/lenet_layout.vh).
`include "lenet_layout.vh"

input  wire                   clk;
input  wire                   rst;

input  wire                   start;          // pulse: a LOAD_WEIGHTS job begins
output wire                   done;           // pulse: the job's input is consumed
output wire [7:0]             error;          // valid with done
output wire                   weights_valid;
output wire [31:0]            crc_word;       // the blob's CRC word, while weights_valid
output wire [31:0]            shifts;         // blob word 3

input  wire [31:0]            s_tdata;
input  wire                   s_tvalid;
input  wire                   s_tlast;
output wire                   s_tready;

output wire                   wbank_wr_en;
output wire [LANES-1:0]       wbank_wr_lanes;
output wire [WADDR_WIDTH-1:0] wbank_wr_addr;
output wire [TAPS*8-1:0]      wbank_wr_data;
output wire                   bbank_wr_en;
output wire [LANES-1:0]       bbank_wr_lanes;
output wire [BADDR_WIDTH-1:0] bbank_wr_addr;
output wire [31:0]            bbank_wr_data;

localparam LANE_BITS = $clog2(LANES);
localparam IDX_WIDTH = $clog2(`LENET_BLOB_WORDS + 1);
localparam [IDX_WIDTH-1:0] CRC_IDX = `LENET_CRC_WORD_INDEX;
localparam SB = `LENET_SHIFT_FIELD_BITS;
localparam SS = `LENET_SHIFT_FIELD_STRIDE;

initial begin
    if (LANES < 2 * `LENET_CONV1_OUT || LANES < `LENET_CONV2_OUT || (LANES & (LANES - 1)) != 0 || LANES > 64) begin
        $error("Error: LANES must be a power of two holding conv2's outputs and conv1's twice, at most 64 (128 would need 320 of the xc7z020's 220 DSP48E1s) (instance %m)");
        $finish;
    end
    // lenet_weight_repack's buffer bound: a row's last entry is full or holds >= 4 weights
    if (`LENET_CONV1_IN * K * K % TAPS % 4 != 0 || `LENET_CONV2_IN * K * K % TAPS % 4 != 0
            || `LENET_FC1_IN % TAPS % 4 != 0 || `LENET_FC2_IN % TAPS % 4 != 0 || `LENET_FC3_IN % TAPS % 4 != 0) begin
        $error("Error: a weight row ends in a partial entry of 1..3 weights (instance %m)");
        $finish;
    end
    // the last weight section's entries reach the banks up to 5 clocks after its
    // last word (2 in the repacker, its output register, 2 write stages): the fc3
    // bias words and the CRC word that follow must take at least that long
    if (`LENET_FC3_OUT + 1 < 5) begin
        $error("Error: the blob's last weight entries could land after the job ends (instance %m)");
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
// the last word of a section (the CRC word's section never ends)
function [IDX_WIDTH-1:0] section_last(input [3:0] sec);
    case (sec)
        4'd0:        section_last = `LENET_CONV1_W_OFFSET_WORDS - 1;
        SEC_CONV1_W: section_last = `LENET_CONV1_B_OFFSET_WORDS - 1;
        SEC_CONV1_B: section_last = `LENET_CONV2_W_OFFSET_WORDS - 1;
        SEC_CONV2_W: section_last = `LENET_CONV2_B_OFFSET_WORDS - 1;
        SEC_CONV2_B: section_last = `LENET_FC1_W_OFFSET_WORDS - 1;
        SEC_FC1_W:   section_last = `LENET_FC1_B_OFFSET_WORDS - 1;
        SEC_FC1_B:   section_last = `LENET_FC2_W_OFFSET_WORDS - 1;
        SEC_FC2_W:   section_last = `LENET_FC2_B_OFFSET_WORDS - 1;
        SEC_FC2_B:   section_last = `LENET_FC3_W_OFFSET_WORDS - 1;
        SEC_FC3_W:   section_last = `LENET_FC3_B_OFFSET_WORDS - 1;
        SEC_FC3_B:   section_last = CRC_IDX - 1;
        default:     section_last = {IDX_WIDTH{1'b1}};  // SEC_CRC: the last
    endcase
endfunction

// a weight section's rows (one per output): the index of a row's last entry
// of TAPS weights, and the weights in it
function [6:0] last_entry_of(input [3:0] sec);
    case (sec)
        SEC_CONV1_W: last_entry_of = EPR_CONV1 - 1;
        SEC_CONV2_W: last_entry_of = EPR_CONV2 - 1;
        SEC_FC1_W:   last_entry_of = EPR_FC1 - 1;
        SEC_FC2_W:   last_entry_of = EPR_FC2 - 1;
        default:     last_entry_of = EPR_FC3 - 1;
    endcase
endfunction

`define LENET_LAST_TAKE(n, epr) ((n) - ((epr) - 1) * TAPS)

function [2:0] last_take_of(input [3:0] sec);
    case (sec)
        SEC_CONV1_W: last_take_of = `LENET_LAST_TAKE(`LENET_CONV1_IN * K * K, EPR_CONV1);
        SEC_CONV2_W: last_take_of = `LENET_LAST_TAKE(`LENET_CONV2_IN * K * K, EPR_CONV2);
        SEC_FC1_W:   last_take_of = `LENET_LAST_TAKE(`LENET_FC1_IN, EPR_FC1);
        SEC_FC2_W:   last_take_of = `LENET_LAST_TAKE(`LENET_FC2_IN, EPR_FC2);
        default:     last_take_of = `LENET_LAST_TAKE(`LENET_FC3_IN, EPR_FC3);
    endcase
endfunction
`undef LENET_LAST_TAKE

function [6:0] rows_of(input [3:0] sec);
    case (sec)
        SEC_CONV1_W: rows_of = `LENET_CONV1_OUT;
        SEC_CONV2_W: rows_of = `LENET_CONV2_OUT;
        SEC_FC1_W:   rows_of = `LENET_FC1_OUT;
        SEC_FC2_W:   rows_of = `LENET_FC2_OUT;
        default:     rows_of = `LENET_FC3_OUT;
    endcase
endfunction

// The section of the word at idx_reg, kept in registers beside idx_reg (it
// advances when idx_reg passes a section's last word) rather than found from
// eleven compares of idx_reg, which would put a long path before every use.
reg [3:0]           sec_reg = 4'd0, sec_next;
// sec_reg + 1, kept beside it: as an adder it would be a carry chain that the
// mapper folds into every compare of sec_reg
reg [3:0]           sec_succ_reg = 4'd1, sec_succ_next;
reg [IDX_WIDTH-1:0] sec_last_reg = {IDX_WIDTH{1'b0}}, sec_last_next;  // the section's last word
reg [IDX_WIDTH-1:0] ofs_reg = {IDX_WIDTH{1'b0}}, ofs_next;            // idx_reg - the section's start
reg                 first_reg = 1'b0, first_next;                     // ofs_reg == 0
// the lane of a bias word, 1 << ofs_reg % LANES, rotated as ofs_reg counts (decoded
// from ofs_reg it would sit behind the carry chain of ofs_reg + 1, which the mapper shares)
reg [LANES-1:0]     ofs_lane_reg = {{LANES-1{1'b0}}, 1'b1}, ofs_lane_next;

wire advance;  // the word at idx_reg is accepted and its section's last

wire is_wsec = sec_reg == SEC_CONV1_W || sec_reg == SEC_CONV2_W || sec_reg == SEC_FC1_W
            || sec_reg == SEC_FC2_W || sec_reg == SEC_FC3_W;
wire is_bsec = sec_reg == SEC_CONV1_B || sec_reg == SEC_CONV2_B || sec_reg == SEC_FC1_B
            || sec_reg == SEC_FC2_B || sec_reg == SEC_FC3_B;
wire wsec_first = is_wsec && first_reg;

// --- weight sections: bytes to bank entries --------------------------------


// the shape of sec_reg's rows, registered as sec_reg advances (the tables
// then sit before a register, not before the repacker's state)
reg [6:0] last_entry_reg = 7'd0, rows_reg = 7'd0, next_last_entry_reg = 7'd0, next_rows_reg = 7'd0;
reg [2:0] last_take_reg = 3'd0, next_last_take_reg = 3'd0;
always @(posedge clk) begin
    next_last_entry_reg <= last_entry_of(sec_succ_reg);
    next_last_take_reg <= last_take_of(sec_succ_reg);
    next_rows_reg <= rows_of(sec_succ_reg);
    if (advance) begin
        last_entry_reg <= next_last_entry_reg;
        last_take_reg <= next_last_take_reg;
        rows_reg <= next_rows_reg;
    end
end

wire              rp_valid;
wire [TAPS*8-1:0] rp_data;
wire [6:0]        rp_row;
wire [6:0]        rp_entry;
reg  [3:0]        rp_sec_reg = 4'd0;

lenet_weight_repack #(
    .TAPS(TAPS),
    .ROW_WIDTH(7),
    .ENTRY_WIDTH(7)
) repack_inst (
    .clk(clk),
    .rst(rst),
    .in_valid(accept && is_wsec),
    .in_first(wsec_first),
    .in_data(s_tdata),
    .last_entry(last_entry_reg),
    .last_take(last_take_reg),
    .rows(rows_reg),
    .out_valid(rp_valid),
    .out_data(rp_data),
    .out_row(rp_row),
    .out_entry(rp_entry)
);

// Where an entry goes: bank address wbase + pass * entries per pass + entry,
// pass = row / LANES. The first two terms are a table of the section and the
// pass (a few LUTs; as arithmetic they would be a multiplier).
localparam PASS_BITS = 7 - LANE_BITS;  // rp_row is 7 bits

function [WADDR_WIDTH-1:0] pass_base(input [3:0] sec, input [PASS_BITS-1:0] pass);
    integer p;
    begin
        pass_base = {WADDR_WIDTH{1'b0}};
        // every candidate a constant: the loop variable, not `pass`, multiplies
        for (p = 0; p < (1 << PASS_BITS); p = p + 1) begin
            if (pass == p) begin
                case (sec)
                    SEC_CONV1_W: pass_base = WBASE_CONV1;
                    SEC_CONV2_W: pass_base = WBASE_CONV2;
                    SEC_FC1_W:   pass_base = WBASE_FC1 + EPR_FC1 * p;
                    SEC_FC2_W:   pass_base = WBASE_FC2 + EPR_FC2 * p;
                    default:     pass_base = WBASE_FC3 + EPR_FC3 * p;
                endcase
            end
        end
    end
endfunction

wire [LANES-1:0] rp_lane = {{LANES-1{1'b0}}, 1'b1} << rp_row[LANE_BITS-1:0];

// a conv layer's channel lane and its copies at the step's other positions
function [LANES-1:0] position_lanes(input [LANES-1:0] lane, input integer outputs, input integer count);
    integer p;
    begin
        position_lanes = {LANES{1'b0}};
        for (p = 0; p < count; p = p + 1) begin
            position_lanes = position_lanes | lane << pos_lanes(p, outputs, count);
        end
    end
endfunction

// two stages: the table and the lanes, then the add (a table in front of a
// carry chain is too deep for one clock); a weight section is followed by a
// bias section, so the later write is done before the job is (checked above)
reg                   a_en_reg = 1'b0;
reg [LANES-1:0]       a_lanes_reg = {LANES{1'b0}};
reg [WADDR_WIDTH-1:0] a_base_reg = {WADDR_WIDTH{1'b0}};
reg [6:0]             a_entry_reg = 7'd0;
reg [TAPS*8-1:0]      a_data_reg = {TAPS*8{1'b0}};

reg                   w_en_reg = 1'b0;
reg [LANES-1:0]       w_lanes_reg = {LANES{1'b0}};
reg [WADDR_WIDTH-1:0] w_addr_reg = {WADDR_WIDTH{1'b0}};
reg [TAPS*8-1:0]      w_data_reg = {TAPS*8{1'b0}};

always @(posedge clk) begin
    a_en_reg <= rp_valid;
    a_lanes_reg <= rp_sec_reg == SEC_CONV1_W ? position_lanes(rp_lane, `LENET_CONV1_OUT, POS_CONV1)
                 : rp_sec_reg == SEC_CONV2_W ? position_lanes(rp_lane, `LENET_CONV2_OUT, POS_CONV2)
                 : rp_lane;
    a_base_reg <= pass_base(rp_sec_reg, rp_row[6:LANE_BITS]);
    a_entry_reg <= rp_entry;
    a_data_reg <= rp_data;
    w_en_reg <= a_en_reg;
    w_lanes_reg <= a_lanes_reg;
    w_addr_reg <= a_base_reg + a_entry_reg;
    w_data_reg <= a_data_reg;
    if (rst) begin
        a_en_reg <= 1'b0;
        w_en_reg <= 1'b0;
    end
end

assign wbank_wr_en = w_en_reg;
assign wbank_wr_lanes = w_lanes_reg;
assign wbank_wr_addr = w_addr_reg;
assign wbank_wr_data = w_data_reg;

// --- bias sections: one int32 per word -------------------------------------

reg                   b_en_reg = 1'b0;
reg [LANES-1:0]       b_lanes_reg = {LANES{1'b0}};
reg [BADDR_WIDTH-1:0] b_addr_reg = {BADDR_WIDTH{1'b0}};
reg [31:0]            b_data_reg = 32'd0;

assign bbank_wr_en = b_en_reg;
assign bbank_wr_lanes = b_lanes_reg;
assign bbank_wr_addr = b_addr_reg;
assign bbank_wr_data = b_data_reg;

wire [LANES-1:0] b_lane = ofs_lane_reg;
// The requantization's rounding term 1 << (s-1) (s > 0) of the layer, added
// to its biases here once instead of to every accumulator (lenet_requant.v);
// fc3 is not requantized. Registered in two steps from the section (the
// shift, then its decoding): the layer's weight section is under way long
// before its first bias word, and the shifts (blob word 3) came before that.
// the layer whose biases a section holds (a table: arithmetic on sec_reg
// would be a carry chain the mapper shares into its compares)
function [2:0] bias_layer(input [3:0] sec);
    case (sec)
        SEC_CONV1_B: bias_layer = L_CONV1;
        SEC_CONV2_B: bias_layer = L_CONV2;
        SEC_FC1_B:   bias_layer = L_FC1;
        SEC_FC2_B:   bias_layer = L_FC2;
        default:     bias_layer = L_FC3;
    endcase
endfunction

reg [4:0]  b_shift_reg = 5'd0;
reg [31:0] round_reg = 32'd0;
integer    rb;

always @(posedge clk) begin
    b_shift_reg <= sec_reg == SEC_CONV1_W || sec_reg == SEC_CONV1_B ? shifts_reg[0*SS +: SB]
                 : sec_reg == SEC_CONV2_W || sec_reg == SEC_CONV2_B ? shifts_reg[1*SS +: SB]
                 : sec_reg == SEC_FC1_W || sec_reg == SEC_FC1_B ? shifts_reg[2*SS +: SB]
                 : sec_reg == SEC_FC2_W || sec_reg == SEC_FC2_B ? shifts_reg[3*SS +: SB]
                 : 5'd0;
    for (rb = 0; rb < 32; rb = rb + 1) begin
        round_reg[rb] <= b_shift_reg == rb + 1;
    end
    b_en_reg <= accept && is_bsec;  // int32 sections have no padding words
    b_lanes_reg <= sec_reg == SEC_CONV1_B ? position_lanes(b_lane, `LENET_CONV1_OUT, POS_CONV1)
                 : sec_reg == SEC_CONV2_B ? position_lanes(b_lane, `LENET_CONV2_OUT, POS_CONV2)
                 : b_lane;
    b_addr_reg <= bbase_of(bias_layer(sec_reg)) + ofs_reg[BADDR_WIDTH+LANE_BITS-1:LANE_BITS];
    b_data_reg <= s_tdata + round_reg;
    // the section being repacked; its last entries leave after its last word
    if (accept && wsec_first) begin
        rp_sec_reg <= sec_reg;
    end
    if (rst) begin
        b_en_reg <= 1'b0;
    end
end

// --- header, CRC and TLAST checks ------------------------------------------

// where the word at idx_reg is: a header word (idx 0..3), the CRC word, before it
wire [3:0] at_hdr;
genvar hw;
generate
    for (hw = 0; hw < 4; hw = hw + 1) begin : header_word
        assign at_hdr[hw] = sec_reg == 4'd0 && ofs_reg[1:0] == hw;
    end
endgenerate
wire at_crc = sec_reg == SEC_CRC && first_reg;
wire before_crc = sec_reg != SEC_CRC;
assign advance = accept && !start && (before_crc || at_crc) && idx_reg == sec_last_reg;

// the check stage: the word accepted the clock before, where it was, and the
// CRC it had to match
reg        chk_reg = 1'b0, chk_last_reg = 1'b0;
reg [3:0]  chk_hdr_reg = 4'd0;
reg        chk_at_crc_reg = 1'b0, chk_before_crc_reg = 1'b0;
// the word's compares, made as it arrives
reg        ne_magic_reg = 1'b0, ne_version_reg = 1'b0, ne_length_reg = 1'b0;
reg        ne_shift_reg = 1'b0, ne_crc_reg = 1'b0;

always @(posedge clk) begin
    chk_reg <= accept && !start;
    chk_last_reg <= s_tlast;
    chk_hdr_reg <= at_hdr;
    chk_at_crc_reg <= at_crc;
    chk_before_crc_reg <= before_crc;
    ne_magic_reg <= s_tdata != `LENET_BLOB_MAGIC;
    ne_version_reg <= s_tdata != `LENET_BLOB_VERSION;
    ne_length_reg <= s_tdata != `LENET_BLOB_WORDS;
    ne_shift_reg <= (s_tdata & ~`LENET_SHIFT_MASK) != 32'd0;
    ne_crc_reg <= s_tdata != ~crc_reg;
    if (rst) begin
        chk_reg <= 1'b0;
    end
end

wire bad_magic = chk_hdr_reg[0] && ne_magic_reg;
wire bad_version = chk_hdr_reg[1] && ne_version_reg;
wire bad_length = chk_hdr_reg[2] && ne_length_reg;
wire bad_shift = chk_hdr_reg[3] && ne_shift_reg;
wire bad_crc = chk_at_crc_reg && ne_crc_reg;
wire bad_word = bad_magic || bad_version || bad_length || bad_shift || bad_crc;
wire [7:0] chk_error = ({8{bad_magic}} & `LENET_ERR_BAD_MAGIC) | ({8{bad_version}} & `LENET_ERR_BAD_VERSION)
                     | ({8{bad_length}} & `LENET_ERR_BAD_LENGTH) | ({8{bad_shift}} & `LENET_ERR_BAD_SHIFT)
                     | ({8{bad_crc}} & `LENET_ERR_BAD_CRC)
                     | ({8{!bad_word && chk_last_reg && chk_before_crc_reg}} & `LENET_ERR_EARLY_TLAST)
                     | ({8{!bad_word && !chk_last_reg && chk_at_crc_reg}} & `LENET_ERR_LATE_TLAST);

always @* begin
    active_next = active_reg;
    idx_next = idx_reg;
    crc_next = crc_reg;
    error_next = error_reg;
    done_next = 1'b0;
    valid_next = valid_reg;
    crc_word_next = crc_word_reg;
    shifts_next = shifts_reg;
    sec_next = sec_reg;
    sec_succ_next = sec_succ_reg;
    sec_last_next = sec_last_reg;
    ofs_next = ofs_reg;
    ofs_lane_next = ofs_lane_reg;
    first_next = first_reg;

    if (start) begin
        // The load overwrites the banks: the old weights are gone from here on.
        active_next = 1'b1;
        idx_next = {IDX_WIDTH{1'b0}};
        sec_next = 4'd0;
        sec_succ_next = 4'd1;
        sec_last_next = section_last(4'd0);
        ofs_next = {IDX_WIDTH{1'b0}};
        ofs_lane_next = {{LANES-1{1'b0}}, 1'b1};
        first_next = 1'b1;
        crc_next = `LENET_CRC32_INIT;
        error_next = `LENET_ERR_OK;
        valid_next = 1'b0;
    end else if (accept) begin
        if (before_crc) begin
            crc_next = crc_step;
        end
        if (before_crc || at_crc) begin
            idx_next = idx_reg + 1'b1;
            ofs_next = ofs_reg + 1'b1;
            ofs_lane_next = {ofs_lane_reg[LANES-2:0], ofs_lane_reg[LANES-1]};
            first_next = 1'b0;
            if (idx_reg == sec_last_reg) begin
                sec_next = sec_succ_reg;
                sec_succ_next = sec_succ_reg + 1'b1;
                sec_last_next = section_last(sec_succ_reg);
                ofs_next = {IDX_WIDTH{1'b0}};
                ofs_lane_next = {{LANES-1{1'b0}}, 1'b1};
                first_next = 1'b1;
            end
        end
        if (at_hdr[3]) begin
            shifts_next = s_tdata;
        end
        if (at_crc) begin
            crc_word_next = s_tdata;
        end
        if (s_tlast) begin
            active_next = 1'b0;
        end
    end

    // The word of the clock before is checked now (chk_*): the first error of
    // a job is the one reported, and a word's contents are checked before its
    // TLAST. Its position checks are exclusive, so they are ORed, not chained.
    if (chk_reg && error_reg == `LENET_ERR_OK) begin
        error_next = chk_error;
    end
    if (chk_reg && chk_last_reg) begin
        done_next = 1'b1;
        // no error before, none in this word, and TLAST not early (error_next == OK)
        valid_next = error_reg == `LENET_ERR_OK && !bad_word && !chk_before_crc_reg;
    end
end

always @(posedge clk) begin
    active_reg <= active_next;
    idx_reg <= idx_next;
    sec_reg <= sec_next;
    sec_succ_reg <= sec_succ_next;
    sec_last_reg <= sec_last_next;
    ofs_reg <= ofs_next;
    ofs_lane_reg <= ofs_lane_next;
    first_reg <= first_next;
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
