// Line-by-line reading of a text file that may be xz-compressed (detected by
// its magic bytes, not its name), so recorded logs can be committed
// compressed and still read in constant memory.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace pollsim {

class TextInput {
public:
    // Throws InputError "PATH: cannot open WHAT (reason)" if the file cannot be opened.
    explicit TextInput(std::string path, const char* what = "file");
    ~TextInput();
    TextInput(const TextInput&) = delete;
    TextInput& operator=(const TextInput&) = delete;

    // Next line without its '\n' (and a trailing '\r'); false at the end.
    // Throws InputError "PATH: ..." on a read or decompression error.
    bool getline(std::string& line);
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
};

}  // namespace pollsim
