// Writing result files safely (issue 10, items 1 and 9).
//
// A regular file (or a new one) is written to a temporary file beside it,
// fsynced and renamed over it, so a reader never sees half a file and a
// failed run leaves none. Anything else is written through and never
// replaced: a symlink's final target (which is then written as above), a
// FIFO, a terminal or a character device such as /dev/stdout or /dev/null.
// A directory is refused, and so is a missing parent directory unless the
// caller owns an output directory (MissingDirs::create, e.g. `sweep --out`).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace pollsim {

enum class MissingDirs { refuse, create };

class OutputFile {
public:
    explicit OutputFile(const std::string& path, MissingDirs dirs = MissingDirs::refuse);
    ~OutputFile();  // without commit(): removes the temporary file
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    void write(std::string_view text);
    // Flushes, fsyncs and renames into place (or closes the special file).
    void commit();

    // The path written to (the symlink's target for a symlink).
    const std::string& target() const { return target_; }
    // The temporary file, empty when writing through.
    const std::string& temp_path() const { return tmp_; }

private:
    void flush();
    [[noreturn]] void fail(const std::string& what);

    std::string path_, target_, tmp_;
    std::string buffer_;
    int fd_ = -1;
    bool committed_ = false;
};

// Removes TARGET.tmp.PID.N files beside target whose writer (PID) is no
// longer running here and that are at least min_age_s old: left by a writer
// killed between write and rename. OutputFile::commit calls it.
void remove_orphan_temps(const std::string& target, int64_t min_age_s = 60);

// Writes text to path through OutputFile. Throws InputError naming the path
// if it cannot be written.
void write_file_atomic(const std::string& path, const std::string& text, MissingDirs dirs = MissingDirs::refuse);

}  // namespace pollsim
