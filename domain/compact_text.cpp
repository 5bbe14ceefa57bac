#include "domain/compact_text.hpp"

#include <functional>
#include <mutex>
#include <set>

namespace lpops {

SharedText::SharedText(std::string_view text) {
  if (text.empty()) return;
  // Node-based, so a text's address never changes; never destroyed, as records holding its
  // pointers may be destroyed after any static object.
  static auto* const texts = new std::set<std::string, std::less<>>();
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  auto it = texts->find(text);
  if (it == texts->end()) it = texts->emplace(text).first;
  text_ = &*it;
}

}  // namespace lpops
