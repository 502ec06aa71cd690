// workload.format: auto. The first meaningful line of each format has a
// shape no other format shares, so one line decides; a few more are read
// only to step over blank and comment lines.
#include <regex>

#include "sim/error.h"
#include "sim/text_input.h"
#include "workloads/trace/trace_parse.h"
#include "workloads/trace/trace_reader.h"

namespace pollsim {

namespace {

std::string classify(const std::string& line) {
    // "fio version 2 iolog" / "fio version 3 iolog": fio's own header.
    static const std::regex fio_iolog(R"(^fio version [0-9]+ iolog$)");
    // QEMU log backend, "PID@SECONDS.MICROSECONDS:event args" (7.2) or
    // "YYYY-MM-DDTHH:MM:SS.UUUUUUZ event args" (10.0 on); also without the
    // prefix, so that the reader can say the timestamps are missing. Any
    // stamped QEMU trace event counts: a log starts with whatever fired first.
    static const std::regex qemu(
        R"(^(([0-9]+@[0-9]+\.[0-9]+:|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z )[a-z0-9_]+( |$)|(virtio_blk|luring|laio)_[a-z_]+( |$)))");
    // blkparse default header "%D %2c %8s %5T.%9t %5p %2a %3d": "8,0 3 1 0.000000000 697 Q ..."
    static const std::regex blkparse(R"(^[0-9]+,[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+\.[0-9]+ +[0-9]+ +[A-Za-z]+)");
    // fio latency log: "time, value, ddir, bs[, offset][, prio]", all numbers.
    static const std::regex fio_lat(R"(^[0-9]+, *[0-9]+, *[0-9]+, *[0-9]+(, *(0x)?[0-9a-fA-F]+){0,2}$)");
    // Native CSV header: names, one of them submit_ns or t_ns.
    static const std::regex csv_header(R"(^[a-z_]+( *, *[a-z_]+)*$)");
    if (std::regex_search(line, fio_iolog)) return "fio-iolog";
    if (!line.empty() && line[0] == '{') return "jsonl";
    if (std::regex_search(line, qemu)) return "qemu-log";
    if (std::regex_search(line, blkparse)) return "blkparse";
    if (std::regex_search(line, fio_lat)) return "fio-lat";
    if (std::regex_search(line, csv_header) &&
        (line.find("submit_ns") != std::string::npos || line.find("t_ns") != std::string::npos))
        return "csv";
    return "";
}

}  // namespace

std::string detect_trace_format(const std::string& path) {
    TextInput in(path, "trace file");
    std::string line;
    int64_t line_no = 0, first_no = 0, looked = 0;
    // A few foreign lines (a QEMU warning before its trace) are stepped over.
    while (looked < 20 && in.getline(line)) {
        ++line_no;
        if (in.line_too_long())
            throw InputError(path + ":" + std::to_string(line_no) + ": " + trace::line_too_long(in.line_bytes()));
        const std::string text(trace::trim(line));
        if (text.empty() || text[0] == '#') continue;
        if (!first_no) first_no = line_no;
        ++looked;
        const std::string f = classify(text);
        if (!f.empty()) return f;
    }
    if (first_no)
        throw InputError(path + ":" + std::to_string(first_no) +
                         ": cannot tell the trace format from the first lines; set workload.format (or --format) "
                         "to one of " + trace_format_names());
    throw InputError(path + ": empty trace (no records)");
}

}  // namespace pollsim
