// The book's workloads in shared blocks: a frozen copy keeps what it was given while the
// sequence grows and changes, also on another thread; listings read from it.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "domain/book.hpp"

namespace lpops {
namespace {

std::shared_ptr<const Workload> workload(const std::string& id, const std::string& orchestrator, UnixMicros at,
                                         const char* status = "pending") {
  Workload w;
  w.workload_id = id;
  w.orchestrator_id = orchestrator;
  w.status = WorkloadStatus(status);
  w.submitted_at = at;
  w.payout_amount = 7;
  w.artifact_hash = "h";
  return std::make_shared<const Workload>(std::move(w));
}

TEST(WorkloadSequence, AFrozenCopyKeepsWhatItWasGiven) {
  WorkloadSequence seq;
  const std::size_t n = 3 * WorkloadSequence::kBlock + 5;  // blocks, and a last one partly filled
  for (std::size_t i = 0; i < n; ++i) seq.push_back(workload("w" + std::to_string(i), "o1", static_cast<UnixMicros>(i)));
  const auto frozen = seq.freeze();
  // Changed in a shared block, in the last (shared) block, and appended past the copy's end.
  seq.set(1, workload("w1", "o1", 1, "verified"));
  seq.set(n - 1, workload("w-last", "o2", 9));
  for (int i = 0; i < 5000; ++i) seq.push_back(workload("n" + std::to_string(i), "o3", 100000 + i));
  ASSERT_EQ(frozen.size(), n);
  EXPECT_EQ(frozen[1]->status, "pending");
  EXPECT_EQ(frozen[n - 1]->workload_id, "w" + std::to_string(n - 1));
  EXPECT_EQ(seq[1]->status, "verified");
  EXPECT_EQ(seq[n - 1]->workload_id, "w-last");
  EXPECT_EQ(seq.size(), n + 5000);
  EXPECT_EQ(seq.back()->workload_id, "n4999");
  // With no copy left, a change is made in place (the copy's blocks were not kept alive).
  const auto* slot = &seq[2];
  seq.set(2, workload("w2", "o1", 2, "paid"));
  EXPECT_EQ(&seq[2], slot);
}

// A reader thread goes through a frozen copy while the owner appends and replaces entries: a
// replaced entry in a block the copy shares would show the new status.
TEST(WorkloadSequence, ACopyIsReadOnAnotherThreadWhileTheOwnerChangesTheSequence) {
  WorkloadSequence seq;
  for (int i = 0; i < 20000; ++i) seq.push_back(workload("w" + std::to_string(i), "o1", i));
  for (int round = 0; round < 5; ++round) {
    const auto frozen = seq.freeze();
    std::atomic<bool> same{true};
    std::thread reader([&frozen, &same] {
      for (int pass = 0; pass < 3; ++pass)
        for (std::size_t i = 0; i < 20000; ++i)  // the first 20,000; earlier rounds appended more
          if (frozen[i]->workload_id != "w" + std::to_string(i) || frozen[i]->status != "pending") same = false;
    });
    for (int i = 0; i < 20000; i += 7) seq.set(static_cast<std::size_t>(i), workload("w" + std::to_string(i), "o1", i, "paid"));
    for (int i = 0; i < 3000; ++i) seq.push_back(workload("x" + std::to_string(round) + "-" + std::to_string(i), "o2", 1 << 20));
    reader.join();
    EXPECT_TRUE(same) << "round " << round;
    // The next round's copy sees the changes; they are reverted for its check.
    for (int i = 0; i < 20000; i += 7) seq.set(static_cast<std::size_t>(i), workload("w" + std::to_string(i), "o1", i));
  }
}

// A whole sequence copied (the book's replica, taken at start) goes on appending as the
// original does: each keeps its own appends, and neither writes a slot the other holds (they
// shared the last, partly filled block, each appending into it from its own thread).
TEST(WorkloadSequence, ACopiedSequenceAppendsIntoItsOwnBlock) {
  for (const std::size_t n : {std::size_t{5}, WorkloadSequence::kBlock, WorkloadSequence::kBlock + 1}) {
    WorkloadSequence original;
    for (std::size_t i = 0; i < n; ++i) original.push_back(workload("w" + std::to_string(i), "o1", static_cast<UnixMicros>(i)));
    WorkloadSequence copy = original;
    WorkloadSequence assigned;
    assigned = original;
    original.push_back(workload("mine", "o1", 1000));
    copy.push_back(workload("theirs", "o2", 1000));
    assigned.push_back(workload("third", "o3", 1000));
    EXPECT_EQ(original[n]->workload_id, "mine") << n;
    EXPECT_EQ(copy[n]->workload_id, "theirs") << n;
    EXPECT_EQ(assigned[n]->workload_id, "third") << n;
    EXPECT_EQ(copy[n - 1]->workload_id, "w" + std::to_string(n - 1)) << n;
    // A change to a shared (full or partly filled) block is the changer's alone.
    copy.set(0, workload("changed", "o2", 0));
    EXPECT_EQ(original[0]->workload_id, "w0") << n;
  }
}

TEST(WorkloadSequence, ListingsReadNewestFirstWithFiltersAndLimit) {
  WorkloadSequence seq;
  seq.push_back(workload("a", "o1", 10));
  seq.push_back(workload("b", "o2", 20, "verified"));
  seq.push_back(workload("c", "o1", 30, "verified"));
  seq.push_back(workload("d", "o1", 40));
  auto filter = [](std::optional<std::string> orchestrator, std::optional<std::string> status, std::optional<UnixMicros> since,
                   std::optional<UnixMicros> until, std::optional<std::size_t> limit) {
    WorkloadFilter f;
    f.orchestrator_id = std::move(orchestrator);
    f.status = std::move(status);
    f.since = since;
    f.until = until;
    f.limit = limit;
    return f;
  };
  auto ids = [&](WorkloadFilter f) {
    const auto doc = boost::json::parse(workload_listing_json(seq.freeze(), f));
    std::string out;
    for (const auto& w : doc.at("workloads").as_array()) out += std::string(w.at("workload_id").as_string());
    return out;
  };
  const auto none = std::nullopt;
  EXPECT_EQ(ids(filter(none, none, none, none, none)), "dcba");
  EXPECT_EQ(ids(filter("o1", none, none, none, none)), "dca");
  EXPECT_EQ(ids(filter(none, "verified", none, none, none)), "cb");
  EXPECT_EQ(ids(filter(none, none, 20, 30, none)), "cb");
  EXPECT_EQ(ids(filter("o1", none, none, none, 2)), "dc");
  EXPECT_EQ(ids(filter("nobody", none, none, none, none)), "");
  const auto rows = workload_summary_rows(seq.freeze(), 15, std::nullopt);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("orchestrator_id").as_string(), "o1");
  EXPECT_EQ(rows[0].at("workloads").as_uint64(), 2u);
  EXPECT_EQ(rows[1].at("workloads").as_uint64(), 1u);
}

}  // namespace
}  // namespace lpops
