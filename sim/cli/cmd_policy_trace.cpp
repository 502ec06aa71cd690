// `pollsim policy-trace`: see policy_trace.h and --help.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/cli/options.h"
#include "sim/cli/policy_trace.h"
#include "sim/json_limits.h"
#include "sim/policy.h"
#include "workloads/trace/trace_parse.h"

namespace pollsim {
namespace {

constexpr const char* kPrefix = "pollsim policy-trace: ";

constexpr const char* kFormats = R"(Input: JSON Lines, one event-loop iteration per line, e.g.
  {"block_ns": 12345, "dispatched": ["vq0", "cq"]}
block_ns is the iteration's block time (a non-negative integer, ns);
dispatched lists the handlers dispatched in it (any names). A name seen for
the first time joins the poll list in that step, before the policy update;
the poll list keeps the order of first appearance. Blank lines are skipped.
For a clairvoyant policy (oracle) a line may also tell the wait that follows
it: "next_work_ns" (gap until work is visible, -1 unknown: the default),
"sleep_cpu_ns" and "wakeup_latency_ns" (what sleeping costs; default 0);
the other policies ignore them.

Output: one JSON line per iteration, e.g.
  {"step":0,"poll_ns":4000,"handlers":{"vq0":4000,"cq":0}}
poll_ns is the poll time the next iteration would use; handlers holds every
poll-list handler's own value after the step, in poll-list order (empty for
policies without per-handler state).

Errors are reported as "pollsim policy-trace: FILE:LINE: message", exit 2.
)";

// One parsed input line.
struct Iteration {
    int64_t block_ns = 0;
    std::vector<std::string> dispatched;
    WaitOutlook next_wait;  // the wait after this iteration
};

// A non-negative int64 (or -1 where allowed) under `key`, or `fallback` if absent.
int64_t read_ns(const nlohmann::json& j, const char* key, int64_t fallback, bool minus_one_ok) {
    const auto it = j.find(key);
    if (it == j.end()) return fallback;
    if (it->is_number_unsigned() && it->get<uint64_t>() <= uint64_t(INT64_MAX)) return it->get<int64_t>();
    if (it->is_number_integer() && (it->get<int64_t>() >= 0 || (minus_one_ok && it->get<int64_t>() == -1)))
        return it->get<int64_t>();
    throw std::invalid_argument(std::string(key) + " must be a non-negative int64 integer" +
                                (minus_one_ok ? " or -1" : "") + ", got " + json_excerpt(*it));
}

// Throws std::invalid_argument with a message for the user (no location).
Iteration parse_iteration(const std::string& line) {
    const nlohmann::json j = parse_json_line(line);
    if (!j.is_object()) throw std::invalid_argument("expected a JSON object, got " + json_excerpt(j));

    static const std::vector<std::string> known = {"block_ns", "dispatched", "next_work_ns", "sleep_cpu_ns",
                                                   "wakeup_latency_ns"};
    for (const auto& [key, value] : j.items())
        if (std::find(known.begin(), known.end(), key) == known.end())
            throw std::invalid_argument("unknown key \"" + quoted_excerpt(key) +
                                        "\" (known: block_ns, dispatched, next_work_ns, sleep_cpu_ns, wakeup_latency_ns)");
    Iteration it;
    if (!j.contains("block_ns")) throw std::invalid_argument("missing block_ns");
    it.block_ns = read_ns(j, "block_ns", 0, false);
    it.next_wait.next_work_visible_ns = read_ns(j, "next_work_ns", -1, true);
    it.next_wait.sleep_cpu_ns = read_ns(j, "sleep_cpu_ns", 0, false);
    it.next_wait.wakeup_latency_ns = read_ns(j, "wakeup_latency_ns", 0, false);

    const auto disp = j.find("dispatched");
    if (disp == j.end()) throw std::invalid_argument("missing dispatched (an array of handler names)");
    if (!disp->is_array())
        throw std::invalid_argument("dispatched must be an array of strings, got " + json_excerpt(*disp));
    for (const auto& name : *disp) {
        if (!name.is_string())
            throw std::invalid_argument("dispatched must be an array of strings, got element " + json_excerpt(name));
        it.dispatched.push_back(name.get<std::string>());
    }
    return it;
}

}  // namespace

