// QEMU's `log` trace backend. With timestamps on (QEMU's -msg timestamp=on)
// each event is one line "TID@SECONDS.MICROSECONDS:EVENT ARGS" in QEMU 7.2
// (the format string in the binary being "%d@%zu.%06zu:name fmt"), and
// "YYYY-MM-DDTHH:MM:SS.UUUUUUZ EVENT ARGS" in QEMU 10.0 and 11.1 (seen in
// logs recorded here, results/real-qemu/): both are wall-clock time with
// microsecond resolution. The events used, with
// their formats from trace-events-all (Debian qemu-system-common 7.2):
//   virtio_blk_handle_read  "vdev %p req %p sector %"PRIu64" nsectors %zu"   guest request taken from the vq
//   virtio_blk_handle_write "vdev %p req %p sector %"PRIu64" nsectors %zu"
//   virtio_blk_rw_complete  "vdev %p req %p ret %d"                          backend completion
//   luring_co_submit        "bs %p s %p luringcb %p fd %d offset %" PRId64 " nbytes %zd type %d"
//   luring_process_completion "LuringState %p luringcb %p ret %d"
// A request is matched to its completion by its req (luringcb) pointer;
// devices are vdev (bs) pointers, numbered in order of first appearance;
// nsectors counts 512-byte sectors; luring type 1 is a read, 2 a write
// (QEMU_AIO_READ, QEMU_AIO_WRITE), other types (flush, discard...) are not
// modelled. A log that has both families would count each request twice, so
// the family of the first request event is used and the other is ignored.
// QEMU 7.2 has no laio_* events; such lines are ignored like any other event.
#include "workloads/trace/qemu_log.h"

#include <algorithm>
#include <unordered_set>

#include "sim/error.h"
#include "sim/text_input.h"
#include "workloads/trace/trace_parse.h"

