// Native JSON Lines: one object per line with the fields of native.h, e.g.
//   {"submit_ns": 1000, "complete_ns": 91000, "device": 2, "op": "read", "bytes": 4096}
//   {"t_ns": 5000, "handler": "vq3"}
// '#' starts a comment line (not JSON, but handy in hand-written fixtures).
#include <nlohmann/json.hpp>

#include "sim/json_limits.h"
#include "workloads/trace/native.h"

namespace pollsim::trace {

namespace {

class JsonlParser final : public LineParser {
public:
    void parse(std::string_view line, int64_t line_no, RecordSink& out) override {
        if (line[0] == '#') return;
        if (json_nesting_exceeds(line)) throw ParseError(json_nesting_message());
        nlohmann::json j;
        try {
            j = parse_json_unique(line);
        } catch (const nlohmann::json::parse_error& e) {
            throw ParseError("not valid JSON (" + quoted_excerpt(e.what(), 2 * kMaxQuoted) + ")");
        } catch (const std::invalid_argument& e) {
            throw ParseError(e.what());
        }
        if (!j.is_object()) throw ParseError("expected one JSON object per line");
        NativeRow row;
        for (const auto& [key, value] : j.items()) {
            if (value.is_null()) row.set(key, "");
            else if (value.is_string()) row.set(key, value.get_ref<const std::string&>());
            else if (value.is_number_integer()) row.set(key, value.dump());
            else
                throw ParseError("field '" + key + "' must be an integer (times in ns) or a string, not " +
                                 json_excerpt(value));
        }
        out.emit(row.finish(line_no));
    }
};

}  // namespace

std::unique_ptr<LineParser> make_jsonl_parser() { return std::make_unique<JsonlParser>(); }

}  // namespace pollsim::trace
