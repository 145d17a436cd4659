// Per-layer trace hook for C-simulation (contract section 7 dumps).
//
// Each stage reports every activation it computes, with its image slot in the
// job and its C-order index within the layer. The C-sim library installs a
// sink that stores them; nothing is traced unless a sink is set, and under
// synthesis the hook compiles to nothing, so the hardware is unchanged.
#ifndef LENET_TRACE_H
#define LENET_TRACE_H

namespace lenet_ip {

// The layers in the order of lenet_pynq.contract.ACTIVATIONS.
enum trace_layer {
    TRACE_INPUT = 0,
    TRACE_CONV1,
    TRACE_POOL1,
    TRACE_CONV2,
    TRACE_POOL2,
    TRACE_FC1,
    TRACE_FC2,
    TRACE_FC3,
    TRACE_LAYERS
};

#ifndef __SYNTHESIS__
typedef void (*trace_sink_t)(int layer, int image, int index, int value);
extern trace_sink_t trace_sink;
#define LENET_TRACE(layer, image, index, value)                                                                        \
    do {                                                                                                               \
        if (lenet_ip::trace_sink)                                                                                      \
            lenet_ip::trace_sink((layer), (int)(image), (int)(index), (int)(value));                                   \
    } while (0)
#else
#define LENET_TRACE(layer, image, index, value)                                                                        \
    do {                                                                                                               \
    } while (0)
#endif

} // namespace lenet_ip

#endif // LENET_TRACE_H
