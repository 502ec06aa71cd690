// `pollsim run`, `pollsim bench` and `pollsim list`.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include "sim/bench.h"
#include "sim/cli/commands.h"
#include "sim/cli/options.h"
#include "sim/error.h"
#include "sim/runner.h"
#include "sim/workload.h"

namespace pollsim {

int cmd_run(int argc, char** argv) {
    ConfigOptions copt;
    std::string json_path;
    bool quiet = false;
    po::options_description desc = command_options("pollsim run options");
    copt.add_to(desc);
    desc.add_options()
        ("json", po::value(&json_path), "also write the full report as JSON to FILE (atomically)")
        ("quiet,q", po::bool_switch(&quiet), "no text report on stdout");
    if (!parse_command_line(argc, argv, desc, "config", "pollsim run [CONFIG] [--set key=value]... [--json FILE]",
                            "\nRuns the configuration's replications (in parallel: --set threads=N) and prints\n"
                            "throughput, latency, IOThread CPU and poll statistics, each as mean ± 95% CI.\n"))
        return 0;
    const Config config = copt.load();
    std::function<void(int, int)> progress;
    if (stderr_is_tty())
        progress = [](int done, int total) { std::cerr << "\rreplication " << done << "/" << total << std::flush; };
    const RunOutput out = run_config(config, progress);
    if (progress) std::cerr << "\r" << std::string(30, ' ') << "\r";
    if (!json_path.empty()) write_file_atomic(json_path, out.report.dump(2) + "\n");
    if (!quiet) print_report(std::cout, out.report);
    return 0;
}

namespace {
double max_rss_mib() {
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}
}  // namespace

// Speed is measured here, not in timed tests: one replication on one thread.
int cmd_bench(int argc, char** argv) {
    ConfigOptions copt;
    std::string json_out;
    int heap_pending = 128;
    po::options_description desc = command_options("pollsim bench options");
    copt.add_to(desc);
    desc.add_options()
        ("json", po::value(&json_out), "also write the figures as JSON (atomically)")
        ("heap-pending", po::value(&heap_pending)->default_value(128),
         "events held by the bare-heap reference loop");
    if (!parse_command_line(argc, argv, desc, "config", "pollsim bench [CONFIG] [--set key=value]... [--json FILE]",
                            "\nRuns one replication on one thread and prints simulated requests and model events\n"
                            "per wall and per CPU second, the peak resident memory, and the same machine's limit\n"
                            "for the model's data structure measured in the same run: a bare binary-heap event\n"
                            "queue (std::priority_queue, hold loop), with the model's events/s as a share of it.\n"
                            "IOThreads that share no device, no guest vCPU and no workload state run one group\n"
                            "after another on queues of their own, with the same results (\"event queues\").\n"
                            "Try --set duration=60s for the memory bound.\n"))
        return 0;
    if (heap_pending < 1 || heap_pending > (1 << 24)) throw InputError("--heap-pending must be in 1..16777216");
    copt.sets.push_back("replications=1");
    copt.sets.push_back("threads=1");
    const Config config = copt.load();
    const double cpu0 = process_cpu_s();
    const RunOutput out = run_config(config);
    const double cpu_s = process_cpu_s() - cpu0;
    const int64_t heap_events = std::clamp<int64_t>(out.events, 5'000'000, 50'000'000);
    const double heap_rate = bare_heap_events_per_cpu_s(heap_pending, heap_events);
    const double virt_s = static_cast<double>(config.warmup_ns + config.duration_ns) / 1e9;
    const double events_per_cpu_s = cpu_s > 0 ? static_cast<double>(out.events) / cpu_s : 0.0;
    nlohmann::ordered_json j;
    j["pollsim_version"] = POLLSIM_VERSION;
    j["config"] = config.source;
    j["virtual_s"] = virt_s;
    j["wall_s"] = out.wall_s;
    j["cpu_s"] = cpu_s;
    j["requests"] = out.requests_completed;
    j["events"] = out.events;
    j["requests_per_wall_s"] = out.requests_completed / out.wall_s;
    j["requests_per_cpu_s"] = cpu_s > 0 ? out.requests_completed / cpu_s : 0.0;
    j["events_per_cpu_s"] = events_per_cpu_s;
    j["event_queues"] = out.event_queues;
    j["bare_heap_events_per_cpu_s"] = heap_rate;
    j["bare_heap_pending"] = heap_pending;
    j["share_of_bare_heap"] = heap_rate > 0 ? events_per_cpu_s / heap_rate : 0.0;
    j["peak_rss_mib"] = max_rss_mib();
    std::cout << std::fixed << std::setprecision(0);
    std::cout << "config            " << config.source << " (policy " << config.policy << ", " << config.workload.type
              << " " << config.workload.rw << ")\n";
    std::cout << "virtual time      " << std::setprecision(2) << virt_s << " s\n";
    std::cout << "wall / CPU time   " << std::setprecision(3) << out.wall_s << " s / " << cpu_s << " s\n";
    std::cout << "requests          " << out.requests_completed << " (measurement window)\n";
    std::cout << "requests/wall s   " << std::setprecision(0) << out.requests_completed / out.wall_s << "\n";
    std::cout << "requests/CPU s    " << j["requests_per_cpu_s"].get<double>() << "\n";
    std::cout << "events/CPU s      " << events_per_cpu_s << "\n";
    std::cout << "event queues      " << out.event_queues
              << (out.event_queues > 1 ? " (IOThreads that share nothing, run one group after another)\n" : "\n");
    std::cout << "bare heap/CPU s   " << heap_rate << " (" << heap_pending << " pending)\n";
    std::cout << "share of it       " << std::setprecision(1) << 100 * j["share_of_bare_heap"].get<double>() << " %\n";
    std::cout << "virtual/wall      " << std::setprecision(2) << virt_s / out.wall_s << "x\n";
    std::cout << "peak RSS          " << std::setprecision(1) << max_rss_mib() << " MiB\n";
    if (!json_out.empty()) write_file_atomic(json_out, j.dump(2) + "\n");
    return 0;
}

int cmd_list(int argc, char** argv) {
    const std::string what = argc > 1 ? argv[1] : "all";
    if (what == "--help" || what == "-h") {
        std::cout << "usage: pollsim list [policies|workloads|keys]\n";
        return 0;
    }
    if (what == "all" || what == "policies") {
        std::cout << "policies:\n";
        for (const auto& p : policy_table()) std::cout << "  " << std::left << std::setw(19) << p.name << p.help << "\n";
    }
    if (what == "all" || what == "workloads") {
        std::cout << "workload types:\n";
        for (const auto& w : workload_table()) std::cout << "  " << std::left << std::setw(15) << w.name << w.help << "\n";
    }
    if (what == "all" || what == "keys") {
        std::cout << "configuration keys (YAML and --set):\n";
        for (const auto& k : valid_config_keys()) std::cout << "  " << k << "\n";
    }
    if (what != "all" && what != "policies" && what != "workloads" && what != "keys")
        throw InputError("list: unknown topic '" + what + "' (policies, workloads, keys)");
    return 0;
}

}  // namespace pollsim
