#pragma once
// In-memory sliding-window rate limiting, keyed by string. Keys whose windows have emptied
// are swept, so memory is bounded by the callers active within one window.
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

#include "domain/clock.hpp"

namespace lpops {

class SlidingWindow {
 public:
  SlidingWindow(std::size_t max_events, std::int64_t window_seconds)
      : max_events_(max_events), window_micros_(window_seconds * 1'000'000) {}

  // True (and the call is recorded) when `key` has fewer than max_events in the window.
  // `now` from monotonic_micros(); tests may pass any clock that never goes back.
  bool allow(const std::string& key, UnixMicros now);
  std::size_t tracked_keys() const { return events_.size(); }

 private:
  void sweep(UnixMicros now);

  std::size_t max_events_;
  std::int64_t window_micros_;
  std::unordered_map<std::string, std::deque<UnixMicros>> events_;
  UnixMicros last_sweep_ = 0;
};

}  // namespace lpops
