#include "sim/output_file.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/error.h"

namespace pollsim {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Follows a chain of symlinks to the path that is finally written; a
// dangling link resolves to the missing file it names.
std::string resolve_symlinks(const std::string& path) {
    fs::path p(path);
    for (int hops = 0; hops < 40; ++hops) {
        struct stat st;
        if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p.string();
        std::error_code ec;
        const fs::path next = fs::read_symlink(p, ec);
        if (ec) throw InputError("cannot write '" + path + "': cannot read the symlink: " + ec.message());
        p = next.is_absolute() ? next : p.parent_path() / next;
    }
    throw InputError("cannot write '" + path + "': too many levels of symbolic links");
}

std::atomic<uint64_t> temp_counter{0};

}  // namespace

void remove_orphan_temps(const std::string& target, int64_t min_age_s) {
    const fs::path t(target);
    const fs::path dir = t.has_parent_path() ? t.parent_path() : fs::path(".");
    const std::string prefix = t.filename().string() + ".tmp.";
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) return;
    const auto now = fs::file_time_type::clock::now();
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) return;
        const std::string name = it->path().filename().string();
        if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
        // TARGET.tmp.PID.N, as OutputFile names them.
        const std::string rest = name.substr(prefix.size());
        const size_t dot = rest.find('.');
        if (dot == 0 || dot == std::string::npos || dot > 9 || dot + 1 == rest.size() ||
            rest.find_first_not_of("0123456789.") != std::string::npos || rest.find('.', dot + 1) != std::string::npos)
            continue;
        const pid_t pid = static_cast<pid_t>(std::stol(rest.substr(0, dot)));
        // A writer that is alive here, or one that wrote within min_age_s
        // (perhaps on another host sharing the directory), may still rename it.
        if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
        struct stat st;
        if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        const auto mtime = fs::last_write_time(it->path(), ec);
        if (ec || now - mtime < std::chrono::seconds(min_age_s)) continue;
        (void)::unlink(it->path().c_str());
    }
}

OutputFile::OutputFile(const std::string& path, MissingDirs dirs) : path_(path) {
    if (path.empty()) throw InputError("cannot write '': empty file name");
    target_ = resolve_symlinks(path);
    const std::string via = target_ == path_ ? "" : " (symlink to '" + target_ + "')";
    struct stat st;
    const bool exists = ::stat(target_.c_str(), &st) == 0;
    if (!exists && errno != ENOENT)
        throw InputError("cannot write '" + path_ + "'" + via + ": " + errno_text(errno));
    if (exists && S_ISDIR(st.st_mode)) throw InputError("cannot write '" + path_ + "'" + via + ": is a directory");
    if (exists && !S_ISREG(st.st_mode)) {
        // FIFO, terminal, character or block device, socket: write through,
        // never replace it.
        fd_ = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd_ < 0) throw InputError("cannot write '" + path_ + "'" + via + ": " + errno_text(errno));
        return;
    }
    const fs::path parent = fs::path(target_).has_parent_path() ? fs::path(target_).parent_path() : fs::path(".");
    struct stat dst;
    if (::stat(parent.c_str(), &dst) != 0) {
        if (errno != ENOENT || dirs == MissingDirs::refuse)
            throw InputError("cannot write '" + path_ + "'" + via + ": directory '" + parent.string() +
                             "' does not exist");
        std::error_code ec;
        fs::create_directories(parent, ec);
        if (ec)
            throw InputError("cannot write '" + path_ + "'" + via + ": cannot create directory '" + parent.string() +
                             "': " + ec.message());
    } else if (!S_ISDIR(dst.st_mode)) {
        throw InputError("cannot write '" + path_ + "'" + via + ": '" + parent.string() + "' is not a directory");
    }
    tmp_ = target_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(temp_counter.fetch_add(1));
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0) {
        const int err = errno;
        tmp_.clear();
        throw InputError("cannot write '" + path_ + "'" + via + ": " + errno_text(err));
    }
    // Replacing a file keeps its permissions.
    if (exists) (void)::fchmod(fd_, st.st_mode & 07777);
}

OutputFile::~OutputFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
}

void OutputFile::fail(const std::string& what) {
    const std::string via = target_ == path_ ? "" : " (symlink to '" + target_ + "')";
    throw InputError("cannot write '" + path_ + "'" + via + ": " + what);
}

void OutputFile::write(std::string_view text) {
    buffer_.append(text);
    if (buffer_.size() >= (1u << 16)) flush();
}

void OutputFile::flush() {
    size_t done = 0;
    while (done < buffer_.size()) {
        const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(errno_text(errno));
        }
        if (n == 0) fail("write failed");
        done += static_cast<size_t>(n);
    }
    buffer_.clear();
}

void OutputFile::commit() {
    if (committed_) return;
    flush();
    if (tmp_.empty()) {  // written through
        const int rc = ::close(fd_);
        fd_ = -1;
        if (rc != 0) fail(errno_text(errno));
        committed_ = true;
        return;
    }
    if (::fsync(fd_) != 0) fail(errno_text(errno));
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) fail(errno_text(errno));
    if (::rename(tmp_.c_str(), target_.c_str()) != 0) fail(errno_text(errno));
    committed_ = true;
    // Make the rename itself durable.
    const fs::path parent = fs::path(target_).has_parent_path() ? fs::path(target_).parent_path() : fs::path(".");
    const int dfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
    // Temporary files of this target left by a writer killed before its
    // rename: nothing else removes them.
    remove_orphan_temps(target_);
}

void write_file_atomic(const std::string& path, const std::string& text, MissingDirs dirs) {
    OutputFile out(path, dirs);
    out.write(text);
    out.commit();
}

}  // namespace pollsim
