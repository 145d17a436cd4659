// Every size, type and tuning knob of the LeNet IP, in one place.
//
// Sizes come from the generated contract header (lenet_contract.h, made from
// lenet_pynq/contract.py); nothing here re-types a number of the contract.
// The tuning knobs (parallel multipliers per layer, stream depths) are ours:
// docs/hls.md derives the initiation intervals and cycles per image they
// give. The static_asserts reject knob values the loops cannot honour.
#ifndef LENET_CONFIG_H
#define LENET_CONFIG_H

#include "ap_int.h"
#include "lenet_contract.h"

namespace lenet_ip {

// --- types ---------------------------------------------------------------------
typedef ap_uint<32> word_t;   // one stream word / one register
typedef ap_uint<8> pixel_t;   // uint8 activation (input pixels, ReLU outputs)
typedef ap_int<8> weight_t;   // int8 weight
typedef ap_int<32> acc_t;     // int32 bias / accumulator, wraps modulo 2^32
typedef ap_uint<5> shift_t;   // requantization shift, 0 ... 31
typedef ap_uint<16> count_t;  // images in a job / images done
typedef ap_uint<8> errcode_t; // contract section 6 error code

// --- the network (contract section 1) ------------------------------------------
const int kImageSide = LENET_IMAGE_SIDE;
const int kPaddedSide = LENET_PADDED_SIDE;
const int kPad = LENET_PAD;
const int kImageWords = LENET_IMAGE_WORDS;
const int kPixelsPerWord = LENET_IMAGE_BYTES / LENET_IMAGE_WORDS;
const int kClasses = LENET_NUM_CLASSES;
const int kResultWords = LENET_RESULT_WORDS;
const int kMaxCount = LENET_MAX_COUNT; // images in one INFER job

const int kKernel = LENET_CONV1_KERNEL; // both convolutions: stride 1, valid
const int kPool = 2;                    // both max-pools are 2x2, stride 2 (section 1)

// conv1 slides its window over the zero-padded image in raster order, one
// pixel per cycle, all 6 channels x 25 taps at once.
struct conv1_config {
    static const int in_ch = LENET_CONV1_IN;
    static const int out_ch = LENET_CONV1_OUT;
    static const int in_side = kPaddedSide;            // 32: the zero-padded image
    static const int out_side = in_side - kKernel + 1; // 28
    static const int pool_side = out_side / kPool;     // 14
    static const int taps = in_ch * kKernel * kKernel; // weights per output channel
    static const int n_weights = out_ch * taps;
    static const int steps = in_side * in_side; // cycles of conv1_pixels per image
};

// conv2 slides its window over the 14x14 pool1 map in raster order; at each
// of the 100 positions with a full window it stays for out_ch cycles, one
// output channel per cycle with all 150 taps at once.
struct conv2_config {
    static const int in_ch = LENET_CONV2_IN;
    static const int out_ch = LENET_CONV2_OUT;
    static const int in_side = conv1_config::pool_side; // 14
    static const int out_side = in_side - kKernel + 1;  // 10
    static const int pool_side = out_side / kPool;      // 5
    static const int taps = in_ch * kKernel * kKernel;  // 150 multipliers
    static const int n_weights = out_ch * taps;
    static const int steps = in_side * in_side + out_side * out_side * (out_ch - 1); // conv2_steps: 1,696
    // Iterations of conv2_steps between a write of the pooling state of one
    // channel and its next read: the next column (out_ch), the next row (a
    // row of positions: out_side full windows of out_ch cycles, the rest 1).
    static const int next_column = out_ch;
    static const int next_row = out_side * out_ch + (in_side - out_side);
    static const int n_pooled = out_ch * pool_side * pool_side; // 400, emitted in C order
};

// Fully connected layers: n_in inputs, n_out outputs, `pe` multipliers
// working on consecutive inputs of one output per cycle (so the cycles per
// image are n_out * n_in / pe). The weights are stored as rows of pe:
// w[o * steps + step][p] = W[o][step * pe + p], partitioned on p, so each
// multiplier reads its own bank. `requantize` is false for fc3 (logits).
template <int N_IN, int N_OUT, int PE, bool REQUANTIZE> struct dense_config {
    static const int n_in = N_IN;
    static const int n_out = N_OUT;
    static const int pe = PE;
    static const int steps = N_IN / PE; // pipeline iterations per output
    static const int rows = N_OUT * steps;
    static const int n_weights = N_IN * N_OUT;
    static const bool requantize = REQUANTIZE;
    static_assert(N_IN % PE == 0, "dense: pe must divide n_in");
    static_assert(PE % 4 == 0, "dense: a row of pe weights must be whole blob words, so the load writes rows "
                               "without a byte shift");
};

const int kPool2Values = conv2_config::n_pooled; // 400

// pe chosen so that no dense layer is slower than conv2 (docs/hls.md).
typedef dense_config<LENET_FC1_IN, LENET_FC1_OUT, 40, true> fc1_config; // 1,200 cycles, 40 multipliers
typedef dense_config<LENET_FC2_IN, LENET_FC2_OUT, 8, true> fc2_config;  // 1,260 cycles,  8 multipliers
typedef dense_config<LENET_FC3_IN, LENET_FC3_OUT, 4, false> fc3_config; //   210 cycles,  4 multipliers

// The blob sections as the load job sees them (contract section 2).
static_assert(LENET_CONV2_KERNEL == kKernel, "the conv stages share one window size");
static_assert(conv2_config::in_ch == conv1_config::out_ch && fc1_config::n_in == kPool2Values &&
                  fc2_config::n_in == fc1_config::n_out && fc3_config::n_in == fc2_config::n_out &&
                  fc3_config::n_out == kClasses,
              "layer sizes must chain");
static_assert(LENET_CONV2_B_OFFSET_WORDS - LENET_CONV2_W_OFFSET_WORDS == conv2_config::n_weights / 4,
              "conv2.w section size");
static_assert(LENET_CONV1_B_OFFSET_WORDS - LENET_CONV1_W_OFFSET_WORDS == (conv1_config::n_weights + 3) / 4,
              "conv1.w section size");
static_assert(LENET_FC1_B_OFFSET_WORDS - LENET_FC1_W_OFFSET_WORDS == fc1_config::n_weights / 4, "fc1.w section size");
static_assert(LENET_FC2_B_OFFSET_WORDS - LENET_FC2_W_OFFSET_WORDS == fc2_config::n_weights / 4, "fc2.w section size");
static_assert(LENET_FC3_B_OFFSET_WORDS - LENET_FC3_W_OFFSET_WORDS == fc3_config::n_weights / 4, "fc3.w section size");
static_assert(LENET_CRC_WORD_INDEX - LENET_FC3_B_OFFSET_WORDS == fc3_config::n_out, "fc3.b is the last section");

// A pool1 pixel: the six conv1 channels side by side, so conv2 reads a whole
// input column of its window (5 pixels x 6 channels) in one cycle.
typedef ap_uint<8 * conv1_config::out_ch> pool1_pixel_t;

// --- dataflow stream depths ---------------------------------------------------
// One image's worth between stages lets a producer finish an image while its
// consumer still works on the previous one (the dataflow's double buffer).
const int kDepthWords = kImageWords;
const int kDepthPool1 = conv1_config::pool_side * conv1_config::pool_side;
const int kDepthPool2 = kPool2Values;
const int kDepthFc1 = fc1_config::n_out;
const int kDepthFc2 = fc2_config::n_out;
const int kDepthLogits = kClasses;
const int kDepthTokens = 4; // per-image "valid" tokens: a few images in flight

} // namespace lenet_ip

#endif // LENET_CONFIG_H
