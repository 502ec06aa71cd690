// The reader every format shares: reads lines, hands them to the format's
// parser, and sorts what comes out within a bounded window.
#include "workloads/trace/trace_reader.h"

#include <queue>

#include "sim/error.h"
#include "sim/ops_table.h"
#include "sim/text_input.h"
#include "workloads/trace/trace_parse.h"

namespace pollsim {

static_assert(trace::kMaxTraceLineBytes == kMaxTextLineBytes, "TextInput caps lines at the trace readers' limit");

namespace {

using trace::LineParser;
using trace::ParseError;

// Times beyond +-2^62 ns would overflow once replay subtracts, shifts or
// scales them (trace_parse.h). Native records can hold any int64.
std::string out_of_range(const TraceRecord& r) {
    constexpr int64_t limit = trace::kTraceTimeLimitNs;
    for (const auto& [name, t] : {std::pair{"submit time", r.submit_ns},
                                  std::pair{"completion time", r.has_complete() ? r.complete_ns : 0},
                                  std::pair{"service time", r.replay_service_ns()}})
        if (t <= -limit || t >= limit)
            return std::string(name) + " " + std::to_string(t) +
                   " ns is out of range (times must stay within +-2^62 ns, about 146 years)";
    // Per-run byte counts add requests' sizes in int64 (2^62 overflowed).
    if (r.bytes > trace::kMaxRequestBytes)
        return "request of " + std::to_string(r.bytes) + " bytes is out of range (at most 2^30 bytes, as workload.bs)";
    return "";
}

class StreamingReader final : public TraceReader, private trace::RecordSink {
public:
    StreamingReader(std::string path, std::string format, std::unique_ptr<LineParser> parser,
                    const TraceOptions& options)
        : path_(std::move(path)), format_(std::move(format)), parser_(std::move(parser)), options_(options),
          in_(path_, "trace file") {
        if (options_.reorder_window < 1) options_.reorder_window = 1;
    }

    bool next(TraceRecord& rec) override {
        for (;;) {
            // Keep the window full before handing out its oldest record: a
            // record can then arrive up to reorder_window lines late and
            // still leave in order.
            while (!eof_ && static_cast<int64_t>(heap_.size()) < options_.reorder_window) read_line();
            if (heap_.empty()) return false;
            rec = heap_.top().rec;
            heap_.pop();
            last_out_ns_ = rec.submit_ns;
            any_out_ = true;
            if (options_.device_filter < 0 || rec.device == options_.device_filter) return true;
        }
    }
    int64_t skipped() const override { return skipped_; }
    int64_t ignored() const override { return ignored_; }
    bool timed() const override { return parser_->timed(); }
    const std::string& format() const override { return format_; }
    const std::string& path() const override { return path_; }

private:
    struct Held {
        TraceRecord rec;
        uint64_t seq;  // arrival order breaks ties, so equal times keep file order
        bool operator<(const Held& o) const {  // priority_queue keeps the largest on top
            return rec.submit_ns != o.rec.submit_ns ? rec.submit_ns > o.rec.submit_ns : seq > o.seq;
        }
    };

    void read_line() {
        if (!in_.getline(line_)) {
            eof_ = true;
            parser_->finish(*this);
            return;
        }
        ++line_no_;
        const std::string_view text = trace::trim(line_);
        // TextInput keeps only the start of a line past the cap (its length
        // counted): refuse it whatever that start holds.
        if (text.empty() && !in_.line_too_long()) return;
        try {
            if (in_.line_too_long()) throw ParseError(trace::line_too_long(in_.line_bytes()));
            if (text.size() > trace::kMaxTraceLineBytes) throw ParseError(trace::line_too_long(text.size()));
            parser_->parse(text, line_no_, *this);
        } catch (const ParseError& e) {
            if (!options_.skip_bad)
                throw InputError(path_ + ":" + std::to_string(line_no_) + ": " + e.what() +
                                 " (workload.skip_bad / --skip-bad skips such lines)");
            ++skipped_;
        }
    }

    void emit(const TraceRecord& rec) override {
        if (const std::string what = out_of_range(rec); !what.empty()) {
            if (options_.skip_bad) {
                ++skipped_;
                return;
            }
            throw InputError(path_ + ":" + std::to_string(rec.line) + ": " + what +
                             " (workload.skip_bad / --skip-bad skips such lines)");
        }
        if (any_out_ && rec.submit_ns < last_out_ns_) {
            if (options_.skip_bad) {
                ++skipped_;
                return;
            }
            throw InputError(path_ + ":" + std::to_string(rec.line) + ": request submitted at " +
                             std::to_string(rec.submit_ns) + " ns is older than one already replayed (" +
                             std::to_string(last_out_ns_) + " ns): the trace is out of order by more than " +
                             "reorder_window (" + std::to_string(options_.reorder_window) +
                             " records); raise workload.reorder_window (--reorder-window) or sort the file");
        }
        heap_.push(Held{rec, seq_++});
    }
    void ignore() override { ++ignored_; }

    std::string path_, format_;
    std::unique_ptr<LineParser> parser_;
    TraceOptions options_;
    TextInput in_;  // plain or xz-compressed
    std::string line_;
    int64_t line_no_ = 0;
    bool eof_ = false;
    std::priority_queue<Held> heap_;  // at most reorder_window (+ one line's records)
    uint64_t seq_ = 0;
    int64_t last_out_ns_ = 0;
    bool any_out_ = false;
    int64_t skipped_ = 0, ignored_ = 0;
};

// The format table (fio's engine table, for traces): a new format is one
// parser file and one row here.
struct TraceFormat {
    const char* name;
    std::unique_ptr<LineParser> (*make)(const std::string& path);
};

const std::vector<TraceFormat>& format_table() {
    static const std::vector<TraceFormat> table = {
        {"csv", [](const std::string&) { return trace::make_csv_parser(); }},
        {"jsonl", [](const std::string&) { return trace::make_jsonl_parser(); }},
        {"blkparse", [](const std::string&) { return trace::make_blkparse_parser(); }},
        {"fio-iolog", [](const std::string&) { return trace::make_fio_iolog_parser(); }},
        {"fio-lat", trace::make_fio_lat_parser},  // the log kind is in the file name
        {"qemu-log", [](const std::string&) { return trace::make_qemu_log_parser(); }},
    };
    return table;
}

}  // namespace

std::string trace_format_names() { return names_of(format_table()); }

std::unique_ptr<TraceReader> open_trace(const std::string& path, const std::string& format,
                                        const TraceOptions& options) {
    const std::string f = format.empty() || format == "auto" ? detect_trace_format(path) : format;
    const TraceFormat* row = find_by_name(format_table(), f);
    if (!row)
        throw InputError(path + ": unknown trace format '" + f + "' (known: auto, " + trace_format_names() + ")");
    return std::make_unique<StreamingReader>(path, f, row->make(path), options);
}

}  // namespace pollsim
