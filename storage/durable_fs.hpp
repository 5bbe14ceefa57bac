#pragma once
// Making names durable, not only bytes: fsync(2) on a file does not promise that the
// directory entry naming it survives a power cut; an fsync of the directory does.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "domain/result.hpp"

namespace lpops::storage {

// fsync(2) of a directory; false (errno set) on failure.
bool fsync_directory(const std::string& dir);

// fsync(2) of the directory that holds `path` ("." for a bare name).
bool fsync_parent_directory(const std::string& path);

// "what: <the system's words for errno>".
std::string errno_text(const std::string& what);

// write(2) of all `size` bytes, again after EINTR or a short write; false (errno set, EIO
// for a write that wrote nothing) on failure.
bool write_all(int fd, const char* data, std::size_t size);

// Creates `dir` and any missing parents, then makes each new name durable in its parent.
// An error message on failure.
std::optional<std::string> create_directories_durably(const std::string& dir);

// A flush (fdatasync) of a file that failed: the kernel reports a failed write-back once and
// may then keep its pages as clean, so a later flush that succeeds says nothing of them, and a
// reader (the next start) gets them from memory as if they were on the disk. `mark_path` is
// written (durably, as far as the disk allows) with `synced_end`, the end of the last good
// flush, so that the next start writes the bytes past it again. An error message when the
// mark could not be written.
std::optional<std::string> mark_failed_flush(const std::string& mark_path, std::uint64_t synced_end);

// At the start after such a failure: when `mark_path` exists, the bytes of `path` past the
// offset it holds (the whole file when it is unreadable) are read and written again, then
// flushed, and the mark is removed durably. The number of bytes written again (0 without a
// mark), or an error.
Result<std::uint64_t> rewrite_after_failed_flush(const std::string& path, const std::string& mark_path);

}  // namespace lpops::storage
