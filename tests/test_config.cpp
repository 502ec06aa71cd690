// Configuration loading: every bad input gets a message naming file, line and key.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/config.h"
#include "sim/dist.h"
#include "sim/histogram.h"
#include "test_util.h"

using namespace pollsim;

namespace {
const std::string kProfile = "profile: " POLLSIM_TEST_DATA "/profiles/zero.yaml\n";

std::string error_of(const std::string& yaml, std::vector<std::string> sets = {}) {
    return test::input_error_of([&] { load_config_text(yaml, "cfg.yaml", ".", sets); });
}
}  // namespace

TEST_CASE("durations take integer nanoseconds or a unit") {
    CHECK(parse_duration_ns("1500") == 1500);
    CHECK(parse_duration_ns("250ns") == 250);
    CHECK(parse_duration_ns("3us") == 3000);
    CHECK(parse_duration_ns("1.5ms") == 1'500'000);
    CHECK(parse_duration_ns("2s") == 2'000'000'000);
    CHECK_THROWS_AS(parse_duration_ns("2 parsecs"), std::invalid_argument);
    CHECK_THROWS_AS(parse_duration_ns("-5us"), std::invalid_argument);
    CHECK_THROWS_AS(parse_duration_ns("1.5"), std::invalid_argument);
}

TEST_CASE("the embedded default loads and matches configs/default.yaml") {
    const Config c = load_config("");
    CHECK(c.policy == "weighted");
    CHECK(c.iothread.poll_max_ns == 32768);
    CHECK(c.iothread.poll_weight == 3);
    CHECK(c.devices == 16);
    CHECK(c.iothreads == 1);
    CHECK(c.workload.rw == "randread");
    CHECK(c.workload.iodepth == 8);
    CHECK(c.duration_ns == 2'000'000'000);
    CHECK(c.warmup_ns == 200'000'000);
    CHECK(c.replications == 3);
    CHECK(c.profile.name == "s390x-fcp");
    // The file on disk resolves to the same configuration, profile included;
    // only where it came from differs.
    auto resolved = [](const Config& cfg) {
        auto j = config_to_json(cfg);
        j.erase("source");
        j.erase("profile_path");
        return j.dump();
    };
    const Config f = load_config(POLLSIM_SOURCE_DIR "/configs/default.yaml");
    CHECK(f.profile_path == POLLSIM_SOURCE_DIR "/configs/profiles/s390x-fcp.yaml");
    CHECK(c.profile_path == "embedded:configs/profiles/s390x-fcp.yaml");
    CHECK(resolved(f) == resolved(c));
}

TEST_CASE("overrides with --set and QEMU's property syntax") {
    const Config c = load_config("", {"policy=legacy", "iothread.poll-max-ns=16384", "workload.numjobs=4",
                                      "duration=100ms", "costs.syscall_ns=1500", "costs.service.randread=50us"},
                                 "poll-grow=4");
    CHECK(c.policy == "legacy");
    CHECK(c.iothread.poll_max_ns == 16384);
    CHECK(c.iothread.poll_grow == 4);
    CHECK(c.iothread.poll_shrink == 2);  // from the file
    CHECK(c.workload.numjobs == 4);
    CHECK(c.duration_ns == 100'000'000);
    CHECK(c.profile.syscall_ns.constant_ns() == 1500);
    CHECK(c.profile.service_randread_ns.constant_ns() == 50'000);
}

TEST_CASE("policy parameters a policy was not given take that policy's QEMU defaults") {
    const Config legacy = load_config_text("policy: legacy\n" + kProfile, "cfg.yaml", ".");
    CHECK(legacy.iothread.poll_grow == 0);
    CHECK(legacy.iothread.poll_shrink == 0);
    const Config weighted = load_config_text("policy: weighted\n" + kProfile, "cfg.yaml", ".");
    CHECK(weighted.iothread.poll_grow == 2);
    CHECK(weighted.iothread.poll_shrink == 2);
    CHECK(weighted.iothread.poll_weight == 3);
}

TEST_CASE("relative paths in a config resolve against its directory, --set ones against the working directory") {
    const std::string yaml = "profile: ../profiles/zero.yaml\nworkload: {type: trace, trace: t.csv}\n";
    const Config c = load_config_text(yaml, "cfg.yaml", POLLSIM_TEST_DATA "/check");
    CHECK(c.profile_path == POLLSIM_TEST_DATA "/profiles/zero.yaml");
    CHECK(c.workload.trace == POLLSIM_TEST_DATA "/check/t.csv");
    const Config s = load_config_text(yaml, "cfg.yaml", POLLSIM_TEST_DATA "/check", {"workload.trace=u.csv"});
    CHECK(s.workload.trace == "u.csv");
}

TEST_CASE("bad configurations are rejected with file, line and key") {
    SUBCASE("malformed YAML") {
        const std::string e = error_of("policy: weighted\nworkload: [unclosed\n");
        CHECK(e.find("cfg.yaml:") != std::string::npos);
        CHECK(e.find("malformed YAML") != std::string::npos);
    }
    SUBCASE("unknown key, with the line and the valid keys") {
        const std::string e = error_of(kProfile + "workload:\n  rw: randread\n  blocksize: 4096\n");
        CHECK(e.find("cfg.yaml:4:") != std::string::npos);
        CHECK(e.find("workload.blocksize") != std::string::npos);
        CHECK(e.find("workload.bs") != std::string::npos);
    }
    SUBCASE("poll-weight out of range") {
        const std::string e = error_of(kProfile + "iothread:\n  poll-weight: 64\n");
        CHECK(e.find("cfg.yaml:3:") != std::string::npos);
        CHECK(e.find("iothread.poll-weight") != std::string::npos);
        CHECK(error_of(kProfile, {"iothread.poll-weight=-1"}).find("poll-weight") != std::string::npos);
    }
    SUBCASE("negative values name the parameter") {
        CHECK(error_of(kProfile + "iothread:\n  poll-grow: -2\n").find("iothread.poll-grow") != std::string::npos);
    }
    SUBCASE("missing profile file") {
        const std::string e = error_of("profile: /no/such/profile.yaml\n");
        CHECK(e.find("/no/such/profile.yaml") != std::string::npos);
    }
    SUBCASE("unknown policy lists the known ones") {
        const std::string e = error_of(kProfile + "policy: turbo\n");
        CHECK(e.find("turbo") != std::string::npos);
        CHECK(e.find("weighted") != std::string::npos);
    }
    SUBCASE("unknown --set key lists the valid keys") {
        const std::string e = error_of(kProfile, {"workload.nmjobs=4"});
        CHECK(e.find("workload.nmjobs") != std::string::npos);
        CHECK(e.find("workload.numjobs") != std::string::npos);
    }
    SUBCASE("bad value type") {
        CHECK(error_of(kProfile + "devices: many\n").find("devices") != std::string::npos);
        CHECK(error_of(kProfile + "workload:\n  rw: randtrim\n").find("randtrim") != std::string::npos);
        CHECK(error_of(kProfile + "duration: soon\n").find("duration") != std::string::npos);
    }
    SUBCASE("unknown cost override names the config line") {
        const std::string e = error_of(kProfile + "costs:\n  sycall_ns: 5\n");
        CHECK(e.find("cfg.yaml:3:") != std::string::npos);
        CHECK(e.find("costs.sycall_ns") != std::string::npos);
    }
    SUBCASE("bad distribution") {
        const std::string e = error_of(kProfile + "workload:\n  think: {dist: gamma, mean_ns: 5}\n");
        CHECK(e.find("workload.think") != std::string::npos);
    }
}

TEST_CASE("distributions: constants, means and determinism") {
    Rng a(42), b(42);
    const Dist ln = Dist::lognormal(10'000, 0.5);
    for (int i = 0; i < 10; ++i) CHECK(ln.sample(a) == ln.sample(b));  // same seed, same draws
    Rng c(7);
    double sum = 0;
    const int n = 200'000;
    for (int i = 0; i < n; ++i) sum += static_cast<double>(ln.sample(c));
    CHECK(sum / n == doctest::Approx(10'000).epsilon(0.01));
    Rng d(9);
    const Dist ex = Dist::exponential(5'000);
    sum = 0;
    for (int i = 0; i < n; ++i) sum += static_cast<double>(ex.sample(d));
    CHECK(sum / n == doctest::Approx(5'000).epsilon(0.01));
    CHECK(Dist::constant(123).sample(d) == 123);
}

TEST_CASE("log-linear histogram quantiles are within its resolution") {
    LogLinearHistogram h;
    for (int64_t v = 1; v <= 100'000; ++v) h.add(v);
    CHECK(h.count() == 100'000);
    CHECK(h.mean() == doctest::Approx(50'000.5));
    CHECK(h.quantile(0.5) == doctest::Approx(50'000).epsilon(0.01));
    CHECK(h.quantile(0.99) == doctest::Approx(99'000).epsilon(0.01));
    CHECK(h.quantile(0.999) == doctest::Approx(99'900).epsilon(0.01));
    // Bucket bounds tile the line: each bucket starts where the previous ended.
    for (int i = 1; i < 2000; ++i) CHECK_UNARY(LogLinearHistogram::lower_bound(i) == LogLinearHistogram::upper_bound(i - 1));
    CHECK(Pow2Histogram::index_of(0) == 0);
    CHECK(Pow2Histogram::index_of(1) == 1);
    CHECK(Pow2Histogram::index_of(3) == 2);
    CHECK(Pow2Histogram::index_of(32768) == 16);  // [32768, 65536)
    CHECK(Pow2Histogram::lo(16) == 32768);
}

TEST_CASE("a config path missing on disk falls back to the embedded copy, as in sweep and check") {
    const test::ScratchDir scratch("embedded-fallback");
    const auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(scratch.dir);  // no configs/ here
    const Config c = load_config("configs/traces/replay-fio-randread.yaml", {}, "");
    const std::string missing = test::input_error_of([] { load_config("configs/no-such.yaml", {}, ""); });
    std::filesystem::current_path(cwd);
    CHECK(c.source == "embedded:configs/traces/replay-fio-randread.yaml");
    CHECK(c.profile_path == "embedded:configs/profiles/s390x-fcp.yaml");  // `../profiles/s390x-fcp.yaml` beside it
    CHECK(c.workload.replay == "closed");
    CHECK(missing.find("cannot open 'configs/no-such.yaml'") != std::string::npos);
}
