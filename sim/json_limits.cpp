#include "sim/json_limits.h"

#include <set>
#include <vector>

#include <stdexcept>

namespace pollsim {

bool json_nesting_exceeds(std::string_view text, int limit) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return true;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

std::string json_nesting_message(int limit) {
    return "JSON nested deeper than " + std::to_string(limit) + " levels";
}

nlohmann::json parse_json_unique(std::string_view line) {
    // A repeated key: nlohmann keeps the last one, silently.
    std::vector<std::set<std::string>> keys;
    std::string duplicate;
    auto cb = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        switch (event) {
        case nlohmann::json::parse_event_t::object_start: keys.emplace_back(); break;
        case nlohmann::json::parse_event_t::object_end: keys.pop_back(); break;
        case nlohmann::json::parse_event_t::key:
            if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second && duplicate.empty())
                duplicate = parsed.get<std::string>();
            break;
        default: break;
        }
        return true;
    };
    nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), cb);
    if (!duplicate.empty()) throw std::invalid_argument("duplicate key \"" + quoted_excerpt(duplicate) + "\"");
    return j;
}

nlohmann::json parse_json_line(std::string_view line) {
    if (json_nesting_exceeds(line)) throw std::invalid_argument(json_nesting_message());
    try {
        return parse_json_unique(line);
    } catch (const nlohmann::json::parse_error& e) {
        // Drop nlohmann's "[json.exception.parse_error.101] " tag; the rest
        // may quote the token it stopped at, which can be long.
        std::string what = e.what();
        if (auto pos = what.find("] "); pos != std::string::npos) what.erase(0, pos + 2);
        throw std::invalid_argument("malformed JSON: " + quoted_excerpt(what, 2 * kMaxQuoted));
    }
}

std::string quoted_excerpt(std::string_view text, size_t max) {
    if (text.size() <= max) return std::string(text);
    return std::string(text.substr(0, max)) + "...";
}

std::string json_excerpt(const nlohmann::json& j, size_t max) { return quoted_excerpt(j.dump(), max); }

}  // namespace pollsim
