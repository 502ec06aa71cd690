// `pollsim check --baseline FILE [--set key=value]... [--update]`: the CI
// regression gate; the logic lives in sim/check.cpp.
#include <iostream>

#include "sim/check.h"
#include "sim/cli/commands.h"
#include "sim/cli/options.h"

namespace pollsim {

int cmd_check(int argc, char** argv) {
    CheckOptions o;
    po::options_description desc = command_options("pollsim check options");
    desc.add_options()
        ("baseline", po::value(&o.baseline_path)->required(), "baseline JSON to compare with (or to write with --update)")
        ("suite", po::value(&o.suite_path)->default_value(kDefaultSuite), "scenario suite YAML")
        ("set", po::value(&o.sets)->composing(),
         "override a key in every scenario, e.g. --set iothread.poll-weight=1 (repeatable)")
        ("update", po::bool_switch(&o.update), "run the suite and rewrite the baseline (atomically) instead of comparing")
        ("threads,j", po::value(&o.threads)->default_value(0), "scenarios in parallel (0: all cores); results do not depend on it")
        ("verbose,v", po::bool_switch(&o.verbose), "print every metric, not only failures");
    if (!parse_command_line(argc, argv, desc, nullptr,
                            "pollsim check --baseline FILE [--set key=value]... [--update] [--threads N]",
                            "\nRuns every scenario of the suite (configs/check/suite.yaml: legacy and weighted,\n"
                            "FCP and FICON, 1 and 2 IOThreads, randread and randwrite, each on the plain DESIGN\n"
                            "model and with guest-vcpus) and compares each metric\n"
                            "with the baseline, within the tolerance the baseline stores for it.\n"
                            "Exit status: 0 all metrics hold, 1 a regression, 2 bad usage or input (missing or\n"
                            "malformed baseline, unknown --set key, suite and baseline out of step).\n"))
        return 0;
    o.progress = stderr_is_tty();
    return run_check(o, std::cout, std::cerr);
}

}  // namespace pollsim
