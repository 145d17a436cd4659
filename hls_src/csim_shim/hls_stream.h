// Minimal stand-in for Vitis HLS's hls::stream, for g++ C-simulation only.
//
// Used when the Vitis headers are absent: the build puts hls_src/csim_shim
// on the include path, Vitis HLS never does, so its own header wins there.
// It models the behaviour the IP relies on: FIFO order, and that a read from
// an empty stream is a bug (in hardware it would stall forever), so it stops
// the simulation with a message instead of returning garbage.
#ifndef LENET_CSIM_SHIM_HLS_STREAM_H
#define LENET_CSIM_SHIM_HLS_STREAM_H

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

namespace hls {

template <typename T> class stream {
  public:
    stream() : name_("stream") {}
    explicit stream(const char *name) : name_(name) {}
    stream(const stream &) = delete;
    stream &operator=(const stream &) = delete;

    bool empty() const { return fifo_.empty(); }
    bool full() const { return false; } // unbounded: C-sim checks order, not depth
    std::size_t size() const { return fifo_.size(); }

    void write(const T &value) { fifo_.push_back(value); }
    void operator<<(const T &value) { write(value); }

    T read() {
        if (fifo_.empty()) {
            std::fprintf(stderr, "hls::stream '%s': read while empty (the hardware would stall here)\n", name_.c_str());
            std::abort();
        }
        T value = fifo_.front();
        fifo_.pop_front();
        return value;
    }
    void read(T &value) { value = read(); }
    void operator>>(T &value) { value = read(); }

    bool read_nb(T &value) {
        if (fifo_.empty())
            return false;
        value = read();
        return true;
    }
    bool write_nb(const T &value) {
        write(value);
        return true;
    }

  private:
    std::string name_;
    std::deque<T> fifo_;
};

} // namespace hls

#endif // LENET_CSIM_SHIM_HLS_STREAM_H
