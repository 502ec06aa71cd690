// Runs a configuration's replications on worker threads and assembles the
// report. Results are indexed by replication, so the output does not depend
// on the thread count.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>

#include "sim/config.h"
#include "sim/output_file.h"  // write_file_atomic

namespace pollsim {

struct RunOutput {
    nlohmann::ordered_json report;  // the --json document
    double wall_s = 0;
    int64_t requests_completed = 0;
    int64_t events = 0;
    int event_queues = 1;  // Simulation::queue_count(), the same in every replication
};

// progress(done, total) is called from worker threads as replications finish.
RunOutput run_config(const Config& config, const std::function<void(int, int)>& progress = {});

// Runs `jobs` independent tasks on `threads` workers (0: hardware threads).
void parallel_for(int jobs, int threads, const std::function<void(int)>& task);

}  // namespace pollsim
