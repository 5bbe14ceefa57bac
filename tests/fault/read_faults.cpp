#include "tests/fault/read_faults.hpp"

#include <dlfcn.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace lpops::testing {
namespace {

std::atomic<bool> armed{false};
std::atomic<off_t> fault_offset{0};
std::atomic<int> failed{0};

using PreadFn = ssize_t (*)(int, void*, size_t, off_t);

ssize_t real_pread(int fd, void* buf, size_t n, off_t offset) {
  static const auto next = reinterpret_cast<PreadFn>(::dlsym(RTLD_NEXT, "pread"));
  return next(fd, buf, n, offset);
}

std::atomic<bool> pwrite_armed{false};
std::atomic<off_t> pwrite_limit{0};
std::atomic<int> pwrite_failed{0};

using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);

ssize_t real_pwrite(int fd, const void* buf, size_t n, off_t offset) {
  static const auto next = reinterpret_cast<PwriteFn>(::dlsym(RTLD_NEXT, "pwrite"));
  return next(fd, buf, n, offset);
}

bool take_write_fault(size_t n, off_t offset) {
  if (!pwrite_armed.load() || offset + static_cast<off_t>(n) <= pwrite_limit.load()) return false;
  ++pwrite_failed;
  errno = ENOSPC;
  return true;
}

std::atomic<bool> write_armed{false};

using WriteFn = ssize_t (*)(int, const void*, size_t);

ssize_t real_write(int fd, const void* buf, size_t n) {
  static const auto next = reinterpret_cast<WriteFn>(::dlsym(RTLD_NEXT, "write"));
  return next(fd, buf, n);
}

bool take_plain_write_fault() {
  bool expected = true;
  if (!write_armed.compare_exchange_strong(expected, false)) return false;
  errno = ENOSPC;
  return true;
}

std::atomic<int> sync_range_error{0};
std::atomic<int> sync_range_failed{0};

using SyncRangeFn = int (*)(int, off_t, off_t, unsigned int);

int real_sync_file_range(int fd, off_t offset, off_t n, unsigned int flags) {
  static const auto next = reinterpret_cast<SyncRangeFn>(::dlsym(RTLD_NEXT, "sync_file_range"));
  return next(fd, offset, n, flags);
}

bool take_sync_range_fault() {
  const int error = sync_range_error.exchange(0);
  if (error == 0) return false;
  ++sync_range_failed;
  errno = error;
  return true;
}

std::atomic<bool> free_reported{false};
std::atomic<unsigned long long> free_bytes{0};

using FstatvfsFn = int (*)(int, struct statvfs*);

int fstatvfs_as_told(int fd, struct statvfs* out, const char* symbol) {
  static const auto next = reinterpret_cast<FstatvfsFn>(::dlsym(RTLD_NEXT, "fstatvfs"));
  static const auto next64 = reinterpret_cast<FstatvfsFn>(::dlsym(RTLD_NEXT, "fstatvfs64"));
  const auto real = symbol[7] == '6' && next64 ? next64 : next;
  const int r = real(fd, out);
  if (r == 0 && free_reported.load() && out->f_frsize > 0) out->f_bavail = free_bytes.load() / out->f_frsize;
  return r;
}

bool take_fault(off_t offset) {
  bool expected = true;
  if (offset != fault_offset.load() || !armed.compare_exchange_strong(expected, false)) return false;
  ++failed;
  errno = EIO;
  return true;
}

}  // namespace

void fail_next_pread_at(off_t offset) {
  fault_offset = offset;
  armed = true;
}
int failed_preads() { return failed.load(); }
void disarm_pread_faults() { armed = false; }

void fail_pwrites_past(off_t limit) {
  pwrite_limit = limit;
  pwrite_armed = true;
}
void disarm_pwrite_faults() { pwrite_armed = false; }
int failed_pwrites() { return pwrite_failed.load(); }
void fail_next_write() { write_armed = true; }
void fail_next_sync_file_range(int error) { sync_range_error = error; }
int failed_sync_file_ranges() { return sync_range_failed.load(); }
void disarm_write_faults() { write_armed = false; }
void report_free_bytes(unsigned long long bytes) {
  free_bytes = bytes;
  free_reported = true;
}
void stop_reporting_free_bytes() { free_reported = false; }

}  // namespace lpops::testing

using lpops::testing::real_pread;
using lpops::testing::real_pwrite;
using lpops::testing::real_write;
using lpops::testing::take_plain_write_fault;
using lpops::testing::take_fault;
using lpops::testing::take_write_fault;
using lpops::testing::real_sync_file_range;
using lpops::testing::take_sync_range_fault;
using lpops::testing::fstatvfs_as_told;

extern "C" {
ssize_t pread(int fd, void* buf, size_t n, off_t offset) { return take_fault(offset) ? -1 : real_pread(fd, buf, n, offset); }
ssize_t pread64(int fd, void* buf, size_t n, off_t offset) { return take_fault(offset) ? -1 : real_pread(fd, buf, n, offset); }
ssize_t __pread_chk(int fd, void* buf, size_t n, off_t offset, size_t) {
  return take_fault(offset) ? -1 : real_pread(fd, buf, n, offset);
}
ssize_t __pread64_chk(int fd, void* buf, size_t n, off_t offset, size_t) {
  return take_fault(offset) ? -1 : real_pread(fd, buf, n, offset);
}
int sync_file_range(int fd, off_t offset, off_t n, unsigned int flags) {
  return take_sync_range_fault() ? -1 : real_sync_file_range(fd, offset, n, flags);
}
int fstatvfs(int fd, struct statvfs* out) { return fstatvfs_as_told(fd, out, "fstatvfs"); }
int fstatvfs64(int fd, struct statvfs64* out) {
  return fstatvfs_as_told(fd, reinterpret_cast<struct statvfs*>(out), "fstatvfs64");
}
ssize_t write(int fd, const void* buf, size_t n) { return take_plain_write_fault() ? -1 : real_write(fd, buf, n); }
ssize_t pwrite(int fd, const void* buf, size_t n, off_t offset) {
  return take_write_fault(n, offset) ? -1 : real_pwrite(fd, buf, n, offset);
}
ssize_t pwrite64(int fd, const void* buf, size_t n, off_t offset) {
  return take_write_fault(n, offset) ? -1 : real_pwrite(fd, buf, n, offset);
}
}
