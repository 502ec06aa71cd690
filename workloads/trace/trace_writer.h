// Writes requests in the native CSV or JSON Lines format (native.h), e.g.
// for `pollsim trace synth`. Requests may be handed over in completion order:
// a bounded heap puts them back in submission order, which is exact as long
// as no request is overtaken by more than `sort_window` later ones (the
// reader's reorder window absorbs the rest).
#pragma once
#include <cstdint>
#include <queue>
#include <string>

#include "sim/output_file.h"
#include "sim/simulation.h"
#include "workloads/trace/trace_reader.h"

namespace pollsim {

class TraceWriter {
public:
    // format: csv | jsonl. Written through OutputFile (sim/output_file.h): a
    // temporary file renamed over PATH by close(), so a failed run leaves no
    // half file; a FIFO or device is written through, a symlink's target
    // replaced.
    TraceWriter(std::string path, std::string format, const std::string& comment = "", size_t sort_window = 65536);
    ~TraceWriter();
    void add(const TraceRecord& rec);
    void close();
    int64_t written() const { return written_; }

    // csv or jsonl from the file name's extension; throws InputError otherwise.
    static std::string format_for(const std::string& path);

private:
    struct Held {
        TraceRecord rec;
        uint64_t seq;
        bool operator<(const Held& o) const {
            return rec.submit_ns != o.rec.submit_ns ? rec.submit_ns > o.rec.submit_ns : seq > o.seq;
        }
    };
    void write(const TraceRecord& rec);

    std::string path_, format_;
    size_t sort_window_;
    OutputFile out_;
    std::priority_queue<Held> heap_;
    uint64_t seq_ = 0;
    int64_t written_ = 0;
    bool closed_ = false;
};

// Records every request a simulation completes into a TraceWriter
// (`trace synth`, and tests that replay what a synthetic run did).
class TraceRecorder final : public RequestObserver {
public:
    explicit TraceRecorder(TraceWriter& out) : out_(out) {}
    void on_request(const IoRequest& req, int64_t service_ns, int64_t complete_ns) override {
        TraceRecord r;
        r.submit_ns = req.t_sub_ns;
        r.complete_ns = complete_ns;
        r.service_ns = service_ns;
        r.device = req.device;
        r.queue = req.queue;
        r.op = req.op;
        r.bytes = req.bytes;
        out_.add(r);
    }

private:
    TraceWriter& out_;
};

}  // namespace pollsim
