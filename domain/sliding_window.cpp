#include "domain/sliding_window.hpp"

namespace lpops {

bool SlidingWindow::allow(const std::string& key, UnixMicros now) {
  if (now - last_sweep_ > window_micros_) sweep(now);
  auto& q = events_[key];
  // As the reference's limiter: a call exactly one window old still counts.
  while (!q.empty() && q.front() < now - window_micros_) q.pop_front();
  if (q.size() >= max_events_) return false;
  q.push_back(now);
  return true;
}

void SlidingWindow::sweep(UnixMicros now) {
  last_sweep_ = now;
  for (auto it = events_.begin(); it != events_.end();) {
    auto& q = it->second;
    while (!q.empty() && q.front() < now - window_micros_) q.pop_front();
    it = q.empty() ? events_.erase(it) : std::next(it);
  }
}

}  // namespace lpops
