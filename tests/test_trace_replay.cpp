// Trace replay against a fake guest (tests/fake_guest.h, no engine): it records every submission,
// fires timers in time order and completes each request a fixed time after
// its service time, so replay can be checked request by request.
// Closed-loop replay of a synthesized trace against the synthetic run it came
// from (within its confidence interval) needs the engine: test_trace_engine.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <queue>
#include <string>
#include <vector>

#include "sim/error.h"
#include "tests/fake_guest.h"
#include "tests/test_util.h"
#include "workloads/trace/trace_reader.h"
#include "workloads/workloads.h"

using namespace pollsim;

namespace {

const std::string kTraces = POLLSIM_TEST_DATA "/traces/";

using test::FakeGuest;

// A trace workload on `file`: a fixture under tests/data/traces, or an absolute path.
WorkloadConfig trace_config(const std::string& file, const std::string& replay) {
    WorkloadConfig c;
    c.type = "trace";
    c.trace = file.starts_with('/') ? file : kTraces + file;
    c.replay = replay;
    return c;
}

std::vector<TraceRecord> records_of(const std::string& file) {
    auto r = open_trace(kTraces + file, "auto");
    std::vector<TraceRecord> v;
    TraceRecord rec;
    while (r->next(rec)) v.push_back(rec);
    return v;
}

constexpr int64_t kForever = INT64_MAX / 4;

}  // namespace

TEST_CASE("open-loop replay reproduces the trace's requests and arrival times exactly") {
    for (const char* file : {"blkparse/two_devices.txt", "fio/randrw.iolog", "fio/randrw_lat.1.log",
                             "qemu/luring.log", "qemu/virtio_blk.log", "qemu/virtio_blk_real.log",
                             "native/requests.csv"}) {
        CAPTURE(file);
        const auto recs = records_of(file);
        auto w = make_trace_workload(trace_config(file, "open"), 1);
        FakeGuest g(16, 1);
        g.run(*w, kForever);
        REQUIRE(g.submitted.size() == recs.size());
        CHECK(g.max_pending_timers == 1);
        for (size_t i = 0; i < recs.size(); ++i) {
            CAPTURE(i);
            CHECK(g.submitted[i].t_sub_ns == recs[i].submit_ns - recs[0].submit_ns);
            CHECK(g.submitted[i].service_ns == recs[i].replay_service_ns());
            CHECK(g.submitted[i].device == recs[i].device % 16);
            CHECK(g.submitted[i].op == recs[i].op);
            if (recs[i].bytes >= 0) CHECK(g.submitted[i].bytes == recs[i].bytes);
        }
    }
}

TEST_CASE("open loop: speed, device and queue mapping, defaults from the config") {
    SUBCASE("speed 2 halves every time") {
        auto cfg = trace_config("native/requests.csv", "open");
        cfg.speed = 2.0;
        auto w = make_trace_workload(cfg, 1);
        FakeGuest g(16, 1);
        g.run(*w, kForever);
        REQUIRE(g.submitted.size() == 5);
        CHECK(g.submitted[1].t_sub_ns == 5000);   // (11000 - 1000) / 2
        CHECK(g.submitted[4].t_sub_ns == 19500);  // (40000 - 1000) / 2
    }
    SUBCASE("devices and queues wrap onto the config's") {
        auto cfg = trace_config("native/arrivals.csv", "open");
        cfg.rw = "randwrite";
        cfg.bs = 65536;
        auto w = make_trace_workload(cfg, 1);
        FakeGuest g(2, 2);
        g.run(*w, kForever);
        REQUIRE(g.submitted.size() == 5);
        // vq3 -> device 3 mod 2 = 1, queue (3 / 2) mod 2 = 1; vq3.1 keeps queue 1; vq15 -> 1, (15/2) mod 2 = 1
        CHECK(g.submitted[0].device == 0);
        CHECK(g.submitted[0].queue == 0);
        CHECK(g.submitted[1].device == 1);
        CHECK(g.submitted[1].queue == 1);
        CHECK(g.submitted[2].queue == 1);
        CHECK(g.submitted[4].device == 1);
        CHECK(g.submitted[4].queue == 1);
        // per-arrival records take op and size from workload.rw and bs
        CHECK(g.submitted[0].op == Op::write);
        CHECK(g.submitted[0].bytes == 65536);
        CHECK(g.submitted[0].service_ns == -1);
        // two arrivals at 5000 ns go at once
        CHECK(g.submitted[1].t_sub_ns == 5000);
        CHECK(g.submitted[2].t_sub_ns == 5000);
    }
    SUBCASE("sequential access is recognised from offsets") {
        auto w = make_trace_workload(trace_config("native/requests.csv", "open"), 1);
        FakeGuest g(16, 1);
        g.run(*w, kForever);
        REQUIRE(g.submitted.size() == 5);
        CHECK(g.submitted[0].random);         // device 0, offset 0: first
        CHECK_FALSE(g.submitted[3].random);   // device 0, offset 4096 after 0 + 4096
        CHECK_FALSE(g.submitted[4].random);   // device 0, offset 8192 after 4096 + 4096
    }
}

