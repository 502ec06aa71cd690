// fio's write_iolog output (HOWTO "Trace file format v2" and "v3").
//   fio version 3 iolog
//   290 /tmp/data.bin read 503808 4096        TIMESTAMP FILE ACTION OFFSET LENGTH
//   30 /tmp/data.bin add                      TIMESTAMP FILE ACTION
// v2 lines have no TIMESTAMP; their only timing is the `wait` action
// (microseconds since the previous wait), which fio's own write_iolog never
// writes. A v2 log therefore replays closed loop only (timed() is false).
// v3 timestamps are microseconds since the start of the job: fio 3.33 wrote
// 499136 as the last timestamp of a 500 ms run (FORMATS.md), although the
// HOWTO does not name the unit.
// Each file is a device, numbered in order of first appearance. read and
// write are requests; trim, sync and datasync are not modelled (ignored).
#include "workloads/trace/trace_parse.h"

namespace pollsim::trace {

namespace {

class FioIologParser final : public LineParser {
public:
    void parse(std::string_view line, int64_t line_no, RecordSink& out) override {
        if (version_ == 0) {
            if (line == "fio version 2 iolog") version_ = 2;
            else if (line == "fio version 3 iolog") version_ = 3;
            else throw ParseError("not a fio iolog: the first line must be 'fio version 2 iolog' or 'fio version 3 iolog'");
            return;
        }
        split(line, ' ', tok_);
        // File actions come with and without a timestamp in either version
        // (fio 3.33 ends a v3 log with a bare "FILE close" at times): a
        // leading number followed by more is the timestamp, else all is FILE.
        const std::string_view last = tok_.back();
        if (last == "add" || last == "open" || last == "close") {
            if (tok_.size() < 2) throw ParseError("expected [TIMESTAMP] FILE " + std::string(last));
            const bool stamped = tok_.size() >= 3 && is_digits(tok_[0]);
            if (stamped && version_ == 3) to_ns(tok_[0], 1000, "timestamp (microseconds)");  // range check
            ids_.id(join(stamped ? 1 : 0, tok_.size() - 1));  // numbers the file
            out.ignore();
            return;
        }
        const size_t first = version_ == 3 ? 1 : 0;  // index of the file name
        if (tok_.size() < first + 2) throw ParseError("expected " + std::string(version_ == 3 ? "TIMESTAMP " : "") + "FILE ACTION [OFFSET LENGTH]");
        int64_t t_ns = wait_ns_;
        if (version_ == 3) t_ns = to_ns(tok_[0], 1000, "timestamp (microseconds)");

        if (tok_.size() < first + 4) throw ParseError("expected " + std::string(version_ == 3 ? "TIMESTAMP " : "") + "FILE ACTION OFFSET LENGTH");
        const std::string_view action = tok_[tok_.size() - 3];
        const int64_t offset = to_nonneg(tok_[tok_.size() - 2], "offset");
        const int64_t length = to_nonneg(tok_[tok_.size() - 1], "length");
        if (action == "wait") {
            if (version_ == 3) throw ParseError("'wait' is not allowed in a version 3 iolog (timestamps replace it)");
            // v2: OFFSET is the wait in microseconds since the previous wait.
            wait_ns_ += to_ns(tok_[tok_.size() - 2], 1000, "wait (microseconds)");
            if (wait_ns_ >= kTraceTimeLimitNs)
                throw ParseError("the waits add up beyond 2^62 ns (about 146 years)");
            out.ignore();
            return;
        }
        if (action == "trim" || action == "sync" || action == "datasync") {
            out.ignore();
            return;
        }
        if (action != "read" && action != "write")
            throw ParseError("unknown action '" + std::string(action) + "' (expected read, write, trim, sync, datasync, wait, add, open or close)");
        TraceRecord r;
        r.submit_ns = t_ns;
        r.device = ids_.id(join(first, tok_.size() - 3));
        r.op = action == "write" ? Op::write : Op::read;
        r.bytes = length;
        r.offset = offset;
        r.line = line_no;
        out.emit(r);
    }

    bool timed() const override { return version_ != 2; }

private:
    static bool is_digits(std::string_view t) {
        if (t.empty()) return false;
        for (char c : t)
            if (c < '0' || c > '9') return false;
        return true;
    }

    // File names may hold blanks: everything between the timestamp and the action.
    std::string join(size_t b, size_t e) const {
        std::string name;
        for (size_t i = b; i < e; ++i) {
            if (i > b) name += ' ';
            name.append(tok_[i]);
        }
        return name;
    }

    int version_ = 0;
    int64_t wait_ns_ = 0;
    std::vector<std::string_view> tok_;
    DenseIds ids_;
};

}  // namespace

std::unique_ptr<LineParser> make_fio_iolog_parser() { return std::make_unique<FioIologParser>(); }

}  // namespace pollsim::trace
