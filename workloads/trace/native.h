// The native trace record, shared by the CSV and JSON Lines readers (and the
// writer of `pollsim trace synth`): the same field names mean the same thing
// in both.
//   per request: submit_ns [, complete_ns] [, service_ns] [, device] [, queue] [, op] [, bytes] [, offset]
//   per arrival: t_ns, handler [, complete_ns] ... [, offset]   (no device, queue: handler "vq3" =
//                device 3; "vq3.1" = device 3, queue 1)
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workloads/trace/trace_parse.h"

namespace pollsim::trace {

enum class NativeField { submit_ns, complete_ns, service_ns, device, queue, op, bytes, offset, t_ns, handler };

// Field names, in NativeField order.
const std::vector<std::string>& native_fields();
// The field of that name; ParseError "unknown field ... (known: ...)" otherwise.
NativeField native_field(std::string_view name);

class NativeRow {
public:
    // A field given as text (CSV cell, JSON string or number). Empty or -1
    // means "not recorded" for the optional fields.
    void set(NativeField field, std::string_view value);
    void set(std::string_view name, std::string_view value) { set(native_field(name), value); }
    // Checks the row is complete and consistent; throws ParseError.
    TraceRecord finish(int64_t line_no) const;

private:
    std::optional<int64_t> submit_, t_, complete_, service_, device_, queue_, bytes_, offset_;
    std::optional<Op> op_;
    std::optional<std::string> handler_;
};

}  // namespace pollsim::trace
