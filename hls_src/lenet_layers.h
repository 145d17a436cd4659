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

// One word of the reflected CRC-32 of contract section 2, byte 0 first.
inline word_t crc32_word(word_t crc, word_t word) {
#pragma HLS INLINE
    crc ^= word;
crc_bits:
    for (int b = 0; b < 32; b++) {
#pragma HLS UNROLL
        crc = (crc >> 1) ^ (crc[0] ? word_t(LENET_CRC32_POLY) : word_t(0));
    }
    return crc;
}

// Shifts the 5x5 window one column left and feeds in, on the right, column x
// of rows y..y+4 of `map`: in a pipelined loop this is a shift register that
// takes one new column per cycle (conv1 and conv2 both slide this way).
template <class T, int SIDE> void shift_in_column(T win[kKernel][kKernel], const T map[SIDE][SIDE], int y, int x) {
#pragma HLS INLINE
window_rows:
    for (int ky = 0; ky < kKernel; ky++) {
#pragma HLS UNROLL
    window_cols:
        for (int kx = 0; kx < kKernel - 1; kx++)
            win[ky][kx] = win[ky][kx + 1];
        win[ky][kKernel - 1] = map[y + ky][x];
    }
}

// conv1 (1->6, 5x5 on the zero-padded 32x32 image), requantize, 2x2 max-pool.
// All six output channels per cycle (150 multipliers, mapped to fabric: 8x8
// products waste a DSP48), one output column per cycle: the window is a
// 5x5 shift register fed with one image column per cycle, read from five
// row banks of the image buffer. Emits pool1 pixels (6 channels packed) in
// raster order, the order conv2 stores them.
template <class CFG>
void conv1_pool1(hls::stream<bool> &valid_in, hls::stream<word_t> &words, hls::stream<bool> &valid_out,
                 hls::stream<pool1_pixel_t> &out, const weight_t w[CFG::n_weights], const acc_t b[CFG::out_ch],
                 shift_t shift, count_t count) {
    // The padded image. Its border is never written, so it stays zero: that
    // is the padding of contract section 1, free of cost per image.
    static pixel_t img[CFG::in_side][CFG::in_side];
#pragma HLS ARRAY_PARTITION variable = img type = cyclic factor = kKernel dim = 1
#pragma HLS ARRAY_PARTITION variable = img type = cyclic factor = kPixelsPerWord dim = 2
    pixel_t win[kKernel][kKernel];
#pragma HLS ARRAY_PARTITION variable = win complete dim = 0
    pixel_t hmax[CFG::out_ch];                 // max of the current horizontal pair
    pixel_t vmax[CFG::out_ch][CFG::pool_side]; // pair maxima of the even row above
#pragma HLS ARRAY_PARTITION variable = hmax complete
#pragma HLS ARRAY_PARTITION variable = vmax complete dim = 1
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

        int row = kPad, col = kPad;
    conv1_load:
        for (int i = 0; i < kImageWords; i++) {
#pragma HLS PIPELINE II = 1
            const word_t word = words.read();
        conv1_unpack:
            for (int k = 0; k < kPixelsPerWord; k++) {
#pragma HLS UNROLL
                img[row][col + k] = word.range(8 * k + 7, 8 * k);
            }
            col += kPixelsPerWord;
            if (col == kPad + kImageSide) {
                col = kPad;
                row++;
            }
        }
#ifndef __SYNTHESIS__
        for (int y = 0; y < CFG::in_side; y++)
            for (int x = 0; x < CFG::in_side; x++)
                LENET_TRACE(TRACE_INPUT, n, y * CFG::in_side + x, img[y][x]);
#endif

    conv1_rows:
        for (int y = 0; y < CFG::out_side; y++) {
        conv1_cols:
            for (int x = 0; x < CFG::in_side; x++) {
#pragma HLS PIPELINE II = 1
                shift_in_column<pixel_t, CFG::in_side>(win, img, y, x);
                if (x < kKernel - 1)
                    continue; // the window is still filling
                const int ox = x - (kKernel - 1);
                pool1_pixel_t pooled;
            conv1_channels:
                for (int oc = 0; oc < CFG::out_ch; oc++) {
#pragma HLS UNROLL
                    acc_t acc = b[oc];
                conv1_taps:
                    for (int t = 0; t < CFG::taps; t++) {
#pragma HLS UNROLL
                        const ap_int<17> prod = w[oc * CFG::taps + t] * win[t / kKernel][t % kKernel];
#pragma HLS BIND_OP variable = prod op = mul impl = fabric
                        acc += prod;
                    }
                    const pixel_t v = requantize(acc, shift);
                    LENET_TRACE(TRACE_CONV1, n, (oc * CFG::out_side + y) * CFG::out_side + ox, v);
                    const pixel_t h = (ox & 1) ? max2(hmax[oc], v) : v;
                    hmax[oc] = h;
                    const pixel_t p = max2(vmax[oc][ox / 2], h);
                    if ((ox & 1) && !(y & 1))
                        vmax[oc][ox / 2] = h;
                    pooled.range(8 * oc + 7, 8 * oc) = p;
                    if ((ox & 1) && (y & 1))
                        LENET_TRACE(TRACE_POOL1, n, (oc * CFG::pool_side + y / 2) * CFG::pool_side + ox / 2, p);
                }
                if ((ox & 1) && (y & 1))
                    out.write(pooled);
            }
        }
    }
}

