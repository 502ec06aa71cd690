// `pollsim check` (issue 3, item 5) has not landed yet; this placeholder says so.
// Delete this file when sim/cli/cmd_check.cpp arrives.
#include "sim/cli/commands.h"
#include "sim/error.h"
namespace pollsim {
int cmd_check(int, char**) { throw InputError("check: not implemented yet"); }
}  // namespace pollsim