TEST_CASE("open loop: loop repeats the trace, offset by its span plus one mean gap") {
    auto cfg = trace_config("native/requests.csv", "open");
    cfg.loop = true;
    auto w = make_trace_workload(cfg, 1);
    FakeGuest g(16, 1);
    const int64_t period = 39000 + 39000 / 4;  // span 1000..40000, 5 requests
    g.run(*w, 3 * period);
    REQUIRE(g.submitted.size() == 15);
    for (int i = 0; i < 5; ++i) {
        CHECK(g.submitted[5 + i].t_sub_ns == g.submitted[i].t_sub_ns + period);
        CHECK(g.submitted[10 + i].t_sub_ns == g.submitted[i].t_sub_ns + 2 * period);
    }
    CHECK(g.max_pending_timers == 1);
}

TEST_CASE("open loop refuses what it cannot replay") {
    CHECK_THROWS_WITH_AS(make_trace_workload(trace_config("fio/randrw_v2.iolog", "open"), 1),
                         doctest::Contains("replay it closed loop"), InputError);
    WorkloadConfig none;
    none.type = "trace";
    CHECK_THROWS_AS(make_trace_workload(none, 1), InputError);
    auto cfg = trace_config("native/requests.csv", "open");
    cfg.trace += ".missing";
    CHECK_THROWS_WITH_AS(make_trace_workload(cfg, 1), doctest::Contains("cannot open"), InputError);
}

TEST_CASE("skipped lines reach GuestApi::count_skipped once") {
    test::ScratchDir dir("skip-replay");
    const std::string path = dir.write("skip.csv", "submit_ns,op\n0,read\n5,bogus\n10,read\nxx,read\n20,write\n");
    for (const char* mode : {"open", "closed"}) {
        CAPTURE(mode);
        auto cfg = trace_config(path, mode);
        cfg.skip_bad = true;
        cfg.loop = true;
        auto w = make_trace_workload(cfg, 1);
        FakeGuest g(1, 1, 0, 1);
        g.run(*w, 200);
        CHECK(g.skipped == 2);
        CHECK(g.submitted.size() > 3);
    }
}

TEST_CASE("closed loop with a guest that completes at the recorded times reproduces the trace") {
    // Each stream keeps its recorded concurrency and gaps, so when completions
    // come exactly when they came in the recording, so do submissions.
    for (const char* file : {"blkparse/two_devices.txt", "qemu/luring.log", "qemu/virtio_blk.log", "qemu/virtio_blk_real.log",
                             "fio/randrw_lat.1.log", "native/requests.csv"}) {
        CAPTURE(file);
        auto recs = records_of(file);
        auto w = make_trace_workload(trace_config(file, "closed"), 1);
        FakeGuest g(16, 1);
        g.run(*w, kForever);
        REQUIRE(g.submitted.size() == recs.size());
        std::vector<int64_t> want, got;
        for (const auto& r : recs) want.push_back(r.submit_ns - recs[0].submit_ns);
        for (const auto& s : g.submitted) got.push_back(s.t_sub_ns);
        std::sort(want.begin(), want.end());
        std::sort(got.begin(), got.end());
        CHECK(got == want);
    }
}

