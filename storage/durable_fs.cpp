#include "storage/durable_fs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
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

}  // namespace lpops::storage
