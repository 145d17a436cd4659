// The output stream (docs/contract.md section 4): per image the class then
// the ten logits, and at the end of every job the trailer word, the only
// word with TLAST. The engine drops each image's logits into a one-image
// slot; sending works from its own copy, so the engine can go on with the
// next image while the output is backpressured.

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_result_tx (
    input  wire                clk,
    input  wire                rst,

    input  wire                job_start,      // pulse: clears images_sent
    output wire [15:0]         images_sent,    // images whose words are all out in this job

    input  wire                slot_wr,        // pulse: an image's logits
    input  wire [`LENET_NUM_CLASSES*32-1:0] slot_logits,  // logit c in bits 32c+31..
    output wire                slot_free,

    input  wire                trailer_valid,  // the job's end: send this word with TLAST
    input  wire [31:0]         trailer_data,
    output wire                trailer_ready,

    output wire [31:0]         m_tdata,
    output wire                m_tvalid,
    input  wire                m_tready,
    output wire                m_tlast
);

localparam N = `LENET_NUM_CLASSES;
localparam LW = N * 32;
localparam [1:0] S_IDLE = 2'd0, S_ARGMAX = 2'd1, S_SEND = 2'd2, S_TRAILER = 2'd3;

reg          slot_full_reg = 1'b0, slot_full_next;
reg [LW-1:0] slot_reg = {LW{1'b0}};
reg [LW-1:0] logits_reg = {LW{1'b0}}, logits_next;  // rotated: the logit in turn in the low word
reg [1:0]    state_reg = S_IDLE, state_next;
reg [3:0]    idx_reg = 4'd0, idx_next;     // argmax: candidate; send: word
reg [3:0]    best_reg = 4'd0, best_next;
reg [31:0]   best_val_reg = 32'd0, best_val_next;
reg [15:0]   sent_reg = 16'd0, sent_next;

assign slot_free = !slot_full_reg;
assign images_sent = sent_reg;

// The logits go round in logits_reg, one word per step of the argmax and of
// the send, so the logit in turn is always the low word: no multiplexer over
// ten logits in front of the compare or of TDATA.
wire [31:0]        low = logits_reg[0 +: 32];
wire [LW-1:0]      rotated = {low, logits_reg[LW-1:32]};

assign m_tvalid = state_reg == S_SEND || state_reg == S_TRAILER;
assign m_tlast = state_reg == S_TRAILER;
assign m_tdata = state_reg == S_TRAILER ? trailer_data
               : idx_reg == 4'd0 ? {28'd0, best_reg}
               : low;
assign trailer_ready = state_reg == S_TRAILER && m_tready;

always @* begin
    slot_full_next = slot_full_reg;
    logits_next = logits_reg;
    state_next = state_reg;
    idx_next = idx_reg;
    best_next = best_reg;
    best_val_next = best_val_reg;
    sent_next = job_start ? 16'd0 : sent_reg;

    case (state_reg)
        S_IDLE: begin
            if (slot_full_reg) begin
                // logit 0 is the first best, logit 1 the first candidate
                logits_next = {slot_reg[0 +: 32], slot_reg[LW-1:32]};
                best_val_next = slot_reg[0 +: 32];
                slot_full_next = 1'b0;
                idx_next = 4'd1;
                best_next = 4'd0;
                state_next = S_ARGMAX;
            end else if (trailer_valid) begin
                state_next = S_TRAILER;
            end
        end
        S_ARGMAX: begin
            // strictly greater: ties go to the lowest index
            if ($signed(low) > $signed(best_val_reg)) begin
                best_next = idx_reg;
                best_val_next = low;
            end
            logits_next = rotated;
            idx_next = idx_reg + 4'd1;
            if (idx_reg == N - 1) begin
                // N - 1 steps after the load's one: logit 0 is back in the low word
                idx_next = 4'd0;
                state_next = S_SEND;
            end
        end
        S_SEND: begin
            if (m_tready) begin
                idx_next = idx_reg + 4'd1;
                if (idx_reg != 4'd0) begin
                    logits_next = rotated;
                end
                if (idx_reg == N) begin
                    sent_next = sent_reg + 16'd1;
                    state_next = S_IDLE;
                end
            end
        end
        S_TRAILER: begin
            if (m_tready) begin
                state_next = S_IDLE;
            end
        end
        default: state_next = S_IDLE;
    endcase

    if (slot_wr) begin
        slot_full_next = 1'b1;
    end
end

always @(posedge clk) begin
    slot_full_reg <= slot_full_next;
    logits_reg <= logits_next;
    state_reg <= state_next;
    idx_reg <= idx_next;
    best_reg <= best_next;
    best_val_reg <= best_val_next;
    sent_reg <= sent_next;
    if (slot_wr) begin
        slot_reg <= slot_logits;
    end

    if (rst) begin
        slot_full_reg <= 1'b0;
        state_reg <= S_IDLE;
        sent_reg <= 16'd0;
    end
end

endmodule

`resetall
