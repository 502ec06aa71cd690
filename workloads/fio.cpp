// The closed-loop fio model of DESIGN §4: numjobs jobs each keep iodepth
// requests in flight; every completion is followed, guest_think later, by
// that job's next request.
#include "sim/rng.h"
#include "workloads/rw_mode.h"
#include "workloads/workloads.h"

namespace pollsim {

namespace {

class FioWorkload final : public Workload {
public:
    FioWorkload(const WorkloadConfig& cfg, uint64_t seed)
        : cfg_(cfg), mode_(parse_rw(cfg.rw)), spread_all_(cfg.spread == "all"), device_rng_(seed, 0) {
        for (int j = 0; j < cfg.numjobs; ++j) think_rng_.emplace_back(seed, 1, static_cast<uint64_t>(j));
    }

    void start(GuestApi& guest) override {
        prepare_requests(guest);
        for (int j = 0; j < cfg_.numjobs; ++j)
            for (int d = 0; d < cfg_.iodepth; ++d) submit_for(guest, j);
    }

    // "separate": job j owns one virtqueue and its own think-time stream.
    bool jobs_independent() const override { return !spread_all_; }

    void on_timer(GuestApi& guest, uint64_t job) override { submit_for(guest, static_cast<int>(job)); }

    void on_complete(GuestApi& guest, const IoRequest& req) override {
        const int64_t think_ns = cfg_.think.sample(think_rng_[req.job]);
        if (think_ns == 0) submit_for(guest, req.job);
        else guest.timer_at(guest.now_ns() + think_ns, static_cast<uint64_t>(req.job));
    }

private:
    // A job's requests differ only in what the engine fills in, so each job's
    // is made once. Building one field by field on every submission and
    // handing it on by value stalled on store forwarding (perf: most of this
    // function's samples).
    void prepare_requests(GuestApi& guest) {
        requests_.assign(static_cast<size_t>(cfg_.numjobs), IoRequest{});
        for (int job = 0; job < cfg_.numjobs; ++job) {
            IoRequest& req = requests_[static_cast<size_t>(job)];
            req.job = job;
            req.op = mode_.op;
            req.random = mode_.random;
            req.bytes = cfg_.bs;
            if (spread_all_) {
                // "all": the device is drawn per request (submit_for).
                req.queue = job % guest.queues();
            } else {
                // "separate-disk": job j owns device j mod devices; its queue
                // spreads jobs that share a device over that device's virtqueues.
                req.device = job % guest.devices();
                req.queue = (job / guest.devices()) % guest.queues();
            }
        }
    }

    void submit_for(GuestApi& guest, int job) {
        const IoRequest& req = requests_[static_cast<size_t>(job)];
        if (!spread_all_) {
            guest.submit(req);
            return;
        }
        IoRequest drawn = req;
        drawn.device = static_cast<int32_t>(device_rng_.below(static_cast<uint64_t>(guest.devices())));
        guest.submit(drawn);
    }

    WorkloadConfig cfg_;
    RwMode mode_;
    const bool spread_all_;  // spread: all (compared once, not per request)
    Rng device_rng_;
    std::vector<Rng> think_rng_;
    std::vector<IoRequest> requests_;  // per job, by prepare_requests()
};

}  // namespace

std::unique_ptr<Workload> make_fio_workload(const WorkloadConfig& cfg, uint64_t seed) {
    return std::make_unique<FioWorkload>(cfg, seed);
}

}  // namespace pollsim
