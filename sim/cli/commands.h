// Subcommands of the pollsim executable; main.cpp dispatches on argv[1].
// Each takes argv from its own name on and returns the process exit code.
#pragma once

namespace pollsim {

int cmd_run(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_policy_trace(int argc, char** argv);
int cmd_trace(int argc, char** argv);
int cmd_sweep(int argc, char** argv);
int cmd_tables(int argc, char** argv);
int cmd_check(int argc, char** argv);
int cmd_calibrate(int argc, char** argv);
int cmd_list(int argc, char** argv);
int cmd_validate(int argc, char** argv);

}  // namespace pollsim
