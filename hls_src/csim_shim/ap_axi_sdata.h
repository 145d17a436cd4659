// Minimal stand-in for Vitis HLS's hls::axis side-channel struct, for g++
// C-simulation only (Vitis HLS uses its own header; see hls_stream.h here).
//
// Only what an AXI4-Stream beat without TUSER/TID/TDEST carries: TDATA,
// TKEEP, TSTRB and TLAST. The template takes the same four leading
// parameters as Vitis's, so `hls::axis<ap_uint<32>, 0, 0, 0>` names the same
// type in both builds; non-zero side-channel widths are refused.
#ifndef LENET_CSIM_SHIM_AP_AXI_SDATA_H
#define LENET_CSIM_SHIM_AP_AXI_SDATA_H

#include <cstddef>

#include "ap_int.h"

namespace hls {

template <typename T, std::size_t WUser, std::size_t WId, std::size_t WDest> struct axis {
    static_assert(WUser == 0 && WId == 0 && WDest == 0,
                  "csim_shim models AXI4-Stream beats without TUSER/TID/TDEST only");
    T data;
    ap_uint<(T::width + 7) / 8> keep;
    ap_uint<(T::width + 7) / 8> strb;
    ap_uint<1> last;
};

} // namespace hls

#endif // LENET_CSIM_SHIM_AP_AXI_SDATA_H
