// The journal actor and its sync actor against a slow store: records reach the store in
// order and in group commits no larger than the limit, and every acknowledgement runs only
// once its record (for a barrier: everything before it) is durable.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "actors/journal.hpp"
#include "tests/support/test_store.hpp"

namespace lpops::actors {
namespace {

class SlowStore final : public testing::TestStore {
 public:
  explicit SlowStore(std::chrono::milliseconds delay) : TestStore("slow test store"), delay_(delay) {}

  std::vector<std::size_t> batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  void commit(const std::vector<const storage::FramedRecord*>& records) override {
    std::this_thread::sleep_for(delay_);
    std::lock_guard lock(mutex_);
    batches_.push_back(records.size());
    for (const auto* r : records) lines_.push_back(r->line);
  }

  std::chrono::milliseconds delay_;
  mutable std::mutex mutex_;
  std::vector<std::size_t> batches_;
  std::vector<std::string> lines_;
};

Effect policy_effect(int i) {
  Effect e;
  e.type = Effect::Type::policy;
  e.at = 1'767'225'600'000'000 + i;
  return e;
}

TEST(JournalActor, GroupCommitsInOrderWithinTheLimitAndAcknowledgesOnlyDurableRecords) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto store = std::make_shared<SlowStore>(std::chrono::milliseconds(5));
  JournalOptions options;
  options.max_batch_records = 5;
  auto journal = sys.spawn<caf::detached>(journal_actor, std::static_pointer_cast<storage::RecordStore>(store),
                                          std::make_shared<Metrics>(), std::uint64_t{0}, Digest32{}, caf::actor{},
                                          std::shared_ptr<storage::AuditLog>{}, caf::actor{},
                                          AddressBook{}, options);
  constexpr int kRecords = 40;
  std::mutex mutex;
  std::vector<int> acked;               // in the order the acknowledgements ran
  std::vector<std::uint64_t> durable;   // the store's durable count when each ran
  std::promise<std::uint64_t> barrier;  // durable count when the barrier ran
  for (int i = 1; i <= kRecords; ++i) {
    caf::anon_send(journal, JournalAppend{static_cast<std::uint64_t>(i), policy_effect(i), [&, i] {
                                            std::lock_guard lock(mutex);
                                            acked.push_back(i);
                                            durable.push_back(store->durable_seq());
                                          }});
    if (i == kRecords / 2)  // a barrier in the middle waits for the 20 records before it
      caf::anon_send(journal, JournalBarrier{[&] {
                       std::lock_guard lock(mutex);
                       acked.push_back(0);
                       durable.push_back(store->durable_seq());
                     }});
  }
  caf::anon_send(journal, JournalBarrier{[&] { barrier.set_value(store->durable_seq()); }});
  auto done = barrier.get_future();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(done.get(), static_cast<std::uint64_t>(kRecords));
  caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);

  std::lock_guard lock(mutex);
  ASSERT_EQ(acked.size(), static_cast<std::size_t>(kRecords + 1));
  int expected = 1;
  for (std::size_t k = 0; k < acked.size(); ++k) {
    if (acked[k] == 0) {
      EXPECT_EQ(expected, kRecords / 2 + 1) << "the barrier ran out of order";
      EXPECT_GE(durable[k], static_cast<std::uint64_t>(kRecords / 2));
      continue;
    }
    EXPECT_EQ(acked[k], expected++) << "acknowledgements out of order";
    EXPECT_GE(durable[k], static_cast<std::uint64_t>(acked[k])) << "record " << acked[k] << " acknowledged before it was durable";
  }
  const auto batches = store->batches();
  std::size_t total = 0;
  for (auto b : batches) {
    EXPECT_GE(b, 1u);
    EXPECT_LE(b, options.max_batch_records);
    total += b;
  }
  EXPECT_EQ(total, static_cast<std::size_t>(kRecords));
  // While one batch syncs (5 ms) the rest queue up: far fewer writes than records.
  EXPECT_LE(batches.size(), 12u);
  const auto lines = store->lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kRecords));
  Digest32 prev{};
  for (int i = 0; i < kRecords; ++i) {
    auto parsed = storage::parse_record(std::string_view(lines[i]).substr(0, lines[i].size() - 1));
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(parsed->seq, static_cast<std::uint64_t>(i + 1));
    EXPECT_EQ(parsed->prev, prev) << "hash link broken at seq " << i + 1;
    prev = parsed->hash;
    auto effect = Effect::from_json(parsed->effect);
    ASSERT_TRUE(effect.ok());
    EXPECT_EQ(effect->at, policy_effect(i + 1).at);
  }
}

// A snapshotter that takes each feed once `released` is ready, counting the effects applied.
caf::behavior held_up_snapshotter(caf::event_based_actor*, std::shared_future<void> released, std::atomic<std::size_t>* applied) {
  return {[released, applied](SnapshotFeed& feed) {
    released.wait();  // held up until the test lets it go
    *applied += feed.effects.size();
  }};
}

// The snapshotter must apply every effect in order; while it is held up (a snapshot being
// written on a slow disk) and too far behind, commits wait for it instead of its backlog
// growing without bound (invariant 6). Once it goes on, every record is acknowledged.
TEST(JournalActor, CommitsWaitWhileTheSnapshotterIsTooFarBehind) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto store = std::make_shared<SlowStore>(std::chrono::milliseconds(0));
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<std::size_t> applied{0};
  auto snapshotter = sys.spawn<caf::detached>(held_up_snapshotter, released, &applied);
  JournalOptions options;
  options.max_batch_records = 16;
  options.snapshot_feed_records = 16;
  options.snapshot_backlog_records = 64;
  auto journal = sys.spawn<caf::detached>(journal_actor, std::static_pointer_cast<storage::RecordStore>(store),
                                          std::make_shared<Metrics>(), std::uint64_t{0}, Digest32{}, snapshotter,
                                          std::shared_ptr<storage::AuditLog>{}, caf::actor{}, AddressBook{}, options);
  constexpr int kRecords = 2000;
  std::atomic<int> acked{0};
  for (int i = 1; i <= kRecords; ++i)
    caf::anon_send(journal, JournalAppend{static_cast<std::uint64_t>(i), policy_effect(i), [&acked] { ++acked; }});
  // Held up: at most the backlog's limit (and the batch that crossed it) is acknowledged.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // (The batch whose feed crosses the limit waits before its acknowledgements: up to a
  // batch and a feed either side of 64.)
  EXPECT_LE(acked.load(), 64 + 16 + 16) << "commits went on while the snapshotter was too far behind";
  EXPECT_GE(acked.load(), 64 - 16 - 16);
  release.set_value();
  for (int i = 0; i < 3000 && acked.load() < kRecords; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(acked.load(), kRecords);
  std::promise<void> flushed;
  caf::anon_send(journal, JournalBarrier{[&flushed] { flushed.set_value(); }});
  ASSERT_EQ(flushed.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(snapshotter, caf::exit_reason::user_shutdown);
}

}  // namespace
}  // namespace lpops::actors
