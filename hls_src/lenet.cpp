// The LeNet IP: job control, the weights load, and the INFER dataflow.
//
// LOAD_WEIGHTS runs a pipelined loop (one blob word per cycle) that checks
// the header, computes the CRC and writes the weights into on-chip memories
// that keep them across jobs. INFER is a DATAFLOW region of seven processes
// (read -> conv1+pool1 -> conv2+pool2 -> fc1 -> fc2 -> fc3 -> write), so
// consecutive images overlap and the slowest stage sets the interval
// (docs/hls.md). Errors follow contract section 6: the input is always
// consumed up to TLAST and the output always ends with the trailer.
#include "lenet.h"

#include "lenet_config.h"
#include "lenet_layers.h"

namespace lenet_ip {

#ifndef __SYNTHESIS__
trace_sink_t trace_sink = 0;
#endif

namespace {

// --- the weights: static, so they live in on-chip memory across jobs ----------
// Stored in the shape each stage reads them in one cycle; the partitions in
// lenet() make every index's bank a constant (docs/hls.md):
// conv1 [oc][tap] all 150 at once (registers), conv2 [oc][tap] one output
// channel's 150 taps (150 banks), dense [o * steps + step][pe] (pe banks).
weight_t conv1_w[conv1_config::out_ch][conv1_config::taps];
acc_t conv1_b[conv1_config::out_ch];
weight_t conv2_w[conv2_config::out_ch][conv2_config::taps];
acc_t conv2_b[conv2_config::out_ch];
weight_t fc1_w[fc1_config::rows][fc1_config::pe];
acc_t fc1_b[fc1_config::n_out];
weight_t fc2_w[fc2_config::rows][fc2_config::pe];
acc_t fc2_b[fc2_config::n_out];
weight_t fc3_w[fc3_config::rows][fc3_config::pe];
acc_t fc3_b[fc3_config::n_out];
shift_t shift_conv1, shift_conv2, shift_fc1, shift_fc2;
bool weights_valid = false; // a failed or partial load leaves this false
word_t weights_crc_reg = 0;

const word_t kCrcInit = LENET_CRC32_INIT;
const int kHeaderWords = LENET_HEADER_WORDS;
const int kCrcWord = LENET_CRC_WORD_INDEX;
const int kBlobWords = LENET_BLOB_WORDS;

lenet_beat_t make_beat(word_t data, bool last) {
#pragma HLS INLINE
    lenet_beat_t beat;
    beat.data = data;
    beat.keep = -1; // contract section 3: TKEEP/TSTRB always all ones
    beat.strb = -1;
    beat.last = last;
    return beat;
}

void write_trailer(hls::stream<lenet_beat_t> &out, errcode_t error, count_t done) {
    const word_t mark = LENET_TRAILER_MARK;
    const word_t trailer = (mark << LENET_TRAILER_MARK_SHIFT) | (word_t(error) << LENET_TRAILER_ERROR_SHIFT) |
                           (word_t(done) & word_t(LENET_TRAILER_COUNT_MASK));
    out.write(make_beat(trailer, true));
}

void drain_to_tlast(hls::stream<lenet_beat_t> &in) {
    bool last = false;
drain:
    while (!last) {
#pragma HLS PIPELINE II = 1
        last = in.read().last;
    }
}

// --- LOAD_WEIGHTS ------------------------------------------------------------------

errcode_t header_error(int index, word_t word) {
#pragma HLS INLINE
    if (index == 0 && word != LENET_BLOB_MAGIC)
        return LENET_ERR_BAD_MAGIC;
    if (index == 1 && word != LENET_BLOB_VERSION)
        return LENET_ERR_BAD_VERSION;
    if (index == 2 && word != LENET_BLOB_WORDS)
        return LENET_ERR_BAD_LENGTH;
    if (index == 3 && (word & ~word_t(LENET_SHIFT_MASK)) != 0)
        return LENET_ERR_BAD_SHIFT;
    return LENET_ERR_OK;
}

// --- weight rows: the int8 sections arrive four bytes a word ------------------------
// Every word is shifted into `stage`, a register row long enough for the
// widest weight row (150) plus a word's other bytes. When a word completes a
// row of R bytes, the row is written to its memory in one cycle: byte t to
// bank t, at the row's address. The row ends `offset` bytes (0..3) before the
// stage's end; only offsets that are multiples of gcd(R, 4) occur (sections
// start word-aligned), so for R = 4, 8, 40 there is no choice and for R = 150
// a choice of two, each a constant index.
const int kStageBytes = conv2_config::taps + 3;
static_assert(conv1_config::n_weights + 3 <= kStageBytes && fc1_config::pe + 3 <= kStageBytes &&
                  fc2_config::pe + 3 <= kStageBytes && fc3_config::pe + 3 <= kStageBytes,
              "the stage holds the widest weight row and the rest of its last word");

// The load's row state: `have` bytes of the current row staged before this
// word, `row` rows of the current section written so far.
struct row_count {
    int have;
    int row;
};

void stage_word(weight_t stage[kStageBytes], word_t word) {
#pragma HLS INLINE
stage_shift:
    for (int i = 0; i < kStageBytes - 4; i++) {
#pragma HLS UNROLL
        stage[i] = stage[i + 4];
    }
stage_fill:
    for (int k = 0; k < 4; k++) {
#pragma HLS UNROLL
        stage[kStageBytes - 4 + k] = word.range(8 * k + 7, 8 * k);
    }
}

constexpr int gcd4(int r) {
    return r % 4 == 0 ? 4 : r % 2 == 0 ? 2 : 1;
}

// After stage_word for a word of a section of rows of R bytes: true if the
// word completed a row, which is then in `out`.
template <int R>
bool row_complete(const weight_t stage[kStageBytes], row_count &rows, bool section_start, weight_t out[R]) {
#pragma HLS INLINE
    if (section_start) {
        rows.have = 0;
        rows.row = 0;
    }
    const int filled = rows.have + 4;
    const bool done = filled >= R;
    const int offset = filled - R; // bytes of the word past the row's end, when done
    rows.have = done ? offset : filled;
row_select:
    for (int t = 0; t < R; t++) {
#pragma HLS UNROLL
        weight_t v = stage[kStageBytes - R + t];
    row_offsets:
        for (int c = gcd4(R); c < 4; c += gcd4(R)) {
#pragma HLS UNROLL
            if (offset == c)
                v = stage[kStageBytes - R - c + t];
        }
        out[t] = v;
    }
    return done;
}

// One dense layer's word: a completed row of pe weights goes to row `row`.
template <class CFG>
void store_dense_word(const weight_t stage[kStageBytes], row_count &rows, bool section_start,
                      weight_t w[CFG::rows][CFG::pe]) {
#pragma HLS INLINE
    weight_t row[CFG::pe];
#pragma HLS ARRAY_PARTITION variable = row type = complete
    if (row_complete<CFG::pe>(stage, rows, section_start, row)) {
    dense_row:
        for (int p = 0; p < CFG::pe; p++) {
#pragma HLS UNROLL
            w[rows.row][p] = row[p];
        }
        rows.row++;
    }
}

void store_word(int index, word_t word, weight_t stage[kStageBytes], row_count &rows) {
#pragma HLS INLINE
    weight_t row[conv2_config::taps];
#pragma HLS ARRAY_PARTITION variable = row type = complete
    stage_word(stage, word);
    if (index == kHeaderWords - 1) {
        shift_conv1 = word.range(0 * LENET_SHIFT_FIELD_STRIDE + LENET_SHIFT_FIELD_BITS - 1, 0);
        shift_conv2 = word.range(1 * LENET_SHIFT_FIELD_STRIDE + LENET_SHIFT_FIELD_BITS - 1, LENET_SHIFT_FIELD_STRIDE);
        shift_fc1 = word.range(2 * LENET_SHIFT_FIELD_STRIDE + LENET_SHIFT_FIELD_BITS - 1, 2 * LENET_SHIFT_FIELD_STRIDE);
        shift_fc2 = word.range(3 * LENET_SHIFT_FIELD_STRIDE + LENET_SHIFT_FIELD_BITS - 1, 3 * LENET_SHIFT_FIELD_STRIDE);
    } else if (index < (int)LENET_CONV1_W_OFFSET_WORDS) {
        // header words: checked, not stored
    } else if (index < (int)LENET_CONV1_B_OFFSET_WORDS) {
        // conv1.w is one row of 150 (its 2 padding bytes fall past the row's end).
        if (row_complete<conv1_config::n_weights>(stage, rows, index == (int)LENET_CONV1_W_OFFSET_WORDS, row)) {
        conv1_store:
            for (int i = 0; i < conv1_config::n_weights; i++) {
#pragma HLS UNROLL
                conv1_w[i / conv1_config::taps][i % conv1_config::taps] = row[i];
            }
        }
    } else if (index < (int)LENET_CONV2_W_OFFSET_WORDS) {
        // conv1.b: a shift register, all six read at once by conv1.
    conv1_bias_shift:
        for (int i = 0; i < conv1_config::out_ch - 1; i++) {
#pragma HLS UNROLL
            conv1_b[i] = conv1_b[i + 1];
        }
        conv1_b[conv1_config::out_ch - 1] = word;
    } else if (index < (int)LENET_CONV2_B_OFFSET_WORDS) {
        if (row_complete<conv2_config::taps>(stage, rows, index == (int)LENET_CONV2_W_OFFSET_WORDS, row)) {
        conv2_store:
            for (int t = 0; t < conv2_config::taps; t++) {
#pragma HLS UNROLL
                conv2_w[rows.row][t] = row[t];
            }
            rows.row++;
        }
    } else if (index < (int)LENET_FC1_W_OFFSET_WORDS) {
        conv2_b[index - LENET_CONV2_B_OFFSET_WORDS] = word;
    } else if (index < (int)LENET_FC1_B_OFFSET_WORDS) {
        store_dense_word<fc1_config>(stage, rows, index == (int)LENET_FC1_W_OFFSET_WORDS, fc1_w);
    } else if (index < (int)LENET_FC2_W_OFFSET_WORDS) {
        fc1_b[index - LENET_FC1_B_OFFSET_WORDS] = word;
    } else if (index < (int)LENET_FC2_B_OFFSET_WORDS) {
        store_dense_word<fc2_config>(stage, rows, index == (int)LENET_FC2_W_OFFSET_WORDS, fc2_w);
    } else if (index < (int)LENET_FC3_W_OFFSET_WORDS) {
        fc2_b[index - LENET_FC2_B_OFFSET_WORDS] = word;
    } else if (index < (int)LENET_FC3_B_OFFSET_WORDS) {
        store_dense_word<fc3_config>(stage, rows, index == (int)LENET_FC3_W_OFFSET_WORDS, fc3_w);
    } else if (index < kCrcWord) {
        fc3_b[index - LENET_FC3_B_OFFSET_WORDS] = word;
    }
}

// Consumes the blob up to TLAST. Checks happen in arrival order and the
// first error wins; a word's contents are checked before its TLAST, and at
// the CRC word BAD_CRC before LATE_TLAST (contract section 6).
void load_weights(hls::stream<lenet_beat_t> &in, errcode_t &error, word_t &crc_out) {
    word_t crc = kCrcInit;
    errcode_t err = LENET_ERR_OK;
    int index = 0;
    bool last = false;
    weight_t stage[kStageBytes];
#pragma HLS ARRAY_PARTITION variable = stage type = complete
stage_clear:
    for (int i = 0; i < kStageBytes; i++) {
#pragma HLS UNROLL
        stage[i] = 0; // never stored before a section's first row is full; cleared so no read is undefined
    }
    row_count rows = {0, 0};
load_words:
    while (!last) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kBlobWords avg = kBlobWords
        const lenet_beat_t beat = in.read();
        last = beat.last;
        if (err == LENET_ERR_OK) {
            if (index < kHeaderWords)
                err = header_error(index, beat.data);
            if (err == LENET_ERR_OK && index < kCrcWord) {
                store_word(index, beat.data, stage, rows);
                crc = crc32_word(crc, beat.data);
                if (last)
                    err = LENET_ERR_EARLY_TLAST;
            } else if (err == LENET_ERR_OK && index == kCrcWord) {
                if (beat.data != (crc ^ kCrcInit))
                    err = LENET_ERR_BAD_CRC;
                else if (!last)
                    err = LENET_ERR_LATE_TLAST;
            }
        }
        if (index <= kCrcWord)
            index++; // saturates past the blob: later words are only being discarded
    }
    error = err;
    crc_out = crc ^ kCrcInit;
}

// --- INFER: the dataflow processes around the layers ------------------------------

// Reads whole images and passes on only complete ones, so an image cut by an
// early TLAST never reaches the layers. After an early TLAST the remaining
// slots get "invalid" tokens and no data; after a job's last word without
// TLAST the words up to TLAST are discarded.
void read_images(hls::stream<lenet_beat_t> &in, hls::stream<bool> &valid_out, hls::stream<word_t> &words,
                 hls::stream<errcode_t> &error_out, const count_t &count) {
    word_t image[kImageWords];
    bool stopped = false, late = false;
    assert(count >= 1 && count <= kMaxCount && "the top function refuses other counts");
read_slots:
    for (int n = 0; n < count; n++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxCount avg = 1
        bool complete = false;
        if (!stopped) {
        read_words:
            for (int i = 0; i < kImageWords; i++) {
#pragma HLS PIPELINE II = 1
                const lenet_beat_t beat = in.read();
                image[i] = beat.data;
                const bool job_end = n == count - 1 && i == kImageWords - 1;
                complete = i == kImageWords - 1;
                if (job_end)
                    late = !beat.last;
                if (beat.last && !job_end) {
                    stopped = true;
                    break;
                }
            }
        }
        valid_out.write(complete);
        if (complete) {
        read_forward:
            for (int i = 0; i < kImageWords; i++) {
#pragma HLS PIPELINE II = 1
                words.write(image[i]);
            }
        }
    }
    if (late)
        drain_to_tlast(in);
    error_out.write(stopped ? errcode_t(LENET_ERR_EARLY_TLAST)
                    : late  ? errcode_t(LENET_ERR_LATE_TLAST)
                            : errcode_t(LENET_ERR_OK));
}

// Per valid image: the class (argmax, ties to the lowest index) and the ten
// logits; then the trailer, which carries the reader's error.
void write_results(hls::stream<bool> &valid_in, hls::stream<acc_t> &logits_in, hls::stream<errcode_t> &error_in,
                   hls::stream<lenet_beat_t> &out, const count_t &count, errcode_t &error, count_t &done) {
    acc_t logits[kClasses];
    count_t n_done = 0;
write_slots:
    for (int n = 0; n < count; n++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = kMaxCount avg = 1
        if (!valid_in.read())
            continue;
        int best = 0;
        acc_t best_logit = 0;
    write_argmax:
        for (int c = 0; c < kClasses; c++) {
#pragma HLS PIPELINE II = 1
            const acc_t v = logits_in.read();
            logits[c] = v;
            if (c == 0 || v > best_logit) { // strictly greater: ties keep the lowest index
                best = c;
                best_logit = v;
            }
        }
        out.write(make_beat(best, false));
    write_logits:
        for (int c = 0; c < kClasses; c++) {
#pragma HLS PIPELINE II = 1
            out.write(make_beat(word_t(logits[c]), false));
        }
        n_done++;
    }
    error = error_in.read();
    done = n_done;
    write_trailer(out, error, n_done);
}

// The weights come in as arguments, not as globals, so that each memory is
// an input read by exactly one process of the region. Nothing is passed to a
// process by value (UG1399, "Canonical Forms": expressions passed by value,
// and initializations by constructors such as an ap_uint copy, are not
// canonical): COUNT and the shifts are const references to this function's
// arguments, and fc3, which has no shift, takes none.
void infer(hls::stream<lenet_beat_t> &in, hls::stream<lenet_beat_t> &out, const count_t &count, errcode_t &error,
           count_t &done, const weight_t c1_w[conv1_config::out_ch][conv1_config::taps],
           const acc_t c1_b[conv1_config::out_ch], const shift_t &c1_s,
           const weight_t c2_w[conv2_config::out_ch][conv2_config::taps], const acc_t c2_b[conv2_config::out_ch],
           const shift_t &c2_s, const weight_t f1_w[fc1_config::rows][fc1_config::pe],
           const acc_t f1_b[fc1_config::n_out], const shift_t &f1_s,
           const weight_t f2_w[fc2_config::rows][fc2_config::pe], const acc_t f2_b[fc2_config::n_out],
           const shift_t &f2_s, const weight_t f3_w[fc3_config::rows][fc3_config::pe],
           const acc_t f3_b[fc3_config::n_out]) {
    // Seven processes, one image slot at a time each; the FIFOs between them
    // hold an image's worth so a stage can run an image ahead of the next.
#pragma HLS DATAFLOW
    hls::stream<bool> v_read("v_read"), v_conv1("v_conv1"), v_conv2("v_conv2"), v_fc1("v_fc1"), v_fc2("v_fc2"),
        v_fc3("v_fc3");
    hls::stream<word_t> words("words");
    hls::stream<pool1_pixel_t> pool1("pool1");
    hls::stream<pixel_t> pool2("pool2"), fc1_out("fc1_out"), fc2_out("fc2_out");
    hls::stream<acc_t> logits("logits");
    hls::stream<errcode_t> read_error("read_error");
#pragma HLS STREAM variable = v_read depth = kDepthTokens
#pragma HLS STREAM variable = v_conv1 depth = kDepthTokens
#pragma HLS STREAM variable = v_conv2 depth = kDepthTokens
#pragma HLS STREAM variable = v_fc1 depth = kDepthTokens
#pragma HLS STREAM variable = v_fc2 depth = kDepthTokens
#pragma HLS STREAM variable = v_fc3 depth = kDepthTokens
#pragma HLS STREAM variable = words depth = kDepthWords
#pragma HLS STREAM variable = pool1 depth = kDepthPool1
#pragma HLS STREAM variable = pool2 depth = kDepthPool2
#pragma HLS STREAM variable = fc1_out depth = kDepthFc1
#pragma HLS STREAM variable = fc2_out depth = kDepthFc2
#pragma HLS STREAM variable = logits depth = kDepthLogits

    read_images(in, v_read, words, read_error, count);
    conv1_pool1<conv1_config>(v_read, words, v_conv1, pool1, c1_w, c1_b, c1_s, count);
    conv2_pool2<conv2_config>(v_conv1, pool1, v_conv2, pool2, c2_w, c2_b, c2_s, count);
    dense<fc1_config, TRACE_FC1>(v_conv2, pool2, v_fc1, fc1_out, f1_w, f1_b, f1_s, count);
    dense<fc2_config, TRACE_FC2>(v_fc1, fc1_out, v_fc2, fc2_out, f2_w, f2_b, f2_s, count);
    dense_logits<fc3_config, TRACE_FC3>(v_fc2, fc2_out, v_fc3, logits, f3_w, f3_b, count);
    write_results(v_fc3, logits, read_error, out, count, error, done);
}

} // namespace
} // namespace lenet_ip

