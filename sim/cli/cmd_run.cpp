// `pollsim run`, `pollsim bench` and `pollsim list`.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

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
    po::options_description desc = command_options("pollsim bench options");
    copt.add_to(desc);
    if (!parse_command_line(argc, argv, desc, "config", "pollsim bench [CONFIG] [--set key=value]...",
                            "\nRuns one replication on one thread and prints simulated requests and events per\n"
                            "wall second and the peak resident memory. Try --set duration=60s for the memory bound.\n"))
        return 0;
    copt.sets.push_back("replications=1");
    copt.sets.push_back("threads=1");
    const Config config = copt.load();
    const RunOutput out = run_config(config);
    const double virt_s = static_cast<double>(config.warmup_ns + config.duration_ns) / 1e9;
    std::cout << std::fixed << std::setprecision(0);
    std::cout << "config            " << config.source << " (policy " << config.policy << ", " << config.workload.type
              << " " << config.workload.rw << ")\n";
    std::cout << "virtual time      " << std::setprecision(2) << virt_s << " s\n";
    std::cout << "wall time         " << std::setprecision(3) << out.wall_s << " s\n";
    std::cout << "requests          " << out.requests_completed << " (measurement window)\n";
    std::cout << "requests/wall s   " << std::setprecision(0) << out.requests_completed / out.wall_s << "\n";
    std::cout << "events/wall s     " << out.events / out.wall_s << "\n";
    std::cout << "virtual/wall      " << std::setprecision(2) << virt_s / out.wall_s << "x\n";
    std::cout << "peak RSS          " << std::setprecision(1) << max_rss_mib() << " MiB\n";
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
        for (const auto& p : policy_table()) std::cout << "  " << std::left << std::setw(15) << p.name << p.help << "\n";
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
