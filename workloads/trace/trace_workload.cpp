// workload.type: trace. Replays a recorded trace (trace_reader.h) open or
// closed loop; see FORMATS.md for the rules and why.
//
// Open loop: every request is submitted at its recorded time (relative to the
// trace's first request, divided by workload.speed), whatever the guest's
// completions do: the run measures what a policy costs and the delay it adds.
//
// Closed loop: each trace device is a stream, like a fio job on its own disk.
// A stream never has more requests in flight than it had in the recording when
// the request was submitted, and submits it the recorded gap after its latest
// event (a submission or a completion), so a policy that delays completions
// delays the submissions that followed them and throughput responds. Traces
// without completions (fio iolog, slat logs, bare per-arrival records) keep
// workload.iodepth in flight per stream with workload.think between a
// completion and the next submission: the fio model of DESIGN §4, driven by
// the trace's order, devices, operations and sizes.
//
// Both stream the file with one reader. Closed loop hands each stream its
// device's records from that one reader: records read ahead for other streams
// wait in their stream's queue, at most kMaxReadAhead in all; a stream that
// would need more read ahead (it runs far ahead of the others) gets a reader
// of its own instead. So memory stays independent of the trace length, and
// a trace with thousands of devices is read once, not once per device. One
// timer is pending per stream at most.
#include <cmath>
#include <deque>
#include <map>
#include <queue>
#include <unordered_map>
#include <tuple>
#include <utility>

#include "sim/error.h"
#include "workloads/rw_mode.h"
#include "workloads/trace/trace_reader.h"
#include "workloads/workloads.h"

