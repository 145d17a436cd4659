// The s_axi_control register file (docs/contract.md section 3): ap_ctrl_hs
// control bits, the interrupt registers, the job arguments and the job's
// outputs with their Vitis HLS ap_vld words. Side effects follow the
// <top>_control_s_axi.v Vitis HLS generates: reading CTRL clears ap_done and
// ap_ready, reading an ap_vld word clears it, ISR bits toggle where a 1 is
// written, every CTRL write sets auto_restart to its bit 7, and the interrupt
// pin and CTRL bit 9 are a register of GIE & (ISR[0] | ISR[1]).

`resetall
`timescale 1ns / 1ps
`default_nettype none
`include "lenet_contract.vh"

module lenet_axil_regs #(
    parameter ADDR_WIDTH = `LENET_ADDR_WIDTH  // s_axi_control address bits; must hold every register offset
) (
    input  wire                  clk,
    input  wire                  rst,

    // AXI4-Lite slave
    input  wire [ADDR_WIDTH-1:0] s_axi_awaddr,
    input  wire                  s_axi_awvalid,
    output wire                  s_axi_awready,
    input  wire [31:0]           s_axi_wdata,
    input  wire [3:0]            s_axi_wstrb,
    input  wire                  s_axi_wvalid,
    output wire                  s_axi_wready,
    output wire [1:0]            s_axi_bresp,
    output wire                  s_axi_bvalid,
    input  wire                  s_axi_bready,
    /* verilator lint_off UNUSEDSIGNAL */  // word addresses: bits 1:0 ignored
    input  wire [ADDR_WIDTH-1:0] s_axi_araddr,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire                  s_axi_arvalid,
    output wire                  s_axi_arready,
    output wire [31:0]           s_axi_rdata,
    output wire [1:0]            s_axi_rresp,
    output wire                  s_axi_rvalid,
    input  wire                  s_axi_rready,

    // to and from the job controller
    output wire                  ap_start,     // a job is requested (held until it ends)
    input  wire                  ap_idle,      // no job is running
    input  wire                  job_done,     // one-cycle pulse: the job ended, outputs below are final
    output wire [31:0]           command,
    output wire [31:0]           count,
    input  wire [7:0]            status,       // error code of the last finished job
    input  wire [31:0]           weights_crc,
    input  wire [15:0]           images_done,

    output wire                  interrupt
);

localparam [ADDR_WIDTH-1:0] A_CTRL     = `LENET_REG_CTRL;
localparam [ADDR_WIDTH-1:0] A_GIE      = `LENET_REG_GIE;
localparam [ADDR_WIDTH-1:0] A_IER      = `LENET_REG_IER;
localparam [ADDR_WIDTH-1:0] A_ISR      = `LENET_REG_ISR;
localparam [ADDR_WIDTH-1:0] A_COMMAND  = `LENET_REG_COMMAND;
localparam [ADDR_WIDTH-1:0] A_COUNT    = `LENET_REG_COUNT;
localparam [ADDR_WIDTH-1:0] A_STATUS   = `LENET_REG_STATUS;
localparam [ADDR_WIDTH-1:0] A_CRC      = `LENET_REG_WEIGHTS_CRC;
localparam [ADDR_WIDTH-1:0] A_IMAGES   = `LENET_REG_IMAGES_DONE;
// Vitis HLS puts each output's ap_vld bit in the word after it.
localparam [ADDR_WIDTH-1:0] A_STATUS_VLD = A_STATUS + `LENET_VLD_OFFSET;
localparam [ADDR_WIDTH-1:0] A_CRC_VLD    = A_CRC + `LENET_VLD_OFFSET;
localparam [ADDR_WIDTH-1:0] A_IMAGES_VLD = A_IMAGES + `LENET_VLD_OFFSET;

initial begin
    if (ADDR_WIDTH < `LENET_ADDR_WIDTH) begin
        $error("Error: ADDR_WIDTH must be at least %0d to reach every register (instance %m)", `LENET_ADDR_WIDTH);
        $finish;
    end
end

reg                  aw_held_reg = 1'b0, aw_held_next;
reg [ADDR_WIDTH-1:0] aw_addr_reg = {ADDR_WIDTH{1'b0}}, aw_addr_next;
reg                  w_held_reg = 1'b0, w_held_next;
reg [31:0]           w_data_reg = 32'd0, w_data_next;
reg [3:0]            w_strb_reg = 4'd0, w_strb_next;
reg                  bvalid_reg = 1'b0, bvalid_next;
reg                  rvalid_reg = 1'b0, rvalid_next;
reg [31:0]           rdata_reg = 32'd0, rdata_next;

reg        start_reg = 1'b0, start_next;
reg        done_reg = 1'b0, done_next;
reg        ready_reg = 1'b0, ready_next;
reg        auto_restart_reg = 1'b0, auto_restart_next;
reg        interrupt_reg = 1'b0;
reg        gie_reg = 1'b0, gie_next;
reg [1:0]  ier_reg = 2'd0, ier_next;
reg [1:0]  isr_reg = 2'd0, isr_next;
reg [31:0] command_reg = 32'd0, command_next;
reg [31:0] count_reg = 32'd0, count_next;
reg        vld_status_reg = 1'b0, vld_status_next;
reg        vld_crc_reg = 1'b0, vld_crc_next;
reg        vld_images_reg = 1'b0, vld_images_next;

assign s_axi_awready = !aw_held_reg;
assign s_axi_wready  = !w_held_reg;
assign s_axi_bresp   = 2'b00;
assign s_axi_bvalid  = bvalid_reg;
assign s_axi_arready = !rvalid_reg;
assign s_axi_rdata   = rdata_reg;
assign s_axi_rresp   = 2'b00;
assign s_axi_rvalid  = rvalid_reg;

assign ap_start  = start_reg;
assign command   = command_reg;
assign count     = count_reg;
assign interrupt = interrupt_reg;

wire [31:0] wmask = {{8{w_strb_reg[3]}}, {8{w_strb_reg[2]}}, {8{w_strb_reg[1]}}, {8{w_strb_reg[0]}}};
wire        do_write = aw_held_reg && w_held_reg && !bvalid_reg;
wire        do_read = s_axi_arvalid && !rvalid_reg;
// ap_idle as Vitis HLS defines it for ap_ctrl_hs: no job running and none requested.
wire        idle = ap_idle && !start_reg;
wire        start_write = do_write && {aw_addr_reg[ADDR_WIDTH-1:2], 2'b00} == A_CTRL && w_strb_reg[0] && w_data_reg[0];

always @* begin
    aw_held_next = aw_held_reg;
    aw_addr_next = aw_addr_reg;
    w_held_next = w_held_reg;
    w_data_next = w_data_reg;
    w_strb_next = w_strb_reg;
    bvalid_next = bvalid_reg && !s_axi_bready;
    rvalid_next = rvalid_reg && !s_axi_rready;
    rdata_next = rdata_reg;

    start_next = start_reg;
    done_next = done_reg;
    ready_next = ready_reg;
    auto_restart_next = auto_restart_reg;
    gie_next = gie_reg;
    ier_next = ier_reg;
    isr_next = isr_reg;
    command_next = command_reg;
    count_next = count_reg;
    vld_status_next = vld_status_reg;
    vld_crc_next = vld_crc_reg;
    vld_images_next = vld_images_reg;

    // Address and data may arrive in either order; hold each until both are here.
    if (s_axi_awvalid && !aw_held_reg) begin
        aw_held_next = 1'b1;
        aw_addr_next = s_axi_awaddr;
    end
    if (s_axi_wvalid && !w_held_reg) begin
        w_held_next = 1'b1;
        w_data_next = s_axi_wdata;
        w_strb_next = s_axi_wstrb;
    end

    if (do_write) begin
        aw_held_next = 1'b0;
        w_held_next = 1'b0;
        bvalid_next = 1'b1;
        case ({aw_addr_reg[ADDR_WIDTH-1:2], 2'b00})
            // A start request while a job runs changes nothing: ap_start is already 1.
            A_CTRL: if (w_strb_reg[0]) begin
                if (w_data_reg[0]) start_next = 1'b1;
                auto_restart_next = w_data_reg[7];
            end
            A_GIE:     if (w_strb_reg[0]) gie_next = w_data_reg[0];
            A_IER:     if (w_strb_reg[0]) ier_next = w_data_reg[1:0];
            A_ISR:     if (w_strb_reg[0]) isr_next = isr_reg ^ w_data_reg[1:0];
            A_COMMAND: command_next = (command_reg & ~wmask) | (w_data_reg & wmask);
            A_COUNT:   count_next = (count_reg & ~wmask) | (w_data_reg & wmask);
            default: ;
        endcase
    end

    if (do_read) begin
        rvalid_next = 1'b1;
        case ({s_axi_araddr[ADDR_WIDTH-1:2], 2'b00})
            A_CTRL: begin
                rdata_next = {22'd0, interrupt_reg, 1'b0, auto_restart_reg, 3'd0, ready_reg, idle, done_reg,
                              start_reg};
                done_next = 1'b0;
                ready_next = 1'b0;
            end
            A_GIE:        rdata_next = {31'd0, gie_reg};
            A_IER:        rdata_next = {30'd0, ier_reg};
            A_ISR:        rdata_next = {30'd0, isr_reg};
            A_COMMAND:    rdata_next = command_reg;
            A_COUNT:      rdata_next = count_reg;
            A_STATUS:     rdata_next = {24'd0, status};
            A_CRC:        rdata_next = weights_crc;
            A_IMAGES:     rdata_next = {16'd0, images_done};
            A_STATUS_VLD: begin rdata_next = {31'd0, vld_status_reg}; vld_status_next = 1'b0; end
            A_CRC_VLD:    begin rdata_next = {31'd0, vld_crc_reg}; vld_crc_next = 1'b0; end
            A_IMAGES_VLD: begin rdata_next = {31'd0, vld_images_reg}; vld_images_next = 1'b0; end
            default:      rdata_next = 32'd0;
        endcase
    end

    // A sequential top function ends in the state that reads its last input:
    // ap_start clears and ap_done, ap_ready rise together at the job's end.
    // With auto_restart set, ap_start stays 1 (the next job starts at once) and
    // CTRL's ap_done and ap_ready stay 0; ISR still sees every job's end. A
    // start written in this very cycle wins, as in Vitis HLS.
    if (job_done) begin
        start_next = start_write || auto_restart_reg;
        done_next = done_next || !auto_restart_reg;
        ready_next = ready_next || !auto_restart_reg;
        isr_next = isr_next | ier_reg;
        vld_status_next = 1'b1;
        vld_crc_next = 1'b1;
        vld_images_next = 1'b1;
    end
end

always @(posedge clk) begin
    aw_held_reg <= aw_held_next;
    aw_addr_reg <= aw_addr_next;
    w_held_reg <= w_held_next;
    w_data_reg <= w_data_next;
    w_strb_reg <= w_strb_next;
    bvalid_reg <= bvalid_next;
    rvalid_reg <= rvalid_next;
    rdata_reg <= rdata_next;
    start_reg <= start_next;
    done_reg <= done_next;
    ready_reg <= ready_next;
    auto_restart_reg <= auto_restart_next;
    interrupt_reg <= gie_reg && (isr_reg != 2'd0);
    gie_reg <= gie_next;
    ier_reg <= ier_next;
    isr_reg <= isr_next;
    command_reg <= command_next;
    count_reg <= count_next;
    vld_status_reg <= vld_status_next;
    vld_crc_reg <= vld_crc_next;
    vld_images_reg <= vld_images_next;

    if (rst) begin
        aw_held_reg <= 1'b0;
        w_held_reg <= 1'b0;
        bvalid_reg <= 1'b0;
        rvalid_reg <= 1'b0;
        start_reg <= 1'b0;
        done_reg <= 1'b0;
        ready_reg <= 1'b0;
        auto_restart_reg <= 1'b0;
        interrupt_reg <= 1'b0;
        gie_reg <= 1'b0;
        ier_reg <= 2'd0;
        isr_reg <= 2'd0;
        command_reg <= 32'd0;
        count_reg <= 32'd0;
        vld_status_reg <= 1'b0;
        vld_crc_reg <= 1'b0;
        vld_images_reg <= 1'b0;
    end
end

endmodule

`resetall
