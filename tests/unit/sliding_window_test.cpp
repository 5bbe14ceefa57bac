// The registration and public rate limits: the reference's sliding window, event for event.
#include <gtest/gtest.h>

#include "domain/sliding_window.hpp"

namespace lpops {
namespace {

constexpr std::int64_t kSecond = 1'000'000;

// At most max_events calls of one key in any window; a call exactly one window old still
// counts (the reference drops only those older: `queue[0] < now - window`), one a microsecond
// older does not.
TEST(SlidingWindow, ACallExactlyOneWindowOldStillCounts) {
  SlidingWindow w(2, 60);
  EXPECT_TRUE(w.allow("k", 0));
  EXPECT_TRUE(w.allow("k", 10 * kSecond));
  EXPECT_FALSE(w.allow("k", 20 * kSecond));
  EXPECT_FALSE(w.allow("k", 60 * kSecond));      // the call at 0 is exactly 60 s old
  EXPECT_TRUE(w.allow("k", 60 * kSecond + 1));   // now it is older
  EXPECT_FALSE(w.allow("k", 60 * kSecond + 2));  // 10 s and 60 s + 1 remain
  EXPECT_TRUE(w.allow("other", 60 * kSecond + 2));
}

// A refused call is not recorded, and keys whose windows emptied are swept.
TEST(SlidingWindow, RefusalsAreNotRecordedAndIdleKeysAreSwept) {
  SlidingWindow w(1, 10);
  EXPECT_TRUE(w.allow("a", 0));
  for (int i = 1; i <= 10; ++i) EXPECT_FALSE(w.allow("a", i * kSecond)) << i;
  EXPECT_TRUE(w.allow("a", 10 * kSecond + 1));  // the refusals left nothing behind
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(w.allow("key" + std::to_string(i), 11 * kSecond));
  EXPECT_EQ(w.tracked_keys(), 101u);
  EXPECT_TRUE(w.allow("late", 40 * kSecond));  // a sweep: every window before has emptied
  EXPECT_EQ(w.tracked_keys(), 1u);
}

}  // namespace
}  // namespace lpops
