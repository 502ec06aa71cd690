// Limits on JSON read from users (issue 10, item 2): nesting depth is
// bounded before parsing, so no deeply nested line can exhaust the stack
// (nlohmann's dump() and destructor recurse), and messages quote at most a
// short excerpt of a value or of the parser's complaint.
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace pollsim {

// The deepest nesting of arrays and objects a JSON input line may have.
inline constexpr int kMaxJsonDepth = 64;
// The longest excerpt of input quoted in a message.
inline constexpr size_t kMaxQuoted = 80;

// True if text nests arrays/objects deeper than limit (strings skipped).
bool json_nesting_exceeds(std::string_view text, int limit = kMaxJsonDepth);
// The message for a line that does: "JSON nested deeper than 64 levels".
std::string json_nesting_message(int limit = kMaxJsonDepth);

// Parses one line of user JSON: throws std::invalid_argument with a short
// message when it nests too deep or is malformed.
nlohmann::json parse_json_line(std::string_view line);
// nlohmann::json::parse, but a key repeated in one object throws
// std::invalid_argument ("duplicate key ...") instead of keeping the last.
nlohmann::json parse_json_unique(std::string_view line);

// text cut to kMaxQuoted characters ("..." marks the cut).
std::string quoted_excerpt(std::string_view text, size_t max = kMaxQuoted);
// j.dump() cut likewise.
std::string json_excerpt(const nlohmann::json& j, size_t max = kMaxQuoted);

}  // namespace pollsim
