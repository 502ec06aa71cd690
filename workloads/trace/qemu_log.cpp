// QEMU's `log` trace backend. With timestamps on (QEMU's -msg timestamp=on)
// each event is one line "TID@SECONDS.MICROSECONDS:EVENT ARGS", the format
// string in the binary being "%d@%zu.%06zu:name fmt". The events used, with
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
#include "workloads/trace/trace_parse.h"

namespace pollsim::trace {

namespace {

enum class Family { unknown, virtio_blk, luring };

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

class QemuLogParser final : public LineParser {
public:
    void parse(std::string_view line, int64_t line_no, RecordSink& out) override {
        const size_t at = line.find('@');
        const size_t colon = line.find(':');
        const bool has_prefix = at != std::string_view::npos && colon != std::string_view::npos && at < colon &&
                                at > 0 && line.substr(0, at).find_first_not_of("0123456789") == std::string_view::npos;
        if (!has_prefix) {
            if (starts_with(line, "virtio_blk_") || starts_with(line, "luring_") || starts_with(line, "laio_"))
                throw ParseError("trace event without the 'TID@SECONDS.MICROSECONDS:' prefix: run QEMU with "
                                 "-msg timestamp=on so that the log backend stamps each event");
            out.ignore();  // other QEMU output
            return;
        }
        const int64_t t_ns = decimal_seconds_to_ns(line.substr(at + 1, colon - at - 1), "timestamp");
        split(line.substr(colon + 1), ' ', tok_);
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

std::unique_ptr<LineParser> make_qemu_log_parser() { return std::make_unique<QemuLogParser>(); }

}  // namespace pollsim::trace
