#pragma once
// Read errors and a full disk on demand, for tests of what the storage does when the disk
// fails. This test binary defines pread(2), pwrite(2), write(2) and sync_file_range(2) itself, so every call of them in it
// (the storage's included) passes through here; fstatvfs(2) too.
#include <sys/types.h>

#include <cstddef>

namespace lpops::testing {

// The next pread at `offset` fails with EIO (once).
void fail_next_pread_at(off_t offset);
// How many preads failed on purpose since the start.
int failed_preads();
// Clears a failure not taken yet.
void disarm_pread_faults();

// Every pwrite that reaches past `limit` bytes fails with ENOSPC (a full disk) until disarmed.
void fail_pwrites_past(off_t limit);
void disarm_pwrite_faults();
int failed_pwrites();

// The next sync_file_range(2) fails with `error` (once).
void fail_next_sync_file_range(int error);
int failed_sync_file_ranges();

// Until stopped, fstatvfs(2) reports `bytes` free (to unprivileged users), whatever the disk
// holds.
void report_free_bytes(unsigned long long bytes);
void stop_reporting_free_bytes();

// The next write(2) fails with ENOSPC (once).
void fail_next_write();
void disarm_write_faults();

}  // namespace lpops::testing
