// The INFER job's input (docs/contract.md sections 4 and 6): unpacks COUNT
// images of IMAGE_WORDS words into the two image buffers, so that the next
// image arrives while the engine computes the current one. An early TLAST
// ends the job (complete images before it are still computed; a partial one
// is dropped); a missing TLAST after the last image is LATE_TLAST and the
// words up to TLAST are discarded.

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_image_rx (
    input  wire                                      clk,
    input  wire                                      rst,

    input  wire                                      start,     // pulse: an INFER job begins
    input  wire [15:0]                               count,     // images in the job (1..65535, checked before)
    output wire                                      finished,  // the job's input is consumed up to TLAST
    output wire [7:0]                                error,     // valid with finished
    output wire [15:0]                               images,    // complete images handed to the engine

    input  wire [31:0]                               s_tdata,
    input  wire                                      s_tvalid,
    input  wire                                      s_tlast,
    output wire                                      s_tready,

    // image buffer write port: buffer, row, word within the row
    output wire                                      buf_wr_en,
    output wire                                      buf_wr_sel,
    output wire [$clog2(`LENET_IMAGE_SIDE)-1:0]      buf_wr_row,
    output wire [$clog2(`LENET_IMAGE_ROW_WORDS)-1:0] buf_wr_slot,
    output wire [31:0]                               buf_wr_data,

    output wire [1:0]                                buf_full,  // buffer b holds an image not yet read
    input  wire                                      release_en, // pulse: the engine is done reading...
    input  wire                                      release_sel // ...this buffer
);

localparam ROW_WORDS = `LENET_IMAGE_ROW_WORDS;  // stream words per image row (4 pixels each)
localparam ROWS = `LENET_IMAGE_SIDE;
localparam RW = $clog2(ROWS);
localparam SW = $clog2(ROW_WORDS);

reg          active_reg = 1'b0, active_next;
reg          discard_reg = 1'b0, discard_next;
reg          finished_reg = 1'b0, finished_next;
reg [7:0]    error_reg = 8'd0, error_next;
reg [15:0]   images_reg = 16'd0, images_next;
reg [15:0]   left_reg = 16'd0, left_next;  // images of the job not yet complete
reg          last_reg = 1'b0, last_next;    // left_reg == 1: this image is the job's last
reg [RW-1:0] row_reg = {RW{1'b0}}, row_next;
reg [SW-1:0] slot_reg = {SW{1'b0}}, slot_next;
reg          sel_reg = 1'b0, sel_next;
reg [1:0]    full_reg = 2'b00, full_next;

assign finished = finished_reg;
assign error = error_reg;
assign images = images_reg;
assign buf_full = full_reg;
// Hold the stream while the buffer to fill still waits for the engine.
// Registered from the next state (the same value a clock-edge later), so
// TREADY and the buffer's write enable come straight from a flip-flop.
reg  ready_reg = 1'b0;
wire ready_next;
assign s_tready = ready_reg;

wire accept = s_tvalid && s_tready;
// the word at (row_reg, slot_reg) is an image's last: a register, set a word
// ahead, so that no compare of the position sits before the buffer flags
reg  image_end_reg = 1'b0, image_end_next;
wire image_end = image_end_reg;

assign buf_wr_en = accept && !discard_reg;
assign buf_wr_sel = sel_reg;
assign buf_wr_row = row_reg;
assign buf_wr_slot = slot_reg;
assign buf_wr_data = s_tdata;

always @* begin
    active_next = active_reg;
    discard_next = discard_reg;
    finished_next = finished_reg;
    error_next = error_reg;
    images_next = images_reg;
    left_next = left_reg;
    last_next = last_reg;
    image_end_next = image_end_reg;
    row_next = row_reg;
    slot_next = slot_reg;
    sel_next = sel_reg;
    full_next = full_reg;

    if (release_en) begin
        full_next[release_sel] = 1'b0;
    end

    if (start) begin
        active_next = 1'b1;
        discard_next = 1'b0;
        finished_next = 1'b0;
        error_next = `LENET_ERR_OK;
        images_next = 16'd0;
        left_next = count;
        last_next = count == 16'd1;
        row_next = {RW{1'b0}};
        slot_next = {SW{1'b0}};
        image_end_next = 1'b0;
    end else if (accept && discard_reg) begin
        if (s_tlast) begin
            active_next = 1'b0;
            finished_next = 1'b1;
        end
    end else if (accept) begin
        image_end_next = row_reg == ROWS - 1 && slot_reg == ROW_WORDS - 2;
        slot_next = slot_reg + 1'b1;
        if (slot_reg == ROW_WORDS - 1) begin
            slot_next = {SW{1'b0}};
            row_next = row_reg + 1'b1;
        end
        if (image_end) begin
            row_next = {RW{1'b0}};
            full_next[sel_reg] = 1'b1;
            sel_next = !sel_reg;
            images_next = images_reg + 1'b1;
            left_next = left_reg - 1'b1;
            last_next = left_reg == 16'd2;
        end
        if (image_end && last_reg) begin
            // The job's last word.
            if (s_tlast) begin
                active_next = 1'b0;
                finished_next = 1'b1;
            end else begin
                error_next = `LENET_ERR_LATE_TLAST;
                discard_next = 1'b1;
            end
        end else if (s_tlast) begin
            error_next = `LENET_ERR_EARLY_TLAST;
            active_next = 1'b0;
            finished_next = 1'b1;
        end
    end
end

assign ready_next = active_next && (discard_next || !full_next[sel_next]);

always @(posedge clk) begin
    ready_reg <= ready_next;
    active_reg <= active_next;
    discard_reg <= discard_next;
    finished_reg <= finished_next;
    error_reg <= error_next;
    images_reg <= images_next;
    left_reg <= left_next;
    last_reg <= last_next;
    image_end_reg <= image_end_next;
    row_reg <= row_next;
    slot_reg <= slot_next;
    sel_reg <= sel_next;
    full_reg <= full_next;

    if (rst) begin
        ready_reg <= 1'b0;
        active_reg <= 1'b0;
        discard_reg <= 1'b0;
        finished_reg <= 1'b0;
        error_reg <= `LENET_ERR_OK;
        images_reg <= 16'd0;
        row_reg <= {RW{1'b0}};
        slot_reg <= {SW{1'b0}};
        image_end_reg <= 1'b0;
        sel_reg <= 1'b0;
        full_reg <= 2'b00;
    end
end

endmodule

`resetall
