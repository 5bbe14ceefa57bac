#include "storage/durable_fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace lpops::storage {

namespace fs = std::filesystem;

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool fsync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

bool fsync_parent_directory(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return fsync_directory(parent.empty() ? std::string(".") : parent.string());
}

std::optional<std::string> create_directories_durably(const std::string& dir) {
  std::error_code ec;
  const fs::path target = fs::absolute(fs::path(dir), ec);
  if (ec) return "cannot resolve " + dir + ": " + ec.message();
  // The missing directories, deepest first.
  std::vector<fs::path> missing;
  for (fs::path p = target; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  if (missing.empty()) return std::nullopt;
  fs::create_directories(target, ec);
  if (ec) return "cannot create directory " + dir + ": " + ec.message();
  // Each new name lives in its parent: sync the parents from the top down.
  for (auto it = missing.rbegin(); it != missing.rend(); ++it)
    if (!fsync_directory(it->parent_path().string()))
      return "cannot fsync directory " + it->parent_path().string() + ": " + std::strerror(errno);
  return std::nullopt;
}

std::optional<std::string> mark_failed_flush(const std::string& mark_path, std::uint64_t synced_end) {
  const std::string text = std::to_string(synced_end) + "\n";
  const int fd = ::open(mark_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const bool ok = fd >= 0 && write_all(fd, text.data(), text.size()) && ::fsync(fd) == 0 && fsync_parent_directory(mark_path);
  std::optional<std::string> failure;
  if (!ok) failure = errno_text(mark_path + " could not be written");
  if (fd >= 0) ::close(fd);
  return failure;
}

Result<std::uint64_t> rewrite_after_failed_flush(const std::string& path, const std::string& mark_path) {
  if (::access(mark_path.c_str(), F_OK) != 0) {
    if (errno == ENOENT) return std::uint64_t{0};
    return Error{errno_text("cannot read " + mark_path)};
  }
  std::uint64_t from = 0;
  {
    std::ifstream in(mark_path);
    if (!in) return Error{errno_text("cannot read " + mark_path)};
    if (!(in >> from)) from = 0;  // unreadable: the whole file
  }
  // A descriptor of its own: the caller's may append whatever the offset (O_APPEND).
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Error{errno_text("cannot open " + path)};
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error{errno_text("cannot stat " + path)};
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::uint64_t rewritten = 0;
  std::vector<char> chunk;
  for (std::uint64_t at = std::min(from, size); at < size; at += chunk.size()) {
    chunk.resize(static_cast<std::size_t>(std::min<std::uint64_t>(1u << 20, size - at)));
    for (std::size_t done = 0; done < chunk.size();) {
      const ssize_t n = ::pread(fd, chunk.data() + done, chunk.size() - done, static_cast<off_t>(at + done));
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) errno = EIO;
      if (n <= 0) return Error{errno_text("cannot read " + path)};
      done += static_cast<std::size_t>(n);
    }
    for (std::size_t done = 0; done < chunk.size();) {
      const ssize_t n = ::pwrite(fd, chunk.data() + done, chunk.size() - done, static_cast<off_t>(at + done));
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) errno = EIO;
      if (n <= 0) return Error{errno_text("cannot write " + path + " again")};
      done += static_cast<std::size_t>(n);
    }
    rewritten += chunk.size();
  }
  if (::fdatasync(fd) != 0) return Error{errno_text(path + " fdatasync failed")};
  if (::unlink(mark_path.c_str()) != 0 || !fsync_parent_directory(mark_path)) return Error{errno_text("cannot remove " + mark_path)};
  return rewritten;
}

}  // namespace lpops::storage
