// Sweeps (expansion, resume, CSV, bad input) and the cover-letter tables on
// very short runs.
#include <doctest/doctest.h>

#include "tests/test_util.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "sim/error.h"
#include "sim/plot.h"
#include "sim/sweep.h"
#include "sim/tables.h"

using namespace pollsim;
namespace fs = std::filesystem;

namespace {

// A fresh directory with a short base config on the repository's FCP profile.
struct SweepDir : test::ScratchDir {
    explicit SweepDir(const std::string& name) : ScratchDir("sweep-" + name) {
        write("base.yaml",
              "policy: weighted\n"
              "workload: {type: fio, rw: randread, numjobs: 1, iodepth: 4}\n"
              "duration: 20ms\nwarmup: 2ms\nreplications: 2\nseed: 7\n"
              "profile: " POLLSIM_SOURCE_DIR "/configs/profiles/s390x-fcp.yaml\n");
    }
};

std::string error_of(const std::function<void()>& f) { return test::input_error_of(f); }

size_t files_in(const fs::path& dir) {
    if (!fs::exists(dir)) return 0;
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("sweep expansion: cartesian product, zip groups move together, fixed sets apply") {
    SweepDir d("expand");
    const auto spec = load_sweep(d.write("s.yaml",
                                         "base: base.yaml\n"
                                         "set: {workload.iodepth: 2}\n"
                                         "vary:\n"
                                         "  iothreads: [1, 2]\n"
                                         "  workload.rw: [read, write, randread]\n"
                                         "zip:\n"
                                         "  - {policy: [legacy, weighted], iothread.poll-weight: [0, 5]}\n"));
    CHECK(spec.point_count() == 12);
    CHECK(spec.varied_keys() == std::vector<std::string>{"iothreads", "workload.rw", "policy", "iothread.poll-weight"});
    const auto points = expand(spec);
    REQUIRE(points.size() == 12);
    // First axis outermost, last (the zip group) fastest.
    CHECK(points[0] == Assignment{{"iothreads", "1"}, {"workload.rw", "read"}, {"policy", "legacy"}, {"iothread.poll-weight", "0"}});
    CHECK(points[1] == Assignment{{"iothreads", "1"}, {"workload.rw", "read"}, {"policy", "weighted"}, {"iothread.poll-weight", "5"}});
    CHECK(points[2][1].second == "write");
    CHECK(points[6][0].second == "2");

    const auto resolved = resolve_points(spec);
    CHECK(resolved[1].config.policy == "weighted");
    CHECK(resolved[1].config.iothread.poll_weight == 5);
    CHECK(resolved[7].config.iothreads == 2);
    for (const auto& p : resolved) {
        CHECK(p.config.workload.iodepth == 2);
        CHECK(p.config.threads == 1);
    }
    // Distinct configurations, distinct cache keys.
    CHECK(resolved[0].key != resolved[1].key);
    CHECK(resolved[0].key.size() == 16);
}

TEST_CASE("sweep values may be maps, and paths resolve beside the sweep file") {
    SweepDir d("values");
    fs::create_directories(d.dir / "sub");
    const auto spec = load_sweep(d.write("sub/s.yaml",
                                         "base: ../base.yaml\n"
                                         "vary:\n"
                                         "  costs.service.randread:\n"
                                         "    - {dist: lognormal, mean_ns: 50000, cv: 0.2}\n"
                                         "    - 70us\n"
                                         "  profile: [" POLLSIM_SOURCE_DIR "/configs/profiles/s390x-ficon.yaml]\n"));
    const auto points = resolve_points(spec);
    REQUIRE(points.size() == 2);
    CHECK(points[0].config.profile.service_randread_ns.mean_ns() == doctest::Approx(50000));
    CHECK(points[1].config.profile.service_randread_ns.mean_ns() == doctest::Approx(70000));
    CHECK(points[0].config.profile.name == "s390x-ficon");
}

TEST_CASE("bad sweep files are reported with file, line and key before anything runs") {
    SweepDir d("errors");
    SUBCASE("unknown key") {
        const auto msg = error_of([&] { load_sweep(d.write("s.yaml", "base: base.yaml\nvary:\n  workload.nosuch: [1]\n")); });
        CHECK(msg.find("s.yaml:3:") != std::string::npos);
        CHECK(msg.find("vary.workload.nosuch") != std::string::npos);
    }
    SUBCASE("empty list") {
        const auto msg = error_of([&] { load_sweep(d.write("s.yaml", "base: base.yaml\nvary:\n  iothreads: []\n")); });
        CHECK(msg.find("s.yaml:3:") != std::string::npos);
        CHECK(msg.find("empty list") != std::string::npos);
    }
    SUBCASE("missing base") {
        const auto msg = error_of([&] { load_sweep(d.write("s.yaml", "base: nowhere.yaml\nvary:\n  iothreads: [1]\n")); });
        CHECK(msg.find("s.yaml:1:") != std::string::npos);
        CHECK(msg.find("nowhere.yaml") != std::string::npos);
    }
    SUBCASE("ragged zip group") {
        const auto msg = error_of([&] {
            load_sweep(d.write("s.yaml", "base: base.yaml\nzip:\n  - {policy: [legacy, weighted], iothreads: [1]}\n"));
        });
        CHECK(msg.find("zip[0].iothreads") != std::string::npos);
    }
    SUBCASE("unknown top-level key and a key given twice") {
        CHECK(error_of([&] { load_sweep(d.write("s.yaml", "base: base.yaml\nvaryy: {}\n")); }).find("varyy") != std::string::npos);
        CHECK(error_of([&] {
                  load_sweep(d.write("s.yaml", "base: base.yaml\nset: {iothreads: 2}\nvary: {iothreads: [1]}\n"));
              }).find("given twice") != std::string::npos);
    }
    SUBCASE("a bad value fails while resolving, before any point runs") {
        const auto spec = load_sweep(d.write("s.yaml", "base: base.yaml\nvary:\n  iothread.poll-weight: [3, 99]\n"));
        const auto msg = error_of([&] { resolve_points(spec); });
        CHECK(msg.find("point 2") != std::string::npos);
        CHECK(msg.find("poll-weight") != std::string::npos);
    }
}

TEST_CASE("finished points are cached, and a rerun skips them and gives the same results") {
    SweepDir d("resume");
    const auto spec = load_sweep(d.write("s.yaml", "base: base.yaml\nvary:\n  workload.rw: [randread, randwrite, read]\n"));
    SweepOptions options;
    options.cache_dir = d.path("points");
    options.threads = 2;
    int progress_calls = 0;
    options.progress = [&](const SweepProgress&) { ++progress_calls; };

    const auto first = run_points(resolve_points(spec), spec.varied_keys(), options);
    CHECK(first.ran == 3);
    CHECK(first.cached == 0);
    CHECK(files_in(d.dir / "points") == 3);
    CHECK(progress_calls == 4);  // once at the start, once per point

    const auto second = run_points(resolve_points(spec), spec.varied_keys(), options);
    CHECK(second.ran == 0);
    CHECK(second.cached == 3);
    CHECK(results_csv(second) == results_csv(first));

    // An interrupted sweep: one point's file is missing, only it runs again.
    fs::remove(d.dir / "points" / (first.points[1].key + ".json"));
    const auto third = run_points(resolve_points(spec), spec.varied_keys(), options);
    CHECK(third.ran == 1);
    CHECK(third.cached == 2);
    CHECK(results_json(third, "s").dump() == results_json(first, "s").dump());

    // A changed configuration is a different point.
    const auto longer = run_points(resolve_points(spec, {"duration=30ms"}), spec.varied_keys(), options);
    CHECK(longer.ran == 3);
}

TEST_CASE("results do not depend on the number of worker threads") {
    SweepDir d("threads");
    const auto spec = load_sweep(d.write("s.yaml", "base: base.yaml\nvary:\n  workload.numjobs: [1, 2, 4]\n"));
    SweepOptions one, two;
    one.threads = 1;
    two.threads = 2;
    CHECK(results_csv(run_points(resolve_points(spec), spec.varied_keys(), one)) ==
          results_csv(run_points(resolve_points(spec), spec.varied_keys(), two)));
}

TEST_CASE("results.csv: the varied keys, then mean and ci95 of the headline metrics") {
    SweepDir d("csv");
    const auto spec = load_sweep(d.write("s.yaml", "base: base.yaml\nzip:\n  - {policy: [legacy, weighted], iothread.poll-grow: [0, 2]}\n"));
    const auto result = run_points(resolve_points(spec), spec.varied_keys(), {});
    write_results(result, spec.file, d.path("out"));
    std::ifstream in(d.path("out/results.csv"));
    std::string header, row;
    std::getline(in, header);
    CHECK(header ==
          "policy,iothread.poll-grow,iops.mean,iops.ci95,cpu.iothread_util.mean,cpu.iothread_util.ci95,"
          "latency_ns.p99.mean,latency_ns.p99.ci95,poll.mean_poll_ns.mean,poll.mean_poll_ns.ci95,"
          "poll.reset_rate.mean,poll.reset_rate.ci95,poll.time_near_max.mean,poll.time_near_max.ci95");
    int rows = 0;
    while (std::getline(in, row)) {
        ++rows;
        CHECK(std::count(row.begin(), row.end(), ',') == std::count(header.begin(), header.end(), ','));
    }
    CHECK(rows == 2);
    const auto json = nlohmann::ordered_json::parse(std::ifstream(d.path("out/results.json")));
    REQUIRE(json["points"].size() == 2);
    CHECK(json["points"][1]["vary"]["iothread.poll-grow"] == 2);
    CHECK_FALSE(json["points"][0]["report"]["run"].contains("wall_s"));
}

TEST_CASE("--shard I/N: parsed strictly, and the shards partition the points by position mod N") {
    const Shard s = parse_shard("2/3");
    CHECK(s.index == 2);
    CHECK(s.count == 3);
    CHECK(s.name() == "2/3");
    CHECK(s.manifest_file() == "shard-2-of-3.json");
    CHECK(parse_shard("0/1").count == 1);
    for (const char* bad : {"3/3", "1/0", "-1/3", "1", "a/b", "1/3x", "/3", "1/"}) {
        const auto msg = error_of([&] { parse_shard(bad); });
        CHECK_MESSAGE(msg.find(std::string("--shard '") + bad + "'") != std::string::npos, bad);
        CHECK(msg.find("0 <= I < N") != std::string::npos);
    }

    SweepDir d("shard-split");
    const auto spec = load_sweep(d.write("s.yaml", "base: base.yaml\nvary:\n  workload.numjobs: [1, 2]\n  workload.rw: [read, write, randread]\n"));
    const auto all = resolve_points(spec);
    std::vector<int> owners(all.size(), 0);
    for (size_t i = 0; i < 4; ++i)
        for (const auto& p : shard_points(all, Shard{i, 4})) {
            CHECK(p.index % 4 == i);
            CHECK(p.key == all[p.index].key);
            ++owners[p.index];
        }
    CHECK(owners == std::vector<int>(all.size(), 1));
    // --set changes the keys, not which shard a point belongs to.
    const auto longer = shard_points(resolve_points(spec, {"duration=30ms"}), Shard{1, 4});
    REQUIRE(longer.size() == 2);
    CHECK(longer[0].index == 1);
    CHECK(longer[1].index == 5);
    CHECK(longer[1].vary == all[5].vary);
    CHECK(longer[1].key != all[5].key);
}

TEST_CASE("sweep merge: shards merged equal one run, and lost, conflicting and mismatched shards are named") {
    SweepDir d("shard-merge");
    const auto spec = load_sweep(d.write("s.yaml", "base: base.yaml\nvary:\n  workload.rw: [randread, randwrite, read, write]\n"));
    SweepOptions options;
    options.cache_dir = d.path("single/points");
    const auto single = run_points(resolve_points(spec), spec.varied_keys(), options);
    std::vector<std::string> dirs;
    for (size_t i = 0; i < 3; ++i) {
        dirs.push_back(d.path("shard" + std::to_string(i)));
        options.cache_dir = dirs.back() + "/points";
        const auto part = run_points(shard_points(resolve_points(spec), Shard{i, 3}), spec.varied_keys(), options);
        write_shard_manifest(part, Shard{i, 3}, spec.file, dirs.back());
    }
    const auto merged = merge_shards(resolve_points(spec), spec.varied_keys(), dirs);
    CHECK(results_csv(merged) == results_csv(single));
    CHECK(results_json(merged, spec.file).dump(1) == results_json(single, spec.file).dump(1));
    // The single run's directory holds every point (and no manifest): it merges too, alone or with the shards.
    CHECK(results_csv(merge_shards(resolve_points(spec), spec.varied_keys(), {d.path("single")})) == results_csv(single));
    CHECK(results_csv(merge_shards(resolve_points(spec), spec.varied_keys(), {dirs[0], d.path("single")})) ==
          results_csv(single));

    SUBCASE("a lost shard: its points and the shard are named") {
        const auto msg = error_of([&] { merge_shards(resolve_points(spec), spec.varied_keys(), {dirs[0], dirs[2]}); });
        CHECK(msg.find("merge: 1 of 4 points missing") != std::string::npos);
        CHECK(msg.find("shard 1/3 lost or unfinished: no shard-1-of-3.json in any directory, 1 of its 1 points missing") !=
              std::string::npos);
        CHECK(msg.find("point 1 (workload.rw=randwrite) missing: no points/" + single.points[1].key +
                       ".json in any directory; shard 1/3 should have produced it") != std::string::npos);
    }
    SUBCASE("a removed point file of a finished shard") {
        fs::remove(fs::path(dirs[0]) / "points" / (single.points[3].key + ".json"));
        const auto msg = error_of([&] { merge_shards(resolve_points(spec), spec.varied_keys(), dirs); });
        CHECK(msg.find("point 3 (workload.rw=write) missing") != std::string::npos);
        CHECK(msg.find("its manifest says it finished") != std::string::npos);
    }
    SUBCASE("one point with two different reports is a conflict") {
        const fs::path copy = fs::path(d.path("single")) / "points" / (single.points[2].key + ".json");
        auto j = nlohmann::ordered_json::parse(std::ifstream(copy));
        j["report"]["metrics"]["iops"]["mean"] = 1.0;
        std::ofstream(copy) << j.dump();
        const auto msg = error_of([&] { merge_shards(resolve_points(spec), spec.varied_keys(), {dirs[2], d.path("single")}); });
        CHECK(msg.find("point 2 (workload.rw=read): conflicting results in " + dirs[2]) != std::string::npos);
        CHECK(msg.find(copy.string()) != std::string::npos);
    }
    SUBCASE("a merge with other --set than the shards names the manifests") {
        const auto msg = error_of([&] { merge_shards(resolve_points(spec, {"seed=8"}), spec.varied_keys(), dirs); });
        CHECK(msg.find("4 of 4 points missing") != std::string::npos);
        CHECK(msg.find("shard-0-of-3.json: point 0 has key " + single.points[0].key) != std::string::npos);
        CHECK(msg.find("the sweep file and --set the shards ran with") != std::string::npos);
        CHECK(msg.find("shard 0/3 should have produced it, but it ran another configuration") != std::string::npos);
        CHECK(msg.find("lost") == std::string::npos);
    }
    SUBCASE("a missing directory") {
        CHECK(error_of([&] { merge_shards(resolve_points(spec), spec.varied_keys(), {d.path("nowhere")}); })
                  .find("nowhere: no such shard directory") != std::string::npos);
    }
}

TEST_CASE("cover-letter tables on very short runs: shapes, pairing and the --json layout") {
    TablesOptions options;
    options.sweeps_dir = POLLSIM_SOURCE_DIR "/configs/cover-letter";
    options.extra_sets = {"duration=3ms", "warmup=1ms", "replications=2"};
    const CoverLetterRun run = run_cover_letter(options);

    REQUIRE(run.rows_a.size() == 2);
    CHECK(run.rows_a[0].poll_weight == 3);
    CHECK(run.rows_a[1].poll_weight == 2);
    CHECK(run.rows_a[0].cpu_pct.values.size() == 2);
    REQUIRE(run.rows_b.size() == 2);
    CHECK(run.rows_b[0].iothreads == 1);
    CHECK(run.rows_b[1].iothreads == 2);
    CHECK(run.rows_b[0].throughput_by_rw.size() == 4);  // read, write, randread, randwrite
    CHECK(run.rows_c.size() == 10);

    const auto j = tables_json(run);
    CHECK(j.size() == 3);
    CHECK(j["A"][0].size() == 3);
    CHECK(j["A"][0].contains("throughput_change_pct"));
    CHECK(j["B"][0]["cpu_change_pct"].size() == 2);
    CHECK(j["C"][0]["rw"] == "randread");
    CHECK(j["C"][0]["poll_weight"] == 1);
    CHECK(j["C"][4]["poll_weight"] == 5);
    CHECK(j["C"][0].contains("time_near_max"));

    const std::string md = tables_markdown(run);
    CHECK(md.find("## A.") != std::string::npos);
    CHECK(md.find("| 1 | -8 to -3 |") != std::string::npos);  // published beside simulated
    CHECK(residuals(run.rows_a, run.rows_b, run.published).size() == 12);
}

TEST_CASE("a change is paired replication by replication") {
    // Two fake reports: candidate iops 10 % above baseline in replication 0, 30 % in 1.
    auto report = [](std::vector<double> iops, std::vector<double> cpu) {
        nlohmann::ordered_json r;
        r["config"] = {{"iothreads", 1}, {"workload", {{"rw", "read"}}}};
        r["metrics"]["iops"] = {{"mean", 0}, {"ci95", 0}, {"values", iops}};
        r["metrics"]["cpu"]["iothread_util"] = {{"mean", 0}, {"ci95", 0}, {"values", cpu}};
        return r;
    };
    SweepResult s;
    SweepPoint base, cand;
    base.vary = {{"policy", "legacy"}};
    base.config.policy = "legacy";
    cand.vary = {{"policy", "weighted"}};
    cand.config.policy = "weighted";
    cand.config.iothread.poll_weight = 3;
    s.points = {base, cand};
    s.reports = {report({100, 200}, {0.5, 0.5}), report({110, 260}, {0.25, 0.5})};
    const auto c = changes(s);
    REQUIRE(c.size() == 1);
    CHECK(c[0].throughput_pct.mean == doctest::Approx(20));
    CHECK(c[0].cpu_pct.values == std::vector<double>{-50, 0});
    // Changes 10 and 30: standard error 10, t(0.975, 1 dof) = 12.706.
    CHECK(c[0].throughput_pct.ci95 == doctest::Approx(127.06));
    CHECK(c[0].cpu_pct.ci95 == doctest::Approx(12.706 * 25));
}

namespace {

// A sweep built by hand: each add() is one scenario's legacy point followed
// by its weighted points, with changes given in percent (one replication).
struct FakeSweep {
    SweepResult s;
    void add(int iothreads, const std::string& rw, int numjobs, const std::vector<std::tuple<int, double, double>>& weighted) {
        auto point = [&](const std::string& policy, int weight, double iops, double cpu) {
            SweepPoint p;
            p.vary = {{"iothreads", std::to_string(iothreads)},
                      {"workload.rw", rw},
                      {"workload.numjobs", std::to_string(numjobs)},
                      {"policy", policy},
                      {"iothread.poll-weight", std::to_string(weight)}};
            p.config.policy = policy;
            p.config.iothread.poll_weight = weight;
            nlohmann::ordered_json r;
            r["config"] = {{"iothreads", iothreads}, {"workload", {{"rw", rw}}}};
            r["metrics"]["iops"] = {{"mean", iops}, {"ci95", 0}, {"values", {iops}}};
            r["metrics"]["cpu"]["iothread_util"] = {{"mean", cpu}, {"ci95", 0}, {"values", {cpu}}};
            s.points.push_back(p);
            s.reports.push_back(r);
        };
        point("legacy", 0, 1000, 0.5);
        for (const auto& [w, tp, cpu] : weighted) point("weighted", w, 1000 * (1 + tp / 100), 0.5 * (1 + cpu / 100));
    }
};

}  // namespace

TEST_CASE("table A: per weight, the mean change over scenarios, rows in sweep order") {
    FakeSweep f;
    f.add(1, "read", 4, {{3, 2, -4}, {2, -1, 3}});
    f.add(1, "write", 4, {{3, -4, -10}, {2, 3, -5}});
    const auto rows = table_a(f.s);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].poll_weight == 3);
    CHECK(rows[0].throughput_pct.mean == doctest::Approx(-1));
    CHECK(rows[0].cpu_pct.mean == doctest::Approx(-7));
    CHECK(rows[1].poll_weight == 2);
    CHECK(rows[1].throughput_pct.mean == doctest::Approx(1));
    CHECK(rows[1].cpu_pct.mean == doctest::Approx(-1));

