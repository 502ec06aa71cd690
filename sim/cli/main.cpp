// pollsim: a discrete-event simulator of QEMU IOThread adaptive polling.
#include <cstring>
#include <iostream>
#include <string>

#include "sim/cli/commands.h"
#include "sim/error.h"

namespace {

struct Command {
    const char* name;
    int (*run)(int, char**);
    const char* help;
};

const Command kCommands[] = {
    {"run", pollsim::cmd_run, "simulate one configuration (default: the embedded configs/default.yaml)"},
    {"sweep", pollsim::cmd_sweep, "run a parameter sweep from a YAML file, write CSV and JSON"},
    {"tables", pollsim::cmd_tables, "regenerate the cover letter's tables A, B, C beside the published figures"},
    {"check", pollsim::cmd_check, "regression check of a fixed scenario suite against a baseline"},
    {"calibrate", pollsim::cmd_calibrate, "fit profile parameters to the published tables A and B"},
    {"validate", pollsim::cmd_validate, "replay a real QEMU trace log and compare its poll figures with the engine's"},
    {"policy-trace", pollsim::cmd_policy_trace, "replay one policy on a block_ns sequence (JSON Lines)"},
    {"trace", pollsim::cmd_trace, "recorded I/O traces: `trace stats FILE`, `trace synth CONFIG --out FILE`"},
    {"bench", pollsim::cmd_bench, "measure simulation speed (requests per wall second) and memory"},
    {"list", pollsim::cmd_list, "list policies, workload types and configuration keys"},
};

void usage(std::ostream& os) {
    os << "pollsim " POLLSIM_VERSION " - simulate QEMU IOThread adaptive busy-polling in virtual time\n\n"
          "usage: pollsim COMMAND [options]   (pollsim COMMAND --help for its options)\n\ncommands:\n";
    for (const auto& c : kCommands) {
        std::string name = c.name;
        name.resize(14, ' ');
        os << "  " << name << c.help << "\n";
    }
    os << "\nexit status: 0 success, 1 regression found (check), 2 bad input or usage\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(std::cout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        std::cout << "pollsim " POLLSIM_VERSION "\n";
        return 0;
    }
    for (const auto& c : kCommands) {
        if (strcmp(argv[1], c.name) != 0) continue;
        try {
            return c.run(argc - 1, argv + 1);
        } catch (const pollsim::InputError& e) {
            std::cerr << "pollsim " << c.name << ": " << e.what() << "\n";
            return 2;
        } catch (const std::exception& e) {
            std::cerr << "pollsim " << c.name << ": " << e.what() << "\n";
            return 2;
        }
    }
    std::cerr << "pollsim: unknown command '" << argv[1] << "'\n\n";
    usage(std::cerr);
    return 2;
}
