// `pollsim tables [--json FILE] [--out DIR]`: the cover letter's tables.
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <thread>

#include "sim/cli/commands.h"
#include "sim/cli/options.h"
#include "sim/runner.h"
#include "sim/tables.h"

namespace pollsim {

int cmd_tables(int argc, char** argv) {
    const auto t0 = std::chrono::steady_clock::now();
    TablesOptions options;
    std::string json_path, out_dir;
    bool no_cache = false, no_write = false;
    po::options_description desc = command_options("pollsim tables options");
    desc.add_options()
        ("json", po::value(&json_path), "also write {\"A\": [...], \"B\": [...], \"C\": [...]} to FILE")
        ("out,o", po::value(&out_dir)->default_value("results/cover-letter"),
         "directory for tables.md, tables.json, a/b/c.csv and the SVG plots")
        ("sweeps", po::value(&options.sweeps_dir)->default_value("configs/cover-letter"),
         "directory with a.yaml, b.yaml, c.yaml and published.yaml (falls back to the copies in the binary)")
        ("threads,j", po::value(&options.threads)->default_value(0), "points run in parallel (0: all cores)")
        ("set", po::value(&options.extra_sets)->composing(), "override for every point, e.g. duration=200ms (repeatable)")
        ("no-cache", po::bool_switch(&no_cache), "do not reuse or keep finished points (DIR/.cache)")
        ("no-write", po::bool_switch(&no_write), "print the tables only; write nothing under DIR");
    if (!parse_command_line(argc, argv, desc, nullptr, "pollsim tables [--json FILE] [--out DIR]",
                            "\nRuns the sweeps of configs/cover-letter/ as one pool of points and prints tables A, B\n"
                            "and C in Markdown, simulated beside published, with 95 % intervals. Finished points\n"
                            "are kept in DIR/.cache (keyed by configuration and version), so a rerun after an\n"
                            "interruption or with unchanged inputs only rebuilds the tables.\n"))
        return 0;

    if (!no_cache && !no_write) options.cache_dir = (std::filesystem::path(out_dir) / ".cache").string();
    options.progress = stderr_progress("tables", stderr_is_tty());
    const CoverLetterRun run = run_cover_letter(options);

    std::cout << tables_markdown(run);
    if (!json_path.empty()) write_file_atomic(json_path, tables_json(run).dump(2) + "\n");
    if (!no_write) {
        std::cout << "\nwrote " << out_dir << "/:";
        for (const auto& f : write_cover_letter(run, out_dir)) std::cout << " " << f;
        std::cout << "\n";
    }
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const unsigned threads = options.threads > 0 ? static_cast<unsigned>(options.threads)
                                                 : std::max(1u, std::thread::hardware_concurrency());
    const size_t points = run.a.points.size() + run.b.points.size() + run.c.points.size();
    std::cout << "wall time " << std::fixed << std::setprecision(1) << wall_s << " s on " << threads << " threads ("
              << points << " points, " << run.ran << " run, " << run.cached << " cached)\n";
    return 0;
}

}  // namespace pollsim
