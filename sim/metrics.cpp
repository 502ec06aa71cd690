#include "sim/metrics.h"

#include <Eigen/Dense>
#include <cmath>

namespace pollsim {

using ojson = nlohmann::ordered_json;

namespace {

double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

// Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom.
double t975(size_t dof) {
    static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                   2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                   2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    if (dof == 0) return 0;
    return dof <= 30 ? table[dof - 1] : 1.960 + 2.4 / static_cast<double>(dof);
}

}  // namespace

double ci95_half_width(const std::vector<double>& values) {
    const size_t n = values.size();
    if (n < 2) return 0.0;
    const Eigen::Map<const Eigen::VectorXd> v(values.data(), static_cast<Eigen::Index>(n));
    const double mean = v.mean();
    const double var = (v.array() - mean).square().sum() / static_cast<double>(n - 1);
    return t975(n - 1) * std::sqrt(var / static_cast<double>(n));
}

ojson replication_metrics(const ReplicationResult& r, const std::vector<int>& contexts) {
    ContextStats s;  // sums over the chosen IOThreads
    for (int c : contexts) {
        const ContextStats& x = r.contexts[c];
        s.poll_ns += x.poll_ns;
        s.final_check_ns += x.final_check_ns;
        s.syscall_ns += x.syscall_ns;
        s.wakeup_ns += x.wakeup_ns;
        s.dispatch_ns += x.dispatch_ns;
        s.guest_kick_ns += x.guest_kick_ns;
        s.guest_vcpu_ns += x.guest_vcpu_ns;
        s.guest_halt_poll_ns += x.guest_halt_poll_ns;
        s.iterations += x.iterations;
        s.poll_phases += x.poll_phases;
        s.poll_successes += x.poll_successes;
        s.spins += x.spins;
        s.waits += x.waits;
        s.wakeups += x.wakeups;
        s.wasted_poll_ns += x.wasted_poll_ns;
        s.sum_poll_ns += x.sum_poll_ns;
        s.near_max_ns += x.near_max_ns;
        s.policy.updates += x.policy.updates;
        s.policy.resets += x.policy.resets;
        s.policy.grows += x.policy.grows;
        s.policy.shrinks += x.policy.shrinks;
        s.poll_hist.merge(x.poll_hist);
        s.completed += x.completed;
        s.bytes += x.bytes;
        s.latency_ns.merge(x.latency_ns);
    }
    const double window_ns = static_cast<double>(r.window.length());
    const double window_s = window_ns / 1e9;
    const double thread_ns = window_ns * static_cast<double>(contexts.size());

    ojson m;
    m["iops"] = ratio(static_cast<double>(s.completed), window_s);
    m["bytes_per_s"] = ratio(static_cast<double>(s.bytes), window_s);
    m["latency_ns"] = {{"mean", s.latency_ns.mean()},
                       {"p50", s.latency_ns.quantile(0.50)},
                       {"p90", s.latency_ns.quantile(0.90)},
                       {"p99", s.latency_ns.quantile(0.99)},
                       {"p999", s.latency_ns.quantile(0.999)}};
    // Utilisation is summed over IOThreads: two busy threads give 2.0.
    m["cpu"] = {{"iothread_util", ratio(static_cast<double>(s.busy_ns()), window_ns)},
                {"poll", ratio(static_cast<double>(s.poll_ns), window_ns)},
                {"final_check", ratio(static_cast<double>(s.final_check_ns), window_ns)},
                {"syscall", ratio(static_cast<double>(s.syscall_ns), window_ns)},
                {"wakeup", ratio(static_cast<double>(s.wakeup_ns), window_ns)},
                {"dispatch", ratio(static_cast<double>(s.dispatch_ns), window_ns)},
                {"guest_kick", ratio(static_cast<double>(s.guest_kick_ns), window_ns)}};
    if (r.guest_vcpus) {
        // What the QEMU process spends beyond its IOThreads: the vCPUs'
        // work for these completions and KVM's halt polling before them.
        m["cpu"]["guest_vcpu"] = ratio(static_cast<double>(s.guest_vcpu_ns), window_ns);
        m["cpu"]["guest_halt_poll"] = ratio(static_cast<double>(s.guest_halt_poll_ns), window_ns);
        m["cpu"]["process_util"] =
            ratio(static_cast<double>(s.busy_ns() + s.guest_kick_ns + s.guest_vcpu_ns + s.guest_halt_poll_ns),
                  window_ns);
    }
    ojson hist = ojson::array();
    int top = 0;
    for (int i = 0; i < Pow2Histogram::kBuckets; ++i)
        if (s.poll_hist.iterations(i) || s.poll_hist.time_ns(i)) top = i;
    for (int i = 0; i <= top; ++i)
        hist.push_back({{"lo_ns", Pow2Histogram::lo(i)},
                        {"hi_ns", Pow2Histogram::hi(i)},
                        {"iterations", s.poll_hist.iterations(i)},
                        {"time_ns", s.poll_hist.time_ns(i)}});
    m["poll"] = {{"mean_poll_ns", ratio(static_cast<double>(s.sum_poll_ns), static_cast<double>(s.iterations))},
                 {"reset_rate", ratio(static_cast<double>(s.policy.resets), static_cast<double>(s.policy.updates))},
                 {"time_near_max", ratio(static_cast<double>(s.near_max_ns), thread_ns)},
                 {"success_rate", ratio(static_cast<double>(s.poll_successes), static_cast<double>(s.poll_phases))},
                 {"wasted_poll_ns_per_s", ratio(static_cast<double>(s.wasted_poll_ns), window_s)},
                 {"grows", s.policy.grows},
                 {"shrinks", s.policy.shrinks},
                 {"iterations", s.iterations},
                 {"spins", s.spins},
                 {"waits", s.waits},
                 {"wakeups", s.wakeups},
                 {"histogram", hist}};
    // Only when non-zero, so that runs within the limits report as before.
    int64_t refused = 0, deferred = 0;
    for (int c : contexts) {
        if (static_cast<size_t>(c) < r.requests_refused.size()) refused += r.requests_refused[c];
        if (static_cast<size_t>(c) < r.requests_deferred.size()) deferred += r.requests_deferred[c];
    }
    if (refused) m["requests_refused"] = refused;
    if (deferred) m["requests_deferred"] = deferred;
    return m;
}

double wait_cost_ns_per_s(const ReplicationResult& r, const std::vector<int>& contexts, double latency_weight) {
    double cost_ns = 0;
    for (int c : contexts) {
        const ContextStats& x = r.contexts[c];
        cost_ns += static_cast<double>(x.poll_ns + x.final_check_ns + x.syscall_ns + x.wakeup_ns) +
                   latency_weight * static_cast<double>(x.wakeup_latency_ns);
    }
    return ratio(cost_ns, static_cast<double>(r.window.length()) / 1e9);
}

namespace {

ojson aggregate_leaf(const std::vector<double>& values) {
    const Eigen::Map<const Eigen::VectorXd> v(values.data(), static_cast<Eigen::Index>(values.size()));
    return {{"mean", values.empty() ? 0.0 : v.mean()}, {"ci95", ci95_half_width(values)}, {"values", values}};
}

// Histograms differ in length between replications; pad with zeros and
// report bucket means, so their iterations add up to poll.iterations.mean.
ojson aggregate_histogram(const std::vector<const ojson*>& hists) {
    size_t len = 0;
    for (const ojson* h : hists) len = std::max(len, h->size());
    ojson out = ojson::array();
    const double n = static_cast<double>(hists.size());
    for (size_t i = 0; i < len; ++i) {
        double iters = 0, time = 0;
        for (const ojson* h : hists) {
            if (i < h->size()) {
                iters += (*h)[i]["iterations"].get<double>();
                time += (*h)[i]["time_ns"].get<double>();
            }
        }
        const int b = static_cast<int>(i);
        out.push_back({{"lo_ns", Pow2Histogram::lo(b)},
                       {"hi_ns", Pow2Histogram::hi(b)},
                       {"iterations", iters / n},
                       {"time_ns", time / n}});
    }
    return out;
}

ojson aggregate_node(const std::vector<const ojson*>& nodes) {
    const ojson& first = *nodes.front();
    if (first.is_object()) {
        ojson out;
        for (const auto& [key, _] : first.items()) {
            std::vector<const ojson*> children;
            for (const ojson* n : nodes) children.push_back(&(*n)[key]);
            out[key] = key == "histogram" ? aggregate_histogram(children) : aggregate_node(children);
        }
        return out;
    }
    std::vector<double> values;
    for (const ojson* n : nodes) values.push_back(n->get<double>());
    return aggregate_leaf(values);
}

}  // namespace

ojson aggregate_metrics(const std::vector<ojson>& per_replication) {
    // Counters reported only when non-zero: if one replication has one,
    // the others count 0.
    std::vector<ojson> padded;
    for (const char* key : {"requests_refused", "requests_deferred"}) {
        bool any = false;
        for (const auto& r : per_replication) any |= r.is_object() && r.contains(key);
        if (!any) continue;
        if (padded.empty()) padded = per_replication;
        for (auto& r : padded)
            if (!r.contains(key)) r[key] = 0;
    }
    const std::vector<ojson>& reps = padded.empty() ? per_replication : padded;
    std::vector<const ojson*> nodes;
    for (const auto& r : reps) nodes.push_back(&r);
    return aggregate_node(nodes);
}

}  // namespace pollsim
