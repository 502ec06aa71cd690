// Command-line pieces shared by the subcommands.
#pragma once
#include <boost/program_options.hpp>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/config.h"

namespace pollsim {

namespace po = boost::program_options;

// CONFIG, --set and --iothread, as `run`, `bench` and `trace synth` take them.
struct ConfigOptions {
    std::string config_path;  // "" = embedded default
    std::vector<std::string> sets;
    std::string iothread;

    void add_to(po::options_description& desc);
    Config load() const { return load_config(config_path, sets, iothread); }
};

// A subcommand's options, starting with --help.
po::options_description command_options(const std::string& title);

// Parses argv with `desc`; `positional` names the option a bare argument
// sets (nullptr: none). Prints help and returns false when --help was given.
// Throws InputError on bad usage.
bool parse_command_line(int argc, char** argv, const po::options_description& desc, const char* positional,
                        const std::string& usage_line, const std::string& epilogue = "");
// Same with any positional layout (e.g. a file, then any number of directories).
bool parse_command_line(int argc, char** argv, const po::options_description& desc,
                        const po::positional_options_description& positional, const std::string& usage_line,
                        const std::string& epilogue = "");

// True when stderr is a terminal (progress bars) rather than a log.
bool stderr_is_tty();

// Human-readable report of a run (the --json document).
void print_report(std::ostream& os, const nlohmann::ordered_json& report);

}  // namespace pollsim
