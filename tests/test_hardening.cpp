// Issue 10 ("Hardening"): one regression test per item, in item order.
#include <doctest/doctest.h>

#include "tests/test_util.h"

#include <filesystem>
#include <fstream>
#include <future>
#include <queue>
#include <sstream>
#include <atomic>
#include <sys/resource.h>
#include <sys/stat.h>

#include "sim/cli/policy_trace.h"
#include "sim/error.h"
#include "sim/output_file.h"
#include "sim/runner.h"
#include "sim/sweep.h"
#include "workloads/trace/trace_reader.h"
#include "workloads/workloads.h"

using namespace pollsim;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

// ---- item 1: outputs never replace special files ------------------------------

TEST_CASE("issue 10 item 1: a symlinked output is written through its target and stays a symlink") {
    test::ScratchDir dir("harden-symlink");
    const std::string target = dir.write("real.json", "old\n");
    fs::create_symlink("real.json", dir.dir / "link.json");
    write_file_atomic(dir.path("link.json"), "new\n");
    CHECK(fs::is_symlink(dir.dir / "link.json"));
    CHECK(slurp(target) == "new\n");
    // A dangling link creates the file it names.
    fs::create_symlink("made.json", dir.dir / "dangling.json");
    write_file_atomic(dir.path("dangling.json"), "made\n");
    CHECK(fs::is_symlink(dir.dir / "dangling.json"));
    CHECK(slurp(dir.dir / "made.json") == "made\n");
    // No temporary file is left beside either.
    size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.dir)) ++entries;
    CHECK(entries == 4);
}

TEST_CASE("issue 10 item 1: a FIFO's reader gets the output and the FIFO stays a FIFO") {
    test::ScratchDir dir("harden-fifo");
    const std::string fifo = dir.path("out.fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto reader = std::async(std::launch::async, [&] { return slurp(fifo); });
    write_file_atomic(fifo, "through the pipe\n");
    CHECK(reader.get() == "through the pipe\n");
    CHECK(fs::is_fifo(fifo));
}

TEST_CASE("issue 10 item 1: a missing directory or a directory as target is refused, not created") {
    test::ScratchDir dir("harden-nodir");
    const std::string missing = dir.path("no/such/dir/x.json");
    CHECK(test::input_error_of([&] { write_file_atomic(missing, "x"); }) ==
          "cannot write '" + missing + "': directory '" + dir.path("no/such/dir") + "' does not exist");
    CHECK(!fs::exists(dir.dir / "no"));
    CHECK(test::input_error_of([&] { write_file_atomic(dir.path(""), "x"); }).find("is a directory") !=
          std::string::npos);
    // An output directory the caller owns (sweep --out) is still created.
    write_file_atomic(missing, "x", MissingDirs::create);
    CHECK(slurp(missing) == "x");
}

TEST_CASE("issue 10 item 1: a regular file is replaced atomically and keeps its permissions") {
    test::ScratchDir dir("harden-regular");
    const std::string path = dir.write("r.txt", "old");
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    write_file_atomic(path, "new");
    CHECK(slurp(path) == "new");
    CHECK(fs::status(path).permissions() == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
    // A failed write leaves the old file and no temporary file.
    {
        OutputFile out(path);
        out.write("half");
        CHECK(fs::exists(out.temp_path()));
    }
    CHECK(slurp(path) == "new");
    size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.dir)) ++entries;
    CHECK(entries == 1);
}

// ---- item 2: deeply nested JSON ----------------------------------------------

namespace {

// policy-trace on `input`: exit code and stderr.
std::pair<int, std::string> policy_trace_error(const std::string& input) {
    std::istringstream in(input);
    std::ostringstream out, err;
    const int rc = run_policy_trace(in, out, err, "weighted", "", "in.jsonl");
    return {rc, err.str()};
}

const std::string kSkipHint = " (workload.skip_bad / --skip-bad skips such lines)";

std::string trace_error(const test::ScratchDir& dir, const std::string& text) {
    const std::string path = dir.write("t.jsonl", text);
    return test::input_error_of([&] {
        auto r = open_trace(path, "jsonl");
        TraceRecord rec;
        while (r->next(rec)) {
        }
    });
}

}  // namespace

