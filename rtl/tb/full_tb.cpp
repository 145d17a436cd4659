// A lean Verilator harness for `make sim-full`: drives the real RTL (top
// `lenet`) through its ports, clock by clock, without Python in the loop, so
// that all 10,000 test images fit in a minute or two. It runs two jobs,
// LOAD_WEIGHTS then INFER, and writes every output word; the Python side
// (lenet_pynq.host.rtl_tools full) checks each one against the golden model.
//
// usage: rtl_full_tb LOAD_IN.bin INFER_IN.bin COUNT OUT.bin
//   OUT.bin: the LOAD job's output words, then the INFER job's (uint32 LE)
// stdout: one JSON object with cycle counts and the registers after each job.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "Vlenet.h"
#include "lenet_contract.h"  // generated from lenet_pynq/contract.py (hls_src/)
#include "verilated.h"

namespace {

Vlenet *dut;
uint64_t cycles = 0;

void tick() {
    dut->ap_clk = 0;
    dut->eval();
    dut->ap_clk = 1;
    dut->eval();
    ++cycles;
}

void axil_write(uint32_t addr, uint32_t data) {
    dut->s_axi_control_AWADDR = addr;
    dut->s_axi_control_AWVALID = 1;
    dut->s_axi_control_WDATA = data;
    dut->s_axi_control_WSTRB = 0xF;
    dut->s_axi_control_WVALID = 1;
    dut->s_axi_control_BREADY = 1;
    bool aw = false, w = false;
    while (!(aw && w)) {
        dut->eval();
        bool aw_hs = dut->s_axi_control_AWVALID && dut->s_axi_control_AWREADY;
        bool w_hs = dut->s_axi_control_WVALID && dut->s_axi_control_WREADY;
        tick();
        if (aw_hs) {
            aw = true;
            dut->s_axi_control_AWVALID = 0;
        }
        if (w_hs) {
            w = true;
            dut->s_axi_control_WVALID = 0;
        }
    }
    while (true) {
        dut->eval();
        bool b_hs = dut->s_axi_control_BVALID;
        tick();
        if (b_hs)
            break;
    }
    dut->s_axi_control_BREADY = 0;
}

uint32_t axil_read(uint32_t addr) {
    dut->s_axi_control_ARADDR = addr;
    dut->s_axi_control_ARVALID = 1;
    dut->s_axi_control_RREADY = 1;
    while (true) {
        dut->eval();
        bool hs = dut->s_axi_control_ARREADY;
        tick();
        if (hs)
            break;
    }
    dut->s_axi_control_ARVALID = 0;
    uint32_t data = 0;
    while (true) {
        dut->eval();
        bool hs = dut->s_axi_control_RVALID;
        data = dut->s_axi_control_RDATA;
        tick();
        if (hs)
            break;
    }
    dut->s_axi_control_RREADY = 0;
    return data;
}

// One job: start it, stream `in` (TLAST on the last word), collect the output
// up to TLAST. Returns false if nothing moves for `stall_limit` cycles.
bool job(uint32_t command, uint32_t count, const std::vector<uint32_t> &in, std::vector<uint32_t> &out,
         uint64_t stall_limit) {
    axil_write(LENET_REG_COMMAND, command);
    axil_write(LENET_REG_COUNT, count);
    axil_write(LENET_REG_CTRL, 1);
    size_t sent = 0;
    uint64_t idle = 0;
    dut->out_r_TREADY = 1;
    while (true) {
        dut->in_r_TVALID = sent < in.size();
        dut->in_r_TDATA = sent < in.size() ? in[sent] : 0;
        dut->in_r_TLAST = sent + 1 == in.size();
        dut->eval();
        bool in_hs = dut->in_r_TVALID && dut->in_r_TREADY;
        bool out_hs = dut->out_r_TVALID && dut->out_r_TREADY;
        uint32_t word = dut->out_r_TDATA;
        bool last = dut->out_r_TLAST;
        tick();
        if (in_hs)
            ++sent;
        if (out_hs)
            out.push_back(word);
        idle = (in_hs || out_hs) ? 0 : idle + 1;
        if (out_hs && last)
            break;
        if (idle > stall_limit)
            return false;
    }
    dut->in_r_TVALID = 0;
    return true;
}

std::vector<uint32_t> read_words(const char *path) {
    std::vector<uint32_t> words;
    FILE *f = std::fopen(path, "rb");
    if (!f) {
        std::fprintf(stderr, "error: cannot open %s\n", path);
        std::exit(2);
    }
    uint32_t w;
    while (std::fread(&w, 4, 1, f) == 1)
        words.push_back(w);
    std::fclose(f);
    return words;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s LOAD_IN.bin INFER_IN.bin COUNT OUT.bin\n", argv[0]);
        return 2;
    }
    Verilated::commandArgs(argc, argv);
    dut = new Vlenet;
    std::vector<uint32_t> load_in = read_words(argv[1]), infer_in = read_words(argv[2]), out;
    uint32_t count = std::strtoul(argv[3], nullptr, 10);

    dut->ap_rst_n = 0;
    for (int i = 0; i < 4; ++i)
        tick();
    dut->ap_rst_n = 1;
    tick();

    uint64_t t0 = cycles;
    bool ok = job(LENET_CMD_LOAD_WEIGHTS, 0, load_in, out, 100000);
    uint64_t load_cycles = cycles - t0;
    uint32_t load_status = axil_read(LENET_REG_STATUS), crc = axil_read(LENET_REG_WEIGHTS_CRC);
    size_t load_words = out.size();
    t0 = cycles;
    ok = ok && job(LENET_CMD_INFER, count, infer_in, out, 100000);
    uint64_t infer_cycles = cycles - t0;
    uint32_t status = axil_read(LENET_REG_STATUS), images_done = axil_read(LENET_REG_IMAGES_DONE);

    FILE *f = std::fopen(argv[4], "wb");
    if (!f) {
        std::fprintf(stderr, "error: cannot write %s\n", argv[4]);
        return 2;
    }
    std::fwrite(out.data(), 4, out.size(), f);
    std::fclose(f);
    std::printf("{\"finished\": %s, \"load_cycles\": %llu, \"load_words\": %zu, \"load_status\": %u, "
                "\"weights_crc\": %u, \"infer_cycles\": %llu, \"status\": %u, \"images_done\": %u}\n",
                ok ? "true" : "false", (unsigned long long)load_cycles, load_words, load_status, crc,
                (unsigned long long)infer_cycles, status, images_done);
    dut->final();
    delete dut;
    return ok ? 0 : 1;
}
