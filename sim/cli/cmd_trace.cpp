// `pollsim trace stats FILE` and `pollsim trace synth CONFIG --out FILE`.
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "sim/cli/commands.h"
#include "sim/cli/options.h"
#include "sim/error.h"
#include "sim/simulation.h"
#include "workloads/trace/trace_stats.h"
#include "workloads/trace/trace_writer.h"

namespace pollsim {

namespace {

const char* kTraceUsage =
    "usage: pollsim trace stats FILE [--format F] [--skip-bad] [--reorder-window N] [--json]\n"
    "       pollsim trace synth [CONFIG] --out FILE.csv|FILE.jsonl [--set key=value]... [--replication N]\n"
    "\n"
    "  stats  request count, duration, arrival rate, inter-arrival and service-time\n"
    "         percentiles and the per-device split of a recorded trace\n"
    "  synth  run one replication of CONFIG and write every request the guest\n"
    "         completed in the native trace format, for replay with workload.type: trace\n";

int trace_stats_cmd(int argc, char** argv) {
    std::string file, format = "auto";
    bool skip_bad = false, json = false;
    int64_t window = 1024;
    po::options_description desc = command_options("pollsim trace stats options");
    desc.add_options()
        ("file", po::value(&file)->required(), "trace file")
        ("format", po::value(&format), "auto (default), csv, jsonl, blkparse, fio-iolog, fio-lat or qemu-log")
        ("skip-bad", po::bool_switch(&skip_bad), "count malformed lines instead of stopping at the first")
        ("reorder-window", po::value(&window), "records sorted when slightly out of order (default 1024)")
        ("json", po::bool_switch(&json), "print the summary as JSON");
    if (!parse_command_line(argc, argv, desc, "file", "pollsim trace stats FILE [options]",
                            "\nReads the trace once, streaming (memory does not grow with its length).\n"
                            "Percentiles come from a log-linear histogram (within 0.8 %).\n"))
        return 0;
    if (window < 1) throw InputError("--reorder-window must be at least 1");
    TraceOptions opt;
    opt.skip_bad = skip_bad;
    opt.reorder_window = window;
    const TraceStats stats = trace_stats(file, format, opt);
    if (json) std::cout << stats.to_json().dump(2) << "\n";
    else std::cout << stats.to_text();
    // As `run` refuses it: a trace with nothing to replay is an error.
    if (stats.requests == 0)
        throw InputError(file + ": no replayable requests in the trace (" + std::to_string(stats.ignored) +
                         " lines ignored, " + std::to_string(stats.skipped) + " skipped)");
    return 0;
}

int trace_synth_cmd(int argc, char** argv) {
    ConfigOptions copt;
    std::string out_path;
    int replication = 0;
    po::options_description desc = command_options("pollsim trace synth options");
    copt.add_to(desc);
    desc.add_options()
        ("out", po::value(&out_path)->required(), "trace to write: FILE.csv or FILE.jsonl (the extension picks the format)")
        ("replication", po::value(&replication), "which replication's seed to run (default 0)");
    if (!parse_command_line(argc, argv, desc, "config", "pollsim trace synth [CONFIG] --out FILE [--set key=value]...",
                            "\nRuns one replication (warm-up included) and writes each request the guest\n"
                            "completed: submit_ns, complete_ns (guest completion), service_ns (backend),\n"
                            "device, queue, op, bytes. Requests still in flight at the end are not written.\n"))
        return 0;
    const Config config = copt.load();
    if (replication < 0 || replication >= config.replications)
        throw InputError("--replication must be in 0.." + std::to_string(config.replications - 1));
    TraceWriter writer(out_path, TraceWriter::format_for(out_path),
                       "pollsim trace synth " + config.source + " (policy " + config.policy + ", workload " +
                           config.workload.type + ", seed " + std::to_string(config.seed) + ", replication " +
                           std::to_string(replication) + ")");
    TraceRecorder observer(writer);
    Simulation sim(config, replication, &observer);
    sim.run();
    writer.close();
    std::cerr << "wrote " << writer.written() << " requests to " << out_path << "\n";
    return 0;
}

}  // namespace

int cmd_trace(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        (argc < 2 ? std::cerr : std::cout) << kTraceUsage;
        return argc < 2 ? 2 : 0;
    }
    const std::string sub = argv[1];
    if (sub == "stats") return trace_stats_cmd(argc - 1, argv + 1);
    if (sub == "synth") return trace_synth_cmd(argc - 1, argv + 1);
    std::cerr << "pollsim trace: unknown subcommand '" << sub << "'\n\n" << kTraceUsage;
    return 2;
}

}  // namespace pollsim
