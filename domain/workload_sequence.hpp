#pragma once
// The book's workloads in insertion order, kept in fixed blocks that a frozen copy shares: a
// listing takes the whole sequence as it is in microseconds (a reference to each block, not
// to each workload), and another thread reads the copy while the ledger goes on. A block the
// ledger changes while a copy holds it is copied first (copy on write); appending writes only
// slots past every frozen copy's end, so copies never see a slot change under them. A whole
// sequence copied (the book's replica) takes its own last, partly filled block: both go on
// appending, each into slots the other would otherwise share.
#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include "domain/workload.hpp"

namespace lpops {

class WorkloadSequence {
 public:
  using Ptr = std::shared_ptr<const Workload>;
  static constexpr std::size_t kBlock = 4096;

 private:
  using Block = std::array<Ptr, kBlock>;
  using Blocks = std::vector<std::shared_ptr<Block>>;

 public:
  // A copy of the sequence as it was when taken, safe to read from any thread.
  class Frozen {
   public:
    Frozen() = default;
    std::size_t size() const { return size_; }
    const Ptr& operator[](std::size_t i) const { return (*blocks_[i / kBlock])[i % kBlock]; }

   private:
    friend class WorkloadSequence;
    Frozen(Blocks blocks, std::size_t size) : blocks_(std::move(blocks)), size_(size) {}
    Blocks blocks_;
    std::size_t size_ = 0;
  };

  WorkloadSequence() = default;
  WorkloadSequence(const WorkloadSequence& other) : blocks_(other.blocks_), size_(other.size_) { own_last_block(); }
  WorkloadSequence& operator=(const WorkloadSequence& other) {
    if (this != &other) {
      blocks_ = other.blocks_;
      size_ = other.size_;
      own_last_block();
    }
    return *this;
  }
  WorkloadSequence(WorkloadSequence&&) noexcept = default;
  WorkloadSequence& operator=(WorkloadSequence&&) noexcept = default;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Ptr& operator[](std::size_t i) const { return (*blocks_[i / kBlock])[i % kBlock]; }
  const Ptr& back() const { return (*this)[size_ - 1]; }

  void push_back(Ptr w) {
    if (size_ % kBlock == 0) blocks_.push_back(std::make_shared<Block>());
    // The last block may be shared with a frozen copy: this slot is past that copy's end.
    (*blocks_.back())[size_ % kBlock] = std::move(w);
    ++size_;
  }
  void set(std::size_t i, Ptr w) {
    auto& block = blocks_[i / kBlock];
    if (block.use_count() > 1) block = std::make_shared<Block>(*block);  // a copy reads it: copy first
    // Held here alone: the last copy's reads happened before it let go (its release of the
    // count), and this write must come after them.
    else std::atomic_thread_fence(std::memory_order_acquire);
    (*block)[i % kBlock] = std::move(w);
  }
  Frozen freeze() const { return Frozen(blocks_, size_); }

  // Oldest first.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (std::size_t i = 0; i < size_; ++i) fn(*(*this)[i]);
  }

 private:
  void own_last_block() {
    if (size_ % kBlock != 0) blocks_.back() = std::make_shared<Block>(*blocks_.back());
  }
  Blocks blocks_;
  std::size_t size_ = 0;
};

}  // namespace lpops
