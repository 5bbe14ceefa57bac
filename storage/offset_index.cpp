#include "storage/offset_index.hpp"

#include <stdexcept>

namespace lpops::storage {

OffsetIndex::~OffsetIndex() {
  for (auto& c : chunks_) delete[] c.load();
}

void OffsetIndex::put(std::uint64_t seq, Span span) {
  const std::size_t chunk = seq >> kChunkBits;
  if (chunk >= kMaxChunks) throw std::length_error("journal offset index is full");
  Slot* slots = chunks_[chunk].load(std::memory_order_acquire);
  if (!slots) {
    slots = new Slot[kChunkSize];
    chunks_[chunk].store(slots, std::memory_order_release);
  }
  Slot& s = slots[seq & (kChunkSize - 1)];
  s.offset.store(span.offset, std::memory_order_relaxed);
  s.length.store(span.length, std::memory_order_relaxed);
}

std::optional<OffsetIndex::Span> OffsetIndex::get(std::uint64_t seq) const {
  if (seq == 0 || seq > durable()) return std::nullopt;
  const Slot* slots = chunks_[seq >> kChunkBits].load(std::memory_order_acquire);
  if (!slots) return std::nullopt;
  const Slot& s = slots[seq & (kChunkSize - 1)];
  return Span{s.offset.load(std::memory_order_relaxed), s.length.load(std::memory_order_relaxed)};
}

}  // namespace lpops::storage
