// The compute stages of the LeNet IP: conv+pool, dense, and the arithmetic
// they share (contract section 1). Each stage is one DATAFLOW process: it
// loops over the image slots of a job, reads one "valid" token per slot and
// forwards it, and works only on valid slots, so an INFER job cut short by an
// early TLAST drains through the pipeline in a few cycles per missing image.
#ifndef LENET_LAYERS_H
#define LENET_LAYERS_H

#include <cassert>

#include "hls_stream.h"
#include "lenet_config.h"
#include "lenet_trace.h"

namespace lenet_ip {

// clamp((acc + r) >> s, 0, 255), r = 2^(s-1) or 0: round half up, the add
// wrapping modulo 2^32 like the accumulation; the lower clamp is the ReLU.
inline pixel_t requantize(acc_t acc, shift_t shift) {
#pragma HLS INLINE
    const int s = shift.to_int();
    const acc_t round = s ? acc_t(acc_t(1) << (s - 1)) : acc_t(0);
    const acc_t sum = acc + round; // truncation to 32 bits is the wrap
    const acc_t q = sum >> s;      // ap_int: arithmetic shift
    return q < 0 ? pixel_t(0) : q > 255 ? pixel_t(255) : pixel_t(q);
}

inline pixel_t max2(pixel_t a, pixel_t b) {
#pragma HLS INLINE
    return a > b ? a : b;
}

// --- CRC-32 of the blob (contract section 2) -------------------------------------
// The reflected CRC-32 update by one 32-bit word (byte 0 first) is linear over
// GF(2): crc' = M (crc ^ word). Row j of M, computed here at compile time by
// running the bit-serial update on each unit vector, is the mask of the input
// bits whose XOR is bit j of crc'. In hardware each bit is then one XOR of at
// most 32 bits (two LUT levels), so the loop-carried CRC closes in a cycle.
struct crc_matrix {
    unsigned mask[32];
};

// The only unlabelled loops of the IP: they run in the compiler, never in
// hardware, and C++14 allows no labels in a constexpr function.
constexpr unsigned crc32_bitwise(unsigned v) {
    for (int b = 0; b < 32; b++)
        v = (v >> 1) ^ ((v & 1u) ? unsigned(LENET_CRC32_POLY) : 0u);
    return v;
}

constexpr crc_matrix make_crc_matrix() {
    crc_matrix m{};
    for (int j = 0; j < 32; j++)
        for (int i = 0; i < 32; i++)
            if ((crc32_bitwise(1u << i) >> j) & 1u)
                m.mask[j] |= 1u << i;
    return m;
}

constexpr crc_matrix kCrcMatrix = make_crc_matrix();

inline word_t crc32_word(word_t crc, word_t word) {
#pragma HLS INLINE
    const word_t v = crc ^ word;
    word_t next = 0;
crc_bits:
    for (int j = 0; j < 32; j++) {
#pragma HLS UNROLL
        next[j] = (v & word_t(kCrcMatrix.mask[j])).xor_reduce();
    }
    return next;
}

// --- the sliding 5x5 window -----------------------------------------------------
// One step of a window moving in raster order over a map SIDE pixels wide:
// column x of the four rows above (the line buffer) and the new pixel below
// them enter the window on the right, and the line buffer moves down a row
// at column x. Line k is its own bank (partitioned on dim 1), read and written
// once per step at address x: every bank index is a constant after unrolling.
template <class T, int SIDE> void slide_window(T win[kKernel][kKernel], T lines[kKernel - 1][SIDE], int x, T pixel) {
#pragma HLS INLINE
    T column[kKernel];
#pragma HLS ARRAY_PARTITION variable = column type = complete
window_read:
    for (int k = 0; k < kKernel - 1; k++) {
#pragma HLS UNROLL
        column[k] = lines[k][x];
    }
    column[kKernel - 1] = pixel;
window_write:
    for (int k = 0; k < kKernel - 1; k++) {
#pragma HLS UNROLL
        lines[k][x] = column[k + 1];
    }
window_rows:
    for (int ky = 0; ky < kKernel; ky++) {
#pragma HLS UNROLL
    window_cols:
        for (int kx = 0; kx < kKernel - 1; kx++) {
#pragma HLS UNROLL
            win[ky][kx] = win[ky][kx + 1];
        }
        win[ky][kKernel - 1] = column[ky];
    }
}

// The next raster position of a map SIDE wide.
template <int SIDE> inline void next_position(int &y, int &x) {
#pragma HLS INLINE
    if (x == SIDE - 1) {
        x = 0;
        y++;
    } else {
        x++;
    }
}

// conv1 (1->6, 5x5 on the zero-padded 32x32 image), requantize, 2x2 max-pool.
// One padded pixel per cycle in raster order (the border is fed as zeros:
// the padding of contract section 1), through a 4-line buffer into the 5x5
// window; once the window is full, all six output channels at once (150
// multipliers in fabric: the 220 DSP48s go to conv2 and the dense layers,
// docs/hls.md). Emits pool1 pixels (6 channels packed) in raster order.
template <class CFG>
void conv1_pool1(hls::stream<bool> &valid_in, hls::stream<word_t> &words, hls::stream<bool> &valid_out,
                 hls::stream<pool1_pixel_t> &out, const weight_t w[CFG::out_ch][CFG::taps], const acc_t b[CFG::out_ch],
                 const shift_t &shift, const count_t &count) {
    pixel_t lines[kKernel - 1][CFG::in_side];
#pragma HLS ARRAY_PARTITION variable = lines type = complete dim = 1
    pixel_t win[kKernel][kKernel];
#pragma HLS ARRAY_PARTITION variable = win type = complete dim = 0
    pixel_t hmax[CFG::out_ch];                 // max of the current horizontal pair
    pixel_t vmax[CFG::out_ch][CFG::pool_side]; // pair maxima of the even row above
#pragma HLS ARRAY_PARTITION variable = hmax type = complete
#pragma HLS ARRAY_PARTITION variable = vmax type = complete dim = 1
    assert(CFG::in_ch == 1 && "conv1_pool1 reads a single-channel image");
    assert(kImageSide % kPixelsPerWord == 0 && "an image word never straddles two rows");

    assert(count >= 1 && count <= kMaxCount && "the top function refuses other counts");
conv1_images:
    for (int n = 0; n < count; n++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxCount avg = 1
        const bool valid = valid_in.read();
        valid_out.write(valid);
        if (!valid)
            continue;

        word_t word = 0;
        int y = 0, x = 0;
    conv1_pixels:
        for (int i = 0; i < CFG::steps; i++) {
#pragma HLS PIPELINE II = 1
            // A line-buffer column and a vmax element are read again a row later.
#pragma HLS DEPENDENCE variable = lines type = inter direction = RAW distance = CFG::in_side true
#pragma HLS DEPENDENCE variable = vmax type = inter direction = RAW distance = CFG::in_side true
            const bool inside = y >= kPad && y < kPad + kImageSide && x >= kPad && x < kPad + kImageSide;
            if (inside && (x - kPad) % kPixelsPerWord == 0)
                word = words.read();
            const pixel_t pixel = inside ? pixel_t(word.range(7, 0)) : pixel_t(0);
            word >>= 8; // the word's next pixel, byte 0 first
            LENET_TRACE(TRACE_INPUT, n, i, pixel);
            slide_window<pixel_t, CFG::in_side>(win, lines, x, pixel);
            if (y >= kKernel - 1 && x >= kKernel - 1) {
                const int oy = y - (kKernel - 1), ox = x - (kKernel - 1);
                pool1_pixel_t pooled;
            conv1_channels:
                for (int oc = 0; oc < CFG::out_ch; oc++) {
#pragma HLS UNROLL
                    acc_t acc = b[oc];
                conv1_taps:
                    for (int t = 0; t < CFG::taps; t++) {
#pragma HLS UNROLL
                        const ap_int<17> prod = w[oc][t] * win[t / kKernel][t % kKernel];
#pragma HLS BIND_OP variable = prod op = mul impl = fabric
                        acc += prod;
                    }
                    const pixel_t v = requantize(acc, shift);
                    LENET_TRACE(TRACE_CONV1, n, (oc * CFG::out_side + oy) * CFG::out_side + ox, v);
                    const pixel_t h = (ox & 1) ? max2(hmax[oc], v) : v;
                    hmax[oc] = h;
                    const pixel_t p = max2(vmax[oc][ox / 2], h);
                    if ((ox & 1) && !(oy & 1))
                        vmax[oc][ox / 2] = h;
                    pooled.range(8 * oc + 7, 8 * oc) = p;
                    if ((ox & 1) && (oy & 1))
                        LENET_TRACE(TRACE_POOL1, n, (oc * CFG::pool_side + oy / 2) * CFG::pool_side + ox / 2, p);
                }
                if ((ox & 1) && (oy & 1))
                    out.write(pooled);
            }
            next_position<CFG::in_side>(y, x);
        }
    }
}

// conv2 (6->16, 5x5 on the 14x14 pool1 map), requantize, 2x2 max-pool.
// The pool1 pixels stream in raster order through a 4-line buffer into the
// 5x5 window (6 channels per pixel); at each full window the window stays for
// out_ch cycles, one output channel per cycle with its 150 taps in parallel
// (150 DSP48s), weights w[oc][tap] partitioned on tap. The pooled values are
// kept per image and emitted in C order (c, y, x), fc1's input order
// (contract section 1).
template <class CFG>
void conv2_pool2(hls::stream<bool> &valid_in, hls::stream<pool1_pixel_t> &in, hls::stream<bool> &valid_out,
                 hls::stream<pixel_t> &out, const weight_t w[CFG::out_ch][CFG::taps], const acc_t b[CFG::out_ch],
                 const shift_t &shift, const count_t &count) {
    pool1_pixel_t lines[kKernel - 1][CFG::in_side];
#pragma HLS ARRAY_PARTITION variable = lines type = complete dim = 1
    pool1_pixel_t win[kKernel][kKernel];
#pragma HLS ARRAY_PARTITION variable = win type = complete dim = 0
    // Pooling state per channel, one bank each, one access per cycle at the
    // channel's address; the distances are the iterations between a write
    // and the read of the same element (conv2_config).
    pixel_t hmax[CFG::out_ch];
    pixel_t vmax[CFG::out_ch * CFG::pool_side];
    pixel_t pooled[CFG::n_pooled];

    assert(count >= 1 && count <= kMaxCount && "the top function refuses other counts");
conv2_images:
    for (int n = 0; n < count; n++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxCount avg = 1
        const bool valid = valid_in.read();
        valid_out.write(valid);
        if (!valid)
            continue;

        int y = 0, x = 0, oc = 0;
    conv2_steps:
        for (int i = 0; i < CFG::steps; i++) {
#pragma HLS PIPELINE II = 1
            // A line-buffer column is read again a row later, the pooling state
            // of a channel at the next column (hmax) or the next row (vmax).
#pragma HLS DEPENDENCE variable = lines type = inter direction = RAW distance = CFG::in_side true
#pragma HLS DEPENDENCE variable = hmax type = inter direction = RAW distance = CFG::next_column true
#pragma HLS DEPENDENCE variable = vmax type = inter direction = RAW distance = CFG::next_row true
            if (oc == 0)
                slide_window<pool1_pixel_t, CFG::in_side>(win, lines, x, in.read());
            bool next = true;
            if (y >= kKernel - 1 && x >= kKernel - 1) {
                const int oy = y - (kKernel - 1), ox = x - (kKernel - 1);
                acc_t acc = b[oc];
            conv2_taps:
                for (int t = 0; t < CFG::taps; t++) {
#pragma HLS UNROLL
                    const int ic = t / (kKernel * kKernel), ky = t / kKernel % kKernel, kx = t % kKernel;
                    const pixel_t x_in = win[ky][kx].range(8 * ic + 7, 8 * ic);
                    const ap_int<17> prod = w[oc][t] * x_in;
#pragma HLS BIND_OP variable = prod op = mul impl = dsp
                    acc += prod;
                }
                const pixel_t v = requantize(acc, shift);
                LENET_TRACE(TRACE_CONV2, n, (oc * CFG::out_side + oy) * CFG::out_side + ox, v);
                const int pool_x = oc * CFG::pool_side + ox / 2;
                if (!(ox & 1)) {
                    hmax[oc] = v;
                } else {
                    const pixel_t h = max2(hmax[oc], v);
                    if (!(oy & 1)) {
                        vmax[pool_x] = h;
                    } else {
                        const pixel_t p = max2(vmax[pool_x], h);
                        const int index = (oc * CFG::pool_side + oy / 2) * CFG::pool_side + ox / 2;
                        LENET_TRACE(TRACE_POOL2, n, index, p);
                        pooled[index] = p;
                    }
                }
                next = oc == CFG::out_ch - 1; // the window moves on after the last channel
                oc = next ? 0 : oc + 1;
            }
            if (next)
                next_position<CFG::in_side>(y, x);
        }
    conv2_emit:
        for (int i = 0; i < CFG::n_pooled; i++) {
#pragma HLS PIPELINE II = 1
            out.write(pooled[i]);
        }
    }
}

// A fully connected layer: acc[o] = b[o] + sum_i W[o][i] * x[i], then
// requantize (fc1, fc2) or pass the int32 logits on (fc3). CFG::pe products
// per cycle; the (output, step) nest is one pipelined loop, so there is no
// pipeline drain between outputs. x is kept as rows of pe, partitioned on
// the column like the weights: multiplier p reads bank p of both.
template <class CFG, class out_t, int TRACE>
void dense_layer(hls::stream<bool> &valid_in, hls::stream<pixel_t> &in, hls::stream<bool> &valid_out,
                 hls::stream<out_t> &out, const weight_t w[CFG::rows][CFG::pe], const acc_t b[CFG::n_out],
                 const shift_t &shift, const count_t &count) {
#pragma HLS INLINE
    pixel_t x[CFG::steps][CFG::pe];
#pragma HLS ARRAY_PARTITION variable = x type = complete dim = 2
    pixel_t row[CFG::pe]; // the inputs of the row being loaded, shifted in one per cycle
#pragma HLS ARRAY_PARTITION variable = row type = complete

    assert(count >= 1 && count <= kMaxCount && "the top function refuses other counts");
dense_images:
    for (int n = 0; n < count; n++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxCount avg = 1
        const bool valid = valid_in.read();
        valid_out.write(valid);
        if (!valid)
            continue;

        int step = 0, k = 0;
    dense_load:
        for (int i = 0; i < CFG::n_in; i++) {
#pragma HLS PIPELINE II = 1
        dense_shift:
            for (int p = 0; p < CFG::pe - 1; p++) {
#pragma HLS UNROLL
                row[p] = row[p + 1];
            }
            row[CFG::pe - 1] = in.read();
            if (k == CFG::pe - 1) {
            dense_store:
                for (int p = 0; p < CFG::pe; p++) {
#pragma HLS UNROLL
                    x[step][p] = row[p];
                }
                k = 0;
                step++;
            } else {
                k++;
            }
        }

        acc_t acc = 0;
        int o = 0;
        step = 0;
    dense_mac:
        for (int r = 0; r < CFG::rows; r++) {
#pragma HLS PIPELINE II = 1
            acc_t partial = 0;
        dense_pe:
            for (int p = 0; p < CFG::pe; p++) {
#pragma HLS UNROLL
                const ap_int<17> prod = w[r][p] * x[step][p];
#pragma HLS BIND_OP variable = prod op = mul impl = dsp
                partial += prod;
            }
            acc = (step == 0 ? b[o] : acc) + partial;
            if (step == CFG::steps - 1) {
                const out_t y = CFG::requantize ? out_t(requantize(acc, shift)) : out_t(acc);
                LENET_TRACE(TRACE, n, o, y);
                out.write(y);
                step = 0;
                o++;
            } else {
                step++;
            }
        }
    }
}

// fc1 and fc2: requantized by their shift.
template <class CFG, int TRACE>
void dense(hls::stream<bool> &valid_in, hls::stream<pixel_t> &in, hls::stream<bool> &valid_out,
           hls::stream<pixel_t> &out, const weight_t w[CFG::rows][CFG::pe], const acc_t b[CFG::n_out],
           const shift_t &shift, const count_t &count) {
    static_assert(CFG::requantize, "dense requantizes; use dense_logits for the int32 logits");
    dense_layer<CFG, pixel_t, TRACE>(valid_in, in, valid_out, out, w, b, shift, count);
}

// fc3: the int32 logits, no shift (so the dataflow region passes it none).
template <class CFG, int TRACE>
void dense_logits(hls::stream<bool> &valid_in, hls::stream<pixel_t> &in, hls::stream<bool> &valid_out,
                  hls::stream<acc_t> &out, const weight_t w[CFG::rows][CFG::pe], const acc_t b[CFG::n_out],
                  const count_t &count) {
    static_assert(!CFG::requantize, "dense_logits passes the accumulators on unshifted");
    const shift_t unused = 0;
    dense_layer<CFG, acc_t, TRACE>(valid_in, in, valid_out, out, w, b, unused, count);
}

} // namespace lenet_ip

#endif // LENET_LAYERS_H