namespace pollsim {

namespace {

TraceOptions reader_options(const WorkloadConfig& cfg, int32_t device_filter = -1) {
    TraceOptions o;
    o.skip_bad = cfg.skip_bad;
    o.reorder_window = cfg.reorder_window;
    o.device_filter = device_filter;
    return o;
}

// Recorded times are within +-2^62 ns (the readers check), so a difference
// of two fits in int64; shifting by loop passes saturates instead of wrapping.
int64_t sat_add(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

// The time between two passes of a looped trace: its span plus one mean gap,
// so that the first request of a pass does not land on the last of the one before.
int64_t loop_period_ns(const std::string& path, int64_t first_ns, int64_t last_ns, int64_t count) {
    const int64_t span = last_ns - first_ns;
    const int64_t period = sat_add(span, count > 1 ? span / (count - 1) : 0);
    if (period <= 0)
        throw InputError(path + ": workload.loop needs a trace whose requests span some time (all are at " +
                         std::to_string(first_ns) + " ns)");
    return period;
}

// What the guest submits for a recorded request: device and queue follow the
// config (trace device d -> device d mod devices, queue (d / devices) mod
// queues, as fio jobs map), the rest comes from the record or the config.
class RequestMapper {
public:
    explicit RequestMapper(const WorkloadConfig& cfg)
        : bs_(cfg.bs),
          mode_(parse_rw(cfg.rw)),
          recorded_service_(cfg.service == "recorded"),
          recorded_wake_(cfg.service == "profile-recorded-wake") {}

    // The virtqueue a record goes to: {device, queue}.
    static std::pair<int32_t, int32_t> place(const TraceRecord& r, const GuestApi& guest) {
        return {r.device % guest.devices(),
                r.queue >= 0 ? r.queue % guest.queues() : (r.device / guest.devices()) % guest.queues()};
    }

    IoRequest make(const TraceRecord& r, const GuestApi& guest) {
        IoRequest req;
        std::tie(req.device, req.queue) = place(r, guest);
        req.op = r.op_known ? r.op : mode_.op;
        req.bytes = r.bytes >= 0 ? r.bytes : bs_;
        req.service_ns = recorded_service_ ? r.replay_service_ns() : -1;  // -1: the profile draws it
        if (recorded_wake_ && r.has_complete()) req.recorded_latency_ns = std::max<int64_t>(0, r.complete_ns - r.submit_ns);
        // Sequential when it starts where the device's previous request ended
        // (selects the profile's service distribution if the trace has no times).
        if (r.offset >= 0) {
            auto [it, fresh] = next_offset_.emplace(r.device, -1);
            req.random = it->second != r.offset;
            it->second = r.offset + req.bytes;
        } else {
            req.random = mode_.random;
        }
        return req;
    }

private:
    int64_t bs_;
    RwMode mode_;
    bool recorded_service_;
    bool recorded_wake_;
    std::unordered_map<int32_t, int64_t> next_offset_;  // one entry per trace device
};

// A recorded time difference (>= 0) divided by speed, at most 2^62 ns (far
// beyond any run) so that adding it to the simulated clock cannot overflow.
int64_t scaled(int64_t ns, double speed) {
    constexpr int64_t limit = int64_t{1} << 62;
    if (speed == 1.0) return std::min(ns, limit);
    const double v = static_cast<double>(ns) / speed;
    return v >= static_cast<double>(limit) ? limit : static_cast<int64_t>(std::llround(v));
}

// ---- open loop ------------------------------------------------------------

class OpenReplay final : public Workload {
public:
    OpenReplay(const WorkloadConfig& cfg) : cfg_(cfg), mapper_(cfg) {
        reader_ = open_trace(cfg_.trace, cfg_.format, reader_options(cfg_));
        if (!load())
            throw InputError(cfg_.trace + ": no replayable requests in the trace (" +
                             std::to_string(reader_->ignored()) + " lines ignored, " +
                             std::to_string(reader_->skipped()) + " skipped)");
        if (!reader_->timed())
            throw InputError(cfg_.trace + ": this " + reader_->format() +
                             " trace records no submission times (fio iolog version 2): replay it closed loop "
                             "(workload.replay: closed)");
        first_ns_ = rec_.submit_ns;
    }

    void start(GuestApi& guest) override {
        start_ns_ = guest.now_ns();
        report_skipped(guest);
        schedule(guest);
    }

    void on_timer(GuestApi& guest, uint64_t) override {
        // Everything due now goes at once: requests recorded at one instant
        // arrive together without a timer each.
        do {
            guest.submit(mapper_.make(rec_, guest));
            if (!load()) {
                next_.reset();
                report_skipped(guest);
                return;
            }
        } while (due_ns() <= guest.now_ns());
        report_skipped(guest);
        schedule(guest);
    }

    void on_complete(GuestApi&, const IoRequest&) override {}
    bool open_loop() const override { return true; }
    std::optional<PlannedSubmission> next_submission() const override { return next_; }

private:
    int64_t due_ns() const { return start_ns_ + scaled(sat_add(rec_.submit_ns - first_ns_, pass_offset_ns_), cfg_.speed); }
    void schedule(GuestApi& guest) {
        const int64_t t_ns = std::max(due_ns(), guest.now_ns());
        const auto [device, queue] = RequestMapper::place(rec_, guest);
        next_ = PlannedSubmission{t_ns, device, queue};
        guest.timer_at(t_ns, 0);
    }

    // Next record into rec_; at the end of the trace, starts the next pass if looping.
    bool load() {
        if (reader_->next(rec_)) {
            if (pass_ == 0) {
                last_ns_ = std::max(last_ns_, rec_.submit_ns);
                ++count_;
            }
            return true;
        }
        if (!cfg_.loop || count_ == 0) return false;
        pass_offset_ns_ = sat_add(pass_offset_ns_, loop_period_ns(cfg_.trace, first_ns_, last_ns_, count_));
        ++pass_;
        reader_ = open_trace(cfg_.trace, reader_->format(), reader_options(cfg_));
        return reader_->next(rec_);
    }

    // Malformed lines are counted once, on the first pass.
    void report_skipped(GuestApi& guest) {
        if (pass_ != 0) return;
        const int64_t n = reader_->skipped();
        if (n > reported_skipped_) guest.count_skipped(n - reported_skipped_);
        reported_skipped_ = n;
    }

    WorkloadConfig cfg_;
    RequestMapper mapper_;
    std::unique_ptr<TraceReader> reader_;
    TraceRecord rec_;  // the next request to submit
    std::optional<PlannedSubmission> next_;  // rec_'s submission, once scheduled
    int64_t start_ns_ = 0, first_ns_ = 0, last_ns_ = 0, count_ = 0;
    int64_t pass_offset_ns_ = 0;
    int pass_ = 0;
    int64_t reported_skipped_ = 0;
};

// ---- closed loop ----------------------------------------------------------

// Records read ahead for lagging streams, at most (about 100 bytes each).
constexpr size_t kMaxReadAhead = 65536;
// Requests a stream keeps in flight, at most: virtio's largest queue size.
constexpr size_t kMaxStreamInFlight = 32768;

class ClosedReplay final : public Workload {
public:
    ClosedReplay(const WorkloadConfig& cfg, uint64_t seed) : cfg_(cfg), mapper_(cfg) {
        survey();
        int idx = 0;
        for (const auto& [device, count] : devices_) {
            Stream s;
            s.device = device;
            s.think_rng = Rng(seed, 1, static_cast<uint64_t>(idx++));
            streams_.push_back(std::move(s));
        }
    }

    void start(GuestApi& guest) override {
        if (skipped_) guest.count_skipped(skipped_);
        shared_ = open_trace(cfg_.trace, format_, reader_options(cfg_));
        for (size_t i = 0; i < streams_.size(); ++i) {
            Stream& s = streams_[i];
            s.last_recorded_ns = 0;  // the trace's first submission (times are rebased to it)
            s.last_guest_ns = guest.now_ns();
            load_head(i);
            try_schedule(guest, i);
        }
    }

    void on_timer(GuestApi& guest, uint64_t cookie) override {
        Stream& s = streams_[cookie];
        s.timer_pending = false;
        submit_head(guest, cookie);
        try_schedule(guest, cookie);
    }

    void on_complete(GuestApi& guest, const IoRequest& req) override {
        // A request that held no slot in the recording (no recorded end) is
        // not waited for, in the replay either.
        if (!(req.tag & 1)) return;
        const size_t i = req.tag >> 1;
        Stream& s = streams_[i];
        --s.in_flight;
        s.last_guest_ns = guest.now_ns();
        try_schedule(guest, i);
    }

private:
    struct Stream {
        int32_t device = 0;
        // Records read ahead by the shared reader, with their loop pass.
        std::deque<std::pair<TraceRecord, int64_t>> ahead;
        std::unique_ptr<TraceReader> own;  // a reader of its own, once detached
        int64_t own_pass = 0;
        int64_t pass = 0, taken_in_pass = 0;  // of the last record handed out
        TraceRecord head;          // next request to submit
        bool has_head = false;
        int64_t head_max_in_flight = 0;  // submit head when in_flight <= this
        int64_t head_gap_ns = 0;   // after the stream's latest guest event (scaled)
        bool head_holds_slot = true;     // counts in in_flight until it completes
        int64_t pass_offset_ns = 0;
        // Recorded completions of the recorded requests still in flight at
        // the head's recorded submission: bounded by the recorded concurrency.
        std::priority_queue<int64_t, std::vector<int64_t>, std::greater<>> recorded_in_flight;
        int64_t last_recorded_ns = 0;  // latest recorded submission or completion (rebased)
        int64_t in_flight = 0;         // in the guest now, of those that hold a slot
        int64_t last_guest_ns = 0;     // latest guest submission or slot holder's completion
        int64_t submitted = 0;
        bool timer_pending = false;
        Rng think_rng;
    };

    // One pass over the file before the run: which trace devices there are
    // (one stream each), the trace's span (for loop) and whether it records
    // completions. Also reports a bad trace before anything runs.
    void survey() {
        auto reader = open_trace(cfg_.trace, cfg_.format, reader_options(cfg_));
        TraceRecord r;
        int64_t count = 0;
        while (reader->next(r)) {
            if (count == 0) first_ns_ = r.submit_ns;
            // Recorded concurrency drives the replay if any request has a
            // recorded end (those without one hold no slot).
            recorded_mode_ |= r.recorded_complete_ns() != TraceRecord::kNoTime;
            last_ns_ = std::max(last_ns_, r.submit_ns);
            ++devices_[r.device];
            ++count;
        }
        size_t idx = 0;
        for (const auto& kv : devices_) stream_of_[kv.first] = idx++;
        format_ = reader->format();
        skipped_ = reader->skipped();
        if (count == 0)
            throw InputError(cfg_.trace + ": no replayable requests in the trace (" +
                             std::to_string(reader->ignored()) + " lines ignored, " + std::to_string(skipped_) +
                             " skipped)");
        recorded_mode_ = recorded_mode_ && reader->timed();
        if (cfg_.loop) period_ns_ = reader->timed() ? loop_period_ns(cfg_.trace, first_ns_, last_ns_, count) : 1;
    }

    // Reads the stream's next request and works out when it may go: after
    // how many of the stream's requests are still in flight, and how long
    // after the stream's latest event.
    void load_head(size_t i) {
        Stream& s = streams_[i];
        int64_t pass = 0;
        s.has_head = next_record(i, s.head, pass);
        if (!s.has_head) return;
        if (pass != s.pass) s.taken_in_pass = 0;
        s.pass = pass;
        ++s.taken_in_pass;
        // pass * period, saturating, as adding the period once per pass did.
        s.pass_offset_ns = pass > 0 && period_ns_ > INT64_MAX / pass ? INT64_MAX : pass * period_ns_;
        // Recorded times, rebased to the trace's first submission (so >= 0)
        // and shifted by the loop passes, cannot overflow (trace_parse.h).
        // The record itself keeps its times: replay takes its service time.
        const TraceRecord& r = s.head;
        const int64_t submit_ns = sat_add(r.submit_ns - first_ns_, s.pass_offset_ns);
        const int64_t end = r.recorded_complete_ns();
        s.head_holds_slot = true;

        if (!recorded_mode_) {
            s.head_max_in_flight = cfg_.iodepth - 1;
            s.head_gap_ns = s.submitted < cfg_.iodepth ? 0 : cfg_.think.sample(s.think_rng);
            return;
        }
        // No virtqueue holds more than kMaxStreamInFlight: a stream whose
        // recorded concurrency would exceed it (a looped trace whose requests
        // outlast its period) waits for its earliest recorded completion.
        while (!s.recorded_in_flight.empty() && (s.recorded_in_flight.top() <= submit_ns ||
                                                 s.recorded_in_flight.size() >= kMaxStreamInFlight)) {
            s.last_recorded_ns = std::max(s.last_recorded_ns, s.recorded_in_flight.top());
            s.recorded_in_flight.pop();
        }
        s.head_max_in_flight = static_cast<int64_t>(s.recorded_in_flight.size());
        s.head_gap_ns = scaled(std::max<int64_t>(0, submit_ns - s.last_recorded_ns), cfg_.speed);
        // A request without a recorded end (cut off by the end of the
        // recording, or its completion lost) held no slot and left no
        // completion to wait for: in replay it does not count in in_flight,
        // and its completion does not move last_guest_ns.
        s.head_holds_slot = end != TraceRecord::kNoTime && end > r.submit_ns;
        if (s.head_holds_slot) s.recorded_in_flight.push(sat_add(submit_ns, end - r.submit_ns));
        s.last_recorded_ns = std::max(s.last_recorded_ns, submit_ns);
    }

    void submit_head(GuestApi& guest, size_t i) {
        Stream& s = streams_[i];
        IoRequest req = mapper_.make(s.head, guest);
        req.tag = (static_cast<uint64_t>(i) << 1) | (s.head_holds_slot ? 1 : 0);
        req.job = static_cast<int32_t>(i);
        guest.submit(req);
        if (s.head_holds_slot) ++s.in_flight;
        ++s.submitted;
        s.last_guest_ns = guest.now_ns();
        load_head(i);
    }

    // Stream i's next record (in file order within its device) and the loop
    // pass it belongs to; false at the end of the trace (without loop).
    bool next_record(size_t i, TraceRecord& rec, int64_t& pass) {
        Stream& s = streams_[i];
        if (s.own) return next_own(s, rec, pass);
        if (!s.ahead.empty()) {
            rec = s.ahead.front().first;
            pass = s.ahead.front().second;
            s.ahead.pop_front();
            --ahead_total_;
            return true;
        }
        for (;;) {
            if (ahead_total_ >= kMaxReadAhead) {
                detach(s);
                return next_own(s, rec, pass);
            }
            TraceRecord r;
            if (!shared_->next(r)) {
                if (!cfg_.loop || shared_pass_records_ == 0) return false;
                shared_ = open_trace(cfg_.trace, format_, reader_options(cfg_));
                ++shared_pass_;
                shared_pass_records_ = 0;
                continue;
            }
            ++shared_pass_records_;
            const auto it = stream_of_.find(r.device);
            if (it == stream_of_.end()) continue;  // the file changed since the survey
            if (it->second == i) {
                rec = r;
                pass = shared_pass_;
                return true;
            }
            Stream& other = streams_[it->second];
            if (other.own) continue;  // reads its own
            other.ahead.emplace_back(r, shared_pass_);
            ++ahead_total_;
        }
    }

    // Gives a stream a reader of its own (filtered to its device), at the
    // record after the last one it was handed.
    void detach(Stream& s) {
        s.own = open_trace(cfg_.trace, format_, reader_options(cfg_, s.device));
        s.own_pass = s.pass;
        TraceRecord r;
        for (int64_t k = 0; k < s.taken_in_pass && s.own->next(r); ++k) {
        }
    }

    bool next_own(Stream& s, TraceRecord& rec, int64_t& pass) {
        if (!s.own->next(rec)) {
            if (!cfg_.loop) return false;
            s.own = open_trace(cfg_.trace, format_, reader_options(cfg_, s.device));
            ++s.own_pass;
            if (!s.own->next(rec)) return false;
        }
        pass = s.own_pass;
        return true;
    }

    // Submits what is due now at once, as fio submits in its completion
    // handler when there is no think time; schedules the next one otherwise.
    void try_schedule(GuestApi& guest, size_t i) {
        Stream& s = streams_[i];
        while (s.has_head && !s.timer_pending && s.in_flight <= s.head_max_in_flight) {
            const int64_t due_ns = s.last_guest_ns + s.head_gap_ns;
            if (due_ns > guest.now_ns()) {
                s.timer_pending = true;
                guest.timer_at(due_ns, i);
                return;
            }
            submit_head(guest, i);
        }
    }

    WorkloadConfig cfg_;
    RequestMapper mapper_;
    std::string format_;
    std::map<int32_t, int64_t> devices_;  // trace device -> requests
    std::unordered_map<int32_t, size_t> stream_of_;  // trace device -> stream
    std::vector<Stream> streams_;
    std::unique_ptr<TraceReader> shared_;
    int64_t shared_pass_ = 0, shared_pass_records_ = 0;
    size_t ahead_total_ = 0;
    bool recorded_mode_ = false;
    int64_t first_ns_ = 0, last_ns_ = 0, period_ns_ = 0, skipped_ = 0;
};

}  // namespace

std::unique_ptr<Workload> make_trace_workload(const WorkloadConfig& cfg, uint64_t seed) {
    if (cfg.trace.empty()) throw InputError("workload.type trace needs workload.trace (the trace file)");
    if (cfg.replay == "closed") return std::make_unique<ClosedReplay>(cfg, seed);
    if (cfg.replay != "open") throw InputError("workload.replay must be open or closed, not '" + cfg.replay + "'");
    return std::make_unique<OpenReplay>(cfg);
}

}  // namespace pollsim
