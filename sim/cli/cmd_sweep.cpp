// `pollsim sweep SWEEP.yaml [--out DIR] [--threads N] [--set k=v]... [--plot]`,
// `--shard I/N`, `--list-points`, and `pollsim sweep merge SWEEP.yaml DIR...`.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

#include "sim/cli/commands.h"
#include "sim/cli/options.h"
#include "sim/error.h"
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

std::string default_out(const std::string& sweep_path) {
    return "sweep-" + std::filesystem::path(sweep_path).stem().string();
}

// results.csv, results.json, the summary and the plots: one path for a
// single run and a merge, which is what makes their outputs identical.
// Returns the files written, for the closing line.
std::string write_outputs(const SweepResult& result, const SweepSpec& spec, const std::string& out_dir, bool plot,
                          bool quiet) {
    write_results(result, spec.file, out_dir);
    if (!quiet) print_summary(std::cout, result);
    std::string written = out_dir + "/results.csv, results.json";
    if (plot)
        for (const auto& f : write_sweep_plots(result, out_dir)) written += ", " + std::filesystem::path(f).filename().string();
    return written;
}

// One line per point: index, key and the varied values, tab-separated (a
// value may hold spaces), for a scheduler that fans out per point.
void list_points(std::ostream& os, const std::vector<SweepPoint>& points) {
    for (const auto& p : points) {
        os << p.index << "\t" << p.key;
        for (const auto& [k, v] : p.vary) os << "\t" << k << "=" << v;
        os << "\n";
    }
}

const char* const kShardHelp =
    "run only shard I of N (0 <= I < N): the points whose position P in the sweep's enumeration "
    "(from 0, first axis outermost, as --list-points numbers them) has P mod N = I. Only the sweep "
    "file decides P, not --set, -j or the machine. Writes DIR/points/ and DIR/shard-I-of-N.json, "
    "no results: combine the shards with `pollsim sweep merge`";

int cmd_sweep_merge(int argc, char** argv) {
    std::string sweep_path, out_dir;
    std::vector<std::string> dirs, sets;
    bool plot = false, quiet = false;
    po::options_description desc = command_options("pollsim sweep merge options");
    desc.add_options()
        ("sweep", po::value(&sweep_path)->required(), "sweep YAML file the shards ran")
        ("dirs", po::value(&dirs)->multitoken(), "the shards' output directories")
        ("out,o", po::value(&out_dir), "output directory (default: sweep-<name of the sweep file>)")
        ("set", po::value(&sets)->composing(), "the same --set overrides the shards ran with (repeatable)")
        ("plot", po::bool_switch(&plot), "also write DIR/tradeoff.svg and DIR/poll-histogram.svg")
        ("quiet,q", po::bool_switch(&quiet), "no summary table on stdout");
    // Any number of directories after the sweep file.
    po::positional_options_description pos;
    pos.add("sweep", 1).add("dirs", -1);
    if (!parse_command_line(argc, argv, desc, pos, "pollsim sweep merge SWEEP.yaml DIR... [--out DIR] [--set k=v]... [--plot]",
                          "\nReads DIR/points/<key>.json and DIR/shard-I-of-N.json from each shard directory and writes\n"
                          "results.csv, results.json (and plots) byte for byte as one `pollsim sweep` would. Every\n"
                          "point must be found, with the key this pollsim version and these --set give it; copies\n"
                          "found twice must be identical. Missing or conflicting points are named, exit 2.\n"))
        return 0;

    if (dirs.empty()) throw InputError("merge: name the shards' directories after the sweep file (see --help)");
    const SweepSpec spec = load_sweep(sweep_path);
    const SweepResult result = merge_shards(resolve_points(spec, sets), spec.varied_keys(), dirs);
    if (out_dir.empty()) out_dir = default_out(sweep_path);
    const std::string written = write_outputs(result, spec, out_dir, plot, quiet);
    std::cerr << "pollsim sweep merge: " << result.points.size() << " points from " << dirs.size()
              << " directories; wrote " << written << "\n";
    return 0;
}

}  // namespace