int run_policy_trace(std::istream& in, std::ostream& out, std::ostream& err,
                     const std::string& policy, const std::string& iothread_props,
                     const std::string& input_name) {
    const PolicyOps* ops = find_policy(policy);
    if (!ops) {
        err << kPrefix << "unknown policy '" << policy << "'; known policies: " << policy_names() << "\n";
        return 2;
    }
    std::unique_ptr<Policy> pol;
    try {
        PolicyParams given;
        parse_iothread_properties(iothread_props, given);
        pol = ops->create(resolve_policy_params(*ops, given));
    } catch (const std::invalid_argument& e) {
        err << kPrefix << "--iothread: " << e.what() << "\n";
        return 2;
    }

    // Handler ids are dense, in order of first appearance: the poll list.
    std::vector<std::string> names;
    std::map<std::string, int> ids;
    std::vector<int> poll_list;
    std::vector<uint8_t> dispatched;
    PolicyCounters counters;

    std::string line;
    int64_t line_no = 0, step = 0;
    while (std::getline(in, line)) {
        ++line_no;
        if (line.find_first_not_of(" \t\r\n") == std::string::npos) continue;
        if (line.size() > trace::kMaxTraceLineBytes) {
            err << kPrefix << input_name << ":" << line_no << ": " << trace::line_too_long(line.size()) << "\n";
            return 2;
        }
        Iteration it;
        try {
            it = parse_iteration(line);
        } catch (const std::invalid_argument& e) {
            err << kPrefix << input_name << ":" << line_no << ": " << e.what() << "\n";
            return 2;
        }

        std::fill(dispatched.begin(), dispatched.end(), 0);
        for (const auto& name : it.dispatched) {
            auto [pos, fresh] = ids.try_emplace(name, static_cast<int>(names.size()));
            if (fresh) {
                names.push_back(name);
                poll_list.push_back(pos->second);
                dispatched.push_back(0);
                pol->handler_joined(pos->second);
            }
            dispatched[pos->second] = 1;  // poll_list[i] == i
        }
        pol->update(it.block_ns, poll_list, dispatched, counters);
        if (ops->clairvoyant) pol->foresee(it.next_wait);

        nlohmann::ordered_json o;
        o["step"] = step++;
        o["poll_ns"] = pol->poll_ns();
        o["handlers"] = nlohmann::ordered_json::object();
        for (int id : poll_list)
            if (auto ns = pol->handler_ns(id)) o["handlers"][names[id]] = *ns;
        out << o.dump() << "\n";
    }
    if (in.bad()) {
        err << kPrefix << input_name << ":" << line_no + 1 << ": read error\n";
        return 2;
    }
    return 0;
}

int cmd_policy_trace(int argc, char** argv) {
    std::string policy, props, input;
    const std::string policy_help = "polling policy: " + policy_names();
    po::options_description opts = command_options("pollsim policy-trace options");
    opts.add_options()
        ("policy", po::value(&policy)->required(), policy_help.c_str())
        ("iothread", po::value(&props),
         "QEMU iothread properties, any subset in any order, e.g. "
         "\"poll-max-ns=32768,poll-grow=2,poll-shrink=2,poll-weight=3\"; the others take the policy's defaults")
        ("input", po::value(&input)->default_value("-"), "JSON Lines file to read, - for stdin");
    if (!parse_command_line(argc, argv, opts, nullptr,
                            "pollsim policy-trace --policy NAME [--iothread PROPS] [--input FILE]",
                            std::string("\n") + kFormats))
        return 0;

    if (input == "-") return run_policy_trace(std::cin, std::cout, std::cerr, policy, props, "<stdin>");
    std::ifstream file(input);
    if (!file) {
        std::cerr << kPrefix << input << ": cannot open file\n";
        return 2;
    }
    return run_policy_trace(file, std::cout, std::cerr, policy, props, input);
}

}  // namespace pollsim