TEST_CASE("issue 10 item 2: policy-trace refuses JSON nested deeper than 64 levels without overflowing the stack") {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']') + "\n";
    auto [rc, err] = policy_trace_error(deep);
    CHECK(rc == 2);
    CHECK(err == "pollsim policy-trace: in.jsonl:1: JSON nested deeper than 64 levels\n");
    // 64 levels are parsed (and refused as not an object, quoted briefly).
    const std::string ok64 = std::string(64, '[') + std::string(64, ']') + "\n";
    std::tie(rc, err) = policy_trace_error(ok64);
    CHECK(err == "pollsim policy-trace: in.jsonl:1: expected a JSON object, got " + std::string(64, '[') +
                     std::string(16, ']') + "...\n");
    // Deep values inside an object are bounded too.
    std::tie(rc, err) =
        policy_trace_error("{\"block_ns\": " + std::string(70, '[') + std::string(70, ']') + ", \"dispatched\": []}\n");
    CHECK(err == "pollsim policy-trace: in.jsonl:1: JSON nested deeper than 64 levels\n");
}

TEST_CASE("issue 10 item 2: policy-trace quotes at most 80 characters of a long value") {
    std::string big = "{\"block_ns\": 1, \"dispatched\": \"";
    big += std::string(100000, 'v') + "\"}\n";
    auto [rc, err] = policy_trace_error(big);
    CHECK(rc == 2);
    CHECK(err == "pollsim policy-trace: in.jsonl:1: dispatched must be an array of strings, got \"" +
                     std::string(79, 'v') + "...\n");
}

TEST_CASE("issue 10 item 2: the JSON Lines trace reader refuses deep nesting and quotes values briefly") {
    test::ScratchDir dir("harden-jsonl");
    const std::string path = dir.path("t.jsonl");
    CHECK(trace_error(dir, std::string(100000, '[') + std::string(100000, ']') + "\n") ==
          path + ":1: JSON nested deeper than 64 levels" + kSkipHint);
    CHECK(trace_error(dir, "{\"submit_ns\": 0, \"x\": " + std::string(65, '{') + std::string(65, '}') + "}\n") ==
          path + ":1: JSON nested deeper than 64 levels" + kSkipHint);
    // Brackets inside strings do not count.
    const std::string msg = trace_error(dir, "{\"submit_ns\": 0, \"op\": \"" + std::string(100, '[') + "\"}\n");
    CHECK(msg.find("JSON nested") == std::string::npos);
    CHECK(msg.find("unknown op") != std::string::npos);
    // A long array is quoted in 80 characters.
    std::string arr = "{\"submit_ns\": [";
    for (int i = 0; i < 10000; ++i) arr += "1,";
    arr += "1]}\n";
    std::string ones;
    while (ones.size() < 79) ones += "1,";
    CHECK(trace_error(dir, arr) ==
          path + ":1: field 'submit_ns' must be an integer (times in ns) or a string, not [" + ones.substr(0, 79) + "..." +
              kSkipHint);
}

// ---- item 3: a thread that cannot be created ----------------------------------

namespace {

// This process's virtual memory size in bytes (VmSize), or 0.
uint64_t vm_size_bytes() {
    std::ifstream in("/proc/self/status");
    std::string key;
    uint64_t kib = 0;
    while (in >> key) {
        if (key == "VmSize:") {
            in >> kib;
            return kib * 1024;
        }
        in.ignore(1 << 20, '\n');
    }
    return 0;
}

}  // namespace

TEST_CASE("issue 10 item 3: parallel_for joins the threads it started and reports the one it could not start") {
#if defined(__SANITIZE_ADDRESS__)
    MESSAGE("skipped under AddressSanitizer (it reserves more address space than the limit)");
#else
    const uint64_t vm = vm_size_bytes();
    REQUIRE(vm > 0);
    rlimit old{};
    REQUIRE(::getrlimit(RLIMIT_AS, &old) == 0);
    // Room for a few dozen 8 MiB thread stacks, not for 1000.
    rlimit tight = old;
    tight.rlim_cur = vm + (256u << 20);
    if (old.rlim_max != RLIM_INFINITY && tight.rlim_cur > old.rlim_max) tight.rlim_cur = old.rlim_max;
    REQUIRE(::setrlimit(RLIMIT_AS, &tight) == 0);
    std::atomic<int> ran{0};
    std::string msg;
    try {
        parallel_for(2000, 1000, [&](int) { ran.fetch_add(1); });
    } catch (const InputError& e) {
        msg = e.what();
    }
    REQUIRE(::setrlimit(RLIMIT_AS, &old) == 0);
    CHECK(msg.rfind("cannot start worker thread ", 0) == 0);
    CHECK(msg.find(" of 1000 (") != std::string::npos);
    CHECK(msg.find("set fewer threads") != std::string::npos);
    CHECK(ran.load() <= 2000);
    // With the limit lifted the same call runs every job.
    ran = 0;
    parallel_for(200, 8, [&](int) { ran.fetch_add(1); });
    CHECK(ran.load() == 200);
#endif
}

