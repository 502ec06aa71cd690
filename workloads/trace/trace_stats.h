// Summary of a trace for `pollsim trace stats`, accumulated in one pass with
// fixed-size histograms: no list of requests is kept.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "sim/histogram.h"
#include "workloads/trace/trace_reader.h"

namespace pollsim {

struct TraceDeviceStats {
    int64_t requests = 0, reads = 0, writes = 0, bytes = 0;
};

struct TraceStats {
    std::string path, format;
    bool timed = true;
    int64_t requests = 0, reads = 0, writes = 0, bytes = 0;
    int64_t first_ns = 0, last_ns = 0;
    int64_t skipped = 0, ignored = 0;
    LogLinearHistogram inter_arrival_ns;
    int64_t inter_arrival_max_ns = 0;
    LogLinearHistogram service_ns;  // requests with a recorded service time or latency
    int64_t service_max_ns = 0;
    std::map<int32_t, TraceDeviceStats> devices;

    void add(const TraceRecord& r);
    int64_t duration_ns() const { return requests ? last_ns - first_ns : 0; }
    // Requests per second over the span between the first and last request.
    double arrival_rate_per_s() const;
    nlohmann::ordered_json to_json() const;
    std::string to_text() const;
};

// Reads the whole trace (streaming) and summarises it.
TraceStats trace_stats(const std::string& path, const std::string& format, const TraceOptions& options = {});

}  // namespace pollsim
