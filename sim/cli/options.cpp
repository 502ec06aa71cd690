#include "sim/cli/options.h"

#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

#include "sim/error.h"

namespace pollsim {

using ojson = nlohmann::ordered_json;

void ConfigOptions::add_to(po::options_description& desc) {
    desc.add_options()
        ("config", po::value(&config_path), "configuration YAML (default: the embedded configs/default.yaml)")
        ("set", po::value(&sets)->composing(),
         "override one key, e.g. --set iothread.poll-weight=2 --set workload.rw=randwrite "
         "(repeatable; `pollsim list keys` lists them; durations take ns, us, ms, s)")
        ("iothread", po::value(&iothread),
         "QEMU property syntax: \"poll-max-ns=32768,poll-grow=2,poll-shrink=2,poll-weight=3\"");
}

po::options_description command_options(const std::string& title) {
    po::options_description desc(title);
    desc.add_options()("help,h", "show this help");
    return desc;
}

bool parse_command_line(int argc, char** argv, const po::options_description& desc, const char* positional,
                        const std::string& usage_line, const std::string& epilogue) {
    po::positional_options_description pos;
    if (positional) pos.add(positional, 1);
    return parse_command_line(argc, argv, desc, pos, usage_line, epilogue);
}

bool parse_command_line(int argc, char** argv, const po::options_description& desc,
                        const po::positional_options_description& pos, const std::string& usage_line,
                        const std::string& epilogue) {
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
        if (vm.count("help")) {
            std::cout << "usage: " << usage_line << "\n\n" << desc << epilogue;
            return false;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        throw InputError(std::string(e.what()) + " (see --help)");
    }
    return true;
}

bool stderr_is_tty() { return ::isatty(2) == 1; }

namespace {

std::string fmt(double v, int prec = 3) {
    std::ostringstream ss;
    ss << std::fixed << std::setprecision(prec) << v;
    return ss.str();
}

std::string mean_ci(const ojson& leaf, double scale = 1.0, int prec = 3) {
    return fmt(leaf["mean"].get<double>() * scale, prec) + " ± " + fmt(leaf["ci95"].get<double>() * scale, prec);
}

void print_histogram(std::ostream& os, const ojson& hist) {
    double max_iters = 0, total_time = 0;
    for (const auto& b : hist) {
        max_iters = std::max(max_iters, b["iterations"].get<double>());
        total_time += b["time_ns"].get<double>();
    }
    os << "  poll.ns histogram (iterations per bucket; share of time)\n";
    for (const auto& b : hist) {
        const double it = b["iterations"].get<double>();
        if (it == 0 && b["time_ns"].get<double>() == 0) continue;
        const int64_t lo = b["lo_ns"], hi = b["hi_ns"];
        std::ostringstream label;
        if (lo == 0) label << "0";
        else label << "[" << lo << "," << hi << ")";
        const int bar = max_iters > 0 ? static_cast<int>(std::lround(40.0 * it / max_iters)) : 0;
        os << "    " << std::setw(16) << std::left << label.str() << std::right << " " << std::setw(12)
           << static_cast<int64_t>(std::llround(it)) << " " << std::setw(6)
           << fmt(total_time > 0 ? 100.0 * b["time_ns"].get<double>() / total_time : 0, 1) << "% "
           << std::string(static_cast<size_t>(bar), '#') << "\n";
    }
}

}  // namespace

void print_report(std::ostream& os, const ojson& report) {
    const ojson& c = report["config"];
    const ojson& m = report["metrics"];
    const ojson& run = report["run"];
    const ojson& it = c["iothread"];
    os << "pollsim " << report["pollsim_version"].get<std::string>() << "  " << c["source"].get<std::string>() << "\n";
    os << "policy " << c["policy"].get<std::string>() << " (poll-max-ns=" << it["poll-max-ns"]
       << ",poll-grow=" << it["poll-grow"] << ",poll-shrink=" << it["poll-shrink"]
       << ",poll-weight=" << it["poll-weight"] << ")  profile " << c["profile"]["name"].get<std::string>() << "\n";
    const ojson& w = c["workload"];
    os << "workload " << w["type"].get<std::string>();
    if (w.contains("rw")) os << " rw=" << w["rw"].get<std::string>() << " bs=" << w["bs"];
    if (w.contains("numjobs")) os << " numjobs=" << w["numjobs"] << " iodepth=" << w["iodepth"];
    if (w.contains("trace")) os << " trace=" << w["trace"].get<std::string>() << " replay=" << w["replay"].get<std::string>();
    os << "  devices=" << c["devices"] << " queues=" << c["queues"] << " iothreads=" << c["iothreads"] << "\n";
    os << "virtual time " << fmt(c["duration_ns"].get<double>() / 1e9, 3) << " s after "
       << fmt(c["warmup_ns"].get<double>() / 1e9, 3) << " s warm-up, " << run["replications"]
       << " replications (mean ± 95% CI), " << run["requests_completed"] << " requests in "
       << fmt(run["wall_s"].get<double>(), 2) << " s wall\n";
    if (run["skipped_records"].get<int64_t>() > 0)
        os << "skipped " << run["skipped_records"] << " malformed trace records (workload.skip_bad; summed over replications)\n";
    os << "\n";

    os << "throughput   " << mean_ci(m["iops"], 1e-3, 2) << " kIOPS   " << mean_ci(m["bytes_per_s"], 1.0 / 1048576, 1)
       << " MiB/s\n";
    const ojson& lat = m["latency_ns"];
    os << "latency us   mean " << mean_ci(lat["mean"], 1e-3, 1) << "  p50 " << fmt(lat["p50"]["mean"].get<double>() / 1e3, 1)
       << "  p90 " << fmt(lat["p90"]["mean"].get<double>() / 1e3, 1) << "  p99 "
       << fmt(lat["p99"]["mean"].get<double>() / 1e3, 1) << "  p99.9 " << fmt(lat["p999"]["mean"].get<double>() / 1e3, 1)
       << "\n";
    const ojson& cpu = m["cpu"];
    os << "iothread CPU " << mean_ci(cpu["iothread_util"], 100, 1) << " %  (poll " << fmt(cpu["poll"]["mean"].get<double>() * 100, 1)
       << ", final check " << fmt(cpu["final_check"]["mean"].get<double>() * 100, 1) << ", syscall "
       << fmt(cpu["syscall"]["mean"].get<double>() * 100, 1) << ", wakeup " << fmt(cpu["wakeup"]["mean"].get<double>() * 100, 1)
       << ", dispatch " << fmt(cpu["dispatch"]["mean"].get<double>() * 100, 1) << ")\n";
    os << "guest kicks  " << mean_ci(cpu["guest_kick"], 100, 2) << " % of a vCPU\n";
    if (cpu.contains("guest_vcpu"))  // guest-vcpus mechanism
        os << "guest vCPUs  " << mean_ci(cpu["guest_vcpu"], 100, 1) << " % of a vCPU  (KVM halt polling "
           << mean_ci(cpu["guest_halt_poll"], 100, 1) << "; QEMU process " << mean_ci(cpu["process_util"], 100, 1)
           << " %)\n";
    if (m.contains("cost")) {  // open loop (README "Policy lab")
        os << "wait cost    " << mean_ci(m["cost"]["total"], 1e-6, 1) << " CPU-ms/s incl. weighted wakeup latency";
        if (m["cost"].contains("ratio_to_oracle"))
            os << ", " << mean_ci(m["cost"]["ratio_to_oracle"], 1, 3) << " x the oracle's";
        os << "\n";
    }
    const ojson& p = m["poll"];
    os << "polling      mean poll_ns " << mean_ci(p["mean_poll_ns"], 1, 0) << "  reset rate "
       << fmt(p["reset_rate"]["mean"].get<double>(), 3) << "  time near max " << fmt(p["time_near_max"]["mean"].get<double>(), 3)
       << "  success " << fmt(p["success_rate"]["mean"].get<double>(), 3) << "\n";
    os << "             iterations " << fmt(p["iterations"]["mean"].get<double>(), 0) << "  spins "
       << fmt(p["spins"]["mean"].get<double>(), 0) << "  waits " << fmt(p["waits"]["mean"].get<double>(), 0)
       << "  wakeups " << fmt(p["wakeups"]["mean"].get<double>(), 0) << "  grows " << fmt(p["grows"]["mean"].get<double>(), 0)
       << "  shrinks " << fmt(p["shrinks"]["mean"].get<double>(), 0) << "  wasted poll "
       << fmt(p["wasted_poll_ns_per_s"]["mean"].get<double>() / 1e6, 2) << " ms/s\n";
    print_histogram(os, p["histogram"]);
    const ojson& threads = report["per_iothread"];
    if (threads.size() > 1) {
        os << "\nper IOThread\n";
        for (const auto& t : threads) {
            const ojson& tm = t["metrics"];
            os << "  iothread " << t["iothread"] << ": " << fmt(tm["iops"]["mean"].get<double>() / 1e3, 2) << " kIOPS, CPU "
               << fmt(tm["cpu"]["iothread_util"]["mean"].get<double>() * 100, 1) << " %, mean poll_ns "
               << fmt(tm["poll"]["mean_poll_ns"]["mean"].get<double>(), 0) << "\n";
        }
    }
}

}  // namespace pollsim
