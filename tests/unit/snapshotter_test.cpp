// The snapshotter writes a snapshot every so many records and keeps doing so while every
// record adds a workload (the book grows as fast as the record count).
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "actors/snapshotter.hpp"
#include "domain/orchestrator.hpp"

namespace lpops::actors {
namespace {

constexpr UnixMicros kNow = 1'767'225'600'000'000;

class SnapshotStore final : public storage::RecordStore {
 public:
  Result<storage::RecoveryReport> recover(const storage::SnapshotVisitor&, const storage::RecordVisitor&) override {
    return storage::RecoveryReport{};
  }
  std::optional<std::string> append(const std::vector<const storage::FramedRecord*>&) override { return std::nullopt; }
  std::optional<std::string> write_snapshot(std::uint64_t seq, const BookText& book) override {
    std::string text;
    if (!book([&text](std::string_view piece) {
          text += piece;
          return true;
        }))
      return "write failed";
    std::lock_guard lock(mutex_);
    seqs_.push_back(seq);
    last_text_ = std::move(text);
    return std::nullopt;
  }
  std::optional<std::string> read(std::uint64_t) const override { return std::nullopt; }
  std::uint64_t durable_seq() const override { return 0; }
  std::string describe() const override { return "snapshot test store"; }

  std::vector<std::uint64_t> seqs() const {
    std::lock_guard lock(mutex_);
    return seqs_;
  }
  std::string last_text() const {
    std::lock_guard lock(mutex_);
    return last_text_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> seqs_;
  std::string last_text_;
};

TEST(Snapshotter, IntervalIsTheConfiguredOneAndAtLeastTheBookSize) {
  EXPECT_EQ(snapshot_interval(100'000, 0), 100'000u);
  EXPECT_EQ(snapshot_interval(100'000, 250'000), 250'000u);
  EXPECT_EQ(snapshot_interval(0, 0), 1u);
}

// The effects a ledger would journal: one orchestrator, then a new workload per record.
std::vector<Effect> growing_book_effects() {
  Book source;
  std::vector<Effect> effects;
  Registration r;
  r.orchestrator_id = "o1";
  r.address = "0x" + std::string(40, 'a');
  auto record = new_orchestrator_record(r, kNow);
  merge_registration(record, r, "127.0.0.1", true, kNow);
  effects.push_back(*source.upsert_orchestrator(record, kNow).effect);
  const Rate rate = Rate::parse_eth_per_minute("0.000005353596").value();
  for (int i = 1; i < 100; ++i) {
    WorkloadDraft d;
    d.workload_id = "w" + std::to_string(i);
    d.orchestrator_id = "o1";
    auto decision = source.create_time_workload(d, 60'000, "verified", rate, kNow + i);
    EXPECT_TRUE(decision.effect.has_value());
    if (decision.effect) effects.push_back(*decision.effect);
  }
  return effects;
}

TEST(Snapshotter, KeepsWritingSnapshotsWhileTheBookGrows) {
  const auto effects = growing_book_effects();
  ASSERT_EQ(effects.size(), 100u);

  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto store = std::make_shared<SnapshotStore>();
  auto snapshotter = sys.spawn<caf::detached>(snapshotter_actor, std::make_shared<Book>(),
                                              std::static_pointer_cast<storage::RecordStore>(store),
                                              std::make_shared<Metrics>(), std::uint64_t{10}, std::uint64_t{0});
  // Feeds of five records, as the journal's sync actor sends them, each with its ticket on the
  // backlog, which it gives back once the snapshotter is done with it.
  auto backlog = std::make_shared<SnapshotBacklog>(1u << 20);
  for (std::size_t first = 0; first < effects.size(); first += 5) {
    SnapshotFeed feed;
    feed.first_seq = first + 1;
    feed.effects.assign(effects.begin() + static_cast<std::ptrdiff_t>(first),
                        effects.begin() + static_cast<std::ptrdiff_t>(first + 5));
    feed.ticket = SnapshotBacklog::take(backlog, feed.effects.size());
    caf::anon_send(snapshotter, std::move(feed));
  }
  // All 100 records taken before anything is checked (an exit would overtake the feeds
  // still queued, and a snapshot wrongly taken at 90 or 100 would go unseen).
  for (int i = 0; i < 500 && backlog->outstanding() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(backlog->outstanding(), 0u);
  caf::anon_send_exit(snapshotter, caf::exit_reason::user_shutdown);
  sys.await_all_actors_done();
  // Every 10 records at first, then once per book size: after 10 (book of 10), 20 (20), 40, 80.
  const std::vector<std::uint64_t> expected{10, 20, 40, 80};
  EXPECT_EQ(store->seqs(), expected);
  // The last snapshot is the book as it was at seq 80.
  Book at80;
  for (std::uint64_t seq = 1; seq <= 80; ++seq) ASSERT_FALSE(at80.apply(effects[seq - 1], seq).has_value());
  EXPECT_TRUE(store->last_text() == at80.snapshot_text()) << "the last snapshot is not the book at seq 80";
}

// A snapshotter started on the book at seq `recovered` (of which `replayed` records came after
// the snapshot start-up began from), fed records recovered+1 .. recovered+5: the seqs of the
// snapshots it writes.
std::vector<std::uint64_t> snapshots_after_restart(std::uint64_t recovered, std::uint64_t replayed) {
  const auto effects = growing_book_effects();
  auto replica = std::make_shared<Book>();
  for (std::uint64_t seq = 1; seq <= recovered; ++seq) EXPECT_FALSE(replica->apply(effects[seq - 1], seq).has_value());
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto store = std::make_shared<SnapshotStore>();
  auto snapshotter = sys.spawn<caf::detached>(snapshotter_actor, replica, std::static_pointer_cast<storage::RecordStore>(store),
                                              std::make_shared<Metrics>(), std::uint64_t{10}, replayed);
  SnapshotFeed feed;
  feed.first_seq = recovered + 1;
  feed.effects.assign(effects.begin() + static_cast<std::ptrdiff_t>(recovered),
                      effects.begin() + static_cast<std::ptrdiff_t>(recovered + 5));
  caf::anon_send(snapshotter, std::move(feed));
  for (int i = 0; i < 500 && store->seqs().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  caf::anon_send_exit(snapshotter, caf::exit_reason::user_shutdown);
  return store->seqs();
}

// A record the replica refuses (here one that does not follow its last) stops the process
// (status 70): the book and the journal's replay may differ, and start-up must rebuild it.
TEST(SnapshotterDeathTest, ARecordTheReplicaRefusesStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const auto effects = growing_book_effects();
  EXPECT_EXIT(
      {
        caf::actor_system_config cfg;
        caf::actor_system sys{cfg};
        auto snapshotter = sys.spawn<caf::detached>(snapshotter_actor, std::make_shared<Book>(),
                                                    std::static_pointer_cast<storage::RecordStore>(std::make_shared<SnapshotStore>()),
                                                    std::make_shared<Metrics>(), std::uint64_t{10}, std::uint64_t{0});
        SnapshotFeed feed;
        feed.first_seq = 2;  // the replica is at seq 0
        feed.effects.assign(effects.begin(), effects.begin() + 1);
        caf::anon_send(snapshotter, std::move(feed));
        std::this_thread::sleep_for(std::chrono::seconds(10));  // never reached: the exit comes first
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(70), "");
}

// The records replayed at start-up count towards the next snapshot: a node that restarts
// more often than every interval still writes one (its replay stays bounded).
TEST(Snapshotter, RecordsReplayedAtStartCountTowardsTheNextSnapshot) {
  // No snapshot yet: all 8 records were replayed at start.
  EXPECT_EQ(snapshots_after_restart(8, 8), std::vector<std::uint64_t>{13});
}

// After a restart the interval is the book's size at the snapshot start-up began from, not
// its size after the replayed tail: otherwise every restart pushed the next snapshot further
// away and the tail replayed at start grew without bound.
TEST(Snapshotter, AfterARestartTheIntervalIsTheBookAtTheLastSnapshot) {
  // The snapshot was at seq 30 (a book of 30); 30 records were replayed on top of it. 35
  // records since seq 30 are past the book's 30.
  EXPECT_EQ(snapshots_after_restart(60, 30), std::vector<std::uint64_t>{65});
}

}  // namespace
}  // namespace lpops::actors
