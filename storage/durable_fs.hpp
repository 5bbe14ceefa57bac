#pragma once
// Making names durable, not only bytes: fsync(2) on a file does not promise that the
// directory entry naming it survives a power cut; an fsync of the directory does.
#include <cstddef>
#include <optional>
#include <string>

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

}  // namespace lpops::storage