// conv2 (6->16, 5x5 on the 14x14 pool1 map), requantize, 2x2 max-pool.
// One output channel per cycle with all 150 taps in parallel (150 DSP48s),
// the output channel outermost so the weights of one channel are read from
// 150 banks at one address. Emits pool2 values in C order (c, y, x), which
// is fc1's input order (contract section 1).
template <class CFG>
void conv2_pool2(hls::stream<bool> &valid_in, hls::stream<pool1_pixel_t> &in, hls::stream<bool> &valid_out,
                 hls::stream<pixel_t> &out, const weight_t w[CFG::n_weights], const acc_t b[CFG::out_ch], shift_t shift,
                 count_t count) {
    pool1_pixel_t map[CFG::in_side][CFG::in_side];
#pragma HLS ARRAY_PARTITION variable = map type = cyclic factor = kKernel dim = 1
    pool1_pixel_t win[kKernel][kKernel];
#pragma HLS ARRAY_PARTITION variable = win complete dim = 0
    pixel_t hmax;
    pixel_t vmax[CFG::pool_side];
#pragma HLS ARRAY_PARTITION variable = vmax complete

    assert(count >= 1 && count <= kMaxCount && "the top function refuses other counts");
conv2_images:
    for (int n = 0; n < count; n++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxCount avg = 1
        const bool valid = valid_in.read();
        valid_out.write(valid);
        if (!valid)
            continue;

    conv2_load:
        for (int i = 0; i < CFG::in_side * CFG::in_side; i++) {
#pragma HLS PIPELINE II = 1
            map[i / CFG::in_side][i % CFG::in_side] = in.read();
        }

    conv2_channels:
        for (int oc = 0; oc < CFG::out_ch; oc++) {
        conv2_rows:
            for (int y = 0; y < CFG::out_side; y++) {
            conv2_cols:
                for (int x = 0; x < CFG::in_side; x++) {
#pragma HLS PIPELINE II = 1
                    shift_in_column<pool1_pixel_t, CFG::in_side>(win, map, y, x);
                    if (x < kKernel - 1)
                        continue;
                    const int ox = x - (kKernel - 1);
                    acc_t acc = b[oc];
                conv2_taps:
                    for (int t = 0; t < CFG::taps; t++) {
#pragma HLS UNROLL
                        const int ic = t / (kKernel * kKernel), ky = t / kKernel % kKernel, kx = t % kKernel;
                        const pixel_t x_in = win[ky][kx].range(8 * ic + 7, 8 * ic);
                        acc += w[oc * CFG::taps + t] * x_in;
                    }
                    const pixel_t v = requantize(acc, shift);
                    LENET_TRACE(TRACE_CONV2, n, (oc * CFG::out_side + y) * CFG::out_side + ox, v);
                    const pixel_t h = (ox & 1) ? max2(hmax, v) : v;
                    hmax = h;
                    if ((ox & 1) && !(y & 1))
                        vmax[ox / 2] = h;
                    if ((ox & 1) && (y & 1)) {
                        const pixel_t p = max2(vmax[ox / 2], h);
                        LENET_TRACE(TRACE_POOL2, n, (oc * CFG::pool_side + y / 2) * CFG::pool_side + ox / 2, p);
                        out.write(p);
                    }
                }
            }
        }
    }
}

// A fully connected layer: acc[o] = b[o] + sum_i w[o][i] * x[i], then
// requantize (fc1, fc2) or pass the int32 logits on (fc3). CFG::pe products
// of consecutive inputs per cycle; the (output, step) nest is one pipelined
// loop so there is no pipeline drain between outputs.
template <class CFG, class out_t, int TRACE>
void dense(hls::stream<bool> &valid_in, hls::stream<pixel_t> &in, hls::stream<bool> &valid_out, hls::stream<out_t> &out,
           const weight_t w[CFG::n_weights], const acc_t b[CFG::n_out], shift_t shift, count_t count) {
    pixel_t x[CFG::n_in];
#pragma HLS ARRAY_PARTITION variable = x type = cyclic factor = CFG::pe

    assert(count >= 1 && count <= kMaxCount && "the top function refuses other counts");
dense_images:
    for (int n = 0; n < count; n++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxCount avg = 1
        const bool valid = valid_in.read();
        valid_out.write(valid);
        if (!valid)
            continue;

    dense_load:
        for (int i = 0; i < CFG::n_in; i++) {
#pragma HLS PIPELINE II = 1
            x[i] = in.read();
        }

        acc_t acc = 0;
        int o = 0, step = 0;
    dense_mac:
        for (int t = 0; t < CFG::n_out * CFG::steps; t++) {
#pragma HLS PIPELINE II = 1
            acc_t partial = 0;
        dense_pe:
            for (int p = 0; p < CFG::pe; p++) {
#pragma HLS UNROLL
                partial += w[o * CFG::n_in + step * CFG::pe + p] * x[step * CFG::pe + p];
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

} // namespace lenet_ip

#endif // LENET_LAYERS_H
