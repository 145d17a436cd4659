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
reg [LW-1:0] logits_reg = {LW{1'b0}}, logits_next;
reg [1:0]    state_reg = S_IDLE, state_next;
reg [3:0]    idx_reg = 4'd0, idx_next;     // argmax: candidate; send: word
reg [3:0]    best_reg = 4'd0, best_next;
reg [15:0]   sent_reg = 16'd0, sent_next;

assign slot_free = !slot_full_reg;
assign images_sent = sent_reg;

// logit i (a loop over constant slices: a narrow multiplexer, not a shifter)
function [31:0] logit(input [LW-1:0] v, input [3:0] i);
    integer c;
    begin
        logit = 32'd0;
        for (c = 0; c < N; c = c + 1) begin
            if (i == c) logit = v[c*32 +: 32];
        end
    end
endfunction

wire signed [31:0] cand = logit(logits_reg, idx_reg);
wire signed [31:0] best = logit(logits_reg, best_reg);

assign m_tvalid = state_reg == S_SEND || state_reg == S_TRAILER;
assign m_tlast = state_reg == S_TRAILER;
assign m_tdata = state_reg == S_TRAILER ? trailer_data
               : idx_reg == 4'd0 ? {28'd0, best_reg}
               : logit(logits_reg, idx_reg - 4'd1);
assign trailer_ready = state_reg == S_TRAILER && m_tready;

always @* begin
    slot_full_next = slot_full_reg;
    logits_next = logits_reg;
    state_next = state_reg;
    idx_next = idx_reg;
    best_next = best_reg;
    sent_next = job_start ? 16'd0 : sent_reg;

    case (state_reg)
        S_IDLE: begin
            if (slot_full_reg) begin
                logits_next = slot_reg;
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
            if (cand > best) begin
                best_next = idx_reg;
            end
            idx_next = idx_reg + 4'd1;
            if (idx_reg == N - 1) begin
                idx_next = 4'd0;
                state_next = S_SEND;
            end
        end
        S_SEND: begin
            if (m_tready) begin
                idx_next = idx_reg + 4'd1;
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
