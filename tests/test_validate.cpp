// `pollsim validate` (sim/validate.h) and the QEMU log scanner it reads real
// logs with (workloads/trace/qemu_log.h). Every expected value is worked out
// by hand from the fixtures in tests/data/validate/ (see the comments).
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "sim/error.h"
#include "sim/validate.h"
#include "tests/test_util.h"
#include "workloads/trace/qemu_log.h"
#include "workloads/trace/trace_parse.h"

using namespace pollsim;
using pollsim::test::input_error_of;
using pollsim::test::ScratchDir;

namespace {

const std::string kData = POLLSIM_TEST_DATA "/validate/";

// split_qemu_log_line's time, or throws what it throws.
int64_t stamp_of(const std::string& line, std::string* rest_out = nullptr) {
    int64_t t = -1;
    std::string_view rest;
    REQUIRE(trace::split_qemu_log_line(line, t, rest));
    if (rest_out) *rest_out = std::string(rest);
    return t;
}

bool throws_parse_error(const std::string& line) {
    int64_t t = 0;
    std::string_view rest;
    try {
        (void)trace::split_qemu_log_line(line, t, rest);
    } catch (const trace::ParseError&) {
        return true;
    }
    return false;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

int count_of(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

std::vector<std::string> keys_of(const nlohmann::ordered_json& j) {
    std::vector<std::string> v;
    for (const auto& [k, _] : j.items()) v.push_back(k);
    return v;
}

std::optional<double> ratio_of(const ValidateResult& r, const std::string& key) {
    for (const auto& [k, v] : r.ratios)
        if (k == key) return v;
    FAIL("no ratio for " << key);
    return std::nullopt;
}

// The counts of tests/data/validate/scan72.log (and of its ISO and xz copies)
// over the whole log. Its counted lines, at X us after the base stamp:
//   X=1000 read A, 2000 write B, 2205 read A, 5000 write B   -> 4 requests, vdevs A and B
//   X=1200 begin max_ns 4000, 2200 max_ns 8000, 3000 max_ns 32768 -> 3 phases
//   X=2206 end progress 1 (1204 and 3033 progress 0)          -> 1 success
//   X=1150, 2150, 2400 poll_grow                               -> 3 grows
//   X=200, 4000, 5200 poll_shrink                              -> 3 shrinks
// sum max_ns = 4000 + 8000 + 32768 = 44768, mean 44768 / 3.
// Power-of-two buckets [2^(i-1), 2^i): 4000 in i=12 [2048, 4096), 8000 in
// i=13 [4096, 8192), 32768 in i=16 [32768, 65536).
void check_whole_scan72(const QemuLogScan& s) {
    const LoopFigures& f = s.figures;
    CHECK(f.requests == 4);
    CHECK(f.poll_phases == 3);
    CHECK(f.poll_successes == 1);
    CHECK(f.grows == 3);
    CHECK(f.shrinks == 3);
    CHECK(f.sum_poll_max_ns == 44768);
    CHECK(f.mean_poll_ns() == doctest::Approx(44768.0 / 3.0));
    for (int i = 0; i < Pow2Histogram::kBuckets; ++i) {
        CAPTURE(i);
        CHECK(f.poll_max_hist[i] == (i == 12 || i == 13 || i == 16 ? 1 : 0));
    }
    CHECK(Pow2Histogram::lo(12) == 2048);
    CHECK(Pow2Histogram::hi(16) == 65536);
    CHECK_FALSE(f.iothread_cpu.has_value());
    CHECK(s.devices == 2);
    // 23 lines, the first is QEMU's own unstamped output.
    CHECK(s.stamped_lines == 22);
}

}  // namespace

// ---- split_qemu_log_line ------------------------------------------------

TEST_CASE("split_qemu_log_line: QEMU 7.2 TID@SECONDS.MICROSECONDS stamps to exact ns") {
    std::string rest;
    // 1795581673 s + 476376 us = 1795581673476376000 ns.
    CHECK(stamp_of("11890@1795581673.476376:virtio_blk_handle_read vdev 0x1 req 0x2 sector 0 nsectors 8", &rest) ==
          1'795'581'673'476'376'000);
    CHECK(rest == "virtio_blk_handle_read vdev 0x1 req 0x2 sector 0 nsectors 8");
    CHECK(stamp_of("1@0.000001:x") == 1000);
    CHECK(throws_parse_error("11890@1795581673.47a376:virtio_blk_handle_read"));
    CHECK(throws_parse_error("11890@.476376:virtio_blk_handle_read"));
}

TEST_CASE("split_qemu_log_line: QEMU 10.0 ISO-8601 UTC stamps to exact ns") {
    std::string rest;
    // 2026-11-30T07:30:38.170088Z by hand:
    //   1970..2025 = 56 years = 56*365 + 14 leap days (1972, 76, ..., 2024) = 20454 days;
    //   2026 before Nov: 31+28+31+30+31+30+31+31+30+31 = 304 days; Nov 1 -> 30: 29 days;
    //   20454 + 304 + 29 = 20787 days = 20787 * 86400 s = 1795996800 s;
    //   07:30:38 = 7*3600 + 30*60 + 38 = 27038 s  -> 1796023838 s, + 0.170088 s.
    CHECK(stamp_of("2026-11-30T07:30:38.170088Z virtio_blk_handle_read vdev 0x1", &rest) ==
          1'796'023'838'170'088'000);
    CHECK(rest == "virtio_blk_handle_read vdev 0x1");
    // Leap day 2024-02-29: 1970..2023 = 54*365 + 13 leap days = 19723 days; Jan 31 + Feb 1 -> 29: 28
    // -> 19782 days = 1709164800 s. The next day is 2024-03-01 (one leap day later, not two).
    CHECK(stamp_of("2024-02-29T00:00:00.000000Z e") == 1'709'164'800'000'000'000);
    CHECK(stamp_of("2024-02-29T23:59:59.999999Z e") == 1'709'251'199'999'999'000);
    CHECK(stamp_of("2024-03-01T00:00:00.000000Z e") == 1'709'251'200'000'000'000);
    // Epoch, and fractions shorter or longer than microseconds.
    CHECK(stamp_of("1970-01-01T00:00:00.000001Z e") == 1000);
    CHECK(stamp_of("1970-01-01T00:00:01.5Z e") == 1'500'000'000);
    CHECK(stamp_of("1970-01-01T00:00:00.123456789Z e") == 123'456'789);
}

TEST_CASE("split_qemu_log_line rejects bad ISO stamps and passes lines without one") {
    CHECK(throws_parse_error("2026-13-30T07:30:38.170088Z virtio_blk_handle_read"));  // month 13
    CHECK(throws_parse_error("2026-00-30T07:30:38.170088Z virtio_blk_handle_read"));  // month 0
    CHECK(throws_parse_error("2026-11-30T24:30:38.170088Z virtio_blk_handle_read"));  // hour 24
    CHECK(throws_parse_error("2026-11-30T07:30:38.17a088Z virtio_blk_handle_read"));  // letter in fraction
    CHECK(throws_parse_error("2026-11-30T07:30:38.Z virtio_blk_handle_read"));        // empty fraction
    CHECK(throws_parse_error("2026-11-30T07:30:38Z virtio_blk_handle_read"));         // no fraction
    // No prefix at all: QEMU's other output.
    int64_t t = 0;
    std::string_view rest;
    CHECK_FALSE(trace::split_qemu_log_line("qemu-system-x86_64: terminating on signal 15", t, rest));
    CHECK_FALSE(trace::split_qemu_log_line("virtio_blk_handle_read vdev 0x1 req 0x2", t, rest));
    CHECK_FALSE(trace::split_qemu_log_line("", t, rest));
}

// A stamp in the ISO shape without its 'Z' is a bad time (trace_parse.h: "A
// prefix with a bad time throws ParseError"), not "no prefix": otherwise
// scan_qemu_log would silently drop such a counted line.
TEST_CASE("split_qemu_log_line throws on an ISO stamp missing its Z") {
    CHECK(throws_parse_error("2026-11-30T07:30:38.170088 virtio_blk_handle_read vdev 0x1 req 0x2"));
}

// ---- scan_qemu_log ------------------------------------------------------

TEST_CASE("scan_qemu_log counts the QEMU 7.2 fixture exactly") {
    const QemuLogScan s = scan_qemu_log(kData + "scan72.log", LogWindow{});
    check_whole_scan72(s);
    CHECK(s.timestamp_format == "tid@sec.usec");
    // Base 1795581673 s: first stamped line X=100, first request X=1000, latest
    // stamp X=5200 (the file's last line, X=5190 from thread 11888, steps back).
    CHECK(s.first_ns == 1'795'581'673'000'100'000);
    CHECK(s.first_request_ns == 1'795'581'673'001'000'000);
    CHECK(s.last_ns == 1'795'581'673'005'200'000);
}

TEST_CASE("scan_qemu_log counts the ISO-8601 fixture like the 7.2 one") {
    // Same events at 2024-02-29T23:59:59.998000Z + X us, across midnight into March.
    const QemuLogScan s = scan_qemu_log(kData + "scan_iso.log", LogWindow{});
    check_whole_scan72(s);
    CHECK(s.timestamp_format == "iso8601");
    // 2024-02-29T23:59:59 = 1709164800 + 86399 = 1709251199 s.
    CHECK(s.first_ns == 1'709'251'199'998'100'000);
    CHECK(s.first_request_ns == 1'709'251'199'999'000'000);
    CHECK(s.last_ns == 1'709'251'200'003'200'000);  // 2024-03-01T00:00:00.003200Z
}

TEST_CASE("scan_qemu_log reads the xz copy exactly like the plain log") {
    const QemuLogScan a = scan_qemu_log(kData + "scan72.log", LogWindow{});
    const QemuLogScan b = scan_qemu_log(kData + "scan72.log.xz", LogWindow{});
    check_whole_scan72(b);
    CHECK(b.first_ns == a.first_ns);
    CHECK(b.last_ns == a.last_ns);
    CHECK(b.first_request_ns == a.first_request_ns);
    CHECK(b.stamped_lines == a.stamped_lines);
    CHECK(b.timestamp_format == a.timestamp_format);
    CHECK(b.figures.poll_max_hist == a.figures.poll_max_hist);
    const LogWindow w{1'900'000, 2'900'000};
    CHECK(scan_qemu_log(kData + "scan72.log.xz", w).figures.sum_poll_max_ns ==
          scan_qemu_log(kData + "scan72.log", w).figures.sum_poll_max_ns);
}

TEST_CASE("scan_qemu_log counts only inside the window, relative to the first stamped line") {
    // Window [1.9 ms, 2.9 ms) from X=100, i.e. X in [2000, 3000): X=2000 (included,
    // the window is closed at its start) to X=2400; X=3000 (phase 32768) is out.
    // In it: requests at 2000 and 2205, the 8000 phase, its success, grows at 2150 and 2400.
    for (const char* file : {"scan72.log", "scan_iso.log"}) {
        CAPTURE(file);
        const QemuLogScan s = scan_qemu_log(kData + file, LogWindow{1'900'000, 2'900'000});
        const LoopFigures& f = s.figures;
        CHECK(f.requests == 2);
        CHECK(f.poll_phases == 1);
        CHECK(f.poll_successes == 1);
        CHECK(f.grows == 2);
        CHECK(f.shrinks == 0);
        CHECK(f.sum_poll_max_ns == 8000);
        CHECK(f.mean_poll_ns() == 8000.0);
        CHECK(f.poll_max_hist[13] == 1);
        CHECK(f.poll_max_hist[12] == 0);
        CHECK(f.poll_max_hist[16] == 0);
        // Outside the counted figures the whole log is still read.
        CHECK(s.devices == 2);
        CHECK(s.stamped_lines == 22);
        CHECK(s.first_request_ns - s.first_ns == 900'000);
        CHECK(s.last_ns - s.first_ns == 5'100'000);
    }
    // One ns wider at the end takes in the X=3000 phase.
    CHECK(scan_qemu_log(kData + "scan72.log", LogWindow{1'900'000, 2'900'001}).figures.poll_phases == 2);
    // One ns later at the start leaves out the X=2000 request.
    CHECK(scan_qemu_log(kData + "scan72.log", LogWindow{1'900'001, 2'900'000}).figures.requests == 1);
}

TEST_CASE("scan_qemu_log: malformed counted lines name FILE:LINE, a log without requests is refused") {
    ScratchDir dir("validate-scan-bad");
    const std::string bad = dir.write("bad.log",
                                      "1@1.000000:virtio_blk_handle_read vdev 0x1 req 0x2 sector 0 nsectors 8\n"
                                      "1@1.000010:run_poll_handlers_begin ctx 0x5 max_ns abc timeout -1\n");
    std::string e = input_error_of([&] { scan_qemu_log(bad, LogWindow{}); });
    CHECK(e.find(bad + ":2: ") != std::string::npos);
    CHECK(e.find("max_ns") != std::string::npos);

    const std::string progress = dir.write("progress.log",
                                           "1@1.000000:virtio_blk_handle_read vdev 0x1 req 0x2 sector 0 nsectors 8\n"
                                           "\n"
                                           "1@1.000010:run_poll_handlers_end ctx 0x5 progress 2 new timeout -1\n");
    e = input_error_of([&] { scan_qemu_log(progress, LogWindow{}); });
    CHECK(e.find(progress + ":3: ") != std::string::npos);

    const std::string grow = dir.write("grow.log", "1@1.000000:poll_grow ctx 0x5 old 0 new x4000\n");
    CHECK(input_error_of([&] { scan_qemu_log(grow, LogWindow{}); }).find(grow + ":1: ") != std::string::npos);

    const std::string norequests = dir.write("norequests.log",
                                             "1@1.000000:run_poll_handlers_begin ctx 0x5 max_ns 4000 timeout -1\n"
                                             "1@1.000005:run_poll_handlers_end ctx 0x5 progress 0 new timeout -1\n");
    e = input_error_of([&] { scan_qemu_log(norequests, LogWindow{}); });
    CHECK(e.find(norequests) != std::string::npos);
    CHECK(e.find("no virtio_blk_handle_read/write events") != std::string::npos);

    const std::string unstamped = dir.write("unstamped.log", "qemu-system-x86_64: some output\n");
    CHECK(input_error_of([&] { scan_qemu_log(unstamped, LogWindow{}); }).find("no time-stamped") != std::string::npos);

    const std::string missing = dir.path("missing.log");
    e = input_error_of([&] { scan_qemu_log(missing, LogWindow{}); });
    CHECK(e.find(missing + ": cannot open") != std::string::npos);
}

// The default window is "the whole log": a counted line whose stamp steps
// back before the first stamped line (another thread) belongs to its start.
TEST_CASE("the default window counts a line stamped just before the first line") {
    ScratchDir dir("validate-scan-early");
    const std::string log = dir.write("early.log",
                                      "7@1.000100:poll_add ctx 0x5 node 0x6 fd 9 revents 0x1\n"
                                      "8@1.000095:poll_shrink ctx 0x5 old 0 new 0\n"
                                      "8@1.000200:virtio_blk_handle_read vdev 0x1 req 0x2 sector 0 nsectors 8\n");
    const QemuLogScan s = scan_qemu_log(log, LogWindow{});
    CHECK(s.figures.requests == 1);
    CHECK(s.figures.shrinks == 1);
}

// ---- validate_log -------------------------------------------------------
//
// tests/data/validate/replay72.log, times from its first line (T0 = 1795581000 s):
//   0.500 ms read, 1.500 ms read, 2.500 ms read (one vdev, each completed 100 us later);
//   poll_grow at 0.510; one poll phase, max_ns 4000, progress 0;
//   poll_shrink at 0.610, 1.510, 1.610, 2.510; last line at 3.000 ms.
// Real: requests 3, poll_phases 1, poll_successes 0, grows 1, shrinks 4, mean 4000.
//
// The replay (sim clock 0 = the first request, log offset 0.5 ms; window
// [0, 3.000 ms + 1 ns - 0.5 ms) = [0, 2500001)), on flat.yaml: spin 1000 ns,
// 1000 ns of loop work at each iteration start, vq dispatch 2000, timer
// completion 1000 + 500 per device, timer wake-up 10 us, all else 0;
// timer-completions; legacy-global poll-max-ns 32768, grow 0 (x2), shrink 0
// (to 0); latency 100 us. validate sets the kick latency and the fd wake-up
// to 0 (the arrivals are the moments real QEMU took the requests) and keeps
// the profile's wake-up latency for timers. Per iteration (start: what
// happens, block_ns, update):
//   it1 @0:        loop work to 1000; poll 0, list empty -> wait; R1 (kicked at
//                  0) is readable: no sleep; vq dispatch 1000..3000 (R1 timer at
//                  103000). block 1000 <= 32768: grow 0 -> 4000.
//   it2 @3000:     loop work to 4000; budget min(4000, 103000 - 4000) = 4000:
//                  phase 1 (max_ns 4000), 4 spins to 8000, nothing; wait, sleep
//                  to 103000, timer wake at 113000, timers only: block 110000
//                  > 32768: shrink 4000 -> 0; R1 done at 114500.
//   it3 @114500:   loop work, poll 0 -> wait; R2 at 1000000 (no wake-up delay),
//                  dispatch to 1002000: block 885500: shrink (0 -> 0).
//   it4 @1002000:  wait to 1102000, timer wake 1112000, timers to 1113500:
//                  block 110000: shrink.
//   it5 @1113500:  as it3 for R3 (block 886500): shrink.   it6 @2002000: as it4: shrink.
//   it7 @2113500:  waits until the end.
// Simulated: requests 3, poll_phases 1, poll_successes 0, grows 1, shrinks 5,
// sum max_ns 4000 (bucket [2048, 4096)). Ratios: all 1 but shrinks 5/4 = 1.25.

namespace {

ValidateRequest replay_request() {
    ValidateRequest q;
    q.log = kData + "replay72.log";
    q.policy = "legacy-global";
    q.iothread = "poll-max-ns=32768,poll-grow=0,poll-shrink=0";
    q.profile = kData + "flat.yaml";
    q.latency_ns = 100'000;
    return q;
}

}  // namespace

TEST_CASE("validate_log on a replay worked out by hand") {
    const ValidateResult r = validate_log(replay_request());
    CHECK(r.latency_ns == 100'000);
    CHECK(r.latency_source == "given");
    CHECK(r.real.requests == 3);
    CHECK(r.real.poll_phases == 1);
    CHECK(r.real.poll_successes == 0);
    CHECK(r.real.grows == 1);
    CHECK(r.real.shrinks == 4);
    CHECK(r.real.sum_poll_max_ns == 4000);

    CHECK(r.simulated.requests == 3);
    CHECK(r.simulated.poll_phases == 1);
    CHECK(r.simulated.poll_successes == 0);
    CHECK(r.simulated.grows == 1);
    CHECK(r.simulated.shrinks == 5);
    CHECK(r.simulated.sum_poll_max_ns == 4000);
    CHECK(r.simulated.poll_max_hist[12] == 1);
    CHECK_FALSE(r.simulated.iothread_cpu.has_value());

    REQUIRE(r.ratios.size() == 6);
    const std::vector<std::string> order = {"requests", "poll_phases", "poll_successes", "grows", "shrinks",
                                            "mean_poll_ns"};
    for (size_t i = 0; i < order.size(); ++i) CHECK(r.ratios[i].first == order[i]);
    CHECK(*ratio_of(r, "requests") == 1.0);
    CHECK(*ratio_of(r, "poll_phases") == 1.0);
    CHECK(*ratio_of(r, "poll_successes") == 1.0);  // 0 real, 0 simulated
    CHECK(*ratio_of(r, "grows") == 1.0);
    CHECK(*ratio_of(r, "shrinks") == 1.25);
    CHECK(*ratio_of(r, "mean_poll_ns") == 1.0);
    // |1.25 - 1| = 0.25 is within the default tolerance 0.25 (inclusive).
    CHECK(r.pass());
    CHECK(r.outside.empty());

    SUBCASE("a tighter tolerance puts shrinks outside") {
        ValidateRequest q = replay_request();
        q.tolerance = 0.2;
        const ValidateResult t = validate_log(q);
        CHECK(t.outside == std::vector<std::string>{"shrinks"});
        CHECK_FALSE(t.pass());
        CHECK(validate_text(t).find("shrinks") != std::string::npos);
    }
    SUBCASE("without a latency the smallest recorded service time (100 us) is used") {
        ValidateRequest q = replay_request();
        q.latency_ns.reset();
        const ValidateResult d = validate_log(q);
        CHECK(d.latency_ns == 100'000);
        CHECK(d.latency_source == "smallest recorded service time");
        CHECK(d.simulated.shrinks == 5);
        CHECK(d.simulated.sum_poll_max_ns == 4000);
    }
}

TEST_CASE("validate_json has exactly real, simulated and ratio with the agreed keys") {
    const ValidateResult r = validate_log(replay_request());
    const nlohmann::ordered_json j = validate_json(r);
    CHECK(keys_of(j) == std::vector<std::string>{"real", "simulated", "ratio"});
    const std::vector<std::string> side = {"requests", "poll_phases", "poll_successes", "grows",
                                           "shrinks", "mean_poll_ns", "poll_max_ns_histogram"};
    CHECK(keys_of(j["real"]) == side);
    CHECK(keys_of(j["simulated"]) == side);
    CHECK(keys_of(j["ratio"]) == std::vector<std::string>(side.begin(), side.end() - 1));
    CHECK(j["real"]["shrinks"].get<int64_t>() == 4);
    CHECK(j["simulated"]["shrinks"].get<int64_t>() == 5);
    CHECK(j["ratio"]["shrinks"].get<double>() == 1.25);
    CHECK(j["simulated"]["mean_poll_ns"].get<double>() == 4000.0);
    const auto& h = j["simulated"]["poll_max_ns_histogram"];
    REQUIRE(h.size() == 1);
    CHECK(h[0]["lo_ns"].get<int64_t>() == 2048);
    CHECK(h[0]["hi_ns"].get<int64_t>() == 4096);
    CHECK(h[0]["count"].get<int64_t>() == 1);
    CHECK(j["real"]["poll_max_ns_histogram"] == h);
}

TEST_CASE("validate_log with a measured IOThread CPU adds iothread_cpu to every side") {
    // Busy in the replay window [0, 2500001): loop work 7 * 1000 (it1..it7),
    // poll 4000..8000 = 4000 ns, three vq dispatches 3 * 2000, three timer runs
    // 3 * 1500; the wakeup latency is not CPU. 21500 / 2500001.
    ValidateRequest q = replay_request();
    q.real_cpu = 0.5;
    const ValidateResult r = validate_log(q);
    REQUIRE(r.simulated.iothread_cpu.has_value());
    CHECK(*r.simulated.iothread_cpu == doctest::Approx(21500.0 / 2'500'001.0));
    CHECK(*ratio_of(r, "iothread_cpu") == doctest::Approx(21500.0 / 2'500'001.0 / 0.5));
    CHECK(r.outside == std::vector<std::string>{"iothread_cpu"});
    const nlohmann::ordered_json j = validate_json(r);
    CHECK(j["real"]["iothread_cpu"].get<double>() == 0.5);
    CHECK(j["simulated"].contains("iothread_cpu"));
    CHECK(j["ratio"].contains("iothread_cpu"));
}

TEST_CASE("validate_log narrows both sides to --from/--to") {
    SUBCASE("[1 ms, 2 ms) of the log") {
        // Real: the 1.500 read, shrinks at 1.510 and 1.610.
        // Replay window [1 ms - 0.5 ms, 2 ms - 0.5 ms) = [500000, 1500000): R2 at 1000000;
        // it3 (from 123500) is outside, so its shrink at 1012000 is not counted; it4
        // (from 1012000) shrinks at 1123500; it5 runs past the end. Simulated shrinks 1.
        ValidateRequest q = replay_request();
        q.window = LogWindow{1'000'000, 2'000'000};
        const ValidateResult r = validate_log(q);
        CHECK(r.real.requests == 1);
        CHECK(r.real.shrinks == 2);
        CHECK(r.real.poll_phases == 0);
        CHECK(r.simulated.requests == 1);
        CHECK(r.simulated.shrinks == 1);
        CHECK(r.simulated.grows == 0);
        CHECK(r.simulated.poll_phases == 0);
        CHECK(*ratio_of(r, "shrinks") == 0.5);
        CHECK(*ratio_of(r, "mean_poll_ns") == 1.0);  // no phases on either side
        CHECK(r.outside == std::vector<std::string>{"shrinks"});
    }
    SUBCASE("[0, 1 ms) of the log") {
        // Real: the 0.500 read, grow, the 4000 phase, shrink at 0.610.
        // Replay [0, 500000): it1 grows, it2 polls once and shrinks at 123500.
        ValidateRequest q = replay_request();
        q.window = LogWindow{0, 1'000'000};
        const ValidateResult r = validate_log(q);
        CHECK(r.real.requests == 1);
        CHECK(r.real.grows == 1);
        CHECK(r.real.shrinks == 1);
        CHECK(r.simulated.requests == 1);
        CHECK(r.simulated.grows == 1);
        CHECK(r.simulated.shrinks == 1);
        CHECK(r.simulated.poll_phases == 1);
        CHECK(r.pass());
    }
}

TEST_CASE("validate_log writes the simulated loop's events with --sim-log") {
    ScratchDir dir("validate-simlog");
    ValidateRequest q = replay_request();
    q.sim_log = dir.path("sim.log");
    (void)validate_log(q);
    const std::string text = read_text(q.sim_log);
    // it2's phase at 4000 ns = 0.000004 s, timeout to the 103000 deadline: 99000.
    CHECK(text.find("0.000004:run_poll_handlers_begin ctx 0 max_ns 4000 timeout 99000\n") != std::string::npos);
    CHECK(count_of(text, "run_poll_handlers_begin") == 1);
    CHECK(count_of(text, ":poll_grow") == 1);
    CHECK(count_of(text, ":poll_shrink") == 5);
    CHECK(count_of(text, ":virtio_blk_rw_complete") == 3);
}

TEST_CASE("validate_log refuses bad input with a clear message") {
    ValidateRequest q = replay_request();
    SUBCASE("missing log") {
        q.log = "/nonexistent/dir/capture.log";
        CHECK(input_error_of([&] { validate_log(q); }).find("/nonexistent/dir/capture.log") != std::string::npos);
    }
    SUBCASE("--from >= --to") {
        q.window = LogWindow{2'000'000, 1'000'000};
        CHECK(input_error_of([&] { validate_log(q); }).find("--from/--to") != std::string::npos);
        q.window = LogWindow{1'000'000, 1'000'000};
        CHECK(input_error_of([&] { validate_log(q); }).find("--from/--to") != std::string::npos);
        q.window = LogWindow{-1, 1'000'000};
        CHECK(input_error_of([&] { validate_log(q); }).find("--from/--to") != std::string::npos);
    }
    SUBCASE("a window past the end of the log") {
        q.window = LogWindow{10'000'000, 20'000'000};
        CHECK(input_error_of([&] { validate_log(q); }).find("holds no replayed time") != std::string::npos);
    }
    SUBCASE("negative or NaN tolerance") {
        q.tolerance = -0.01;
        CHECK(input_error_of([&] { validate_log(q); }).find("--tolerance") != std::string::npos);
        q.tolerance = std::numeric_limits<double>::quiet_NaN();
        CHECK(input_error_of([&] { validate_log(q); }).find("--tolerance") != std::string::npos);
    }
    SUBCASE("negative latency") {
        q.latency_ns = -1;
        CHECK(input_error_of([&] { validate_log(q); }).find("--latency-ns") != std::string::npos);
    }
    SUBCASE("unknown policy") {
        q.policy = "no-such-policy";
        CHECK(input_error_of([&] { validate_log(q); }).find("no-such-policy") != std::string::npos);
    }
}

// ---- sidecars and captures ----------------------------------------------

TEST_CASE("apply_sidecar fills what the request lacks and names file and key when wrong") {
    ScratchDir dir("validate-sidecar");
    const std::string good = dir.write("good.json", R"({"log": "good.log.xz", "policy": "legacy",
        "iothread": "poll-max-ns=32768", "latency_ns": 20000, "iothread_cpu": 0.25,
        "fio_start_wall": "1796026964.721267"})");
    ValidateRequest q;
    REQUIRE(apply_sidecar(q, good));
    CHECK(q.log == (dir.dir / "good.log.xz").string());
    CHECK(q.policy == "legacy");
    CHECK(q.iothread == "poll-max-ns=32768");
    CHECK(q.latency_ns == 20000);
    CHECK(q.real_cpu == 0.25);
    CHECK(q.cpu_from_log_ns == 1'796'026'964'721'267'000);

    // What the request already has wins.
    ValidateRequest given;
    given.policy = "weighted";
    given.latency_ns = 5;
    REQUIRE(apply_sidecar(given, good));
    CHECK(given.policy == "weighted");
    CHECK(given.latency_ns == 5);

    ValidateRequest n;
    CHECK_FALSE(apply_sidecar(n, dir.write("other.json", R"({"name": "not a capture"})")));

    const std::string missing = dir.write("missing.json", R"({"log": "a.log", "iothread": "", "latency_ns": 1})");
    std::string e = input_error_of([&] {
        ValidateRequest r;
        apply_sidecar(r, missing);
    });
    CHECK(e.find(missing) != std::string::npos);
    CHECK(e.find("'policy'") != std::string::npos);

    const std::string wrong = dir.write("wrong.json", R"({"log": "a.log", "policy": "legacy", "iothread": "",
        "latency_ns": "100us"})");
    e = input_error_of([&] {
        ValidateRequest r;
        apply_sidecar(r, wrong);
    });
    CHECK(e.find(wrong) != std::string::npos);
    CHECK(e.find("'latency_ns'") != std::string::npos);
    CHECK(e.find("wrong type") != std::string::npos);

    const std::string wall = dir.write("wall.json", R"({"log": "a.log", "policy": "legacy", "iothread": "",
        "latency_ns": 1, "iothread_cpu": 0.1, "fio_start_wall": "yesterday"})");
    e = input_error_of([&] {
        ValidateRequest r;
        apply_sidecar(r, wall);
    });
    CHECK(e.find(wall) != std::string::npos);
    CHECK(e.find("'fio_start_wall'") != std::string::npos);

    const std::string broken = dir.write("broken.json", "{\"log\": ");
    CHECK(input_error_of([&] {
              ValidateRequest r;
              apply_sidecar(r, broken);
          }).find(broken) != std::string::npos);
}

TEST_CASE("sidecar_of finds NAME.json beside NAME.log and NAME.log.xz") {
    ScratchDir dir("validate-sidecar-of");
    dir.write("a.log.xz", "");
    dir.write("a.json", "{}");
    dir.write("b.log", "");
    dir.write("c.log", "");
    dir.write("c.json", "{}");
    CHECK(sidecar_of(dir.path("a.log.xz")) == dir.path("a.json"));
    CHECK(sidecar_of(dir.path("b.log")).empty());
    CHECK(sidecar_of(dir.path("c.log")) == dir.path("c.json"));
    CHECK(sidecar_of(kData + "scan72.log").empty());
}

TEST_CASE("find_captures lists the sidecars under a directory sorted by name") {
    ScratchDir dir("validate-captures");
    std::filesystem::create_directories(dir.dir / "sub");
    dir.write("zeta.json", R"({"log": "zeta.log", "policy": "legacy-global",
        "iothread": "poll-max-ns=32768,poll-grow=0,poll-shrink=0", "latency_ns": 100000})");
    dir.write("sub/alpha.json", R"({"log": "alpha.log.xz", "policy": "weighted",
        "iothread": "poll-max-ns=16384", "latency_ns": 20000})");
    dir.write("notes.json", R"({"comment": "no log key: not a capture"})");
    std::filesystem::copy_file(kData + "replay72.log", dir.path("zeta.log"));

    const auto caps = find_captures(dir.dir.string(), {"seed=3"}, kData + "flat.yaml", 0.3);
    REQUIRE(caps.size() == 2);
    CHECK(caps[0].name == "alpha");
    CHECK(caps[1].name == "zeta");
    CHECK(caps[0].sidecar == (dir.dir / "sub" / "alpha.json").string());
    CHECK(caps[0].request.log == (dir.dir / "sub" / "alpha.log.xz").string());
    CHECK(caps[0].request.policy == "weighted");
    CHECK(caps[0].request.latency_ns == 20000);
    CHECK(caps[1].request.iothread == "poll-max-ns=32768,poll-grow=0,poll-shrink=0");
    for (const auto& c : caps) {
        CHECK(c.request.profile == kData + "flat.yaml");
        CHECK(c.request.sets == std::vector<std::string>{"seed=3"});
        CHECK(c.request.tolerance == 0.3);
        CHECK_FALSE(c.request.real_cpu.has_value());
    }
    // The zeta capture is replay72.log: its validation is the hand-worked one.
    const ValidateResult r = validate_log(caps[1].request);
    CHECK(r.simulated.shrinks == 5);
    CHECK(r.real.shrinks == 4);

    SUBCASE("a sidecar with a bad key is named") {
        const std::string bad = dir.write("bad.json", R"({"log": "x.log", "policy": 7, "iothread": "", "latency_ns": 1})");
        const std::string e = input_error_of([&] { find_captures(dir.dir.string(), {}, "", 0.25); });
        CHECK(e.find(bad) != std::string::npos);
        CHECK(e.find("'policy'") != std::string::npos);
    }
    SUBCASE("no sidecars, or no directory") {
        ScratchDir empty("validate-captures-empty");
        empty.write("notes.json", "{}");
        CHECK(input_error_of([&] { find_captures(empty.dir.string(), {}, "", 0.25); }).find("no capture sidecars") !=
              std::string::npos);
        CHECK(input_error_of([&] { find_captures(empty.path("nope"), {}, "", 0.25); }).find("not a directory") !=
              std::string::npos);
    }
}
