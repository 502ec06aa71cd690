// Native CSV: a header row naming the columns (native.h), then one record per
// row. '#' starts a comment line.
#include "workloads/trace/native.h"

namespace pollsim::trace {

namespace {

class CsvParser final : public LineParser {
public:
    void parse(std::string_view line, int64_t line_no, RecordSink& out) override {
        if (line[0] == '#') return;
        split(line, ',', fields_);
        if (columns_.empty()) {
            read_header();
            return;
        }
        if (fields_.size() != columns_.size())
            throw ParseError("expected " + std::to_string(columns_.size()) + " fields as in the header, found " +
                             std::to_string(fields_.size()));
        NativeRow row;
        for (size_t i = 0; i < fields_.size(); ++i) row.set(columns_[i], fields_[i]);
        out.emit(row.finish(line_no));
    }

private:
    void read_header() {
        for (auto f : fields_) {
            const NativeField field = native_field(f);
            for (const auto c : columns_)
                if (c == field) throw ParseError("column '" + std::string(f) + "' appears twice in the header");
            columns_.push_back(field);
        }
        bool has_time = false;
        for (const auto c : columns_) has_time |= c == NativeField::submit_ns || c == NativeField::t_ns;
        if (!has_time) throw ParseError("the header needs a submit_ns (per request) or t_ns (per arrival) column");
    }

    std::vector<NativeField> columns_;  // resolved once, from the header
    std::vector<std::string_view> fields_;
};

}  // namespace

std::unique_ptr<LineParser> make_csv_parser() { return std::make_unique<CsvParser>(); }

}  // namespace pollsim::trace
