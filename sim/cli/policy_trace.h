// `pollsim policy-trace`: feed a policy a hand-written sequence of iterations
// (JSON Lines) and print its state after each, to check the arithmetic of
// DESIGN §5 without running the engine.
#pragma once
#include <iosfwd>
#include <string>

namespace pollsim {

// The whole command minus option parsing and file opening. Reads iterations
// from `in` (named `input_name` in messages), writes one JSON line per
// iteration to `out`, and errors as "pollsim policy-trace: FILE:LINE: ..." to
// `err`. Returns 0, or 2 on the first error.
int run_policy_trace(std::istream& in, std::ostream& out, std::ostream& err,
                     const std::string& policy, const std::string& iothread_props,
                     const std::string& input_name);

// argv[0] is "policy-trace". Also declared in sim/cli/commands.h.
int cmd_policy_trace(int argc, char** argv);

}  // namespace pollsim
