#include "workloads/trace/trace_parse.h"

#include <cctype>
#include <charconv>
#include <limits>

namespace pollsim::trace {

namespace {
std::string quoted(std::string_view s) {
    if (s.size() > 40) return "'" + std::string(s.substr(0, 40)) + "...'";
    return "'" + std::string(s) + "'";
}
}  // namespace

// Inline rather than std::isspace: trimming runs for every field of every line.
inline bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && blank(s[b])) ++b;
    while (e > b && blank(s[e - 1])) --e;
    return s.substr(b, e - b);
}

void split(std::string_view line, char sep, std::vector<std::string_view>& out) {
    out.clear();
    if (sep == ' ') {
        size_t i = 0;
        while (i < line.size()) {
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
            const size_t b = i;
            while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
            if (i > b) out.push_back(line.substr(b, i - b));
        }
        return;
    }
    size_t b = 0;
    for (;;) {
        const size_t e = line.find(sep, b);
        out.push_back(trim(line.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b)));
        if (e == std::string_view::npos) return;
        b = e + 1;
    }
}

int64_t to_int(std::string_view field, const char* what) {
    int64_t v = 0;
    const char* first = field.data();
    const char* last = field.data() + field.size();
    if (first != last && *first == '+') ++first;  // from_chars takes no '+'
    const auto [p, ec] = std::from_chars(first, last, v);
    if (field.empty() || ec != std::errc() || p != last)
        throw ParseError(std::string("bad ") + what + " " + quoted(field) + " (expected an integer)");
    return v;
}

int64_t to_nonneg(std::string_view field, const char* what) {
    const int64_t v = to_int(field, what);
    if (v < 0) throw ParseError(std::string("bad ") + what + " " + quoted(field) + " (must be >= 0)");
    return v;
}

int64_t to_ns(std::string_view field, int64_t unit_ns, const char* what) {
    const int64_t v = to_nonneg(field, what);
    if (v >= kTraceTimeLimitNs / unit_ns)
        throw ParseError(std::string("bad ") + what + " " + quoted(field) +
                         " (out of range: times must stay below 2^62 ns, about 146 years)");
    return v * unit_ns;
}

uint64_t to_pointer(std::string_view field, const char* what) {
    if (field == "(nil)") return 0;
    std::string_view digits = field;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) digits.remove_prefix(2);
    uint64_t v = 0;
    const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, 16);
    if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size())
        throw ParseError(std::string("bad ") + what + " " + quoted(field) + " (expected a pointer such as 0x55d0c3a1b2c0)");
    return v;
}

int64_t decimal_seconds_to_ns(std::string_view field, const char* what) {
    const size_t dot = field.find('.');
    const std::string_view whole = field.substr(0, dot);
    const std::string_view frac = dot == std::string_view::npos ? std::string_view() : field.substr(dot + 1);
    auto bad = [&] { return ParseError(std::string("bad ") + what + " " + quoted(field) + " (expected SECONDS.FRACTION)"); };
    if (whole.empty() || frac.size() > 9 || (dot != std::string_view::npos && frac.empty())) throw bad();
    for (char c : whole)
        if (!std::isdigit(static_cast<unsigned char>(c))) throw bad();
    for (char c : frac)
        if (!std::isdigit(static_cast<unsigned char>(c))) throw bad();
    int64_t s = 0, f = 0;
    if (std::from_chars(whole.data(), whole.data() + whole.size(), s).ec != std::errc() ||
        s >= kTraceTimeLimitNs / 1'000'000'000)
        throw ParseError(std::string("bad ") + what + " " + quoted(field) +
                         " (out of range: times must stay below 2^62 ns, about 146 years)");
    if (!frac.empty()) std::from_chars(frac.data(), frac.data() + frac.size(), f);
    for (size_t i = frac.size(); i < 9; ++i) f *= 10;
    return s * 1'000'000'000 + f;
}

Op to_op(std::string_view field) {
    // Case-insensitive without building a string: this runs once per record.
    auto is = [&](std::string_view word) {
        if (field.size() != word.size()) return false;
        for (size_t i = 0; i < word.size(); ++i)
            if (std::tolower(static_cast<unsigned char>(field[i])) != word[i]) return false;
        return true;
    };
    if (is("read") || is("r")) return Op::read;
    if (is("write") || is("w")) return Op::write;
    throw ParseError("unknown op " + quoted(field) + " (expected read or write)");
}

std::string_view value_after(const std::vector<std::string_view>& tokens, std::string_view key, size_t from) {
    for (size_t i = from; i + 1 < tokens.size(); ++i)
        if (tokens[i] == key) return tokens[i + 1];
    throw ParseError("missing field '" + std::string(key) + "'");
}

int32_t DenseIds::id(std::string_view name) {
    const auto [it, inserted] = names_.try_emplace(std::string(name), static_cast<int32_t>(names_.size()));
    return it->second;
}

int32_t DenseIds::id(uint64_t key) {
    const auto [it, inserted] = keys_.try_emplace(key, static_cast<int32_t>(keys_.size()));
    return it->second;
}

// ---- Pairer -------------------------------------------------------------

void Pairer::start(uint64_t key, const TraceRecord& rec, RecordSink& out) {
    const int64_t id = front_id_ + static_cast<int64_t>(entries_.size());
    entries_.push_back(Entry{rec, key});
    by_key_.emplace(key, id);
    if (entries_.size() > max_pending_) pop_front(out);
}

int64_t Pairer::take(uint64_t key) {
    auto [b, e] = by_key_.equal_range(key);
    if (b == e) return -1;
    auto oldest = b;
    for (auto it = b; it != e; ++it)
        if (it->second < oldest->second) oldest = it;
    const int64_t id = oldest->second;
    by_key_.erase(oldest);
    return id;
}

bool Pairer::complete(uint64_t key, int64_t complete_ns, RecordSink& out) {
    const int64_t id = take(key);
    if (id < 0) return false;
    Entry& e = entries_[static_cast<size_t>(id - front_id_)];
    e.rec.complete_ns = std::max(complete_ns, e.rec.submit_ns);
    e.done = true;
    drain(out);
    return true;
}

bool Pairer::drop(uint64_t key, RecordSink& out) {
    const int64_t id = take(key);
    if (id < 0) return false;
    Entry& e = entries_[static_cast<size_t>(id - front_id_)];
    e.done = e.dropped = true;
    drain(out);
    return true;
}

bool Pairer::rekey(uint64_t from, uint64_t to) {
    const int64_t id = take(from);
    if (id < 0) return false;
    entries_[static_cast<size_t>(id - front_id_)].key = to;
    by_key_.emplace(to, id);
    return true;
}

void Pairer::drain(RecordSink& out) {
    while (!entries_.empty() && entries_.front().done) pop_front(out);
}

void Pairer::pop_front(RecordSink& out) {
    Entry& e = entries_.front();
    if (!e.done) {
        // Leaves unfinished: forget its key so a later end does not match it.
        auto [b, it_end] = by_key_.equal_range(e.key);
        for (auto it = b; it != it_end; ++it)
            if (it->second == front_id_) {
                by_key_.erase(it);
                break;
            }
    }
    if (e.dropped) out.ignore();
    else out.emit(e.rec);
    entries_.pop_front();
    ++front_id_;
}

void Pairer::flush(RecordSink& out) {
    while (!entries_.empty()) pop_front(out);
}

}  // namespace pollsim::trace
