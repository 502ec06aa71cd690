// The workload table: a new arrival source is one new file and one line here.
#include "sim/ops_table.h"
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

const WorkloadOps* find_workload(std::string_view name) { return find_by_name(workload_table(), name); }

std::string workload_names() { return names_of(workload_table()); }

bool is_open_loop(const WorkloadConfig& cfg) {
    return cfg.type == "poisson" || cfg.type == "onoff" || (cfg.type == "trace" && cfg.replay == "open");
}

}  // namespace pollsim
