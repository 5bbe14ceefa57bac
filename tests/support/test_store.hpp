#pragma once
// A RecordStore for actor tests that keeps nothing on disk: a batch counts as durable once
// the subclass's commit() (which may record it, sleep or wait) returns.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/record_store.hpp"

namespace lpops::testing {

class TestStore : public storage::RecordStore {
 public:
  explicit TestStore(std::string name) : name_(std::move(name)) {}
  Result<storage::RecoveryReport> recover(const storage::SnapshotVisitor&, const storage::RecordVisitor&) override {
    return storage::RecoveryReport{};
  }
  std::optional<std::string> append(const std::vector<const storage::FramedRecord*>& records) override {
    commit(records);
    durable_ += records.size();
    return std::nullopt;
  }
  std::optional<std::string> write_snapshot(std::uint64_t, const BookText&) override { return std::nullopt; }
  std::optional<std::string> read(std::uint64_t) const override { return std::nullopt; }
  std::uint64_t durable_seq() const override { return durable_; }
  std::string describe() const override { return name_; }

 protected:
  virtual void commit(const std::vector<const storage::FramedRecord*>& records) = 0;

 private:
  std::string name_;
  std::atomic<std::uint64_t> durable_{0};
};

}  // namespace lpops::testing
