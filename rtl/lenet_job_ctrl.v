// The job controller (docs/contract.md sections 4 and 6): accepts a job on
// ap_start, refuses bad ones (errors 1-3, decided at the start) by discarding
// their input up to TLAST, hands good ones to the weight loader or the image
// receiver, and ends every job with the trailer word, after which STATUS,
// WEIGHTS_CRC and IMAGES_DONE change together with ap_done.

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_job_ctrl (
    input  wire        clk,
    input  wire        rst,

    // the register file
    input  wire        ap_start,
    output wire        ap_idle,
    output wire        job_done,        // pulse: outputs below are final
    input  wire [31:0] command,
    input  wire [31:0] count,
    output wire [7:0]  status,
    output wire [31:0] weights_crc,
    output wire [15:0] images_done,

    // input stream, for discarding a refused job's words
    input  wire        in_tvalid,
    input  wire        in_tlast,
    output wire        drain_tready,

    // the weight loader
    output wire        load_start,
    input  wire        load_done,       // pulse
    input  wire [7:0]  load_error,
    input  wire        weights_valid,
    input  wire [31:0] loaded_crc,

    // the image receiver and the result sender
    output wire        infer_start,     // pulse; also clears the sent-image count
    output wire [15:0] infer_count,
    input  wire        rx_finished,     // the job's input is consumed up to TLAST
    input  wire [7:0]  rx_error,
    input  wire [15:0] rx_images,       // complete images received
    input  wire [15:0] images_sent,     // images whose 11 words are out
    output wire        trailer_valid,
    output wire [31:0] trailer_data,
    input  wire        trailer_ready
);

localparam [2:0]
    STATE_IDLE = 3'd0,
    STATE_DRAIN = 3'd1,
    STATE_LOAD = 3'd2,
    STATE_INFER = 3'd3,
    STATE_TRAILER = 3'd4;

localparam [7:0] TRAILER_MARK = `LENET_TRAILER_MARK;

reg [2:0]  state_reg = STATE_IDLE, state_next;
reg [7:0]  error_reg = 8'd0, error_next;
reg [15:0] job_images_reg = 16'd0, job_images_next;
reg [15:0] count_reg = 16'd0, count_next;
reg        load_start_reg = 1'b0, load_start_next;
reg        infer_start_reg = 1'b0, infer_start_next;
reg [7:0]  status_reg = 8'd0, status_next;
reg [31:0] crc_reg = 32'd0, crc_next;
reg [15:0] images_done_reg = 16'd0, images_done_next;
// The checks of COMMAND and COUNT, registered: a register write takes the
// AXI-Lite write after it at the earliest to reach ap_start, so they are
// current when a job starts, and no 32-bit compare sits before the state.
reg        cmd_load_reg = 1'b0, cmd_infer_reg = 1'b0, count_bad_reg = 1'b0;
// An INFER is done once the input is consumed and every complete image is
// out. Registered (a clock late): once true it stays true for the job (no
// image arrives after the input's end), and it reads false in the job's
// first clock, when the receiver has not yet seen the start.
reg        infer_done_reg = 1'b0;

assign ap_idle = state_reg == STATE_IDLE;
// Combinational so that ap_start clears on the same edge as the state goes idle.
assign job_done = state_reg == STATE_TRAILER && trailer_ready;
assign status = status_reg;
assign weights_crc = crc_reg;
assign images_done = images_done_reg;
assign drain_tready = state_reg == STATE_DRAIN;
assign load_start = load_start_reg;
assign infer_start = infer_start_reg;
assign infer_count = count_reg;
assign trailer_valid = state_reg == STATE_TRAILER;
assign trailer_data = {TRAILER_MARK, error_reg, job_images_reg};

always @* begin
    state_next = state_reg;
    error_next = error_reg;
    job_images_next = job_images_reg;
    count_next = count_reg;
    load_start_next = 1'b0;
    infer_start_next = 1'b0;
    status_next = status_reg;
    crc_next = crc_reg;
    images_done_next = images_done_reg;

    case (state_reg)
        STATE_IDLE: begin
            if (ap_start) begin
                error_next = `LENET_ERR_OK;
                job_images_next = 16'd0;
                count_next = count[15:0];
                if (!cmd_load_reg && !cmd_infer_reg) begin
                    error_next = `LENET_ERR_BAD_COMMAND;
                    state_next = STATE_DRAIN;
                end else if (cmd_load_reg) begin
                    load_start_next = 1'b1;
                    state_next = STATE_LOAD;
                end else if (count_bad_reg) begin
                    error_next = `LENET_ERR_BAD_COUNT;
                    state_next = STATE_DRAIN;
                end else if (!weights_valid) begin
                    error_next = `LENET_ERR_NO_WEIGHTS;
                    state_next = STATE_DRAIN;
                end else begin
                    infer_start_next = 1'b1;
                    state_next = STATE_INFER;
                end
            end
        end
        STATE_DRAIN: begin
            if (in_tvalid && in_tlast) begin
                state_next = STATE_TRAILER;
            end
        end
        STATE_LOAD: begin
            if (load_done) begin
                error_next = load_error;
                state_next = STATE_TRAILER;
            end
        end
        STATE_INFER: begin
            if (infer_done_reg) begin
                error_next = rx_error;
                job_images_next = images_sent;
                state_next = STATE_TRAILER;
            end
        end
        STATE_TRAILER: begin
            if (trailer_ready) begin
                status_next = error_reg;
                images_done_next = job_images_reg;
                crc_next = weights_valid ? loaded_crc : 32'd0;
                state_next = STATE_IDLE;
            end
        end
        default: state_next = STATE_IDLE;
    endcase
end

always @(posedge clk) begin
    state_reg <= state_next;
    error_reg <= error_next;
    job_images_reg <= job_images_next;
    count_reg <= count_next;
    load_start_reg <= load_start_next;
    infer_start_reg <= infer_start_next;
    status_reg <= status_next;
    crc_reg <= crc_next;
    images_done_reg <= images_done_next;
    cmd_load_reg <= command == `LENET_CMD_LOAD_WEIGHTS;
    cmd_infer_reg <= command == `LENET_CMD_INFER;
    count_bad_reg <= count == 32'd0 || count > `LENET_MAX_COUNT;
    infer_done_reg <= state_reg == STATE_INFER && rx_finished && !infer_start_reg && images_sent == rx_images;

    if (rst) begin
        state_reg <= STATE_IDLE;
        load_start_reg <= 1'b0;
        infer_start_reg <= 1'b0;
        status_reg <= 8'd0;
        crc_reg <= 32'd0;
        images_done_reg <= 16'd0;
    end
end

endmodule

`resetall
