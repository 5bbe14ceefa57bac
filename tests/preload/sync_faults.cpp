// A failing disk flush on demand, for a node started with this library in LD_PRELOAD: while
// the file LPOPS_FAULT_FDATASYNC_TRIGGER names exists, fdatasync(2) and fsync(2) of a file
// whose name ends in LPOPS_FAULT_FDATASYNC_SUFFIX (default "/journal.jsonl") fail with EIO, as
// a disk that lost a write reports it. Every other call goes to the C library.
#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

bool should_fail(int fd) {
  const char* trigger = std::getenv("LPOPS_FAULT_FDATASYNC_TRIGGER");
  if (!trigger || ::access(trigger, F_OK) != 0) return false;
  const char* suffix = std::getenv("LPOPS_FAULT_FDATASYNC_SUFFIX");
  if (!suffix || !*suffix) suffix = "/journal.jsonl";
  char link[64], path[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = '\0';
  const std::size_t len = static_cast<std::size_t>(n), suffix_len = std::strlen(suffix);
  return len >= suffix_len && std::strcmp(path + len - suffix_len, suffix) == 0;
}

using SyncFunction = int (*)(int);

int call(const char* name, SyncFunction& real, int fd) {
  if (!real) real = reinterpret_cast<SyncFunction>(::dlsym(RTLD_NEXT, name));
  if (should_fail(fd)) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

SyncFunction real_fdatasync = nullptr;
SyncFunction real_fsync = nullptr;

}  // namespace

extern "C" int fdatasync(int fd) { return call("fdatasync", real_fdatasync, fd); }
extern "C" int fsync(int fd) { return call("fsync", real_fsync, fd); }
