// blkparse's default text output (man blkparse, "DEFAULT OUTPUT"):
//   "%D %2c %8s %5T.%9t %5p %2a %3d" then, for Q/D/C/M/F, "SECTOR + NBLOCKS [...]"
//     8,0    3        1     0.000000000   697  Q   R 223490 + 8 [kjournald]
//     8,0    1        5     0.000500000     0  C   R 223490 + 8 [0]
// A request starts at its Q event (or at D when the trace has no Q, as with
// `blkparse -a issue -a complete`) and ends at the C event of the same
// device and sector. Block counts are 512-byte sectors. M and F events (the
// bio was merged into a queued request) remove the merged bio: it never
// completes on its own. After F the request starts at the merged bio's
// sector, and its D and C say so. Devices major,minor get dense indices in order of
// first appearance. The summary blkparse prints at the end ("CPU0 (8,0):",
// "Total (8,0):", ...) is skipped.
#include "workloads/trace/trace_parse.h"

namespace pollsim::trace {

namespace {

class BlkparseParser final : public LineParser {
public:
    void parse(std::string_view line, int64_t line_no, RecordSink& out) override {
        if (in_summary_) return;
        if (line.substr(0, 3) == "CPU" || line.substr(0, 5) == "Total") {
            in_summary_ = true;
            return;
        }
        split(line, ' ', tok_);
        if (tok_.size() < 7)
            throw ParseError("expected blkparse's default format 'MAJ,MIN CPU SEQ SECONDS.NANOS PID ACTION RWBS ...'");
        const std::string_view dev = tok_[0];
        if (dev.find(',') == std::string_view::npos) throw ParseError("bad device '" + std::string(dev) + "' (expected MAJOR,MINOR)");
        to_nonneg(dev.substr(0, dev.find(',')), "device major");
        to_nonneg(dev.substr(dev.find(',') + 1), "device minor");
        to_nonneg(tok_[1], "cpu");
        to_nonneg(tok_[2], "sequence number");
        const int64_t t_ns = decimal_seconds_to_ns(tok_[3], "timestamp");
        to_nonneg(tok_[4], "pid");
        const std::string_view action = tok_[5];
        if (action != "Q" && action != "D" && action != "C" && action != "M" && action != "F") {
            out.ignore();  // G, I, P, U, T, S, X, A, B, m: not the start or end of a request
            return;
        }
        // Requests without a sector range (SCSI pass-through payloads) and
        // those neither reading nor writing (flush "FN", discard "D") are not
        // modelled.
        const std::string_view rwbs = tok_[6];
        if (tok_.size() < 10 || tok_[8] != "+" || rwbs.find('D') != std::string_view::npos ||
            (rwbs.find('R') == std::string_view::npos && rwbs.find('W') == std::string_view::npos)) {
            out.ignore();
            return;
        }
        const int64_t sector = to_nonneg(tok_[7], "sector");
        const int64_t blocks = to_nonneg(tok_[9], "block count");
        const int32_t device = ids_.id(dev);
        auto key_of = [&](int64_t s) { return (static_cast<uint64_t>(device) << 48) ^ static_cast<uint64_t>(s); };
        const uint64_t key = key_of(sector);

        if (action == "C") {
            if (!pairer_.complete(key, t_ns, out)) out.ignore();  // began before the trace did
            return;
        }
        if (action == "M" || action == "F") {
            if (!pairer_.drop(key, out)) out.ignore();
            // A front merge moves the request's start down to the merged
            // bio's sector, where its D and C will be: re-key it there (else
            // the D starts a phantom request and the real one never ends).
            if (action == "F") pairer_.rekey(key_of(sector + blocks), key);
            return;
        }
        // D after this request's Q is its issue to the driver, not a new request.
        if (action == "D" && pairer_.pending(key)) {
            out.ignore();
            return;
        }
        TraceRecord r;
        r.submit_ns = t_ns;
        r.device = device;
        r.op = rwbs.find('W') != std::string_view::npos ? Op::write : Op::read;
        r.bytes = blocks * 512;
        r.offset = sector * 512;
        r.line = line_no;
        pairer_.start(key, r, out);
    }

    void finish(RecordSink& out) override { pairer_.flush(out); }

private:
    std::vector<std::string_view> tok_;
    DenseIds ids_;
    Pairer pairer_;
    bool in_summary_ = false;
};

}  // namespace

std::unique_ptr<LineParser> make_blkparse_parser() { return std::make_unique<BlkparseParser>(); }

}  // namespace pollsim::trace
