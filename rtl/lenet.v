// LeNet-5 inference IP, the Verilog twin of the Vitis HLS top `lenet`: same
// ports, registers, stream formats and error codes (docs/contract.md).
//
//   in_r ──┬─► weight loader ──► weight / bias banks ─┐
//          ├─► image receiver ──► image buffers (x2) ─┤
//          └─► (discard: refused job)                 ▼
//                                             compute engine ──► result tx ──► out_r
//   s_axi_control ◄─► registers ◄─► job controller (trailer, STATUS, ...)
//
// The engine computes every layer with one array of LANES x TAPS multipliers
// (two per DSP48E1: lanes 2m and 2m+1 share their inputs); conv1 and conv2
// compute several outputs of each channel at once (a pool window's columns,
// its rows, two windows), as many as LANES holds, on copies of its lanes.
// lenet_sequencer.v describes the loop order, lenet_layout.vh the bank layout.

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet #(
    parameter LANES = 64,   // compute lanes: a power of two from 16 to 64 (the xc7z020's DSPs);
                            // the more, the more outputs a conv step computes at once
    parameter TAPS = 5      // multipliers per lane: the conv kernel width
) (
    input  wire                            ap_clk,
    input  wire                            ap_rst_n,

    input  wire [31:0]                     in_r_TDATA,
    input  wire                            in_r_TVALID,
    output wire                            in_r_TREADY,
    /* verilator lint_off UNUSEDSIGNAL */  // the contract ignores them: whole words only
    input  wire [3:0]                      in_r_TKEEP,
    input  wire [3:0]                      in_r_TSTRB,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [0:0]                      in_r_TLAST,

    output wire [31:0]                     out_r_TDATA,
    output wire                            out_r_TVALID,
    input  wire                            out_r_TREADY,
    output wire [3:0]                      out_r_TKEEP,
    output wire [3:0]                      out_r_TSTRB,
    output wire [0:0]                      out_r_TLAST,

    input  wire [`LENET_ADDR_WIDTH-1:0]    s_axi_control_AWADDR,
    input  wire                            s_axi_control_AWVALID,
    output wire                            s_axi_control_AWREADY,
    input  wire [31:0]                     s_axi_control_WDATA,
    input  wire [3:0]                      s_axi_control_WSTRB,
    input  wire                            s_axi_control_WVALID,
    output wire                            s_axi_control_WREADY,
    output wire [1:0]                      s_axi_control_BRESP,
    output wire                            s_axi_control_BVALID,
    input  wire                            s_axi_control_BREADY,
    input  wire [`LENET_ADDR_WIDTH-1:0]    s_axi_control_ARADDR,
    input  wire                            s_axi_control_ARVALID,
    output wire                            s_axi_control_ARREADY,
    output wire [31:0]                     s_axi_control_RDATA,
    output wire [1:0]                      s_axi_control_RRESP,
    output wire                            s_axi_control_RVALID,
    input  wire                            s_axi_control_RREADY,

    output wire                            interrupt
);

// The bank layout (WADDR_WIDTH, BADDR_WIDTH here): rtl/lenet_layout.vh.
`include "lenet_layout.vh"

initial begin
    if (TAPS != K) begin
        $error("Error: TAPS must equal the conv kernel width %0d (instance %m)", K);
        $finish;
    end
end

wire rst = !ap_rst_n;

// --- registers and job control -------------------------------------------------

wire        ap_start, ap_idle, job_done;
wire [31:0] command, count;
wire [7:0]  status;
wire [31:0] weights_crc;
wire [15:0] images_done;

lenet_axil_regs #(.ADDR_WIDTH(`LENET_ADDR_WIDTH)) regs_inst (
    .clk(ap_clk), .rst(rst),
    .s_axi_awaddr(s_axi_control_AWADDR), .s_axi_awvalid(s_axi_control_AWVALID),
    .s_axi_awready(s_axi_control_AWREADY),
    .s_axi_wdata(s_axi_control_WDATA), .s_axi_wstrb(s_axi_control_WSTRB),
    .s_axi_wvalid(s_axi_control_WVALID), .s_axi_wready(s_axi_control_WREADY),
    .s_axi_bresp(s_axi_control_BRESP), .s_axi_bvalid(s_axi_control_BVALID),
    .s_axi_bready(s_axi_control_BREADY),
    .s_axi_araddr(s_axi_control_ARADDR), .s_axi_arvalid(s_axi_control_ARVALID),
    .s_axi_arready(s_axi_control_ARREADY),
    .s_axi_rdata(s_axi_control_RDATA), .s_axi_rresp(s_axi_control_RRESP),
    .s_axi_rvalid(s_axi_control_RVALID), .s_axi_rready(s_axi_control_RREADY),
    .ap_start(ap_start), .ap_idle(ap_idle), .job_done(job_done),
    .command(command), .count(count),
    .status(status), .weights_crc(weights_crc), .images_done(images_done),
    .interrupt(interrupt)
);

wire        drain_tready, load_start, load_done, weights_valid, infer_start;
wire [7:0]  load_error, rx_error;
wire [31:0] loaded_crc, trailer_data;
wire [15:0] infer_count, rx_images, images_sent;
wire        rx_finished, trailer_valid, trailer_ready;

lenet_job_ctrl job_inst (
    .clk(ap_clk), .rst(rst),
    .ap_start(ap_start), .ap_idle(ap_idle), .job_done(job_done),
    .command(command), .count(count),
    .status(status), .weights_crc(weights_crc), .images_done(images_done),
    .in_tvalid(in_r_TVALID), .in_tlast(in_r_TLAST[0]), .drain_tready(drain_tready),
    .load_start(load_start), .load_done(load_done), .load_error(load_error),
    .weights_valid(weights_valid), .loaded_crc(loaded_crc),
    .infer_start(infer_start), .infer_count(infer_count),
    .rx_finished(rx_finished), .rx_error(rx_error), .rx_images(rx_images),
    .images_sent(images_sent),
    .trailer_valid(trailer_valid), .trailer_data(trailer_data), .trailer_ready(trailer_ready)
);

