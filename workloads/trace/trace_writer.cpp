#include "workloads/trace/trace_writer.h"

#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include "sim/error.h"

namespace pollsim {

std::string TraceWriter::format_for(const std::string& path) {
    const std::string ext = std::filesystem::path(path).extension().string();
    if (ext == ".csv") return "csv";
    if (ext == ".jsonl" || ext == ".json") return "jsonl";
    throw InputError(path + ": the output file name must end in .csv or .jsonl (it selects the format)");
}

TraceWriter::TraceWriter(std::string path, std::string format, const std::string& comment, size_t sort_window)
    : path_(std::move(path)), format_(std::move(format)), sort_window_(sort_window ? sort_window : 1), out_(path_) {
    if (format_ == "csv") {
        if (!comment.empty()) out_.write("# " + comment + "\n");
        out_.write("submit_ns,complete_ns,service_ns,device,queue,op,bytes\n");
    } else if (format_ != "jsonl") {
        throw InputError(path_ + ": trace output format must be csv or jsonl, not '" + format_ + "'");
    }
}

TraceWriter::~TraceWriter() = default;  // out_ removes its temporary file unless closed

void TraceWriter::add(const TraceRecord& rec) {
    heap_.push(Held{rec, seq_++});
    if (heap_.size() > sort_window_) {
        write(heap_.top().rec);
        heap_.pop();
    }
}

void TraceWriter::write(const TraceRecord& r) {
    const char* op = r.op == Op::write ? "write" : "read";
    // -1 is "not recorded" in the native format (a synthesized trace always
    // has the completion).
    const int64_t complete = r.has_complete() ? r.complete_ns : -1;
    using std::to_string;
    if (format_ == "csv") {
        out_.write(to_string(r.submit_ns) + ',' + to_string(complete) + ',' + to_string(r.service_ns) + ',' +
                   to_string(r.device) + ',' + to_string(r.queue) + ',' + op + ',' + to_string(r.bytes) + '\n');
    } else {
        out_.write("{\"submit_ns\":" + to_string(r.submit_ns) + ",\"complete_ns\":" + to_string(complete) +
                   ",\"service_ns\":" + to_string(r.service_ns) + ",\"device\":" + to_string(r.device) +
                   ",\"queue\":" + to_string(r.queue) + ",\"op\":\"" + op + "\",\"bytes\":" + to_string(r.bytes) +
                   "}\n");
    }
    ++written_;
}

void TraceWriter::close() {
    while (!heap_.empty()) {
        write(heap_.top().rec);
        heap_.pop();
    }
    out_.commit();
    closed_ = true;
}

}  // namespace pollsim
