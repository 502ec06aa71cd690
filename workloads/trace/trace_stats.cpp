#include "workloads/trace/trace_stats.h"

#include <cmath>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>


namespace pollsim {

void TraceStats::add(const TraceRecord& r) {
    if (requests == 0) first_ns = last_ns = r.submit_ns;
    else {
        const int64_t gap = r.submit_ns - last_ns;  // records arrive sorted
        inter_arrival_ns.add(gap);
        inter_arrival_max_ns = std::max(inter_arrival_max_ns, gap);
        last_ns = r.submit_ns;
    }
    ++requests;
    const int64_t b = std::max<int64_t>(0, r.bytes);
    bytes += b;
    (r.op == Op::write ? writes : reads) += 1;
    TraceDeviceStats& d = devices[r.device];
    ++d.requests;
    (r.op == Op::write ? d.writes : d.reads) += 1;
    d.bytes += b;
    const int64_t svc = r.replay_service_ns();
    if (svc >= 0) {
        service_ns.add(svc);
        service_max_ns = std::max(service_max_ns, svc);
    }
}

double TraceStats::arrival_rate_per_s() const {
    return duration_ns() > 0 ? static_cast<double>(requests - 1) * 1e9 / static_cast<double>(duration_ns()) : 0.0;
}

namespace {

// A histogram quantile is a bucket midpoint: never report one above the true maximum.
int64_t quantile_ns(const LogLinearHistogram& h, double q, int64_t max_ns) {
    return std::min<int64_t>(std::llround(h.quantile(q)), max_ns);
}

std::string human(int64_t ns) {
    std::ostringstream os;
    os << std::fixed;
    const double v = static_cast<double>(ns);
    if (ns < 0) os << ns << " ns";
    else if (ns < 1000) os << ns << " ns";
    else if (ns < 1000000) os << std::setprecision(2) << v / 1e3 << " us";
    else if (ns < 1000000000) os << std::setprecision(3) << v / 1e6 << " ms";
    else os << std::setprecision(3) << v / 1e9 << " s";
    return os.str();
}

nlohmann::ordered_json percentiles(const LogLinearHistogram& h, int64_t max_ns) {
    nlohmann::ordered_json j;
    j["count"] = h.count();
    j["mean_ns"] = h.mean();
    for (const auto& [name, q] : {std::pair{"p50_ns", 0.5}, {"p90_ns", 0.9}, {"p99_ns", 0.99}})
        j[name] = quantile_ns(h, q, max_ns);
    j["max_ns"] = max_ns;
    return j;
}

std::string percentile_line(const LogLinearHistogram& h, int64_t max_ns) {
    if (h.count() == 0) return "none recorded";
    std::ostringstream os;
    os << "p50 " << human(quantile_ns(h, 0.5, max_ns)) << "  p90 " << human(quantile_ns(h, 0.9, max_ns)) << "  p99 "
       << human(quantile_ns(h, 0.99, max_ns)) << "  max " << human(max_ns) << "  (" << h.count() << " values)";
    return os.str();
}

}  // namespace

nlohmann::ordered_json TraceStats::to_json() const {
    nlohmann::ordered_json j;
    j["path"] = path;
    j["format"] = format;
    j["timed"] = timed;
    j["requests"] = requests;
    j["reads"] = reads;
    j["writes"] = writes;
    j["bytes"] = bytes;
    j["first_ns"] = first_ns;
    j["last_ns"] = last_ns;
    j["duration_ns"] = duration_ns();
    j["arrival_rate_per_s"] = arrival_rate_per_s();
    j["inter_arrival"] = percentiles(inter_arrival_ns, inter_arrival_max_ns);
    j["service"] = percentiles(service_ns, service_max_ns);
    j["skipped_lines"] = skipped;
    j["ignored_lines"] = ignored;
    auto& devs = j["devices"] = nlohmann::ordered_json::array();
    for (const auto& [id, d] : devices)
        devs.push_back({{"device", id}, {"requests", d.requests}, {"reads", d.reads}, {"writes", d.writes},
                        {"bytes", d.bytes}});
    return j;
}

std::string TraceStats::to_text() const {
    std::ostringstream os;
    os << std::fixed;
    os << "trace          " << path << " (" << format << ")\n";
    os << "requests       " << requests << " (" << reads << " reads, " << writes << " writes, " << std::setprecision(2)
       << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB)\n";
    if (timed) {
        os << "duration       " << human(duration_ns()) << " (" << first_ns << " .. " << last_ns << " ns)\n";
        os << "arrival rate   " << std::setprecision(1) << arrival_rate_per_s() << " requests/s\n";
        os << "inter-arrival  " << percentile_line(inter_arrival_ns, inter_arrival_max_ns) << "\n";
    } else {
        os << "duration       not recorded (no timestamps: replay closed loop only)\n";
    }
    os << "service time   " << percentile_line(service_ns, service_max_ns) << "\n";
    os << "lines          " << skipped << " malformed skipped, " << ignored << " not requests (ignored)\n";
    os << "per device\n  device   requests   share    reads   writes        MiB\n";
    for (const auto& [id, d] : devices)
        os << "  " << std::setw(6) << id << " " << std::setw(10) << d.requests << " " << std::setw(6)
           << std::setprecision(1) << (requests ? 100.0 * static_cast<double>(d.requests) / static_cast<double>(requests) : 0)
           << "% " << std::setw(8) << d.reads << " " << std::setw(8) << d.writes << " " << std::setw(10)
           << std::setprecision(2) << static_cast<double>(d.bytes) / (1024.0 * 1024.0) << "\n";
    return os.str();
}

TraceStats trace_stats(const std::string& path, const std::string& format, const TraceOptions& options) {
    auto reader = open_trace(path, format, options);
    TraceStats s;
    TraceRecord r;
    while (reader->next(r)) s.add(r);
    s.path = path;
    s.format = reader->format();
    s.timed = reader->timed();
    s.skipped = reader->skipped();
    s.ignored = reader->ignored();
    return s;
}

}  // namespace pollsim
