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
    : path_(std::move(path)), tmp_path_(path_ + ".tmp." + std::to_string(::getpid())), format_(std::move(format)),
      sort_window_(sort_window ? sort_window : 1), out_(tmp_path_) {
    if (!out_) throw InputError(path_ + ": cannot write here");
    if (format_ == "csv") {
        if (!comment.empty()) out_ << "# " << comment << "\n";
        out_ << "submit_ns,complete_ns,service_ns,device,queue,op,bytes\n";
    } else if (format_ != "jsonl") {
        throw InputError(path_ + ": trace output format must be csv or jsonl, not '" + format_ + "'");
    }
}

TraceWriter::~TraceWriter() {
    if (!closed_) {
        out_.close();
        std::remove(tmp_path_.c_str());
    }
}

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
    if (format_ == "csv") {
        out_ << r.submit_ns << ',' << complete << ',' << r.service_ns << ',' << r.device << ',' << r.queue << ','
             << op << ',' << r.bytes << '\n';
    } else {
        out_ << "{\"submit_ns\":" << r.submit_ns << ",\"complete_ns\":" << complete
             << ",\"service_ns\":" << r.service_ns << ",\"device\":" << r.device << ",\"queue\":" << r.queue
             << ",\"op\":\"" << op << "\",\"bytes\":" << r.bytes << "}\n";
    }
    ++written_;
}

void TraceWriter::close() {
    while (!heap_.empty()) {
        write(heap_.top().rec);
        heap_.pop();
    }
    out_.close();
    if (!out_) throw InputError(path_ + ": write failed");
    std::error_code ec;
    std::filesystem::rename(tmp_path_, path_, ec);
    if (ec) throw InputError(path_ + ": cannot rename " + tmp_path_ + " into place: " + ec.message());
    closed_ = true;
}

}  // namespace pollsim
