// Pieces shared by the trace readers: the per-format line-parser interface,
// field splitting and strict number parsing, dense device ids and the pairing
// of start and end lines. Internal to workloads/trace/.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "workloads/trace/trace_reader.h"

namespace pollsim::trace {

// A malformed line. The message says what is wrong; the reader prefixes
// FILE:LINE (or counts the line, with skip_bad).
class ParseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Where a parser puts what it found.
class RecordSink {
public:
    virtual ~RecordSink() = default;
    virtual void emit(const TraceRecord& rec) = 0;
    // A well-formed line (or request) that replay does not use.
    virtual void ignore() = 0;
};

// One format: fed the file's non-blank lines in order.
class LineParser {
public:
    virtual ~LineParser() = default;
    virtual void parse(std::string_view line, int64_t line_no, RecordSink& out) = 0;
    // End of file: emit whatever is still held.
    virtual void finish(RecordSink& out) {}
    virtual bool timed() const { return true; }
};

std::unique_ptr<LineParser> make_csv_parser();
std::unique_ptr<LineParser> make_jsonl_parser();
std::unique_ptr<LineParser> make_blkparse_parser();
std::unique_ptr<LineParser> make_fio_iolog_parser();
std::unique_ptr<LineParser> make_fio_lat_parser(const std::string& path);
std::unique_ptr<LineParser> make_qemu_log_parser();

// ---- text helpers -------------------------------------------------------

std::string_view trim(std::string_view s);
// Fields separated by `sep`, each trimmed; sep ' ' splits on runs of blanks.
void split(std::string_view line, char sep, std::vector<std::string_view>& out);
// Whole field as a decimal integer, else ParseError "bad WHAT 'FIELD'".
int64_t to_int(std::string_view field, const char* what);
// Same, and at least 0.
int64_t to_nonneg(std::string_view field, const char* what);
// Recorded times and durations must stay within +-kTraceTimeLimitNs (2^62 ns,
// about 146 years; epoch timestamps in ns are about 2^60.6): the difference
// of any two then fits in int64, and replay can shift and scale them.
constexpr int64_t kTraceTimeLimitNs = int64_t{1} << 62;

// The longest line a trace reader accepts (1 MiB); a longer one is refused
// by line number before any format's parser or auto-detection looks at it.
constexpr size_t kMaxTraceLineBytes = size_t{1} << 20;
// The largest request a trace may record (workload.bs has the same cap).
constexpr int64_t kMaxRequestBytes = int64_t{1} << 30;
inline std::string line_too_long(size_t bytes) {
    return "line of " + std::to_string(bytes) + " bytes is longer than the " + std::to_string(kMaxTraceLineBytes) +
           " bytes a trace line may have";
}
// A time field given in units of `unit_ns` (1000 for us, 1e6 for ms) in ns;
// ParseError if the product leaves +-kTraceTimeLimitNs.
int64_t to_ns(std::string_view field, int64_t unit_ns, const char* what);
// A pointer as QEMU prints it ("0x55d0c3a1b2c0", "(nil)").
uint64_t to_pointer(std::string_view field, const char* what);
// "SECONDS.FRACTION" (up to 9 fraction digits) to ns, exactly (no floating point).
int64_t decimal_seconds_to_ns(std::string_view field, const char* what);
// QEMU's log backend with -msg timestamp=on stamps each line one of two ways:
// QEMU 7.2 "TID@SECONDS.MICROSECONDS:event args" (gettimeofday), QEMU 10.0
// and later "2026-11-30T07:30:38.170088Z event args" (UTC, microseconds).
// On such a line sets t_ns (ns since the Unix epoch) and rest ("event args")
// and returns true; returns false for a line with neither prefix. A prefix
// with a bad time throws ParseError.
bool split_qemu_log_line(std::string_view line, int64_t& t_ns, std::string_view& rest);
// read / write in any case (also R / W).
Op to_op(std::string_view field);
// Value following `key` in "key value key value ..." tokens; ParseError if absent.
std::string_view value_after(const std::vector<std::string_view>& tokens, std::string_view key, size_t from = 0);

// ---- state helpers ------------------------------------------------------

// Names (major,minor; a pointer; a file name) to dense indices 0, 1, 2, ...
// in order of first appearance. Bounded by the distinct devices in a trace.
// A parser numbers either names or pointers, not both.
class DenseIds {
public:
    int32_t id(std::string_view name);
    int32_t id(uint64_t key);

private:
    std::unordered_map<std::string, int32_t> names_;
    std::unordered_map<uint64_t, int32_t> keys_;
};

// Formats that log a request's start and end on separate lines (blkparse,
// QEMU): requests wait here, in start order, until their end is seen, and
// leave in start order. A request whose end never comes would hold up all
// later ones, so at most max_pending wait: beyond that the oldest leaves
// without a completion (replay then draws its service time). Memory is
// bounded by max_pending, not by the trace length.
class Pairer {
public:
    explicit Pairer(size_t max_pending = 65536) : max_pending_(max_pending) {}
    void start(uint64_t key, const TraceRecord& rec, RecordSink& out);
    bool pending(uint64_t key) const { return by_key_.count(key) != 0; }
    // Completes the oldest pending request with this key; false if there is none.
    bool complete(uint64_t key, int64_t complete_ns, RecordSink& out);
    // The oldest pending request with this key is not a request of its own
    // (merged into another); false if there is none.
    bool drop(uint64_t key, RecordSink& out);
    // The oldest pending request with key `from` is now known by `to` (its
    // start moved: blkparse's front merge); false if there is none.
    bool rekey(uint64_t from, uint64_t to);
    // End of file: unfinished requests leave without a completion.
    void flush(RecordSink& out);

private:
    struct Entry {
        TraceRecord rec;
        uint64_t key = 0;
        bool done = false;
        bool dropped = false;
    };
    int64_t take(uint64_t key);  // id of the oldest pending entry with key, or -1
    void drain(RecordSink& out);
    void pop_front(RecordSink& out);

    size_t max_pending_;
    std::deque<Entry> entries_;
    int64_t front_id_ = 0;
    std::unordered_multimap<uint64_t, int64_t> by_key_;
};

}  // namespace pollsim::trace
