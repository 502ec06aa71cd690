// Line-by-line reading of a text file that may be xz-compressed (detected by
// its magic bytes, not its name), so recorded logs can be committed
// compressed and still read in constant memory.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace pollsim {

// The longest line TextInput buffers (the trace readers' cap, issue 10 item 7).
inline constexpr size_t kMaxTextLineBytes = size_t{1} << 20;

class TextInput {
public:
    // Throws InputError "PATH: cannot open WHAT (reason)" if the file cannot be opened.
    explicit TextInput(std::string path, const char* what = "file");
    ~TextInput();
    TextInput(const TextInput&) = delete;
    TextInput& operator=(const TextInput&) = delete;

    // Next line without its '\n' (and a trailing '\r'); false at the end.
    // Throws InputError "PATH: ..." on a read or decompression error. A line
    // longer than kMaxTextLineBytes is not buffered whole: `line` gets its
    // first kMaxTextLineBytes + 1 bytes, line_too_long() is true and
    // line_bytes() tells its length.
    bool getline(std::string& line);
    bool line_too_long() const { return too_long_; }
    // Length of the last line (without '\n' and a trailing '\r').
    size_t line_bytes() const { return line_bytes_; }
    // Number of the last line read, from 1.
    int64_t line_number() const { return line_no_; }
    const std::string& path() const { return path_; }
    bool compressed() const { return xz_ != nullptr; }

private:
    bool fill();  // more decoded bytes into buf_; false at the end

    std::string path_;
    std::FILE* file_ = nullptr;
    struct Xz;
    std::unique_ptr<Xz> xz_;
    std::string buf_;
    size_t pos_ = 0;
    bool eof_ = false;
    bool too_long_ = false;
    size_t line_bytes_ = 0;
    int64_t line_no_ = 0;
};

}  // namespace pollsim
