// One memory per compute lane with a shared read address: each lane reads
// its own word every clock (its weights, or its bias). Written a word at a
// time, to any set of lanes at once (a conv channel's lanes at every position).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module lenet_lane_banks #(
    parameter LANES = 16,       // lanes, one memory each
    parameter WIDTH = 40,       // bits per word
    parameter ADDR_WIDTH = 10   // words per lane = 2**ADDR_WIDTH
) (
    input  wire                   clk,

    input  wire                   wr_en,
    input  wire [LANES-1:0]       wr_lanes,
    input  wire [ADDR_WIDTH-1:0]  wr_addr,
    input  wire [WIDTH-1:0]       wr_data,

    input  wire [ADDR_WIDTH-1:0]  rd_addr,
    output wire [LANES*WIDTH-1:0] rd_data   // lane l in bits WIDTH*l.., one clock later
);

genvar l;
generate
    for (l = 0; l < LANES; l = l + 1) begin : lane
        reg [WIDTH-1:0] mem [0:(1 << ADDR_WIDTH)-1];
        reg [WIDTH-1:0] rd_reg = {WIDTH{1'b0}};

        assign rd_data[l*WIDTH +: WIDTH] = rd_reg;

        always @(posedge clk) begin
            if (wr_en && wr_lanes[l]) begin
                mem[wr_addr] <= wr_data;
            end
            rd_reg <= mem[rd_addr];
        end
    end
endgenerate

endmodule

`resetall
