#include "workloads/trace/native.h"

#include <algorithm>

namespace pollsim::trace {

const std::vector<std::string>& native_fields() {
    static const std::vector<std::string> f = {"submit_ns", "complete_ns", "service_ns", "device", "queue",
                                               "op",        "bytes",       "offset",     "t_ns",   "handler"};
    return f;
}

NativeField native_field(std::string_view name) {
    const auto& f = native_fields();
    const auto it = std::find(f.begin(), f.end(), name);
    if (it != f.end()) return static_cast<NativeField>(it - f.begin());
    std::string known;
    for (const auto& k : f) {
        if (!known.empty()) known += ", ";
        known += k;
    }
    throw ParseError("unknown field '" + std::string(name) + "' (known: " + known + ")");
}

namespace {

// "" and "-1" are "not recorded" in optional columns: a CSV row can leave a
// cell empty, and -1 is what the rest of pollsim uses for "unknown".
std::optional<int64_t> optional_int(std::string_view v, const char* what) {
    if (v.empty()) return std::nullopt;
    const int64_t x = to_int(v, what);
    if (x == -1) return std::nullopt;
    if (x < 0) throw ParseError(std::string("bad ") + what + " '" + std::string(v) + "' (must be >= 0, or -1 for unknown)");
    return x;
}

// "vq3" -> (3, -1); "vq3.1" -> (3, 1).
std::pair<int64_t, int64_t> parse_handler(std::string_view h) {
    if (h.substr(0, 2) != "vq" || h.size() < 3)
        throw ParseError("bad handler '" + std::string(h) +
                         "' (expected vqD or vqD.Q: the virtqueue of device D, queue Q, that the request arrives on)");
    const std::string_view rest = h.substr(2);
    const size_t dot = rest.find('.');
    if (dot == std::string_view::npos) return {to_nonneg(rest, "handler device"), -1};
    return {to_nonneg(rest.substr(0, dot), "handler device"), to_nonneg(rest.substr(dot + 1), "handler queue")};
}

}  // namespace

void NativeRow::set(NativeField field, std::string_view value) {
    const bool empty = value.empty();
    switch (field) {
    case NativeField::submit_ns: submit_ = empty ? std::nullopt : std::optional(to_int(value, "submit_ns")); break;
    case NativeField::t_ns: t_ = empty ? std::nullopt : std::optional(to_int(value, "t_ns")); break;
    // Any time is allowed (trace clocks may start below 0), except -1: unknown.
    case NativeField::complete_ns:
        complete_ = empty || value == "-1" ? std::nullopt : std::optional(to_int(value, "complete_ns"));
        break;
    case NativeField::service_ns: service_ = optional_int(value, "service_ns"); break;
    case NativeField::device: device_ = optional_int(value, "device"); break;
    case NativeField::queue: queue_ = optional_int(value, "queue"); break;
    case NativeField::bytes:
        bytes_ = optional_int(value, "bytes");
        if (bytes_ == 0) throw ParseError("bad bytes '0' (a request moves at least 1 byte; -1 or empty for unknown)");
        break;
    case NativeField::offset: offset_ = optional_int(value, "offset"); break;
    case NativeField::op: op_ = empty ? std::nullopt : std::optional(to_op(value)); break;
    case NativeField::handler: handler_ = empty ? std::nullopt : std::optional(std::string(value)); break;
    }
}

TraceRecord NativeRow::finish(int64_t line_no) const {
    // Device and queue numbers are int32 in the engine: a larger one used to
    // be clamped to 2^31-1 and merged with every other such device.
    auto index = [](int64_t v, const char* what) {
        if (v > INT32_MAX)
            throw ParseError(std::string(what) + " " + std::to_string(v) + " is out of range (at most 2147483647)");
        return static_cast<int32_t>(v);
    };
    TraceRecord r;
    r.line = line_no;
    if (t_ || handler_) {
        // Per-arrival record: a request reaches virtqueue `handler` at t_ns.
        // The other fields mean what they mean per request.
        if (submit_) throw ParseError("a record has either submit_ns (per request) or t_ns and handler (per arrival), not both");
        if (!t_) throw ParseError("missing t_ns (per-arrival records need t_ns and handler)");
        if (!handler_) throw ParseError("missing handler (per-arrival records need t_ns and handler, e.g. vq3)");
        if (device_ || queue_)
            throw ParseError("a per-arrival record names its device and queue in handler (vqD.Q), not in device or queue");
        const auto [dev, q] = parse_handler(*handler_);
        r.submit_ns = *t_;
        r.device = index(dev, "device");
        r.queue = index(q, "queue");
    } else {
        if (!submit_) throw ParseError("missing submit_ns");
        r.submit_ns = *submit_;
        r.device = index(device_.value_or(0), "device");
        r.queue = queue_ ? index(*queue_, "queue") : -1;
    }
    if (complete_) {
        if (*complete_ < r.submit_ns)
            throw ParseError("complete_ns " + std::to_string(*complete_) + " is before the submission at " +
                             std::to_string(r.submit_ns) + " ns");
        r.complete_ns = *complete_;
    }
    r.service_ns = service_.value_or(-1);
    r.op = op_.value_or(Op::read);
    r.op_known = op_.has_value();
    r.bytes = bytes_.value_or(-1);
    r.offset = offset_.value_or(-1);
    return r;
}

}  // namespace pollsim::trace