int cmd_sweep(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "merge") return cmd_sweep_merge(argc - 1, argv + 1);
    std::string sweep_path, out_dir, shard_text;
    std::vector<std::string> sets;
    int threads = 0;
    bool plot = false, quiet = false, list = false;
    po::options_description desc = command_options("pollsim sweep options");
    desc.add_options()
        ("sweep", po::value(&sweep_path)->required(), "sweep YAML file")
        ("out,o", po::value(&out_dir), "output directory (default: sweep-<name of the sweep file>)")
        ("threads,j", po::value(&threads)->default_value(0), "points run in parallel (0: all cores)")
        ("set", po::value(&sets)->composing(), "extra fixed override key=value for every point (repeatable)")
        ("plot", po::bool_switch(&plot), "also write DIR/tradeoff.svg and DIR/poll-histogram.svg")
        ("shard", po::value(&shard_text), kShardHelp)
        ("list-points", po::bool_switch(&list), "print each point (of the shard, with --shard) as index, key and "
                                                "varied values, tab-separated, and exit")
        ("quiet,q", po::bool_switch(&quiet), "no summary table on stdout");
    if (!parse_command_line(argc, argv, desc, "sweep",
                            "pollsim sweep SWEEP.yaml [--out DIR] [--threads N] [--shard I/N] [--list-points]\n"
                            "       pollsim sweep merge SWEEP.yaml DIR... [--out DIR] [--set k=v]... [--plot]",
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
                            "Each point runs its replications on one thread, so results do not depend on -j.\n\n"
                            "On several machines: run `--shard I/N --out DIR_I` for I = 0..N-1 under any scheduler\n"
                            "(GNU parallel, a Slurm job array; N = the point count gives one point per shard), then\n"
                            "`pollsim sweep merge SWEEP.yaml DIR_0 ... DIR_N-1 --out DIR` with the same --set.\n"))
        return 0;

    const std::optional<Shard> shard = shard_text.empty() ? std::nullopt : std::optional(parse_shard(shard_text));
    if (shard && plot) throw InputError("--plot with --shard: a shard writes no results; plot with `sweep merge --plot`");
    const SweepSpec spec = load_sweep(sweep_path);
    // Every point is resolved (and so checked) before the first one runs.
    std::vector<SweepPoint> points = resolve_points(spec, sets);
    if (shard) points = shard_points(std::move(points), *shard);
    if (list) {
        list_points(std::cout, points);
        return 0;
    }
    if (out_dir.empty()) out_dir = default_out(sweep_path);

    SweepOptions options;
    options.cache_dir = (std::filesystem::path(out_dir) / "points").string();
    options.threads = threads;
    const std::string label = "sweep " + std::filesystem::path(sweep_path).filename().string();
    options.progress = stderr_progress(label + (shard ? " shard " + shard->name() : ""), stderr_is_tty());
    const SweepResult result = run_points(std::move(points), spec.varied_keys(), options);
    const std::string counts = std::to_string(result.points.size()) + " points (" + std::to_string(result.ran) +
                               " run, " + std::to_string(result.cached) + " cached) in " + fixed(result.wall_s, 1) + " s";
    if (shard) {
        // Results come from the merge; shards sharing one DIR must not overwrite each other's.
        write_shard_manifest(result, *shard, spec.file, out_dir);
        if (!quiet) print_summary(std::cout, result);
        std::cerr << "pollsim sweep: shard " << shard->name() << ": " << counts << "; wrote " << out_dir
                  << "/points/, " << shard->manifest_file() << "\n";
        return 0;
    }
    const std::string written = write_outputs(result, spec, out_dir, plot, quiet);
    std::cerr << "pollsim sweep: " << counts << "; wrote " << written << "\n";
    return 0;
}

}  // namespace pollsim
