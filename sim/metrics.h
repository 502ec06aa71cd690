// From raw per-replication counters to the reported metrics (DESIGN §7):
// each leaf becomes {"mean", "ci95", "values"} over replications.
#pragma once
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/simulation.h"

namespace pollsim {

// Plain numbers for one replication over the given IOThreads (all of them, or one).
nlohmann::ordered_json replication_metrics(const ReplicationResult& r, const std::vector<int>& contexts);

// metrics.cost.total of one replication over the given IOThreads, in ns per
// second of window: the CPU of waiting (poll, final check, syscall, wakeup
// CPU; not dispatch, which is the work itself) plus latency_weight x the
// wakeup latency of every sleep. What the oracle minimises, wait by wait.
double wait_cost_ns_per_s(const ReplicationResult& r, const std::vector<int>& contexts, double latency_weight);

// Same-shaped trees, one per replication -> {"mean","ci95","values"} leaves.
// The poll histogram becomes a list of buckets with means over replications.
nlohmann::ordered_json aggregate_metrics(const std::vector<nlohmann::ordered_json>& per_replication);

// Half-width of the 95 % confidence interval of the mean (Student t); 0 for n < 2.
double ci95_half_width(const std::vector<double>& values);

}  // namespace pollsim