// --- input: weights or images ----------------------------------------------------

wire                   load_tready, rx_tready;
wire                   wbank_wr_en, bbank_wr_en;
wire [LANES-1:0]       wbank_wr_lanes, bbank_wr_lanes;
wire [WADDR_WIDTH-1:0] wbank_wr_addr;
wire [BADDR_WIDTH-1:0] bbank_wr_addr;
wire [TAPS*8-1:0]      wbank_wr_data;
wire [31:0]            bbank_wr_data, shifts;

// At most one of the three consumers is active at a time.
assign in_r_TREADY = drain_tready || load_tready || rx_tready;

lenet_weight_loader #(.LANES(LANES), .TAPS(TAPS)) loader_inst (
    .clk(ap_clk), .rst(rst),
    .start(load_start), .done(load_done), .error(load_error),
    .weights_valid(weights_valid), .crc_word(loaded_crc), .shifts(shifts),
    .s_tdata(in_r_TDATA), .s_tvalid(in_r_TVALID), .s_tlast(in_r_TLAST[0]), .s_tready(load_tready),
    .wbank_wr_en(wbank_wr_en), .wbank_wr_lanes(wbank_wr_lanes), .wbank_wr_addr(wbank_wr_addr),
    .wbank_wr_data(wbank_wr_data),
    .bbank_wr_en(bbank_wr_en), .bbank_wr_lanes(bbank_wr_lanes), .bbank_wr_addr(bbank_wr_addr),
    .bbank_wr_data(bbank_wr_data)
);

localparam ROW_WORDS = `LENET_IMAGE_ROW_WORDS;
localparam ROWS = `LENET_IMAGE_SIDE;

wire                         buf_wr_en, buf_wr_sel, img_release, img_rd_sel, img_rd_zero, img_rd_zero1;
wire [$clog2(ROWS)-1:0]      buf_wr_row;
wire [$clog2(ROW_WORDS)-1:0] buf_wr_slot;
wire [31:0]                  buf_wr_data;
wire [1:0]                   img_full;
wire [4:0]                   img_rd_row, img_rd_row1;
wire [ROW_WORDS*32-1:0]      img_rd_data, img_rd_data1;

lenet_image_rx rx_inst (
    .clk(ap_clk), .rst(rst),
    .start(infer_start), .count(infer_count), .finished(rx_finished), .error(rx_error),
    .images(rx_images),
    .s_tdata(in_r_TDATA), .s_tvalid(in_r_TVALID), .s_tlast(in_r_TLAST[0]), .s_tready(rx_tready),
    .buf_wr_en(buf_wr_en), .buf_wr_sel(buf_wr_sel), .buf_wr_row(buf_wr_row),
    .buf_wr_slot(buf_wr_slot), .buf_wr_data(buf_wr_data),
    .buf_full(img_full), .release_en(img_release), .release_sel(img_rd_sel)
);

lenet_image_buf image_buf_inst (
    .clk(ap_clk),
    .wr_en(buf_wr_en), .wr_sel(buf_wr_sel), .wr_row(buf_wr_row), .wr_slot(buf_wr_slot),
    .wr_data(buf_wr_data),
    .rd_sel(img_rd_sel), .rd_row(img_rd_row[$clog2(ROWS)-1:0]), .rd_zero(img_rd_zero), .rd_data(img_rd_data),
    .rd_row1(img_rd_row1[$clog2(ROWS)-1:0]), .rd_zero1(img_rd_zero1), .rd_data1(img_rd_data1)
);

// --- compute and output ----------------------------------------------------------

wire                                  slot_free, logits_valid;
wire [`LENET_NUM_CLASSES*32-1:0]      logits;

lenet_engine #(.LANES(LANES), .TAPS(TAPS)) engine_inst (
    .clk(ap_clk), .rst(rst),
    .img_full(img_full), .img_release(img_release), .img_rd_sel(img_rd_sel),
    .img_rd_row(img_rd_row), .img_rd_zero(img_rd_zero), .img_rd_data(img_rd_data),
    .img_rd_row1(img_rd_row1), .img_rd_zero1(img_rd_zero1), .img_rd_data1(img_rd_data1),
    .wbank_wr_en(wbank_wr_en), .wbank_wr_lanes(wbank_wr_lanes), .wbank_wr_addr(wbank_wr_addr),
    .wbank_wr_data(wbank_wr_data),
    .bbank_wr_en(bbank_wr_en), .bbank_wr_lanes(bbank_wr_lanes), .bbank_wr_addr(bbank_wr_addr),
    .bbank_wr_data(bbank_wr_data), .shifts(shifts),
    .slot_free(slot_free), .logits_valid(logits_valid), .logits(logits)
);

lenet_result_tx tx_inst (
    .clk(ap_clk), .rst(rst),
    .job_start(infer_start), .images_sent(images_sent),
    .slot_wr(logits_valid), .slot_logits(logits), .slot_free(slot_free),
    .trailer_valid(trailer_valid), .trailer_data(trailer_data), .trailer_ready(trailer_ready),
    .m_tdata(out_r_TDATA), .m_tvalid(out_r_TVALID), .m_tready(out_r_TREADY),
    .m_tlast(out_r_TLAST[0])
);

assign out_r_TKEEP = 4'hF;
assign out_r_TSTRB = 4'hF;

endmodule

`resetall