namespace pollsim::trace {

namespace {

enum class Family { unknown, virtio_blk, luring };

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
// days_from_civil), so UTC stamps convert without the C library's time zone.
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

// "2026-11-30T07:30:38.170088Z" to ns since the epoch.
int64_t iso8601_utc_to_ns(std::string_view f) {
    auto bad = [&](const char* why) {
        return ParseError("bad timestamp '" + std::string(f) + "' (" + why + "; expected YYYY-MM-DDTHH:MM:SS.FRACTIONZ)");
    };
    if (f.size() < 21 || f.back() != 'Z' || f[4] != '-' || f[7] != '-' || f[10] != 'T' || f[13] != ':' ||
        f[16] != ':' || f[19] != '.')
        throw bad("malformed");
    auto num = [&](size_t at, size_t n) {
        const std::string_view p = f.substr(at, n);
        if (!all_digits(p)) throw bad("not a number");
        int64_t v = 0;
        for (char c : p) v = v * 10 + (c - '0');
        return v;
    };
    const int64_t year = num(0, 4), month = num(5, 2), day = num(8, 2);
    const int64_t hour = num(11, 2), minute = num(14, 2), second = num(17, 2);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        throw bad("field out of range");
    const std::string_view frac = f.substr(20, f.size() - 21);
    if (frac.empty() || frac.size() > 9 || !all_digits(frac)) throw bad("bad fraction");
    int64_t frac_ns = 0;
    for (size_t i = 0; i < 9; ++i) frac_ns = frac_ns * 10 + (i < frac.size() ? frac[i] - '0' : 0);
    const int64_t s = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    return s * 1'000'000'000 + frac_ns;
}

class QemuLogParser final : public LineParser {
public:
    void parse(std::string_view line, int64_t line_no, RecordSink& out) override {
        int64_t t_ns = 0;
        std::string_view rest;
        if (!split_qemu_log_line(line, t_ns, rest)) {
            if (starts_with(line, "virtio_blk_") || starts_with(line, "luring_") || starts_with(line, "laio_"))
                throw ParseError("trace event without a timestamp prefix ('TID@SECONDS.MICROSECONDS:' or "
                                 "'YYYY-MM-DDTHH:MM:SS.UUUUUUZ '): run QEMU with -msg timestamp=on so that the "
                                 "log backend stamps each event");
            out.ignore();  // other QEMU output
            return;
        }
        split(rest, ' ', tok_);
        if (tok_.empty()) throw ParseError("no event name after the timestamp");
        const std::string_view event = tok_[0];

        if (event == "virtio_blk_handle_read" || event == "virtio_blk_handle_write") {
            if (!use(Family::virtio_blk)) return out.ignore();
            TraceRecord r;
            r.submit_ns = t_ns;
            r.device = ids_.id(to_pointer(value_after(tok_, "vdev", 1), "vdev"));
            r.op = event == "virtio_blk_handle_write" ? Op::write : Op::read;
            r.offset = to_nonneg(value_after(tok_, "sector", 1), "sector") * 512;
            r.bytes = to_nonneg(value_after(tok_, "nsectors", 1), "nsectors") * 512;
            r.line = line_no;
            pairer_.start(to_pointer(value_after(tok_, "req", 1), "req"), r, out);
        } else if (event == "virtio_blk_rw_complete") {
            const uint64_t req = to_pointer(value_after(tok_, "req", 1), "req");
            if (family_ != Family::virtio_blk || !pairer_.complete(req, t_ns, out)) out.ignore();
        } else if (event == "luring_co_submit") {
            const int64_t type = to_int(value_after(tok_, "type", 1), "type");
            const uint64_t cb = to_pointer(value_after(tok_, "luringcb", 1), "luringcb");
            if ((type != 1 && type != 2) || !use(Family::luring)) return out.ignore();
            TraceRecord r;
            r.submit_ns = t_ns;
            r.device = ids_.id(to_pointer(value_after(tok_, "bs", 1), "bs"));
            r.op = type == 2 ? Op::write : Op::read;
            r.offset = to_nonneg(value_after(tok_, "offset", 1), "offset");
            r.bytes = to_nonneg(value_after(tok_, "nbytes", 1), "nbytes");
            r.line = line_no;
            pairer_.start(cb, r, out);
        } else if (event == "luring_process_completion") {
            const uint64_t cb = to_pointer(value_after(tok_, "luringcb", 1), "luringcb");
            if (family_ != Family::luring || !pairer_.complete(cb, t_ns, out)) out.ignore();
        } else {
            out.ignore();
        }
    }

    void finish(RecordSink& out) override { pairer_.flush(out); }

private:
    bool use(Family f) {
        if (family_ == Family::unknown) family_ = f;
        return family_ == f;
    }

    Family family_ = Family::unknown;
    std::vector<std::string_view> tok_;
    DenseIds ids_;
    Pairer pairer_;
};

}  // namespace

bool split_qemu_log_line(std::string_view line, int64_t& t_ns, std::string_view& rest) {
    // QEMU 10.0 and later: an ISO-8601 UTC stamp, then a space.
    if (line.size() > 21 && line[4] == '-' && line[10] == 'T' && all_digits(line.substr(0, 4))) {
        // The date shape is there: whatever follows up to the first space
        // must be a whole stamp (iso8601_utc_to_ns says what is wrong).
        const size_t sp = line.find(' ');
        t_ns = iso8601_utc_to_ns(line.substr(0, sp));
        if (sp == std::string_view::npos) throw ParseError("no event name after the timestamp");
        rest = line.substr(sp + 1);
        return true;
    }
    // QEMU 7.2: "TID@SECONDS.MICROSECONDS:".
    const size_t at = line.find('@');
    const size_t colon = line.find(':');
    if (at == std::string_view::npos || colon == std::string_view::npos || at == 0 || at > colon ||
        !all_digits(line.substr(0, at)))
        return false;
    t_ns = decimal_seconds_to_ns(line.substr(at + 1, colon - at - 1), "timestamp");
    rest = line.substr(colon + 1);
    return true;
}

std::unique_ptr<LineParser> make_qemu_log_parser() { return std::make_unique<QemuLogParser>(); }

}  // namespace pollsim::trace

