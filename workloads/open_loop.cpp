// Open-loop generators: arrivals do not wait for completions.
//  poisson: exponential inter-arrival times at rate_iops.
//  onoff:   Poisson at rate_iops during on periods, nothing during off periods
//           (bursty traffic such as periodic flushes or batch jobs).
#include "sim/rng.h"
#include "workloads/rw_mode.h"
#include "workloads/workloads.h"

namespace pollsim {

namespace {

class OpenLoopWorkload final : public Workload {
public:
    OpenLoopWorkload(const WorkloadConfig& cfg, uint64_t seed, bool bursty)
        : cfg_(cfg), mode_(parse_rw(cfg.rw)), bursty_(bursty), rng_(seed, 0), period_rng_(seed, 1) {}

    void start(GuestApi& guest) override {
        on_until_ns_ = bursty_ ? cfg_.on_ns.sample(period_rng_) : kForever;
        schedule_next(guest, guest.now_ns());
    }

    void on_timer(GuestApi& guest, uint64_t) override {
        IoRequest req;
        req.op = mode_.op;
        req.random = mode_.random;
        req.bytes = cfg_.bs;
        req.device = next_.device;
        req.queue = next_.queue;
        guest.submit(req);
        schedule_next(guest, guest.now_ns());
    }

    void on_complete(GuestApi&, const IoRequest&) override {}
    bool open_loop() const override { return true; }
    std::optional<PlannedSubmission> next_submission() const override { return next_; }

private:
    static constexpr int64_t kForever = INT64_MAX / 4;

    // Next arrival after `from`; an arrival that falls past the end of an on
    // period moves into the next on period (memorylessness makes that exact).
    // Its virtqueue is drawn now, not when it arrives, so that it can be
    // told in advance (next_submission); one stream draws gap, device and
    // queue in the same order either way, so no value moved.
    void schedule_next(GuestApi& guest, int64_t from_ns) {
        int64_t t = from_ns + static_cast<int64_t>(rng_.exponential(1e9 / cfg_.rate_iops)) + 1;
        while (t > on_until_ns_) {
            const int64_t off_end = on_until_ns_ + cfg_.off_ns.sample(period_rng_);
            t = off_end + (t - on_until_ns_);
            on_until_ns_ = off_end + std::max<int64_t>(1, cfg_.on_ns.sample(period_rng_));
        }
        next_.t_ns = t;
        next_.device = static_cast<int32_t>(rng_.below(static_cast<uint64_t>(guest.devices())));
        next_.queue = static_cast<int32_t>(rng_.below(static_cast<uint64_t>(guest.queues())));
        guest.timer_at(t, 0);
    }

    WorkloadConfig cfg_;
    RwMode mode_;
    bool bursty_;
    Rng rng_, period_rng_;
    int64_t on_until_ns_ = kForever;
    PlannedSubmission next_;
};

}  // namespace

std::unique_ptr<Workload> make_poisson_workload(const WorkloadConfig& cfg, uint64_t seed) {
    return std::make_unique<OpenLoopWorkload>(cfg, seed, false);
}

std::unique_ptr<Workload> make_onoff_workload(const WorkloadConfig& cfg, uint64_t seed) {
    return std::make_unique<OpenLoopWorkload>(cfg, seed, true);
}

}  // namespace pollsim
