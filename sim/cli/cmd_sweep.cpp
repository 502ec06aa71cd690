// `pollsim sweep SWEEP.yaml [--out DIR] [--threads N] [--set k=v]... [--plot]`
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "sim/cli/commands.h"
#include "sim/cli/options.h"
#include "sim/sweep.h"

namespace pollsim {

namespace {

std::string fixed(double v, int prec) {
    std::ostringstream ss;
    ss << std::fixed << std::setprecision(prec) << v;
    return ss.str();
}

// The headline numbers of each point as a Markdown table; the CSV has all.
void print_summary(std::ostream& os, const SweepResult& r) {
    std::string header, rule;
    for (const auto& c : r.columns) header += "| " + c + " ", rule += "|---";
    os << header << "| kIOPS | CPU % | p99 us | mean poll_ns | reset rate | near max |\n"
       << rule << "|--:|--:|--:|--:|--:|--:|\n";
    for (size_t i = 0; i < r.points.size(); ++i) {
        const auto& rep = r.reports[i];
        auto mean = [&](const char* m) { return metric_leaf(rep, m)["mean"].get<double>(); };
        for (const auto& [k, v] : r.points[i].vary) os << "| " << v << " ";
        os << "| " << fixed(mean("iops") / 1e3, 2) << " | " << fixed(100 * mean("cpu.iothread_util"), 1) << " | "
           << fixed(mean("latency_ns.p99") / 1e3, 1) << " | " << fixed(mean("poll.mean_poll_ns"), 0) << " | "
           << fixed(mean("poll.reset_rate"), 3) << " | " << fixed(mean("poll.time_near_max"), 3) << " |\n";
    }
}

}  // namespace

int cmd_sweep(int argc, char** argv) {
    std::string sweep_path, out_dir;
    std::vector<std::string> sets;
    int threads = 0;
    bool plot = false, quiet = false;
    po::options_description desc = command_options("pollsim sweep options");
    desc.add_options()
        ("sweep", po::value(&sweep_path)->required(), "sweep YAML file")
        ("out,o", po::value(&out_dir), "output directory (default: sweep-<name of the sweep file>)")
        ("threads,j", po::value(&threads)->default_value(0), "points run in parallel (0: all cores)")
        ("set", po::value(&sets)->composing(), "extra fixed override key=value for every point (repeatable)")
        ("plot", po::bool_switch(&plot), "also write DIR/tradeoff.svg and DIR/poll-histogram.svg")
        ("quiet,q", po::bool_switch(&quiet), "no summary table on stdout");
    if (!parse_command_line(argc, argv, desc, "sweep", "pollsim sweep SWEEP.yaml [--out DIR] [--threads N]",
                            "\nSweep file (paths relative to it):\n"
                            "  base: ../default.yaml                 # config to start from\n"
                            "  set: {duration: 1s}                   # fixed overrides\n"
                            "  vary:                                 # cartesian product, first key outermost\n"
                            "    workload.rw: [randread, randwrite]\n"
                            "  zip:                                  # lists in a group move together\n"
                            "    - {policy: [legacy, weighted], iothread.poll-weight: [0, 3]}\n\n"
                            "Writes DIR/results.csv (varied keys, then mean and ci95 of the headline metrics),\n"
                            "DIR/results.json (every point's run report) and DIR/points/<key>.json as each point\n"
                            "finishes; a rerun skips points whose configuration and pollsim version match.\n"
                            "Each point runs its replications on one thread, so results do not depend on -j.\n"))
        return 0;

    const SweepSpec spec = load_sweep(sweep_path);
    // Every point is resolved (and so checked) before the first one runs.
    std::vector<SweepPoint> points = resolve_points(spec, sets);
    if (out_dir.empty()) out_dir = "sweep-" + std::filesystem::path(sweep_path).stem().string();

    SweepOptions options;
    options.cache_dir = (std::filesystem::path(out_dir) / "points").string();
    options.threads = threads;
    options.progress = stderr_progress("sweep " + std::filesystem::path(sweep_path).filename().string(), stderr_is_tty());
    const SweepResult result = run_points(std::move(points), spec.varied_keys(), options);
    write_results(result, spec.file, out_dir);

    if (!quiet) print_summary(std::cout, result);
    std::cerr << "pollsim sweep: " << result.points.size() << " points (" << result.ran << " run, " << result.cached
              << " cached) in " << fixed(result.wall_s, 1) << " s; wrote " << out_dir << "/results.csv, results.json";
    if (plot)
        for (const auto& f : write_sweep_plots(result, out_dir))
            std::cerr << ", " << std::filesystem::path(f).filename().string();
    std::cerr << "\n";
    return 0;
}

}  // namespace pollsim
