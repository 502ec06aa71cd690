// `pollsim validate`: a real QEMU trace log against the engine (sim/validate.cpp).
#include <chrono>
#include <cmath>
#include <iostream>
#include <mutex>

#include "sim/cli/commands.h"
#include "sim/cli/options.h"
#include "sim/error.h"
#include "sim/runner.h"
#include "sim/validate.h"

namespace pollsim {

namespace {

int64_t seconds_to_ns(double s, const char* option) {
    if (!std::isfinite(s) || s < 0 || s > 1e9) throw InputError(std::string(option) + " must be seconds >= 0");
    return static_cast<int64_t>(std::llround(s * 1e9));
}

int validate_all(const std::string& dir, const ValidateRequest& common, const std::string& json_out,
                 const std::string& markdown_out, double min_agreement, int threads) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<Capture> captures = find_captures(dir, common.sets, common.profile, common.tolerance);
    std::vector<AgreementRow> rows(captures.size());
    std::vector<std::string> errors(captures.size());
    std::mutex progress_mutex;
    size_t done = 0;
    parallel_for(static_cast<int>(captures.size()), threads, [&](int i) {
        try {
            rows[i] = {captures[i].name, captures[i].request.policy, validate_log(captures[i].request)};
        } catch (const std::exception& e) {
            errors[i] = captures[i].sidecar + ": " + e.what();
        }
        std::lock_guard<std::mutex> lock(progress_mutex);
        std::cerr << "validate [" << ++done << "/" << captures.size() << "] " << captures[i].name << "\n";
    });
    for (const auto& e : errors)
        if (!e.empty()) throw InputError(e);
    const std::string table = agreement_markdown(rows, common.tolerance);
    std::cout << table;
    if (!json_out.empty()) write_file_atomic(json_out, agreement_json(rows, common.tolerance).dump(2) + "\n");
    if (!markdown_out.empty()) write_file_atomic(markdown_out, table);
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // The criterion: per policy, a share of points whose four loop figures
    // are within tolerance and whose requests match exactly.
    const nlohmann::ordered_json summary = agreement_json(rows, common.tolerance)["policies"];
    bool ok = true;
    for (const auto& [policy, p] : summary.items()) {
        const double share = p["all_agree"].get<double>() / p["points"].get<double>();
        if (share + 1e-12 < min_agreement) ok = false;
    }
    std::cerr << "validate: " << rows.size() << " captures in " << wall_s << " s; "
              << (ok ? "every policy meets" : "some policy misses") << " the agreement share " << min_agreement
              << "\n";
    return ok ? 0 : 1;
}

}  // namespace

int cmd_validate(int argc, char** argv) {
    ValidateRequest q;
    std::string all_dir, json_out, markdown_out;
    double from_s = 0, to_s = -1, min_agreement = 0.8;
    int64_t latency_ns = -1;
    int threads = 0;
    po::options_description desc = command_options("pollsim validate options");
    desc.add_options()
        ("qemu-log", po::value(&q.log), "QEMU log (-msg timestamp=on -trace ...; plain or .xz) to validate against")
        ("policy", po::value(&q.policy), "policy the replay runs (legacy-global for QEMU 7.2, legacy for 10.0, weighted for 11.1)")
        ("iothread", po::value(&q.iothread), "the IOThread's properties in QEMU syntax, e.g. poll-max-ns=32768,poll-grow=2,poll-shrink=2,poll-weight=3")
        ("profile", po::value(&q.profile), "cost profile (default configs/profiles/x86-tcg.yaml)")
        ("set", po::value(&q.sets)->composing(), "override a configuration key of the replay (repeatable)")
        ("from", po::value(&from_s), "count from this many seconds into the log (both sides)")
        ("to", po::value(&to_s), "count up to this many seconds into the log (both sides)")
        ("latency-ns", po::value(&latency_ns), "the disk's latency-ns (default: the capture's sidecar, else the smallest recorded service time)")
        ("tolerance", po::value(&q.tolerance)->default_value(0.25, "0.25"), "allowed |simulated/real - 1| for every ratio")
        ("json", po::value(&json_out), "write the comparison as JSON (atomically)")
        ("sim-log", po::value(&q.sim_log), "write the simulated loop's events, one line each with QEMU's event names, to this file")
        ("all", po::value(&all_dir), "validate every capture under DIR (NAME.json sidecars) and print the agreement table")
        ("markdown", po::value(&markdown_out), "with --all: also write the agreement table to this file")
        ("min-agreement", po::value(&min_agreement)->default_value(0.8, "0.8"), "with --all: share of points per policy that must agree (exit 1 below it)")
        ("threads,j", po::value(&threads)->default_value(0), "with --all: captures in parallel (0: all cores); results do not depend on it");
    if (!parse_command_line(argc, argv, desc, nullptr,
                            "pollsim validate --qemu-log FILE --policy P --iothread PROPS [options]\n"
                            "       pollsim validate --all DIR [options]",
                            "\nReads the log's guest requests (virtio_blk_handle_read/write) and replays them open\n"
                            "loop through policy P; sets beside what the real event loop traced what the engine\n"
                            "did: requests, poll_phases (run_poll_handlers_begin), poll_successes (..._end with\n"
                            "progress 1), grows (poll_grow), shrinks (poll_shrink), mean_poll_ns (mean max_ns at\n"
                            "poll-phase start) and its power-of-two histogram, and the IOThread CPU where the\n"
                            "capture's sidecar (NAME.json beside NAME.log.xz) has it. Counted over the whole log\n"
                            "unless --from/--to narrow both sides. A sidecar beside the log also supplies the\n"
                            "policy, properties and latency when they are not given.\n"
                            "Exit status: 0 every ratio within --tolerance (with --all: every policy's share of\n"
                            "agreeing points at least --min-agreement), 1 otherwise, 2 bad input.\n"))
        return 0;
    if (!(q.tolerance >= 0)) throw InputError("--tolerance must be >= 0");
    q.window.from_ns = seconds_to_ns(from_s, "--from");
    if (to_s >= 0) q.window.to_ns = seconds_to_ns(to_s, "--to");
    else if (to_s != -1) throw InputError("--to must be seconds >= 0");
    if (latency_ns != -1) q.latency_ns = latency_ns;
    if (!all_dir.empty()) {
        if (!q.log.empty()) throw InputError("give either --qemu-log or --all, not both");
        if (!(min_agreement >= 0 && min_agreement <= 1)) throw InputError("--min-agreement must be in [0, 1]");
        return validate_all(all_dir, q, json_out, markdown_out, min_agreement, threads);
    }
    if (q.log.empty()) throw InputError("--qemu-log FILE (or --all DIR) is required");
    if (const std::string side = sidecar_of(q.log); !side.empty()) apply_sidecar(q, side);
    if (q.policy.empty()) throw InputError("--policy is required (no capture sidecar beside the log names one)");
    const ValidateResult r = validate_log(q);
    std::cout << validate_text(r);
    if (!json_out.empty()) write_file_atomic(json_out, validate_json(r).dump(2) + "\n");
    return r.pass() ? 0 : 1;
}

}  // namespace pollsim
