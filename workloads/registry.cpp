// The workload table: a new arrival source is one new file and one line here.
#include <algorithm>

#include "workloads/workloads.h"

namespace pollsim {

const std::vector<WorkloadOps>& workload_table() {
    static const std::vector<WorkloadOps> table = {
        {"fio", "closed loop: numjobs x iodepth requests in flight (DESIGN §4)", make_fio_workload},
        {"poisson", "open loop: Poisson arrivals at rate_iops", make_poisson_workload},
        {"onoff", "open loop: Poisson at rate_iops during on periods, silent during off periods", make_onoff_workload},
        {"trace", "recorded trace replayed open or closed loop (workload.trace, workload.format)", make_trace_workload},
    };
    return table;
}

const WorkloadOps* find_workload(std::string_view name) {
    const auto& t = workload_table();
    auto it = std::find_if(t.begin(), t.end(), [&](const WorkloadOps& o) { return name == o.name; });
    return it == t.end() ? nullptr : &*it;
}

std::string workload_names() {
    std::string out;
    for (const auto& o : workload_table()) out += (out.empty() ? "" : ", ") + std::string(o.name);
    return out;
}

}  // namespace pollsim
