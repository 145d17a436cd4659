// The LeNet IP's top function: the interface of docs/contract.md section 3.
#ifndef LENET_H
#define LENET_H

#include "ap_axi_sdata.h"
#include "ap_int.h"
#include "hls_stream.h"

// One AXI4-Stream beat. hls::axis (not a struct of our own with a `last`
// field): Vitis HLS maps only its members to TLAST/TKEEP/TSTRB.
typedef hls::axis<ap_uint<32>, 0, 0, 0> lenet_beat_t;

// One job per call (ap_ctrl_hs): LOAD_WEIGHTS or INFER by `command`, INFER
// over `count` images. Consumes `in` up to and including TLAST, writes the
// job's output to `out` ending with the trailer word (TLAST), and sets the
// three status outputs (contract sections 3, 4 and 6).
void lenet(hls::stream<lenet_beat_t> &in, hls::stream<lenet_beat_t> &out, ap_uint<32> command, ap_uint<32> count,
           ap_uint<32> &status, ap_uint<32> &weights_crc, ap_uint<32> &images_done);

#endif // LENET_H
