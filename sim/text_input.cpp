#include "sim/text_input.h"

#include <cerrno>
#include <cstring>
#include <lzma.h>

#include "sim/error.h"

namespace pollsim {

namespace {
constexpr unsigned char kXzMagic[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};
constexpr size_t kChunk = 1 << 16;
}  // namespace

struct TextInput::Xz {
    lzma_stream strm = LZMA_STREAM_INIT;
    unsigned char in[kChunk];
    bool input_done = false;
    ~Xz() { lzma_end(&strm); }
};

TextInput::TextInput(std::string path, const char* what) : path_(std::move(path)) {
    file_ = std::fopen(path_.c_str(), "rb");
    if (!file_) throw InputError(path_ + ": cannot open " + what + " (" + std::strerror(errno) + ")");
    unsigned char head[6] = {};
    const size_t got = std::fread(head, 1, sizeof head, file_);
    std::rewind(file_);
    if (got == sizeof head && std::memcmp(head, kXzMagic, sizeof head) == 0) {
        xz_ = std::make_unique<Xz>();
        // Concatenated streams, as `xz` itself accepts; no memory limit
        // beyond what the file's own header asks for.
        if (lzma_stream_decoder(&xz_->strm, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
            throw InputError(path_ + ": cannot start the xz decoder");
    }
}

TextInput::~TextInput() {
    if (file_) std::fclose(file_);
}

bool TextInput::fill() {
    if (eof_) return false;
    buf_.erase(0, pos_);
    pos_ = 0;
    const size_t old = buf_.size();
    if (!xz_) {
        buf_.resize(old + kChunk);
        const size_t n = std::fread(buf_.data() + old, 1, kChunk, file_);
        buf_.resize(old + n);
        if (n == 0) {
            if (std::ferror(file_)) throw InputError(path_ + ": read error");
            eof_ = true;
        }
        return n > 0;
    }
    lzma_stream& s = xz_->strm;
    buf_.resize(old + kChunk);
    s.next_out = reinterpret_cast<uint8_t*>(buf_.data() + old);
    s.avail_out = kChunk;
    while (s.avail_out == kChunk) {
        if (s.avail_in == 0 && !xz_->input_done) {
            s.next_in = xz_->in;
            s.avail_in = std::fread(xz_->in, 1, kChunk, file_);
            if (std::ferror(file_)) throw InputError(path_ + ": read error");
            if (s.avail_in == 0) xz_->input_done = true;
        }
        const lzma_ret r = lzma_code(&s, xz_->input_done ? LZMA_FINISH : LZMA_RUN);
        if (r == LZMA_STREAM_END) {
            eof_ = true;
            break;
        }
        if (r != LZMA_OK)
            throw InputError(path_ + ": corrupt or truncated xz data (liblzma error " + std::to_string(r) + ")");
        if (xz_->input_done && s.avail_out == kChunk)
            throw InputError(path_ + ": truncated xz data");
    }
    buf_.resize(old + (kChunk - s.avail_out));
    return buf_.size() > old;
}

bool TextInput::getline(std::string& line) {
    too_long_ = false;
    size_t dropped = 0;    // bytes of a too long line counted, not kept
    bool dropped_cr = false;  // the last of them was '\r'
    size_t stop = 0;
    for (;;) {
        const size_t nl = buf_.find('\n', pos_);
        if (nl != std::string::npos) {
            stop = nl;
            break;
        }
        // No '\n' yet: a line past the cap keeps its first bytes and the
        // rest is counted, so memory stays bounded by the cap and a chunk.
        const size_t pending = buf_.size() - pos_;
        if (pending > kMaxTextLineBytes) {
            if (!too_long_) line.assign(buf_, pos_, kMaxTextLineBytes + 1);
            too_long_ = true;
            dropped_cr = buf_.back() == '\r';
            dropped += pending;
            pos_ = buf_.size();
        }
        if (!fill()) {
            if (pos_ >= buf_.size() && dropped == 0) return false;
            stop = buf_.size();
            break;
        }
    }
    const size_t n = stop - pos_;
    const bool cr = n > 0 ? buf_[stop - 1] == '\r' : dropped_cr;
    line_bytes_ = dropped + n - (cr ? 1 : 0);
    if (!too_long_) {
        line.assign(buf_, pos_, n - (cr ? 1 : 0));
        if (line.size() > kMaxTextLineBytes) {
            too_long_ = true;
            line.resize(kMaxTextLineBytes + 1);
        }
    }
    pos_ = stop < buf_.size() ? stop + 1 : buf_.size();
    ++line_no_;
    return true;
}

}  // namespace pollsim
