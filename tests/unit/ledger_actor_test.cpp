// The ledger actor answers only from durable state: while a group commit is on its way to
// the disk, a failure or a query that could report it (a 409 "already exists", a balance)
// waits until it is durable, as acknowledgements do. A crash before then would undo what
// the answer told.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>

#include "actors/ledger.hpp"
#include "actors/registry.hpp"
#include "domain/orchestrator.hpp"
#include "tests/support/test_store.hpp"

namespace lpops::actors {
namespace {

using namespace std::chrono_literals;
constexpr UnixMicros kNow = 1'767'225'600'000'000;

// A store whose commits wait until the test opens the gate.
class GatedStore final : public testing::TestStore {
 public:
  GatedStore() : TestStore("gated test store") {}
  bool wait_for_a_commit(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return waiting_ > 0; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  void commit(const std::vector<const storage::FramedRecord*>&) override {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
  int waiting_ = 0;
};

struct Answer {
  std::promise<std::pair<int, std::string>> promise;
  std::future<std::pair<int, std::string>> future = promise.get_future();
  Reply reply() {
    return [this](int status, std::string body) { promise.set_value({status, std::move(body)}); };
  }
  bool arrived(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    return future.wait_for(limit) == std::future_status::ready;
  }
};

TEST(LedgerActor, AnswersWaitUntilWhatTheyReportIsDurable) {
  auto book = std::make_shared<Book>();
  Registration r;
  r.orchestrator_id = "o1";
  r.address = "0x" + std::string(40, 'a');
  boost::json::object rec = new_orchestrator_record(r, kNow);
  merge_registration(rec, r, "127.0.0.1", true, kNow);
  book->upsert_orchestrator(rec, kNow);
  const std::uint64_t last_seq = book->last_seq();

  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto store = std::make_shared<GatedStore>();
  JournalSetup journal;
  journal.store = store;
  journal.metrics = std::make_shared<Metrics>();
  journal.last_seq = last_seq;
  LedgerOptions options{Rate::parse_eth_per_minute("0.000005353596").value()};
  auto ledger = sys.spawn<caf::detached>(ledger_actor, book, journal, journal.metrics, options);

  WorkloadDraft draft;
  draft.workload_id = "w1";
  draft.orchestrator_id = "o1";
  Answer created, again, balance;
  caf::anon_send(ledger, CreateTimeWorkload{draft, 60'000, "verified", created.reply()});
  ASSERT_TRUE(store->wait_for_a_commit(10s)) << "the credit never reached the store";
  // The same id again: "already exists" is true only once the first one is durable.
  caf::anon_send(ledger, CreateTimeWorkload{draft, 60'000, "verified", again.reply()});
  caf::anon_send(ledger, Query{[](const Book& b) { return std::pair{200, format_wei(b.balance("o1"))}; }, balance.reply()});
  EXPECT_EQ(again.future.wait_for(300ms), std::future_status::timeout) << "a 409 reported a credit not yet durable";
  EXPECT_EQ(balance.future.wait_for(10ms), std::future_status::timeout) << "a balance reported a credit not yet durable";
  EXPECT_EQ(created.future.wait_for(10ms), std::future_status::timeout) << "acknowledged before durable";

  store->open();
  ASSERT_TRUE(created.arrived());
  ASSERT_TRUE(again.arrived());
  ASSERT_TRUE(balance.arrived());
  EXPECT_EQ(created.future.get().first, 200);
  EXPECT_EQ(again.future.get().first, 409);
  EXPECT_EQ(balance.future.get(), std::pair(200, std::string("5353596000000")));  // one minute at 0.000005353596 ETH
  caf::anon_send_exit(ledger, caf::exit_reason::user_shutdown);
}

// A registration refused because another holds the address tells of that registration: the
// refusal waits until it is durable (a crash before then would leave the address free).
TEST(RegistryActor, ARefusalWaitsUntilTheRegistrationItReportsIsDurable) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto store = std::make_shared<GatedStore>();
  JournalSetup journal;
  journal.store = store;
  journal.metrics = std::make_shared<Metrics>();
  LedgerOptions options{Rate::parse_eth_per_minute("0.000005353596").value()};
  auto ledger = sys.spawn<caf::detached>(ledger_actor, std::make_shared<Book>(), journal, journal.metrics, options);
  auto registry = sys.spawn(registry_actor, std::vector<boost::json::object>{}, ledger, journal.metrics, RegistryOptions{},
                            caf::actor{});
  Registration a;
  a.orchestrator_id = "a";
  a.address = "0x" + std::string(40, 'a');
  Registration b = a;
  b.orchestrator_id = "b";
  Answer first, taken, moved;
  caf::anon_send(registry, Register{a, "127.0.0.1", first.reply(), false, false, {}});
  ASSERT_TRUE(store->wait_for_a_commit(10s)) << "the registration never reached the store";
  caf::anon_send(registry, Register{b, "127.0.0.2", taken.reply(), false, false, {}});
  Registration a_moved = a;
  a_moved.address = "0x" + std::string(40, 'c');
  caf::anon_send(registry, Register{a_moved, "127.0.0.3", moved.reply(), false, false, {}});
  EXPECT_EQ(taken.future.wait_for(300ms), std::future_status::timeout) << "refused for a registration not yet durable";
  EXPECT_EQ(moved.future.wait_for(10ms), std::future_status::timeout) << "refused for a registration not yet durable";
  store->open();
  ASSERT_TRUE(first.arrived());
  ASSERT_TRUE(taken.arrived());
  ASSERT_TRUE(moved.arrived());
  EXPECT_EQ(first.future.get().first, 200);
  const auto refused = taken.future.get();
  EXPECT_EQ(refused.first, 409);
  EXPECT_NE(refused.second.find("Address already registered to a different orchestrator"), std::string::npos) << refused.second;
  EXPECT_EQ(moved.future.get().first, 409);
  caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(ledger, caf::exit_reason::user_shutdown);
}

}  // namespace
}  // namespace lpops::actors