namespace pollsim {

// The loop's own events, with their formats (trace-events-all of QEMU 7.2,
// 10.0 and 11.1 alike, util/trace-events):
//   run_poll_handlers_begin "ctx %p max_ns %"PRId64 " timeout %"PRId64
//   run_poll_handlers_end   "ctx %p progress %d new timeout %"PRId64
//   poll_grow / poll_shrink "ctx %p old %"PRId64" new %"PRId64
// Only the IOThread's AioContext polls (the main loop's has poll-max-ns 0),
// so every such event is the IOThread's.
QemuLogScan scan_qemu_log(const std::string& path, const LogWindow& window) {
    QemuLogScan scan;
    TextInput in(path, "QEMU log");
    std::string line;
    std::vector<std::string_view> tok;
    std::unordered_set<uint64_t> devices;
    bool any_request = false;
    for (int64_t line_no = 1; in.getline(line); ++line_no) {
        try {
            // TextInput buffers at most 1 MiB of a line (issue 10 item 7).
            if (in.line_too_long()) throw trace::ParseError(trace::line_too_long(in.line_bytes()));
            int64_t t_ns = 0;
            std::string_view rest;
            if (!trace::split_qemu_log_line(line, t_ns, rest)) continue;  // QEMU's other output
            if (scan.stamped_lines++ == 0) {
                scan.first_ns = t_ns;
                scan.timestamp_format = line.find('@') < line.find(':') ? "tid@sec.usec" : "iso8601";
            }
            // Threads write their lines independently: stamps may step back by
            // a few microseconds between threads.
            scan.last_ns = std::max(scan.last_ns, t_ns);
            trace::split(rest, ' ', tok);
            if (tok.empty()) throw trace::ParseError("no event name after the timestamp");
            const std::string_view event = tok[0];
            const bool is_request = event == "virtio_blk_handle_read" || event == "virtio_blk_handle_write";
            if (is_request) {
                devices.insert(trace::to_pointer(trace::value_after(tok, "vdev", 1), "vdev"));
                if (!any_request) scan.first_request_ns = t_ns;
                any_request = true;
            }
            // Another thread's line may be stamped a little before the first:
            // it belongs to the log's start.
            if (!window.contains(std::max<int64_t>(0, t_ns - scan.first_ns))) continue;
            LoopFigures& f = scan.figures;
            if (is_request) {
                ++f.requests;
            } else if (event == "run_poll_handlers_begin") {
                const int64_t max_ns = trace::to_nonneg(trace::value_after(tok, "max_ns", 1), "max_ns");
                ++f.poll_phases;
                f.sum_poll_max_ns += max_ns;
                ++f.poll_max_hist[Pow2Histogram::index_of(max_ns)];
            } else if (event == "run_poll_handlers_end") {
                const int64_t progress = trace::to_int(trace::value_after(tok, "progress", 1), "progress");
                if (progress != 0 && progress != 1) throw trace::ParseError("bad progress (expected 0 or 1)");
                f.poll_successes += progress;
            } else if (event == "poll_grow" || event == "poll_shrink") {
                (void)trace::to_int(trace::value_after(tok, "new", 1), "new");
                ++(event == "poll_grow" ? f.grows : f.shrinks);
            }
        } catch (const trace::ParseError& e) {
            throw InputError(path + ":" + std::to_string(line_no) + ": " + e.what());
        }
    }
    if (scan.stamped_lines == 0)
        throw InputError(path + ": no time-stamped QEMU trace lines (record with -msg timestamp=on -D FILE)");
    if (!any_request)
        throw InputError(path + ": no virtio_blk_handle_read/write events: nothing to replay (trace them with "
                         "-trace 'virtio_blk_handle_*')");
    scan.devices = static_cast<int>(devices.size());
    return scan;
}

}  // namespace pollsim
