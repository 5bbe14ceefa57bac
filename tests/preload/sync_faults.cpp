// A failing disk flush or read on demand, for a node started with this library in LD_PRELOAD:
// while the file LPOPS_FAULT_FDATASYNC_TRIGGER names exists, fdatasync(2) and fsync(2) of a
// file whose name ends in LPOPS_FAULT_FDATASYNC_SUFFIX (default "/journal.jsonl") fail with
// EIO, as a disk that lost a write reports it; while LPOPS_FAULT_READ_TRIGGER's file exists,
// read(2) and pread(2) of a file whose name ends in LPOPS_FAULT_READ_SUFFIX fail with EIO (and
// see below: a file cut shorter after it is mapped, short direct writes, a wall-clock step,
// slow large reads).
// Every other call goes to the C library.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

bool should_fail(int fd, const char* trigger_name = "LPOPS_FAULT_FDATASYNC_TRIGGER",
                 const char* suffix_name = "LPOPS_FAULT_FDATASYNC_SUFFIX", const char* default_suffix = "/journal.jsonl") {
  const char* trigger = std::getenv(trigger_name);
  if (!trigger || ::access(trigger, F_OK) != 0) return false;
  const char* suffix = std::getenv(suffix_name);
  if (!suffix || !*suffix) suffix = default_suffix;
  if (!*suffix) return false;
  char link[64], path[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = '\0';
  const std::size_t len = static_cast<std::size_t>(n), suffix_len = std::strlen(suffix);
  return len >= suffix_len && std::strcmp(path + len - suffix_len, suffix) == 0;
}

using SyncFunction = int (*)(int);

// With LPOPS_FAULT_SYNC_LOG set, the path of each file or directory flushed is appended to
// the file it names, a line each (what a test asks of durability: which names were synced).
void log_sync(int fd) {
  const char* log = std::getenv("LPOPS_FAULT_SYNC_LOG");
  if (!log || !*log) return;
  char link[64], path[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(link, path, sizeof path - 2);
  if (n <= 0) return;
  path[n] = '\n';
  const int out = ::open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) return;
  (void)!::write(out, path, static_cast<std::size_t>(n) + 1);
  ::close(out);
}

int call(const char* name, SyncFunction& real, int fd) {
  if (!real) real = reinterpret_cast<SyncFunction>(::dlsym(RTLD_NEXT, name));
  log_sync(fd);
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

namespace {

using ReadFunction = ssize_t (*)(int, void*, size_t);
using PreadFunction = ssize_t (*)(int, void*, size_t, off_t);
ReadFunction real_read = nullptr;
PreadFunction real_pread = nullptr;

bool read_should_fail(int fd) {
  return std::getenv("LPOPS_FAULT_READ_TRIGGER") && should_fail(fd, "LPOPS_FAULT_READ_TRIGGER", "LPOPS_FAULT_READ_SUFFIX", "");
}

}  // namespace

extern "C" ssize_t read(int fd, void* buffer, size_t size) {
  if (!real_read) real_read = reinterpret_cast<ReadFunction>(::dlsym(RTLD_NEXT, "read"));
  if (read_should_fail(fd)) {
    errno = EIO;
    return -1;
  }
  return real_read(fd, buffer, size);
}

// With LPOPS_FAULT_SLOW_BIG_READS naming a file suffix, each pread(2) of 64 KiB or more from
// such a file first sleeps LPOPS_FAULT_SLOW_BIG_READS_MS (default 2000): a reader of the whole
// file (a background check) falls behind one that reads a line at a time.
void slow_big_read(int fd, size_t size) {
  if (size < (64u << 10) || !std::getenv("LPOPS_FAULT_SLOW_BIG_READS")) return;
  char link[64], path[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(link, path, sizeof path - 1);
  if (n <= 0) return;
  path[n] = '\0';
  const char* suffix = std::getenv("LPOPS_FAULT_SLOW_BIG_READS");
  const std::size_t len = static_cast<std::size_t>(n), suffix_len = std::strlen(suffix);
  if (!*suffix || len < suffix_len || std::strcmp(path + len - suffix_len, suffix) != 0) return;
  const char* ms = std::getenv("LPOPS_FAULT_SLOW_BIG_READS_MS");
  const long wait_ms = ms && *ms ? std::atol(ms) : 2000;
  timespec t{wait_ms / 1000, (wait_ms % 1000) * 1000000};
  while (::nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

extern "C" ssize_t pread(int fd, void* buffer, size_t size, off_t offset) {
  if (!real_pread) real_pread = reinterpret_cast<PreadFunction>(::dlsym(RTLD_NEXT, "pread"));
  if (read_should_fail(fd)) {
    errno = EIO;
    return -1;
  }
  const int saved = errno;
  slow_big_read(fd, size);
  errno = saved;
  return real_pread(fd, buffer, size, offset);
}

// With LPOPS_FAULT_TRUNCATE_AT_MADVISE naming a file, that file is cut to
// LPOPS_FAULT_TRUNCATE_TO bytes (default 0) at the first madvise(2) call with MADV_SEQUENTIAL (a
// reader's, not the allocator's): a file mapped and then cut shorter by another process before
// it is read.
namespace {
using MadviseFunction = int (*)(void*, size_t, int);
MadviseFunction real_madvise = nullptr;
bool truncated = false;
}  // namespace

extern "C" int madvise(void* address, size_t length, int advice) {
  if (!real_madvise) real_madvise = reinterpret_cast<MadviseFunction>(::dlsym(RTLD_NEXT, "madvise"));
  const char* victim = std::getenv("LPOPS_FAULT_TRUNCATE_AT_MADVISE");
  if (victim && *victim && !truncated && advice == MADV_SEQUENTIAL) {
    truncated = true;
    const char* to = std::getenv("LPOPS_FAULT_TRUNCATE_TO");
    (void)!::truncate(victim, to ? static_cast<off_t>(std::strtoll(to, nullptr, 10)) : 0);
  }
  return real_madvise(address, length, advice);
}

// With LPOPS_FAULT_SHORT_DIRECT_WRITES naming a file, a pwrite(2) of more than one 4 KiB block
// of text (and with LPOPS_FAULT_SHORT_ZERO_WRITES also of zeros, the preallocation's) to a
// journal.jsonl opened with O_DIRECT writes it all but reports 100 bytes fewer (a short write
// that ends off the block grid, which a device may give), and appends a line to that file each
// time.
namespace {
using PwriteFunction = ssize_t (*)(int, const void*, size_t, off_t);
PwriteFunction real_pwrite = nullptr;

bool direct_journal(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || !(flags & O_DIRECT)) return false;
  char link[64], path[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = '\0';
  const char* suffix = "/journal.jsonl";
  const std::size_t len = static_cast<std::size_t>(n), suffix_len = std::strlen(suffix);
  return len >= suffix_len && std::strcmp(path + len - suffix_len, suffix) == 0;
}
}  // namespace

extern "C" ssize_t pwrite(int fd, const void* buffer, size_t size, off_t offset) {
  if (!real_pwrite) real_pwrite = reinterpret_cast<PwriteFunction>(::dlsym(RTLD_NEXT, "pwrite"));
  const char* log = std::getenv("LPOPS_FAULT_SHORT_DIRECT_WRITES");
  // Text, and the preallocation's zeros only with LPOPS_FAULT_SHORT_ZERO_WRITES set too.
  const bool zeros = static_cast<const char*>(buffer)[0] == '\0';
  if (!log || !*log || size <= 4096 || (zeros && !std::getenv("LPOPS_FAULT_SHORT_ZERO_WRITES")) || !direct_journal(fd))
    return real_pwrite(fd, buffer, size, offset);
  const ssize_t w = real_pwrite(fd, buffer, size, offset);
  if (w != static_cast<ssize_t>(size)) return w;
  const int out = ::open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out >= 0) {
    (void)!::write(out, "short\n", 6);
    ::close(out);
  }
  return w - 100;
}

extern "C" ssize_t pwrite64(int fd, const void* buffer, size_t size, off_t offset) { return pwrite(fd, buffer, size, offset); }

// With LPOPS_FAULT_CLOCK_SHIFT_FILE naming a file, the wall clock (CLOCK_REALTIME) reads that
// many seconds ahead (a signed decimal number in the file; absent or empty: none), re-read at
// most every 20 ms: a clock step on demand. The monotonic clocks are left alone.
namespace {
using ClockFunction = int (*)(clockid_t, struct timespec*);
ClockFunction real_clock_gettime = nullptr;
std::atomic<long long> clock_shift{0};
std::atomic<long long> shift_read_at{-1};  // monotonic ns of the last read

long long current_shift(const char* file) {
  struct timespec now {};
  real_clock_gettime(CLOCK_MONOTONIC, &now);
  const long long ns = static_cast<long long>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  const long long last = shift_read_at.load(std::memory_order_relaxed);
  if (last >= 0 && ns - last < 20'000'000) return clock_shift.load(std::memory_order_relaxed);
  shift_read_at.store(ns, std::memory_order_relaxed);
  long long shift = 0;
  const int fd = ::open(file, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char text[32] = {};
    (void)!::read(fd, text, sizeof text - 1);
    ::close(fd);
    shift = std::strtoll(text, nullptr, 10);
  }
  clock_shift.store(shift, std::memory_order_relaxed);
  return shift;
}
}  // namespace

extern "C" int clock_gettime(clockid_t id, struct timespec* ts) {
  if (!real_clock_gettime) real_clock_gettime = reinterpret_cast<ClockFunction>(::dlsym(RTLD_NEXT, "clock_gettime"));
  const int r = real_clock_gettime(id, ts);
  const char* file = std::getenv("LPOPS_FAULT_CLOCK_SHIFT_FILE");
  if (r == 0 && file && *file && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) ts->tv_sec += current_shift(file);
  return r;
}

extern "C" ssize_t pread64(int fd, void* buffer, size_t size, off_t offset) { return pread(fd, buffer, size, offset); }
