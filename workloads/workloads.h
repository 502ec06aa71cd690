// Factories of the workloads in this directory; registry.cpp lists them.
#pragma once
#include <memory>

#include "sim/workload.h"

namespace pollsim {

std::unique_ptr<Workload> make_fio_workload(const WorkloadConfig& cfg, uint64_t seed);
std::unique_ptr<Workload> make_poisson_workload(const WorkloadConfig& cfg, uint64_t seed);
std::unique_ptr<Workload> make_onoff_workload(const WorkloadConfig& cfg, uint64_t seed);
std::unique_ptr<Workload> make_trace_workload(const WorkloadConfig& cfg, uint64_t seed);

}  // namespace pollsim
