#include "sim/runner.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>

#include "sim/error.h"
#include "sim/metrics.h"
#include "sim/simulation.h"

namespace pollsim {

using ojson = nlohmann::ordered_json;

void parallel_for(int jobs, int threads, const std::function<void(int)>& task) {
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::min(threads, jobs);
    std::atomic<int> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto worker = [&] {
        for (int i; (i = next.fetch_add(1)) < jobs;) {
            try {
                task(i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!error) error = std::current_exception();
                next = jobs;  // stop handing out work
            }
        }
    };
    if (threads <= 1) {
        worker();
    } else {
        std::vector<std::thread> pool;
        pool.reserve(threads);
        std::string spawn_error;
        for (int t = 0; t < threads; ++t) {
            try {
                pool.emplace_back(worker);
            } catch (const std::exception& e) {  // std::system_error, std::bad_alloc
                // Out of memory or processes: stop handing out work, let the
                // workers that started finish their task, and say so.
                next = jobs;
                spawn_error = "cannot start worker thread " + std::to_string(t + 1) + " of " +
                              std::to_string(threads) + " (" + e.what() +
                              "); set fewer threads (threads, --threads)";
                break;
            }
        }
        for (auto& t : pool) t.join();
        if (!spawn_error.empty()) throw InputError(spawn_error);
    }
    if (error) std::rethrow_exception(error);
}

namespace {

// The same run under the offline optimum (the clairvoyant policy), where one
// can be run: open loop, one IOThread, and not already that policy. Same seed,
// so the same arrivals (common random numbers).
std::optional<Config> oracle_twin(const Config& config) {
    const PolicyOps* oracle = find_clairvoyant_policy();
    if (!oracle || !is_open_loop(config.workload) || config.iothreads != 1 || config.policy == oracle->name)
        return std::nullopt;
    Config twin = config;
    twin.policy = oracle->name;
    PolicyParams given;
    given.latency_weight = config.iothread.latency_weight;
    twin.iothread = resolve_policy_params(*oracle, given);
    return twin;
}

// metrics.cost (open loop): cost.total, and its ratio to the oracle's on the
// same arrivals when there is one (the oracle's own ratio is 1).
void add_cost(ojson& metrics, const Config& config, const ReplicationResult& r, const ReplicationResult* oracle,
              const std::vector<int>& contexts) {
    const double total = wait_cost_ns_per_s(r, contexts, config.iothread.latency_weight);
    ojson& cost = metrics["cost"];
    cost["total"] = total;
    if (const PolicyOps* ops = find_policy(config.policy); ops && ops->clairvoyant) cost["ratio_to_oracle"] = 1.0;
    else if (oracle) {
        const double best = wait_cost_ns_per_s(*oracle, contexts, config.iothread.latency_weight);
        cost["ratio_to_oracle"] = best > 0 ? total / best : 0.0;
    }
}

// What the report needs of one replication. Its histograms are reduced to
// metrics as soon as it finishes, so memory does not grow with
// replications x IOThreads.
struct ReplicationSummary {
    ojson overall;
    std::vector<ojson> per_thread;
    int64_t requests_completed = 0;
    int64_t iterations = 0;
    int64_t events = 0;
    int event_queues = 1;
    int64_t skipped_records = 0;
};

// `oracle`: the same replication under the oracle (open loop), or null.
ReplicationSummary summarize(const Config& config, const ReplicationResult& r, const ReplicationResult* oracle,
                             const std::vector<int>& all) {
    ReplicationSummary s;
    const bool open_loop = is_open_loop(config.workload);
    s.overall = replication_metrics(r, all);
    if (open_loop) add_cost(s.overall, config, r, oracle, all);
    for (int c : all) {
        s.per_thread.push_back(replication_metrics(r, {c}));
        if (open_loop) add_cost(s.per_thread.back(), config, r, oracle, {c});
    }
    for (const auto& c : r.contexts) {
        s.requests_completed += c.completed;
        s.iterations += c.iterations;
    }
    s.events = r.events;
    s.event_queues = r.event_queues;
    s.skipped_records = r.skipped_records;
    return s;
}

}  // namespace

RunOutput run_config(const Config& config, const std::function<void(int, int)>& progress) {
    const auto t0 = std::chrono::steady_clock::now();
    const int reps = config.replications;
    std::vector<int> all(config.iothreads);
    std::iota(all.begin(), all.end(), 0);
    const std::optional<Config> twin = oracle_twin(config);
    std::vector<ReplicationSummary> results(reps);
    std::atomic<int> done{0};
    parallel_for(reps, config.threads, [&](int r) {
        const ReplicationResult result = run_replication(config, r);
        const std::optional<ReplicationResult> oracle =
            twin ? std::optional<ReplicationResult>(run_replication(*twin, r)) : std::nullopt;
        results[r] = summarize(config, result, oracle ? &*oracle : nullptr, all);
        const int d = ++done;
        if (progress) progress(d, reps);
    });

    std::vector<ojson> overall;
    std::vector<std::vector<ojson>> per_thread(config.iothreads);
    RunOutput out;
    int64_t iterations = 0, skipped = 0;
    for (auto& r : results) {
        overall.push_back(std::move(r.overall));
        for (int c = 0; c < config.iothreads; ++c) per_thread[c].push_back(std::move(r.per_thread[c]));
        out.requests_completed += r.requests_completed;
        iterations += r.iterations;
        out.events += r.events;
        skipped += r.skipped_records;
    }
    if (!results.empty()) out.event_queues = results.front().event_queues;
    out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    ojson& j = out.report;
    j["pollsim_version"] = POLLSIM_VERSION;
    j["config"] = config_to_json(config);
    j["run"] = {{"replications", reps},
                {"requests_completed", out.requests_completed},
                {"iterations", iterations},
                {"events", out.events},
                {"skipped_records", skipped},
                {"wall_s", out.wall_s}};
    j["metrics"] = aggregate_metrics(overall);
    ojson threads = ojson::array();
    for (int c = 0; c < config.iothreads; ++c)
        threads.push_back({{"iothread", c}, {"metrics", aggregate_metrics(per_thread[c])}});
    j["per_iothread"] = threads;
    return out;
}

}  // namespace pollsim