    SweepResult orphan = f.s;  // a weighted point whose legacy baseline is missing
    orphan.points.erase(orphan.points.begin());
    orphan.reports.erase(orphan.reports.begin());
    CHECK(error_of([&] { changes(orphan); }).find("no legacy baseline") != std::string::npos);
}

TEST_CASE("table B: per IOThread count, the range over access patterns of the numjobs-averaged change") {
    FakeSweep f;
    f.add(1, "read", 1, {{3, 10, -20}});
    f.add(1, "read", 4, {{3, -2, -10}});
    f.add(1, "write", 1, {{3, -6, -30}});
    f.add(1, "write", 4, {{3, -4, -10}});
    f.add(2, "randread", 1, {{3, 1, -1}});
    const auto rows = table_b(f.s);
    REQUIRE(rows.size() == 2);
    const RowB& one = rows[0];
    CHECK(one.iothreads == 1);
    // read: throughput (10 - 2) / 2 = 4, CPU -15; write: -5 and -20.
    REQUIRE(one.throughput_by_rw.size() == 2);
    CHECK(one.throughput_by_rw[0].rw == "read");
    CHECK(one.throughput_by_rw[0].value.mean == doctest::Approx(4));
    CHECK(one.cpu_by_rw[1].value.mean == doctest::Approx(-20));
    CHECK(one.throughput_lo.rw == "write");
    CHECK(one.throughput_lo.value.mean == doctest::Approx(-5));
    CHECK(one.throughput_hi.rw == "read");
    CHECK(one.throughput_hi.value.mean == doctest::Approx(4));
    CHECK(one.cpu_lo.rw == "write");
    CHECK(one.cpu_lo.value.mean == doctest::Approx(-20));
    CHECK(one.cpu_hi.rw == "read");
    CHECK(one.cpu_hi.value.mean == doctest::Approx(-15));
    // One access pattern: both ends of the range are it.
    CHECK(rows[1].iothreads == 2);
    CHECK(rows[1].throughput_lo.value.mean == doctest::Approx(1));
    CHECK(rows[1].throughput_hi.value.mean == doctest::Approx(1));
    CHECK(rows[1].cpu_lo.rw == "randread");
}

TEST_CASE("SVG charts are well-formed and deterministic") {
    PlotChart c;
    c.title = "t <&>";
    c.x_categories = {"0", "1k"};
    PlotSeries s;
    s.name = "a";
    s.x = {0, 1};
    s.y = {10, 20};
    c.series.push_back(s);
    const std::string svg = render_svg(c);
    CHECK(svg.rfind("<svg", 0) == 0);
    CHECK(svg.find("</svg>") != std::string::npos);
    CHECK(svg.find("t &lt;&amp;&gt;") != std::string::npos);
    // Plot area 760 - 70 - 20 - 190 = 480 px wide from x 70, 480 - 48 - 80 =
    // 352 px high from y 48; x spans [-0.5, 1.5] (two categories), y [9.5,
    // 20.5] (10 to 20 padded by 5 %): the point (0, 10) sits at (190, 384).
    CHECK(svg.find("<circle cx=\"190.00\" cy=\"384.00\"") != std::string::npos);
    const auto ticks = nice_ticks(0, 1);
    REQUIRE(ticks.size() == 6);
    CHECK(ticks[3] == doctest::Approx(0.6));
    CHECK(nice_ticks(-23, 7).front() == doctest::Approx(-20));
}
