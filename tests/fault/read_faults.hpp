#pragma once
// Read errors on demand, for tests of what the storage does when the disk fails a read.
// This test binary defines pread(2) itself, so every pread in it (the storage's included)
// passes through here.
#include <sys/types.h>

#include <cstddef>

namespace lpops::testing {

// The next pread at `offset` fails with EIO (once).
void fail_next_pread_at(off_t offset);
// How many preads failed on purpose since the start.
int failed_preads();
// Clears a failure not taken yet.
void disarm_pread_faults();

}  // namespace lpops::testing
