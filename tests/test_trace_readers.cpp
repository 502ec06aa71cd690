// Trace readers on real fixtures (tests/data/traces, made as FORMATS.md
// describes) and on damaged input. Expected values were read off the
// fixture files by hand; the comments say from which line.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/error.h"
#include "tests/test_util.h"
#include "workloads/trace/trace_reader.h"
#include "workloads/trace/trace_stats.h"

using namespace pollsim;

namespace {

const std::string kTraces = POLLSIM_TEST_DATA "/traces/";

// Every record the reader has left, in order.
std::vector<TraceRecord> drain(TraceReader& r) {
    std::vector<TraceRecord> out;
    TraceRecord rec;
    while (r.next(rec)) out.push_back(rec);
    return out;
}

std::vector<TraceRecord> read_all(const std::string& path, const std::string& format = "auto",
                                  TraceOptions opt = {}) {
    return drain(*open_trace(path, format, opt));
}

// A file named `name` holding `text`, in a scratch directory of its own
// (the fio-lat reader takes the log kind from the file name).
struct TempTrace {
    test::ScratchDir dir;
    std::string path;
    TempTrace(const std::string& name, const std::string& text) : dir("trace-" + name), path(dir.write(name, text)) {}
};

// The InputError message of reading the whole file, or "" if none.
std::string error_of(const std::string& path, const std::string& format = "auto", TraceOptions opt = {}) {
    return test::input_error_of([&] { read_all(path, format, opt); });
}

// A damaged trace and the start of the message it must give, after "FILE:".
struct ErrorCase {
    const char* name;
    const char* format;
    const char* text;
    const char* expect;
};

void check_errors(const std::vector<ErrorCase>& cases) {
    for (const auto& c : cases) {
        CAPTURE(c.name);
        TempTrace t(c.name, c.text);
        const std::string msg = error_of(t.path, c.format);
        CHECK(msg.rfind(t.path + ":" + c.expect, 0) == 0);
        if (msg.rfind(t.path + ":" + c.expect, 0) != 0) MESSAGE(msg);
    }
}

bool sorted_by_submit(const std::vector<TraceRecord>& v) {
    for (size_t i = 1; i < v.size(); ++i)
        if (v[i].submit_ns < v[i - 1].submit_ns) return false;
    return true;
}

}  // namespace

