// A C interface to the IP's top function, for the g++ shared library that
// sim/csim.py loads with ctypes (the `csim` backend). Not part of
// the IP: Vitis HLS never sees this file.
#include <cstdint>

#include "lenet.h"
#include "lenet_trace.h"

namespace {

// Where the trace sink stores activations: one int32 buffer per layer of
// contract section 7, `per_image[layer]` values per image slot.
int32_t *const *trace_buffers = 0;
const long *trace_per_image = 0;
long trace_images = 0;

void store_trace(int layer, int image, int index, int value) {
    if (layer < 0 || layer >= lenet_ip::TRACE_LAYERS || image < 0 || image >= trace_images || index < 0 ||
        index >= trace_per_image[layer] || !trace_buffers[layer])
        return;
    trace_buffers[layer][image * trace_per_image[layer] + index] = value;
}

} // namespace

extern "C" {

// Runs one job: COMMAND, COUNT, then the input words with their TLAST flags.
// The input must hold a TLAST (the IP consumes up to it; without one it
// would wait forever, and the C-sim stream aborts). Writes the output words
// and TLAST flags (up to out_cap), the three status outputs into
// regs[0..2] (STATUS, WEIGHTS_CRC, IMAGES_DONE) and the number of input
// words left unread into *unread. Returns the number of output words, or -1
// if they did not fit in out_cap (the job has run; its output is dropped).
long lenet_csim_job(uint32_t command, uint32_t count, const uint32_t *in_words, const uint8_t *in_last, long n_in,
                    uint32_t *out_words, uint8_t *out_last, long out_cap, uint32_t *regs, long *unread) {
    hls::stream<lenet_beat_t> in("in"), out("out");
    for (long i = 0; i < n_in; i++) {
        lenet_beat_t beat;
        beat.data = in_words[i];
        beat.keep = -1;
        beat.strb = -1;
        beat.last = in_last[i] != 0;
        in.write(beat);
    }
    ap_uint<32> status, crc, done;
    lenet(in, out, command, count, status, crc, done);
    regs[0] = status.to_uint();
    regs[1] = crc.to_uint();
    regs[2] = done.to_uint();
    *unread = (long)in.size();
    const long n_out = (long)out.size();
    if (n_out > out_cap)
        return -1;
    for (long i = 0; i < n_out; i++) {
        const lenet_beat_t beat = out.read();
        out_words[i] = beat.data.to_uint();
        out_last[i] = beat.last.to_uint();
    }
    return n_out;
}

// Per-layer capture for the next jobs: `buffers[layer]` (or NULL to skip a
// layer) receives `per_image[layer]` int32 values for each of `images` image
// slots, in C order. images = 0 turns the capture off.
void lenet_csim_trace(int32_t *const *buffers, const long *per_image, long images) {
    trace_buffers = buffers;
    trace_per_image = per_image;
    trace_images = images;
    lenet_ip::trace_sink = images > 0 ? store_trace : 0;
}
}
