// Trace replay through the real engine: a synthetic fio run is written out as
// a trace (what `pollsim trace synth` does) and replayed closed loop; the
// replay must give the synthetic run's throughput and CPU within their
// confidence intervals, for each of two policies.
#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>

#include "sim/config.h"
#include "sim/metrics.h"
#include "sim/runner.h"
#include "sim/simulation.h"
#include "workloads/trace/trace_reader.h"
#include "workloads/trace/trace_writer.h"

using namespace pollsim;

namespace {

Config fcp_config(const std::vector<std::string>& extra) {
    std::vector<std::string> sets = {"profile=" POLLSIM_SOURCE_DIR "/configs/profiles/s390x-fcp.yaml",
                                     "workload.numjobs=4", "workload.iodepth=2", "duration=300ms",
                                     "warmup=30ms", "replications=5", "threads=1"};
    sets.insert(sets.end(), extra.begin(), extra.end());
    return load_config_text("{}", "test", ".", sets);
}

}  // namespace

TEST_CASE("closed-loop replay of a synthesized trace matches the synthetic run") {
    // Replication k of the synthetic run is written out and replayed with
    // replication k's seed, so the replay sees the service times of the run
    // it came from (replaying one trace in every replication would fix the
    // service times, the largest source of variation, to one draw).
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("pollsim_test_synth_" + std::to_string(::getpid()) + ".csv"))
                                 .string();
    for (const std::vector<std::string>& policy :
         {std::vector<std::string>{"policy=weighted"},
          std::vector<std::string>{"policy=legacy", "iothread.poll-grow=0", "iothread.poll-shrink=0"}}) {
        CAPTURE(policy[0]);
        const Config synthetic = fcp_config(policy);
        std::vector<std::string> replay_sets = policy;
        for (const char* s : {"workload.type=trace", "workload.replay=closed"}) replay_sets.push_back(s);
        replay_sets.push_back("workload.trace=" + path);
        const Config replay = fcp_config(replay_sets);

        std::vector<nlohmann::ordered_json> syn_reps, rep_reps;
        for (int k = 0; k < synthetic.replications; ++k) {
            TraceWriter out(path, "csv");
            TraceRecorder observer(out);
            // The trace covers warm-up and measurement: no loop needed.
            syn_reps.push_back(replication_metrics(Simulation(synthetic, k, &observer).run(), {0}));
            out.close();
            CHECK(out.written() > 10000);
            rep_reps.push_back(replication_metrics(Simulation(replay, k).run(), {0}));
        }
        const auto syn = aggregate_metrics(syn_reps), rep = aggregate_metrics(rep_reps);
        const double iops_syn = syn["iops"]["mean"], iops_rep = rep["iops"]["mean"];
        const double iops_ci = syn["iops"]["ci95"];
        const double cpu_syn = syn["cpu"]["iothread_util"]["mean"], cpu_rep = rep["cpu"]["iothread_util"]["mean"];
        const double cpu_ci = syn["cpu"]["iothread_util"]["ci95"];
        CAPTURE(iops_syn);
        CAPTURE(iops_rep);
        CAPTURE(iops_ci);
        CAPTURE(cpu_syn);
        CAPTURE(cpu_rep);
        CAPTURE(cpu_ci);
        CHECK(iops_ci > 0);
        CHECK(std::abs(iops_rep - iops_syn) <= iops_ci);
        CHECK(std::abs(cpu_rep - cpu_syn) <= cpu_ci);
    }
    std::filesystem::remove(path);
}