using namespace lenet_ip;

// The register offsets of contract section 3. Pragma arguments are not
// macro-expanded reliably, so the offsets are literals, checked here against
// the generated contract header (and by tests/test_hls_csim.py). Outputs are
// 16 bytes apart because Vitis gives each output 16 bytes (data, ap_vld and two
// unused words) and moves an argument placed inside another's range to the end
// of the map (UG1399, "S_AXILITE Offset Option"; docs/contract.md section 3).
static_assert(LENET_REG_COMMAND == 0x10 && LENET_REG_COUNT == 0x18, "argument offsets drifted from the contract");
static_assert(LENET_REG_STATUS == 0x20 && LENET_REG_WEIGHTS_CRC == 0x30 && LENET_REG_IMAGES_DONE == 0x40,
              "status offsets drifted from the contract");

void lenet(hls::stream<lenet_beat_t> &in, hls::stream<lenet_beat_t> &out, ap_uint<32> command, ap_uint<32> count,
           ap_uint<32> &status, ap_uint<32> &weights_crc, ap_uint<32> &images_done) {
    // Interface: AXI4-Stream in/out (ports in_r/out_r), ap_ctrl_hs block
    // control and every argument on the s_axi_control AXI4-Lite slave.
#pragma HLS INTERFACE mode = axis port = in
#pragma HLS INTERFACE mode = axis port = out
#pragma HLS INTERFACE mode = ap_ctrl_hs port = return
#pragma HLS INTERFACE mode = s_axilite port = return bundle = control
#pragma HLS INTERFACE mode = s_axilite port = command offset = 0x10 bundle = control
#pragma HLS INTERFACE mode = s_axilite port = count offset = 0x18 bundle = control
#pragma HLS INTERFACE mode = s_axilite port = status offset = 0x20 bundle = control
#pragma HLS INTERFACE mode = s_axilite port = weights_crc offset = 0x30 bundle = control
#pragma HLS INTERFACE mode = s_axilite port = images_done offset = 0x40 bundle = control
    // Weight banks: what each stage's pipelined loop reads per cycle, with
    // the tap or pe index as the bank, a constant after unrolling.
    // conv1: all 150 weights and 6 biases at once (registers); conv2: the 150
    // taps of one output channel (150 banks of 16); fc: one row of pe (pe
    // banks). The biases of conv2 and fc are one bank each, one read a cycle.
#pragma HLS ARRAY_PARTITION variable = conv1_w type = complete dim = 0
#pragma HLS ARRAY_PARTITION variable = conv1_b type = complete
#pragma HLS ARRAY_PARTITION variable = conv2_w type = complete dim = 2
#pragma HLS ARRAY_PARTITION variable = fc1_w type = complete dim = 2
#pragma HLS ARRAY_PARTITION variable = fc2_w type = complete dim = 2
#pragma HLS ARRAY_PARTITION variable = fc3_w type = complete dim = 2
    // Reset invalidates the loaded weights (contract section 3). The default
    // config_rtl -reset control leaves globals out of ap_rst_n, so ask for it;
    // the weight memories themselves keep their contents, unread until a load.
#pragma HLS RESET variable = weights_valid
#pragma HLS RESET variable = weights_crc_reg
    errcode_t error = LENET_ERR_OK;
    count_t done = 0;

    if (command == LENET_CMD_LOAD_WEIGHTS) {
        // The load overwrites the memories in place, so only a complete good
        // blob leaves them valid. The flag and the CRC change once, after the
        // last word and the trailer, as the status outputs below: nothing of
        // the job's state is visible before the job ends (no other job can
        // run meanwhile, so nothing reads the half-written memories).
        word_t crc;
        load_weights(in, error, crc);
        write_trailer(out, error, 0);
        weights_valid = error == LENET_ERR_OK;
        weights_crc_reg = error == LENET_ERR_OK ? crc : word_t(0);
    } else if (command != LENET_CMD_INFER || count == 0 || count > LENET_MAX_COUNT || !weights_valid) {
        error = command != LENET_CMD_INFER                ? errcode_t(LENET_ERR_BAD_COMMAND)
                : (count == 0 || count > LENET_MAX_COUNT) ? errcode_t(LENET_ERR_BAD_COUNT)
                                                          : errcode_t(LENET_ERR_NO_WEIGHTS);
        drain_to_tlast(in);
        write_trailer(out, error, 0);
    } else {
        const count_t images = count;
        infer(in, out, images, error, done, conv1_w, conv1_b, shift_conv1, conv2_w, conv2_b, shift_conv2, fc1_w, fc1_b,
              shift_fc1, fc2_w, fc2_b, shift_fc2, fc3_w, fc3_b);
    }

    // The status outputs, written once, at the end of every job.
    status = error;
    weights_crc = weights_crc_reg;
    images_done = done;
}
