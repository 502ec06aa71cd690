// What a QEMU event loop traced about itself, read from its log backend
// (-trace ... -msg timestamp=on -D FILE): the counts `pollsim validate` sets
// beside the engine's. The request records of the same logs are read by the
// qemu-log trace reader (qemu_log.cpp).
#pragma once
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "sim/histogram.h"

namespace pollsim {

// What one side did, counted the way QEMU traces it.
struct LoopFigures {
    int64_t requests = 0;        // virtio_blk_handle_read + _write
    int64_t poll_phases = 0;     // run_poll_handlers_begin
    int64_t poll_successes = 0;  // run_poll_handlers_end with progress 1
    int64_t grows = 0;           // poll_grow
    int64_t shrinks = 0;         // poll_shrink
    int64_t sum_poll_max_ns = 0; // sum of run_poll_handlers_begin's max_ns
    std::array<int64_t, Pow2Histogram::kBuckets> poll_max_hist{};  // max_ns in power-of-two buckets
    std::optional<double> iothread_cpu;  // busy fraction, where known

    double mean_poll_ns() const {
        return poll_phases ? static_cast<double>(sum_poll_max_ns) / static_cast<double>(poll_phases) : 0.0;
    }
};

// A window of the log in ns from its first time-stamped line: [from_ns, to_ns).
struct LogWindow {
    int64_t from_ns = 0;
    int64_t to_ns = std::numeric_limits<int64_t>::max();
    bool contains(int64_t rel_ns) const { return rel_ns >= from_ns && rel_ns < to_ns; }
};

struct QemuLogScan {
    LoopFigures figures;      // counted inside the window
    int64_t first_ns = 0;     // first time-stamped line (log clock, ns)
    int64_t last_ns = 0;      // last time-stamped line
    int64_t first_request_ns = 0;
    int64_t stamped_lines = 0;
    int devices = 0;          // distinct vdev pointers among the requests
    std::string timestamp_format;  // "tid@sec.usec" (QEMU 7.2) or "iso8601" (10.0 on)
};

// Reads a QEMU log (plain or xz). Throws InputError "FILE:LINE: ..." for a
// malformed line of an event it counts, and for a log without requests.
QemuLogScan scan_qemu_log(const std::string& path, const LogWindow& window);

}  // namespace pollsim
