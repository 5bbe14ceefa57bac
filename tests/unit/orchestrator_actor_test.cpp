// An orchestrator's actor stamps a registration when it handles it. The registry reads a
// registration's time before it reaches the actor; a health push the actor handled in between
// is stamped later, and must count as what it is: fresh, and the latest contact.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <vector>

#include "actors/orchestrator.hpp"
#include "domain/clock.hpp"
#include "domain/orchestrator.hpp"

namespace lpops::actors {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// What the stub ledger was sent: each upserted record, in order.
struct Upserts {
  std::mutex mutex;
  std::vector<json::object> records;
};

// A ledger that takes every upsert at once, answering with a zero balance.
caf::behavior stub_ledger(caf::event_based_actor*, std::shared_ptr<Upserts> seen) {
  return {
      [seen](UpsertOrchestrator& m) {
        {
          std::lock_guard lock(seen->mutex);
          seen->records.push_back(m.record);
        }
        m.reply(200, m.respond(SignedWei{}));
      },
  };
}

struct Answer {
  std::promise<std::pair<int, std::string>> promise;
  std::future<std::pair<int, std::string>> future = promise.get_future();
  Reply reply() {
    return [this](int status, std::string body) { promise.set_value({status, std::move(body)}); };
  }
  json::object body() {
    EXPECT_EQ(future.wait_for(10s), std::future_status::ready);
    auto [status, text] = future.get();
    EXPECT_EQ(status, 200) << text;
    return json::parse(text).as_object();
  }
};

UnixMicros time_of(const json::object& rec, const char* key) {
  const auto t = parse_iso(std::string(rec.at(key).as_string()));
  EXPECT_TRUE(t) << key;
  return t.value_or(0);
}

class OrchestratorActorTest : public ::testing::Test {
 protected:
  OrchestratorActorTest() {
    registration_.orchestrator_id = "o1";
    registration_.address = "0x" + std::string(40, 'a');
    // Registered a minute ago, as a record read at start-up would be.
    const UnixMicros then = now_micros() - 60'000'000;
    json::object rec = new_orchestrator_record(registration_, then);
    merge_registration(rec, registration_, "127.0.0.1", true, then);
    ledger_ = sys_.spawn(stub_ledger, seen_);
    actor_ = sys_.spawn(orchestrator_actor, rec, ledger_, std::make_shared<Metrics>(), std::int64_t{120});
  }
  ~OrchestratorActorTest() override {
    caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(ledger_, caf::exit_reason::user_shutdown);
  }

  json::object push(int services_up) {
    Answer a;
    caf::anon_send(actor_, HealthPush{"o1", "forwarder", json::object{{"summary", json::object{{"services_up", services_up}}}},
                                      a.reply()});
    a.body();
    return last_record();
  }
  // A registration whose time was read `before` ahead of its arrival, as the registry reads it.
  json::object register_read(std::chrono::microseconds before) {
    Answer a;
    caf::anon_send(actor_, ApplyRegistration{registration_, "127.0.0.1", std::nullopt, false, false, a.reply(),
                                             now_micros() - before.count(), {}});
    return a.body();
  }
  json::object last_record() {
    std::lock_guard lock(seen_->mutex);
    EXPECT_FALSE(seen_->records.empty());
    return seen_->records.empty() ? json::object{} : seen_->records.back();
  }

  caf::actor_system_config cfg_;
  caf::actor_system sys_{cfg_};
  std::shared_ptr<Upserts> seen_ = std::make_shared<Upserts>();
  Registration registration_;
  caf::actor ledger_, actor_;
};

TEST_F(OrchestratorActorTest, ARegistrationReadBeforeAFreshDownPushIsNotEligible) {
  push(0);
  // Without the push it would be eligible (the same registration, read as late).
  const json::object answer = register_read(1s);
  EXPECT_FALSE(answer.at("eligible_for_payments").as_bool()) << json::serialize(answer);
}

TEST_F(OrchestratorActorTest, ARegistrationReadBeforeAnUpPushKeepsTheLatestContact) {
  const json::object pushed = push(1);
  const UnixMicros contact = time_of(pushed, "last_seen");
  EXPECT_EQ(contact, time_of(pushed.at("forwarder_health").as_object(), "reported_at"));
  const json::object answer = register_read(1s);
  EXPECT_TRUE(answer.at("eligible_for_payments").as_bool()) << json::serialize(answer);
  const json::object registered = last_record();
  EXPECT_GE(time_of(registered, "last_seen"), contact) << json::serialize(registered);
  // A later push is stamped after the registration, never before it.
  const json::object again = push(1);
  EXPECT_GE(time_of(again, "last_seen"), time_of(registered, "last_seen"));
}

TEST_F(OrchestratorActorTest, ARegistrationIsStampedWhenItIsHandled) {
  const UnixMicros before = now_micros();
  register_read(1s);
  const UnixMicros seen = time_of(last_record(), "last_seen");
  EXPECT_GE(seen, before);
  EXPECT_LE(seen, now_micros());
}

}  // namespace
}  // namespace lpops::actors