TEST_CASE("closed loop: a slower guest slows the replay (throughput responds)") {
    const auto recs = records_of("blkparse/two_devices.txt");
    const int64_t recorded_span = recs.back().submit_ns - recs.front().submit_ns;
    auto w = make_trace_workload(trace_config("blkparse/two_devices.txt", "closed"), 1);
    FakeGuest g(16, 1, 200'000);  // every request completes 200 us late
    g.run(*w, kForever);
    REQUIRE(g.submitted.size() == recs.size());
    int64_t last = 0;
    for (const auto& s : g.submitted) last = std::max(last, s.t_sub_ns);
    CHECK(last > recorded_span + 1'000'000);
    CHECK(g.max_pending_timers <= 2);  // one per stream (trace device)
    // Open loop ignores the guest: same span as recorded.
    auto o = make_trace_workload(trace_config("blkparse/two_devices.txt", "open"), 1);
    FakeGuest g2(16, 1, 200'000);
    g2.run(*o, kForever);
    CHECK(g2.submitted.back().t_sub_ns == recorded_span);
}

TEST_CASE("closed loop without recorded completions: iodepth per trace device, think between") {
    auto cfg = trace_config("fio/randrw_v2.iolog", "closed");
    cfg.iodepth = 4;
    cfg.think = Dist::constant(1000);
    auto w = make_trace_workload(cfg, 1);
    FakeGuest g(16, 1, 0, 100'000);  // fixed 100 us service (the trace has none)
    g.run(*w, kForever);
    REQUIRE(g.submitted.size() == 297);
    CHECK(g.max_in_flight == 4);
    for (int i = 0; i < 4; ++i) CHECK(g.submitted[i].t_sub_ns == 0);
    CHECK(g.submitted[4].t_sub_ns == 101'000);  // completion at 100 us + think 1 us
}

TEST_CASE("closed loop: a request without a recorded end holds no slot in replay either") {
    // The guest completes each request exactly at its recorded time; one
    // without a recorded end takes the fake guest's default 100 us. The
    // recording had nothing in flight when the next request went, so the
    // replay must not wait for it: submissions reproduce the recorded times.
    struct Case {
        const char* name;
        const char* text;
        std::vector<int64_t> want;
    };
    const Case cases[] = {
        // The first request has no end: it must not switch the whole trace to
        // the iodepth model (that submitted all three at 0).
        {"first.csv", "submit_ns,complete_ns\n0,\n100,200\n300,400\n", {0, 100, 300}},
        // A lost completion in the middle: the third request is 150 after the
        // second, not 150 after the second's 100 us default service.
        {"middle.csv", "submit_ns,complete_ns\n0,100\n150,\n300,400\n", {0, 150, 300}},
        // A clock below zero: -1000 .. -500, then -400 .. 0. Negative
        // completions were once taken as "not recorded" (iodepth model: both at 0).
        {"negative.csv", "submit_ns,complete_ns\n-1000,-500\n-400,0\n", {0, 600}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        test::ScratchDir dir("closed-noend");
        auto w = make_trace_workload(trace_config(dir.write(c.name, c.text), "closed"), 1);
        FakeGuest g(1, 1);
        g.run(*w, kForever);
        std::vector<int64_t> got;
        for (const auto& s : g.submitted) got.push_back(s.t_sub_ns);
        CHECK(got == c.want);
    }
}

TEST_CASE("closed loop: loop shifts every pass by span plus one mean gap, as open loop does") {
    // native/requests.csv, sorted: submits 1000, 11000, 25000, 30000, 40000
    // (relative 0, 10000, 24000, 29000, 39000); period 39000 + 39000 / 4.
    auto cfg = trace_config("native/requests.csv", "closed");
    cfg.loop = true;
    auto w = make_trace_workload(cfg, 1);
    FakeGuest g(16, 1);
    const int64_t period = 48750;
    g.run(*w, 3 * period);
    std::vector<int64_t> got, want;
    for (const auto& s : g.submitted) got.push_back(s.t_sub_ns);
    for (int pass = 0; pass < 3; ++pass)
        for (int64_t t : {0, 10000, 24000, 29000, 39000}) want.push_back(t + pass * period);
    std::sort(got.begin(), got.end());
    CHECK(got == want);
}

TEST_CASE("loop over a trace spanning nearly 2^63 ns neither wraps nor refuses") {
    // Times from -(2^62 - 1) to 2^62 - 11: the span is 2^63 - 12, and span plus
    // one mean gap overflowed int64 into a negative period ("requests span no
    // time"). It saturates now; the second request is beyond any run.
    test::ScratchDir dir("loop-huge");
    const std::string path = dir.write("huge.csv",
                                       "submit_ns,complete_ns\n-4611686018427387903,-4611686018427387893\n"
                                       "4611686018427387893,4611686018427387903\n");
    for (const char* mode : {"open", "closed"}) {
        CAPTURE(mode);
        auto cfg = trace_config(path, mode);
        cfg.loop = true;
        std::unique_ptr<Workload> w;
        REQUIRE_NOTHROW(w = make_trace_workload(cfg, 1));
        FakeGuest g(1, 1);
        g.run(*w, 1'000'000'000);
        REQUIRE(g.submitted.size() == 1);
        CHECK(g.submitted[0].t_sub_ns == 0);
        CHECK(g.submitted[0].service_ns == 10);
    }
}
