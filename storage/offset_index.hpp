#pragma once
// seq -> (offset, length) of durable journal lines. One writer (the journal's sync thread)
// appends; any number of readers look up seqs at or below durable() without locks.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace lpops::storage {

class OffsetIndex {
 public:
  static constexpr std::size_t kChunkBits = 16;
  static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
  // 2^34 records (the index alone would hold 256 GiB of memory by then): a bound no node reaches,
  // where 2^30 (a billion credits) was one a long-lived node could.
  static constexpr std::size_t kMaxChunks = std::size_t{1} << 18;

  struct Span {
    std::uint64_t offset;
    std::uint32_t length;
  };

  OffsetIndex() = default;
  ~OffsetIndex();
  OffsetIndex(const OffsetIndex&) = delete;
  OffsetIndex& operator=(const OffsetIndex&) = delete;

  // Writer only: records seq (must be durable() + 1) without publishing it.
  void put(std::uint64_t seq, Span span);
  // Writer only: makes every put seq <= seq visible to readers.
  void publish(std::uint64_t seq) { durable_.store(seq, std::memory_order_release); }

  std::uint64_t durable() const { return durable_.load(std::memory_order_acquire); }
  std::optional<Span> get(std::uint64_t seq) const;

 private:
  struct Slot {
    std::atomic<std::uint64_t> offset{0};
    std::atomic<std::uint32_t> length{0};
  };
  std::array<std::atomic<Slot*>, kMaxChunks> chunks_{};
  std::atomic<std::uint64_t> durable_{0};
};

}  // namespace lpops::storage
