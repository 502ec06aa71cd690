// TEMPORARY (lead): weak placeholders so the tree links while these commands
// are being written; the real, strong definitions replace them at link time.
// This file is deleted once every real definition has landed.
#include "sim/cli/commands.h"
#include "sim/error.h"
#include "workloads/workloads.h"
namespace pollsim {
__attribute__((weak)) int cmd_sweep(int, char**) { throw InputError("sweep: not implemented yet"); }
__attribute__((weak)) int cmd_tables(int, char**) { throw InputError("tables: not implemented yet"); }
__attribute__((weak)) int cmd_check(int, char**) { throw InputError("check: not implemented yet"); }
__attribute__((weak)) int cmd_calibrate(int, char**) { throw InputError("calibrate: not implemented yet"); }
__attribute__((weak)) int cmd_trace(int, char**) { throw InputError("trace: not implemented yet"); }
__attribute__((weak)) std::unique_ptr<Workload> make_trace_workload(const WorkloadConfig&, uint64_t) {
    throw InputError("workload type 'trace': not implemented yet");
}
}  // namespace pollsim
