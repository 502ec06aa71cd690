// Recorded I/O traces: one streaming reader per format behind one interface
// (fio's engine table, for traces). open_trace() picks the reader; next()
// hands out requests sorted by submission time. Memory is bounded by the
// reorder window and by the requests a trace has in flight at once, never by
// its length, so a trace of any size replays in constant memory.
// The formats, and how their units were settled, are in FORMATS.md beside this file.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/request.h"

namespace pollsim {

// One recorded request. Times are the trace's own clock in ns; only
// differences matter to replay.
struct TraceRecord {
    // "Not recorded" for a time. Trace clocks may run below 0 (only
    // differences matter), so -1 cannot serve.
    static constexpr int64_t kNoTime = INT64_MIN;

    int64_t submit_ns = 0;     // guest submission (or the nearest point the format records)
    int64_t complete_ns = kNoTime;  // completion as the recorder saw it
    int64_t service_ns = -1;   // backend service time; -1: not recorded
    int32_t device = 0;        // dense trace device index (>= 0)
    int32_t queue = -1;        // recorded virtqueue; -1: not recorded
    Op op = Op::read;
    bool op_known = true;      // false: not recorded (replay uses workload.rw)
    int64_t bytes = -1;        // -1: not recorded (replay uses workload.bs)
    int64_t offset = -1;       // byte offset; -1: not recorded
    int64_t line = 0;          // line of the submission in the file (messages)

    bool has_complete() const { return complete_ns != kNoTime; }
    // What the backend should spend on it in replay: the recorded service
    // time if the trace has one, else the recorded latency; -1 lets the
    // profile draw it.
    int64_t replay_service_ns() const {
        if (service_ns >= 0) return service_ns;
        if (has_complete()) return std::max<int64_t>(0, complete_ns - submit_ns);
        return -1;
    }
    // When the recorder saw it finish; kNoTime if neither completion nor
    // service is known.
    int64_t recorded_complete_ns() const {
        if (has_complete()) return complete_ns;
        if (service_ns >= 0) return submit_ns + service_ns;
        return kNoTime;
    }
};

struct TraceOptions {
    bool skip_bad = false;          // count malformed lines instead of failing
    int64_t reorder_window = 1024;  // records held to sort slightly out-of-order input
    int32_t device_filter = -1;     // >= 0: hand out only this trace device's records
};

class TraceReader {
public:
    virtual ~TraceReader() = default;
    // Next record in submission order; false at the end of the file.
    // Throws InputError "FILE:LINE: what is wrong".
    virtual bool next(TraceRecord& rec) = 0;
    // Malformed lines skipped (skip_bad) so far.
    virtual int64_t skipped() const = 0;
    // Well-formed lines that are not replayable requests (trims, flushes,
    // merges, other events, completions of requests submitted before the
    // trace started, requests never completed...). Not errors.
    virtual int64_t ignored() const = 0;
    // False when the format records no submission times (fio iolog v2):
    // such a trace can only be replayed closed loop.
    virtual bool timed() const = 0;
    virtual const std::string& format() const = 0;
    virtual const std::string& path() const = 0;
};

// format: auto | csv | jsonl | blkparse | fio-iolog | fio-lat | qemu-log.
// Throws InputError if the file cannot be opened or its format not detected.
std::unique_ptr<TraceReader> open_trace(const std::string& path, const std::string& format,
                                        const TraceOptions& options = {});

// The format `auto` resolves to for this file (reads its first lines).
std::string detect_trace_format(const std::string& path);

// "csv, jsonl, ...": the formats open_trace() knows, without "auto".
std::string trace_format_names();

}  // namespace pollsim
