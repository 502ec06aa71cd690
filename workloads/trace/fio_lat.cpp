// fio latency logs (write_lat_log: NAME_lat.N.log, NAME_clat.N.log,
// NAME_slat.N.log; HOWTO "Log File Formats"), one line per I/O:
//   TIME_MS, VALUE_NS, DDIR, BS[, OFFSET][, PRIO]
//   4 fields: old fio; 5: PRIO (fio 3.x always writes it); 6: OFFSET and PRIO (log_offset=1).
// PRIO is decimal (0/1, cmdprio) or hex with log_prio=1 ("0x2000"); not used.
// Settled from fio 3.33 runs (FORMATS.md): TIME is milliseconds since the job
// started, truncated, and stamped when the sample is taken: at completion for
// lat and clat, at issue for slat. VALUE is nanoseconds.
// The log kind is only in the file name, so it decides (the last of the
// words lat, clat, slat in it; none means lat):
//   lat, clat: complete = TIME, submit = TIME - VALUE (service = VALUE);
//   slat:      submit = TIME, no completion (replay draws the service time).
// The 1 ms truncation makes every time up to 1 ms early; as every record
// shares that error, relative times are off by less than 1 ms. Lines are in
// completion order, so submission times are out of order by up to the I/O
// depth: the reorder window sorts them.
#include <cctype>
#include <filesystem>

#include "workloads/trace/trace_parse.h"

namespace pollsim::trace {

namespace {

enum class LatKind { total, completion, submission };

class FioLatParser final : public LineParser {
public:
    explicit FioLatParser(LatKind kind) : kind_(kind) {}

    void parse(std::string_view line, int64_t line_no, RecordSink& out) override {
        split(line, ',', tok_);
        if (tok_.size() < 4 || tok_.size() > 6)
            throw ParseError("expected 'TIME_MS, VALUE_NS, DDIR, BS[, OFFSET][, PRIO]', found " +
                             std::to_string(tok_.size()) + " fields");
        const int64_t t_ns = to_ns(tok_[0], 1'000'000, "time (ms)");
        const int64_t value_ns = to_ns(tok_[1], 1, "latency (ns)");
        const int64_t ddir = to_nonneg(tok_[2], "data direction");
        const int64_t bs = to_nonneg(tok_[3], "block size");
        const int64_t offset = tok_.size() == 6 ? to_nonneg(tok_[4], "offset") : -1;
        if (ddir > 2) throw ParseError("bad data direction '" + std::string(tok_[2]) + "' (0 read, 1 write, 2 trim)");
        if (bs == 0)
            throw ParseError("block size 0: a windowed log (log_avg_msec) holds averages, not one line per request");
        if (ddir == 2) {
            out.ignore();  // trim
            return;
        }
        TraceRecord r;
        r.op = ddir == 1 ? Op::write : Op::read;
        r.bytes = bs;
        r.offset = offset;
        r.line = line_no;
        if (kind_ == LatKind::submission) {
            r.submit_ns = t_ns;
        } else {
            r.complete_ns = t_ns;
            r.submit_ns = t_ns - value_ns;
        }
        out.emit(r);
    }

private:
    LatKind kind_;
    std::vector<std::string_view> tok_;
};

}  // namespace

std::unique_ptr<LineParser> make_fio_lat_parser(const std::string& path) {
    // fio names the logs NAME_slat.N.log, NAME_clat.N.log and NAME_lat.N.log:
    // the kind is a word of its own in the file name ("translation_lat.1.log"
    // is a lat log, not an slat log).
    const std::string name = std::filesystem::path(path).filename().string();
    LatKind kind = LatKind::total;
    for (size_t b = 0; b < name.size();) {
        size_t e = b;
        while (e < name.size() && std::isalnum(static_cast<unsigned char>(name[e]))) ++e;
        const std::string_view word = std::string_view(name).substr(b, e - b);
        if (word == "slat") kind = LatKind::submission;
        else if (word == "clat") kind = LatKind::completion;
        else if (word == "lat") kind = LatKind::total;
        b = e + 1;
    }
    return std::make_unique<FioLatParser>(kind);
}

}  // namespace pollsim::trace