// ---- item 4: sweep size ------------------------------------------------------

namespace {

// A sweep over `axes` keys of the list, each with `values` values 0, 1, ...
std::string sweep_text(const std::vector<std::string>& keys, const std::vector<int>& sizes) {
    std::string t = "base: " POLLSIM_SOURCE_DIR "/configs/default.yaml\nvary:\n";
    for (size_t k = 0; k < keys.size(); ++k) {
        t += "  " + keys[k] + ": [";
        for (int v = 0; v < sizes[k]; ++v) t += (v ? "," : "") + std::to_string(v + 1);
        t += "]\n";
    }
    return t;
}

}  // namespace

TEST_CASE("issue 10 item 4: a sweep's point count is checked for overflow and against the limit") {
    const std::vector<std::string> eight = {"seed", "duration", "warmup", "iothread.poll-max-ns",
                                            "iothread.poll-grow", "iothread.poll-shrink", "iothread.poll-weight",
                                            "replications"};
    // 256^8 = 2^64 points wrapped to "0 points" before.
    CHECK(test::input_error_of([&] { parse_sweep(sweep_text(eight, std::vector<int>(8, 256)), "big.yaml", "."); }) ==
          "big.yaml: the sweep has more than 18446744073709551615 points (256 x 256 x 256 x 256 x 256 x 256 x 256 x "
          "256); at most 100000 are allowed: split it into several sweeps");
    // 101 x 1000 = 101000 > 100000.
    CHECK(test::input_error_of([&] { parse_sweep(sweep_text({"seed", "duration"}, {101, 1000}), "s.yaml", "."); }) ==
          "s.yaml: the sweep has 101000 points (101 x 1000); at most 100000 are allowed: split it into several sweeps");
    // 100 x 1000 = 100000 is allowed.
    CHECK(parse_sweep(sweep_text({"seed", "duration"}, {100, 1000}), "s.yaml", ".").point_count() == 100000);
}

// ---- item 6: closed-loop replay reads the trace once, not once per device ------