TEST_CASE("fio iolog v3 (real fio 3.33 output): timestamps are microseconds") {
    auto r = open_trace(kTraces + "fio/randrw.iolog", "fio-iolog");
    const auto v = drain(*r);
    REQUIRE(v.size() == 297);  // 300 lines: header, add, open, 297 I/Os
    CHECK(r->timed());
    CHECK(r->ignored() == 2);
    // line 4: "230 /tmp/pollsim-fio/data.bin read 503808 4096"
    CHECK(v.front().submit_ns == 230'000);
    CHECK(v.front().op == Op::read);
    CHECK(v.front().offset == 503808);
    CHECK(v.front().bytes == 4096);
    CHECK(v.front().line == 4);
    CHECK(v.front().replay_service_ns() == -1);
    // line 300: "19049 /tmp/pollsim-fio/data.bin write 2101248 4096"
    CHECK(v.back().submit_ns == 19'049'000);
    CHECK(v.back().op == Op::write);
    CHECK(v.back().offset == 2101248);
    CHECK(sorted_by_submit(v));
}

TEST_CASE("fio iolog v2 has no times and says so") {
    auto r = open_trace(kTraces + "fio/randrw_v2.iolog", "auto");
    const auto v = drain(*r);
    REQUIRE(v.size() == 297);
    CHECK_FALSE(r->timed());
    CHECK(v.front().offset == 503808);
    CHECK(v.back().offset == 2101248);
    CHECK(v.back().op == Op::write);
    CHECK(v.back().submit_ns == 0);

    SUBCASE("wait lines give v2 its only timing") {
        TempTrace t("wait.iolog", "fio version 2 iolog\n/dev/vda add\n/dev/vda open\n/dev/vda read 0 4096\n"
                                  "/dev/vda wait 250 0\n/dev/vda write 4096 512\n/dev/vdb add\n/dev/vdb read 0 4096\n");
        const auto w = read_all(t.path);
        REQUIRE(w.size() == 3);
        CHECK(w[0].submit_ns == 0);
        CHECK(w[1].submit_ns == 250'000);
        CHECK(w[1].bytes == 512);
        CHECK(w[2].device == 1);
    }
}

TEST_CASE("fio latency logs (real fio 3.33 output): ms time, ns value, in completion order") {
    SUBCASE("lat with log_offset=1: six fields") {
        const auto v = read_all(kTraces + "fio/randrw_lat.1.log");
        REQUIRE(v.size() == 300);
        CHECK(sorted_by_submit(v));
        // line 1: "0, 662746, 0, 4096, 503808, 0": completed in ms 0 after 662746 ns
        CHECK(v.front().submit_ns == -662'746);
        CHECK(v.front().complete_ns == 0);
        CHECK(v.front().replay_service_ns() == 662'746);
        CHECK(v.front().offset == 503808);
        CHECK(v.front().line == 1);
        // line 300: "19, 93699, 0, 4096, 7761920, 0"
        CHECK(v.back().submit_ns == 19'000'000 - 93'699);
        CHECK(v.back().offset == 7761920);
    }
    SUBCASE("clat: submission is completion minus clat") {
        const auto v = read_all(kTraces + "fio/randrw_clat.1.log", "fio-lat");
        REQUIRE(v.size() == 300);
        // line 1: "0, 295349, 0, 4096, 503808, 0"
        CHECK(v.front().submit_ns == -295'349);
        CHECK(v.front().replay_service_ns() == 295'349);
    }
    SUBCASE("slat: time is the issue, no service time") {
        const auto v = read_all(kTraces + "fio/randrw_slat.1.log", "fio-lat");
        REQUIRE(v.size() == 300);
        CHECK(v.front().submit_ns == 0);  // line 1: "0, 367397, ..."
        CHECK(v.front().replay_service_ns() == -1);
        CHECK(v.back().submit_ns == 19'000'000);  // line 300: "19, 76974, ..."
    }
    SUBCASE("log_prio=1, no offset: five fields, hex priority") {
        const auto v = read_all(kTraces + "fio/prio_lat.1.log");
        REQUIRE(v.size() == 300);
        // line 1: "10, 540384, 0, 8192, 0x0000"
        CHECK(v.front().submit_ns == 10'000'000 - 540'384);
        CHECK(v.front().bytes == 8192);
        CHECK(v.front().offset == -1);
        // latest submission, line 287: "19, 145176, 0, 8192, 0x0000"
        CHECK(v.back().submit_ns == 19'000'000 - 145'176);
        CHECK(v.back().line == 287);
    }
}

TEST_CASE("blkparse default output (real blkparse 1.3 on a built binary trace)") {
    auto r = open_trace(kTraces + "blkparse/two_devices.txt", "blkparse");
    const auto v = drain(*r);
    // 60 requests; the Q at line 49 was back-merged (M, line 50) and is not one.
    REQUIRE(v.size() == 60);
    CHECK(sorted_by_submit(v));
    // line 1 "7,1 0 1 0.000000000 4242 Q R 984 + 8 [fio]", completed at line 17 (0.000662746)
    CHECK(v.front().submit_ns == 0);
    CHECK(v.front().device == 0);
    CHECK(v.front().op == Op::read);
    CHECK(v.front().offset == 984 * 512);
    CHECK(v.front().bytes == 8 * 512);
    CHECK(v.front().complete_ns == 662'746);
    // line 297 "7,0 1 97 0.004523000 4242 Q R 10968 + 8 [fio]", completed at line 304 (0.004821384)
    CHECK(v.back().submit_ns == 4'523'000);
    CHECK(v.back().device == 1);
    CHECK(v.back().offset == 10968 * 512);
    CHECK(v.back().complete_ns == 4'821'384);
    int writes = 0;
    for (const auto& x : v) writes += x.op == Op::write;
    CHECK(writes == 21);  // "WS" lines
}

TEST_CASE("QEMU log backend: luring (real qemu-storage-daemon 7.2) and virtio_blk") {
    SUBCASE("luring_co_submit / luring_process_completion, matched by luringcb") {
        const auto v = read_all(kTraces + "qemu/luring.log");
        REQUIRE(v.size() == 60);
        // line 2: "11887@1795581673.476380:luring_co_submit ... offset 4284416 nbytes 4096 type 1"
        CHECK(v.front().submit_ns == 1'795'581'673'476'380'000);
        CHECK(v.front().replay_service_ns() == 197'000);  // line 5, completion at .476577
        CHECK(v.front().offset == 4284416);
        CHECK(v.front().op == Op::read);
        // line 297: co_submit at .502180, offset 2187264; completion at line 300, .502310
        CHECK(v.back().submit_ns == 1'795'581'673'502'180'000);
        CHECK(v.back().replay_service_ns() == 130'000);
        CHECK(v.back().offset == 2187264);
    }
    SUBCASE("virtio_blk_handle_* / virtio_blk_rw_complete, matched by req, two vdevs") {
        const auto v = read_all(kTraces + "qemu/virtio_blk.log", "qemu-log");
        REQUIRE(v.size() == 60);
        // line 1: handle_read vdev 0x5581d3c1e2f0 req 0x7f0c9c001000 sector 8368 nsectors 8
        CHECK(v.front().submit_ns == 1'795'581'673'476'376'000);
        CHECK(v.front().device == 0);
        CHECK(v.front().offset == 8368 * 512);
        CHECK(v.front().replay_service_ns() == 204'000);  // rw_complete at .476580
        // line 237: handle_read vdev 0x5581d3c3a8d0 ... sector 4272
        CHECK(v.back().device == 1);
        CHECK(v.back().offset == 4272 * 512);
        CHECK(v.back().line == 237);
    }
    SUBCASE("events without the timestamp prefix are refused with the fix") {
        TempTrace t("nots.log", "virtio_blk_handle_read vdev 0x1 req 0x2 sector 0 nsectors 8\n");
        const std::string e = error_of(t.path, "qemu-log");
        CHECK(e.find(":1: trace event without a timestamp prefix ('TID@SECONDS.MICROSECONDS:' or "
                     "'YYYY-MM-DDTHH:MM:SS.UUUUUUZ ')") != std::string::npos);
        CHECK(e.find("-msg timestamp=on") != std::string::npos);
    }
}

TEST_CASE("QEMU log backend: real virtio-blk guest capture (qemu-system-x86_64 7.2, TCG, aio=io_uring)") {
    // qemu/virtio_blk_real.log: 400 lines of a real log (FORMATS.md). It holds
    // 29 virtio_blk_handle_read + 15 virtio_blk_handle_write lines (grep -c) and
    // 43 virtio_blk_rw_complete; the handle_read on line 393 has no
    // rw_complete before the cut, so 44 requests of which 43 have an end. The
    // luring_* lines of the same requests (the other family) are ignored.
    const std::string path = kTraces + "qemu/virtio_blk_real.log";
    const auto v = read_all(path);
    REQUIRE(v.size() == 44);
    CHECK(sorted_by_submit(v));
    int writes = 0, ended = 0, dev0 = 0, dev0_writes = 0;
    for (const auto& x : v) {
        writes += x.op == Op::write;
        ended += x.has_complete();
        dev0 += x.device == 0;
        dev0_writes += x.device == 0 && x.op == Op::write;
        CHECK(x.bytes == 4096);  // every request is nsectors 8
    }
    CHECK(writes == 15);
    CHECK(ended == 43);
    // vdev 0x55c381a3d1b0 (first seen, device 0): 22 handle_* lines, 10 of them writes
    CHECK(dev0 == 22);
    CHECK(dev0_writes == 10);
    // line 2: "6117@1795593711.913835:virtio_blk_handle_read vdev 0x55c381a3d1b0 req 0x7fdd5c003160
    // sector 127008 nsectors 8", rw_complete of that req on line 14 at .915563
    CHECK(v[0].submit_ns == 1'795'593'711'913'835'000);
    CHECK(v[0].device == 0);
    CHECK(v[0].op == Op::read);
    CHECK(v[0].offset == 127008 * 512);
    CHECK(v[0].replay_service_ns() == 1'728'000);
    CHECK(v[0].line == 2);
    // line 8: handle_read on the other vdev at .914249, 414 us after line 2; rw_complete line 17 at .915586
    CHECK(v[1].device == 1);
    CHECK(v[1].submit_ns - v[0].submit_ns == 414'000);
    CHECK(v[1].offset == 32784 * 512);
    CHECK(v[1].replay_service_ns() == 1'337'000);
    // line 38: the first handle_write (sector 40712), completed on line 52 at .937573
    const auto w = std::find_if(v.begin(), v.end(), [](const TraceRecord& x) { return x.op == Op::write; });
    REQUIRE(w != v.end());
    CHECK(w->line == 38);
    CHECK(w->offset == 40712 * 512);
    CHECK(w->replay_service_ns() == 1'300'000);
    // line 393: handle_read at 712.033271 of req 0x7fdd5c003e60, which vdev 0x55c38191a2e0
    // completed on line 390 just before; this request has no end in the file.
    CHECK(v.back().line == 393);
    CHECK(v.back().device == 0);
    CHECK(v.back().submit_ns == 1'795'593'712'033'271'000);
    CHECK_FALSE(v.back().has_complete());
    CHECK(v.back().replay_service_ns() == -1);
}

TEST_CASE("native CSV and JSON Lines") {
    for (const char* name : {"native/requests.csv", "native/requests.jsonl"}) {
        CAPTURE(name);
        const auto v = read_all(kTraces + name);
        REQUIRE(v.size() == 5);
        CHECK(sorted_by_submit(v));
        CHECK(v[0].submit_ns == 1000);
        CHECK(v[0].replay_service_ns() == 90000);
        CHECK(v[1].service_ns == 50000);
        CHECK(v[1].device == 1);
        CHECK(v[1].op == Op::write);
        CHECK(v[1].bytes == 8192);
        CHECK(v[2].submit_ns == 25000);  // the out-of-order row, sorted
        CHECK(v[2].queue == 1);
        CHECK(v[2].offset == -1);
        CHECK(v[3].submit_ns == 30000);
        CHECK(v[4].bytes == -1);
        CHECK(v[4].replay_service_ns() == -1);
    }
    for (const char* name : {"native/arrivals.csv", "native/arrivals.jsonl"}) {
        CAPTURE(name);
        const auto v = read_all(kTraces + name);
        REQUIRE(v.size() == 5);
        CHECK(v[1].device == 3);
        CHECK(v[1].queue == -1);
        CHECK(v[2].device == 3);
        CHECK(v[2].queue == 1);
        CHECK(v[4].device == 15);
        CHECK_FALSE(v[4].op_known);
        CHECK(v[4].bytes == -1);
    }
}

TEST_CASE("format auto-detection") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"fio/randrw.iolog", "fio-iolog"},         {"fio/randrw_v2.iolog", "fio-iolog"},
        {"fio/randrw_lat.1.log", "fio-lat"},       {"fio/prio_lat.1.log", "fio-lat"},
        {"blkparse/two_devices.txt", "blkparse"}, {"qemu/luring.log", "qemu-log"},
        {"qemu/virtio_blk.log", "qemu-log"},      {"native/requests.csv", "csv"},
        {"qemu/virtio_blk_real.log", "qemu-log"},
        {"native/arrivals.csv", "csv"},           {"native/requests.jsonl", "jsonl"},
        {"native/arrivals.jsonl", "jsonl"},
    };
    for (const auto& [file, format] : cases) {
        CAPTURE(file);
        CHECK(detect_trace_format(kTraces + file) == format);
        CHECK(open_trace(kTraces + file, "auto")->format() == format);
    }
    TempTrace junk("junk.txt", "\n# comment\nhello world\n");
    CHECK(error_of(junk.path).find("junk.txt:3: cannot tell the trace format") != std::string::npos);
    TempTrace empty("empty.csv", "# nothing\n");
    CHECK(error_of(empty.path).find("empty trace") != std::string::npos);
    CHECK(error_of(kTraces + "native/requests.csv", "xml").find("unknown trace format 'xml'") != std::string::npos);
    CHECK(error_of(kTraces + "nonexistent.csv").find("cannot open") != std::string::npos);
}

TEST_CASE("damaged input names file and line") {
    check_errors({
        {"op.csv", "csv", "submit_ns,op,bytes\n0,read,4096\n10,erase,4096\n", "3: unknown op 'erase'"},
        {"num.csv", "csv", "submit_ns,op\n0,read\n1x0,read\n", "3: bad submit_ns '1x0'"},
        {"cols.csv", "csv", "submit_ns,op,bytes\n0,read,4096\n10,read\n", "3: expected 3 fields"},
        {"hdr.csv", "csv", "submit_ns,colour\n", "1: unknown field 'colour'"},
        {"json.jsonl", "jsonl", "{\"submit_ns\": 0}\n{\"submit_ns\": 10, \"op\": \"read\"\n", "2: not valid JSON"},
        {"jsonop.jsonl", "jsonl", "{\"submit_ns\": 0, \"op\": \"flush\"}\n", "1: unknown op 'flush'"},
        {"trunc.log", "fio-lat", "0, 100, 0, 4096, 0, 0\n1, 200, 0\n", "2: expected 'TIME_MS, VALUE_NS"},
        {"ddir.log", "fio-lat", "0, 100, 0, 4096\n1, 200, 7, 4096\n", "2: bad data direction '7'"},
        {"avg.log", "fio-lat", "0, 100, 0, 0, 0\n", "1: block size 0: a windowed log"},
        {"num.iolog", "fio-iolog", "fio version 3 iolog\n1 f add\n2 f read 0 4096\n3 f read 4096 4O96\n", "4: bad length '4O96'"},
        {"act.iolog", "fio-iolog", "fio version 3 iolog\n1 f add\n2 f erase 0 4096\n", "3: unknown action 'erase'"},
        {"hdr.iolog", "fio-iolog", "fio version 4 iolog\n", "1: not a fio iolog"},
        {"trunc.blk", "blkparse", "  8,0    3        1     0.000000000   697  Q   R 223490 + 8 [fio]\n  8,0    3\n",
         "2: expected blkparse's default format"},
        {"time.blk", "blkparse", "  8,0    3        1     0.0000x0000   697  Q   R 223490 + 8 [fio]\n", "1: bad timestamp"},
        {"ptr.qemu", "qemu-log", "1@1.000001:virtio_blk_handle_read vdev 0x1 req zz sector 0 nsectors 8\n", "1: bad req 'zz'"},
        {"miss.qemu", "qemu-log", "1@1.000001:virtio_blk_handle_read vdev 0x1 req 0x2 sector 0\n", "1: missing field 'nsectors'"},
    });
}

TEST_CASE("skip_bad counts malformed lines and keeps the rest") {
    TempTrace t("bad.csv", "submit_ns,op,bytes\n0,read,4096\n10,erase,4096\nxx,read,1\n30,write,512\n40\n");
    TraceOptions opt;
    opt.skip_bad = true;
    auto r = open_trace(t.path, "csv", opt);
    const auto v = drain(*r);
    REQUIRE(v.size() == 2);
    CHECK(v[1].submit_ns == 30);
    CHECK(r->skipped() == 3);
    const TraceStats s = trace_stats(t.path, "csv", opt);
    CHECK(s.requests == 2);
    CHECK(s.skipped == 3);
}

TEST_CASE("out-of-order records: sorted within the window, refused beyond it") {
    // Record at line 5 (t=5) arrives 3 records late.
    const std::string text = "submit_ns\n10\n20\n30\n5\n40\n";
    TempTrace t("order.csv", text);
    TraceOptions opt;
    SUBCASE("window 4 holds it") {
        opt.reorder_window = 4;
        const auto v = read_all(t.path, "csv", opt);
        REQUIRE(v.size() == 5);
        CHECK(v[0].submit_ns == 5);
        CHECK(sorted_by_submit(v));
    }
    SUBCASE("window 2 cannot") {
        opt.reorder_window = 2;
        const std::string msg = error_of(t.path, "csv", opt);
        CHECK(msg.rfind(t.path + ":5: request submitted at 5 ns is older than one already replayed (20 ns)", 0) == 0);
        CHECK(msg.find("reorder_window (2 records)") != std::string::npos);
    }
    SUBCASE("skip_bad drops it instead") {
        opt.reorder_window = 1;
        opt.skip_bad = true;
        auto r = open_trace(t.path, "csv", opt);
        TraceRecord rec;
        int n = 0;
        while (r->next(rec)) ++n;
        CHECK(n == 4);
        CHECK(r->skipped() == 1);
    }
}

TEST_CASE("device filter hands out one device's records, in order") {
    TraceOptions opt;
    opt.device_filter = 1;
    const auto v = read_all(kTraces + "blkparse/two_devices.txt", "blkparse", opt);
    CHECK(v.size() == 40);
    for (const auto& r : v) CHECK(r.device == 1);
    CHECK(sorted_by_submit(v));
}

TEST_CASE("trace stats summarise in one pass") {
    const TraceStats s = trace_stats(kTraces + "blkparse/two_devices.txt", "auto");
    CHECK(s.format == "blkparse");
    CHECK(s.requests == 60);
    CHECK(s.reads == 39);
    CHECK(s.writes == 21);
    CHECK(s.first_ns == 0);
    CHECK(s.last_ns == 4'523'000);
    CHECK(s.inter_arrival_ns.count() == 59);
    CHECK(s.service_ns.count() == 60);
    REQUIRE(s.devices.size() == 2);
    CHECK(s.devices.at(0).requests == 20);
    CHECK(s.devices.at(1).requests == 40);
    CHECK(s.arrival_rate_per_s() == doctest::Approx(59.0 / 4.523e-3));
    // From the fixture by hand (Q times, less the merged Q at line 49; C - Q):
    // the longest gap between submissions is 416 us, the median (30th of 59)
    // 96 us; the slowest request is line 1's, 662746 ns.
    CHECK(s.inter_arrival_max_ns == 416'000);
    CHECK(s.service_max_ns == 662'746);
    const auto j = s.to_json();
    CHECK(j["inter_arrival"]["max_ns"].get<int64_t>() == 416'000);
    CHECK(j["inter_arrival"]["p50_ns"].get<double>() == doctest::Approx(96'000).epsilon(0.008));
    CHECK(j["service"]["max_ns"].get<int64_t>() == 662'746);
    CHECK(s.to_text().find("requests       60") != std::string::npos);
}

TEST_CASE("blkparse: D starts a request when the trace has no Q, and unmatched ends are ignored") {
    TempTrace t("donly.blk",
                "  8,0    1        1     0.000010000     0  C   R 8 + 8 [0]\n"        // began before the trace
                "  8,0    0        1     0.000100000   697  D   W 100 + 16 [fio]\n"
                "  8,16   0        2     0.000150000   697  D  RS 200 + 8 [fio]\n"
                "  8,0    0        3     0.000200000   697  D   N 0 + 0 [fio]\n"      // no data: ignored
                "  8,16   1        2     0.000350000     0  C  RS 200 + 8 [0]\n"
                "  8,0    1        3     0.000400000     0  C   W 100 + 16 [0]\n"
                "CPU0 (8,0):\n Reads Queued:           0,        0KiB\n");
    auto r = open_trace(t.path, "auto");
    const auto v = drain(*r);
    REQUIRE(v.size() == 2);
    CHECK(v[0].op == Op::write);
    CHECK(v[0].bytes == 16 * 512);
    CHECK(v[0].replay_service_ns() == 300'000);
    CHECK(v[1].device == 1);
    CHECK(v[1].replay_service_ns() == 200'000);
    CHECK(r->ignored() == 2);
}

TEST_CASE("QEMU log: the first request family wins, other output is ignored") {
    TempTrace t("mixed.qemu",
                "qemu-system-s390x: warning: something unrelated\n"
                "7@100.000010:virtio_blk_handle_write vdev 0xa req 0x1 sector 8 nsectors 16\n"
                "7@100.000011:luring_co_submit bs 0xb s 0xc luringcb 0x2 fd 3 offset 4096 nbytes 8192 type 2\n"
                "7@100.000030:luring_process_completion LuringState 0xc luringcb 0x2 ret 8192\n"
                "7@100.000035:virtio_blk_rw_complete vdev 0xa req 0x1 ret 0\n");
    CHECK(detect_trace_format(t.path) == "qemu-log");
    auto r = open_trace(t.path, "auto");
    const auto v = drain(*r);
    REQUIRE(v.size() == 1);
    CHECK(v[0].submit_ns == 100'000'010'000);
    CHECK(v[0].replay_service_ns() == 25'000);
    CHECK(v[0].offset == 4096);
    CHECK(v[0].bytes == 8192);
    CHECK(r->ignored() == 3);
}

TEST_CASE("times beyond 2^62 ns are refused with file and line, or skipped") {
    // 2^62 = 4611686018427387904. Each case is one step past it; before the
    // check, fio's unit conversions overflowed int64 and native times made
    // spans that wrapped negative.
    check_errors({
        {"far.csv", "csv", "submit_ns,service_ns\n0,5\n9000000000000000000,5\n",
         "3: submit time 9000000000000000000 ns is out of range"},
        {"neg.csv", "csv", "submit_ns\n-4611686018427387904\n", "2: submit time -4611686018427387904 ns is out of range"},
        {"svc.csv", "csv", "submit_ns,service_ns\n0,4611686018427387904\n", "2: service time 4611686018427387904 ns"},
        {"span.csv", "csv", "submit_ns,complete_ns\n-4000000000000000000,4000000000000000000\n",
         "2: service time 8000000000000000000 ns is out of range"},
        // 4611686018428 ms * 1e6 = 4.611686018428e18 > 2^62; 9223372036855 ms overflowed int64 outright
        {"big_lat.1.log", "fio-lat", "4611686018428, 100, 0, 4096\n", "1: bad time (ms) '4611686018428' (out of range"},
        {"wrap_lat.1.log", "fio-lat", "9223372036855, 100, 0, 4096\n", "1: bad time (ms) '9223372036855' (out of range"},
        {"big.iolog", "fio-iolog", "fio version 3 iolog\n1 f add\n4611686018427388 f read 0 4096\n",
         "3: bad timestamp (microseconds) '4611686018427388' (out of range"},
        {"wait.iolog", "fio-iolog", "fio version 2 iolog\nf add\nf wait 3000000000000000 0\nf wait 3000000000000000 0\n",
         "4: the waits add up beyond 2^62 ns"},
        {"far.blk", "blkparse", "  8,0    3        1  4611686018.427387904   697  Q   R 223490 + 8 [fio]\n",
         "1: bad timestamp '4611686018.427387904' (out of range"},
    });
    SUBCASE("the largest allowed times still read, and skip_bad counts the rest") {
        TempTrace t("edge.csv", "submit_ns,complete_ns\n-4611686018427387903,-4611686018427387903\n"
                                "0,10\n4611686018427387903,4611686018427387903\n9000000000000000000,\n");
        TraceOptions opt;
        opt.skip_bad = true;
        auto r = open_trace(t.path, "csv", opt);
        const auto v = drain(*r);
        REQUIRE(v.size() == 3);
        CHECK(v[0].submit_ns == -4611686018427387903);
        CHECK(v[2].submit_ns == 4611686018427387903);
        CHECK(r->skipped() == 1);
    }
}

TEST_CASE("fio latency log kind: a word of the file name, not a substring") {
    // "5, 1000, 0, 4096, 0, 0": stamped at ms 5 with value 1000 ns.
    const std::string line = "5, 1000, 0, 4096, 0, 0\n";
    for (const char* name : {"translation_lat.1.log", "job_lat.1.log", "job_clat.1.log", "lat.log"}) {
        CAPTURE(name);
        TempTrace t(name, line);
        const auto v = read_all(t.path, "fio-lat");
        REQUIRE(v.size() == 1);
        CHECK(v[0].submit_ns == 5'000'000 - 1000);  // stamped at completion
        CHECK(v[0].complete_ns == 5'000'000);
        CHECK(v[0].replay_service_ns() == 1000);
    }
    for (const char* name : {"job_slat.1.log", "clat_slat.log", "x-slat.log"}) {
        CAPTURE(name);
        TempTrace t(name, line);
        const auto v = read_all(t.path, "fio-lat");
        REQUIRE(v.size() == 1);
        CHECK(v[0].submit_ns == 5'000'000);  // stamped at issue
        CHECK(v[0].replay_service_ns() == -1);
    }
}

TEST_CASE("completions on a clock below zero are recorded completions") {
    // Only -1 means "not recorded"; -5000 .. -1000 is a 4 us request (it was
    // taken as having no completion when -1 also stood for "none" inside).
    TempTrace t("neg.csv", "submit_ns,complete_ns\n-5000,-1000\n-900,-1\n-800,\n");
    const auto v = read_all(t.path, "csv");
    REQUIRE(v.size() == 3);
    CHECK(v[0].has_complete());
    CHECK(v[0].complete_ns == -1000);
    CHECK(v[0].replay_service_ns() == 4000);
    CHECK(v[0].recorded_complete_ns() == -1000);
    CHECK_FALSE(v[1].has_complete());
    CHECK(v[1].replay_service_ns() == -1);
    CHECK(v[2].recorded_complete_ns() == TraceRecord::kNoTime);
    const TraceStats s = trace_stats(t.path, "csv");
    CHECK(s.service_ns.count() == 1);
    CHECK(s.service_max_ns == 4000);
}

TEST_CASE("blkparse: a front merge moves the request's start to the merged bio") {
    // Q 1008+8 is a request; Q 1000+8 is merged at its front (F), so the
    // request now starts at sector 1000: D and C say "1000 + 16". It is one
    // request, submitted at its own Q (0.000100), completed at 0.000500.
    // (Keyed by the old sector, the D at 1000 started a phantom second
    // request and the real one never completed.)
    TempTrace t("front.blk",
                "  8,0    0        1     0.000100000   697  Q   R 1008 + 8 [fio]\n"
                "  8,0    0        2     0.000110000   697  G   R 1008 + 8 [fio]\n"
                "  8,0    0        3     0.000200000   697  Q   R 1000 + 8 [fio]\n"
                "  8,0    0        4     0.000210000   697  F   R 1000 + 8 [fio]\n"
                "  8,0    0        5     0.000300000   697  D   R 1000 + 16 [fio]\n"
                "  8,0    0        6     0.000500000     0  C   R 1000 + 16 [0]\n");
    auto r = open_trace(t.path, "blkparse");
    const auto v = drain(*r);
    REQUIRE(v.size() == 1);
    CHECK(v[0].submit_ns == 100'000);
    CHECK(v[0].complete_ns == 500'000);
    CHECK(v[0].offset == 1008 * 512);
    CHECK(v[0].bytes == 8 * 512);
    CHECK(r->ignored() == 3);  // G, the merged bio (F), the D of a pending request
}

TEST_CASE("native per-arrival rows keep the other fields, but device and queue come from handler only") {
    TempTrace t("arr.csv", "t_ns,handler,complete_ns,service_ns,op,bytes,offset\n"
                           "100,vq2.1,600,,write,8192,4096\n"
                           "200,vq0,,70,,,\n");
    const auto v = read_all(t.path, "csv");
    REQUIRE(v.size() == 2);
    CHECK(v[0].submit_ns == 100);
    CHECK(v[0].device == 2);
    CHECK(v[0].queue == 1);
    CHECK(v[0].complete_ns == 600);
    CHECK(v[0].replay_service_ns() == 500);
    CHECK(v[0].op == Op::write);
    CHECK(v[0].bytes == 8192);
    CHECK(v[0].offset == 4096);
    CHECK(v[1].device == 0);
    CHECK(v[1].queue == -1);
    CHECK(v[1].service_ns == 70);
    CHECK_FALSE(v[1].op_known);
    CHECK(v[1].offset == -1);
    check_errors({
        {"dev.csv", "csv", "t_ns,handler,device\n0,vq1,3\n", "2: a per-arrival record names its device and queue in handler"},
        {"q.jsonl", "jsonl", "{\"t_ns\": 0, \"handler\": \"vq1\", \"queue\": 0}\n",
         "1: a per-arrival record names its device and queue in handler"},
        {"early.csv", "csv", "t_ns,handler,complete_ns\n500,vq1,400\n", "2: complete_ns 400 is before the submission"},
    });
}
