#include "sim/runner.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
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

// What the report needs of one replication. Its histograms are reduced to
// metrics as soon as it finishes, so memory does not grow with
// replications x IOThreads.
struct ReplicationSummary {
    ojson overall;
    std::vector<ojson> per_thread;
    int64_t requests_completed = 0;
    int64_t iterations = 0;
    int64_t events = 0;
    int64_t skipped_records = 0;
};

ReplicationSummary summarize(const ReplicationResult& r, const std::vector<int>& all) {
    ReplicationSummary s;
    s.overall = replication_metrics(r, all);
    for (int c : all) s.per_thread.push_back(replication_metrics(r, {c}));
    for (const auto& c : r.contexts) {
        s.requests_completed += c.completed;
        s.iterations += c.iterations;
    }
    s.events = r.events;
    s.skipped_records = r.skipped_records;
    return s;
}

}  // namespace

RunOutput run_config(const Config& config, const std::function<void(int, int)>& progress) {
    const auto t0 = std::chrono::steady_clock::now();
    const int reps = config.replications;
    std::vector<int> all(config.iothreads);
    std::iota(all.begin(), all.end(), 0);
    std::vector<ReplicationSummary> results(reps);
    std::atomic<int> done{0};
    parallel_for(reps, config.threads, [&](int r) {
        results[r] = summarize(run_replication(config, r), all);
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