namespace {

// A guest that completes every request service_ns after submission (the
// recorded service if the request carries one) and fires timers in order.
class FixedGuest final : public GuestApi {
public:
    int64_t now_ns() const override { return now_; }
    void submit(IoRequest req) override {
        req.t_sub_ns = now_;
        submitted.push_back(req);
        events_.push({now_ + (req.service_ns >= 0 ? req.service_ns : 100'000), seq_++, false, 0, req});
    }
    void timer_at(int64_t t_ns, uint64_t cookie) override { events_.push({t_ns, seq_++, true, cookie, {}}); }
    int devices() const override { return 16; }
    int queues() const override { return 1; }
    void count_skipped(int64_t) override {}
    void run(Workload& w) {
        w.start(*this);
        while (!events_.empty()) {
            const Event e = events_.top();
            events_.pop();
            now_ = e.t_ns;
            if (e.timer) w.on_timer(*this, e.cookie);
            else w.on_complete(*this, e.req);
        }
    }
    std::vector<IoRequest> submitted;

private:
    struct Event {
        int64_t t_ns;
        uint64_t seq;
        bool timer;
        uint64_t cookie;
        IoRequest req;
        bool operator<(const Event& o) const { return t_ns != o.t_ns ? t_ns > o.t_ns : seq > o.seq; }
    };
    int64_t now_ = 0;
    uint64_t seq_ = 0;
    std::priority_queue<Event> events_;
};

WorkloadConfig closed_trace(const std::string& path) {
    WorkloadConfig c;
    c.type = "trace";
    c.trace = path;
    c.replay = "closed";
    c.iodepth = 1;
    c.think = Dist::constant(0);
    return c;
}

}  // namespace

TEST_CASE("issue 10 item 6: closed-loop replay of 200 devices needs no file descriptor per device") {
    test::ScratchDir dir("harden-devices");
    // Device d: one request submitted at d us, recorded 50 us service.
    std::string text = "submit_ns,complete_ns,device\n";
    for (int d = 0; d < 200; ++d) text += std::to_string(d * 1000) + "," + std::to_string(d * 1000 + 50'000) + "," +
                                          std::to_string(d) + "\n";
    const std::string path = dir.write("devices.csv", text);
    rlimit old{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
    rlimit tight = old;
    tight.rlim_cur = 64;  // fewer than the devices: one reader each cannot open
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
    FixedGuest g;
    std::string error;
    try {
        auto w = make_trace_workload(closed_trace(path), 1);
        g.run(*w);
    } catch (const InputError& e) {
        error = e.what();
    }
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &old) == 0);
    CHECK(error == "");
    // Each stream submits its one request the recorded gap after the trace's
    // first submission: device d at d us, mapped to device d mod 16.
    REQUIRE(g.submitted.size() == 200);
    for (int d = 0; d < 200; ++d) {
        CAPTURE(d);
        CHECK(g.submitted[d].t_sub_ns == d * 1000);
        CHECK(g.submitted[d].device == d % 16);
        CHECK(g.submitted[d].service_ns == 50'000);
    }
}

TEST_CASE("issue 10 item 6: a stream far ahead of the others reads on its own, and no record is lost or repeated") {
    test::ScratchDir dir("harden-skew");
    // Device 0: 70000 requests at 0..69999 ns; device 1: 3 at the end. No
    // completions recorded: iodepth 1, no think, 100 us service each. Device
    // 1's first request lies beyond 65536 read-ahead records of device 0.
    std::string text = "submit_ns,device\n";
    for (int k = 0; k < 70000; ++k) text += std::to_string(k) + ",0\n";
    for (int k = 0; k < 3; ++k) text += std::to_string(70000 + k) + ",1\n";
    const std::string path = dir.write("skew.csv", text);
    FixedGuest g;
    auto w = make_trace_workload(closed_trace(path), 1);
    g.run(*w);
    REQUIRE(g.submitted.size() == 70003);
    std::vector<int64_t> dev0, dev1;
    for (const auto& r : g.submitted) (r.device == 0 ? dev0 : dev1).push_back(r.t_sub_ns);
    REQUIRE(dev0.size() == 70000);
    REQUIRE(dev1.size() == 3);
    // Each stream: one request at a time, the next as the last completes.
    CHECK(dev1 == std::vector<int64_t>{0, 100'000, 200'000});
    bool spaced = true;
    for (size_t k = 0; k < dev0.size(); ++k) spaced = spaced && dev0[k] == static_cast<int64_t>(k) * 100'000;
    CHECK(spaced);
}

// ---- item 7: huge lines -------------------------------------------------------

TEST_CASE("issue 10 item 7: a line over 1 MiB is refused by number, before detection or parsing") {
    test::ScratchDir dir("harden-longline");
    // A 2 MiB first line: auto-detection used to run its regexes over it.
    const std::string first = dir.write("first.csv", std::string(2u << 20, 'a') + "\n0\n");
    CHECK(test::input_error_of([&] { open_trace(first, "auto"); }) ==
          first + ":1: line of 2097152 bytes is longer than the 1048576 bytes a trace line may have");
    // Line 3 of a CSV: named like any malformed line, and skip_bad skips it.
    const std::string third =
        dir.write("third.csv", "submit_ns,op\n0,read\n10,read" + std::string(1u << 20, ' ') + "x\n20,write\n");
    auto read_all = [&](bool skip) {
        TraceOptions o;
        o.skip_bad = skip;
        auto r = open_trace(third, "csv", o);
        std::vector<TraceRecord> v;
        TraceRecord rec;
        while (r->next(rec)) v.push_back(rec);
        return std::make_pair(v, r->skipped());
    };
    CHECK(test::input_error_of([&] { read_all(false); }) ==
          third + ":3: line of 1048584 bytes is longer than the 1048576 bytes a trace line may have "
                  "(workload.skip_bad / --skip-bad skips such lines)");
    const auto [v, skipped] = read_all(true);
    CHECK(v.size() == 2);
    CHECK(skipped == 1);
    // policy-trace likewise.
    auto [rc, err] = policy_trace_error("{\"block_ns\": 1, \"dispatched\": []}\n" + std::string(3u << 20, ' ') + "{}\n");
    CHECK(rc == 2);
    CHECK(err == "pollsim policy-trace: in.jsonl:2: line of 3145730 bytes is longer than the 1048576 bytes a "
                 "trace line may have\n");
}
