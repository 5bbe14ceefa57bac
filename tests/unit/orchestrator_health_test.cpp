// Forwarder health pushes, as the reference tests them: for eligibility a push counts while
// 0 <= its age <= the TTL (a stale push, or one dated ahead of the clock, is no report); for a
// view's activity while its age <= the TTL.
#include <gtest/gtest.h>

#include "domain/orchestrator.hpp"

namespace lpops {
namespace {

namespace json = boost::json;

constexpr UnixMicros kSecond = 1'000'000;
constexpr UnixMicros kPushedAt = 1'780'000'000 * kSecond;

json::object record_pushed(bool services_up) {
  Registration r;
  r.orchestrator_id = "o";
  r.address = "0x1111111111111111111111111111111111111111";
  json::object rec = new_orchestrator_record(r, kPushedAt - 60 * kSecond);
  merge_registration(rec, r, "127.0.0.1", true, kPushedAt - 60 * kSecond);
  apply_health_push(rec, "forwarder", json::object{{"summary", json::object{{"services_up", services_up ? 1 : 0}}}}, kPushedAt);
  return rec;
}

TEST(OrchestratorHealth, APushReportingNoServiceUpCountsOnlyWhileFresh) {
  const auto rec = record_pushed(false);
  EXPECT_FALSE(is_eligible(rec, {kPushedAt, 120}));
  EXPECT_FALSE(is_eligible(rec, {kPushedAt + 120 * kSecond, 120}));       // age == TTL: still fresh
  EXPECT_TRUE(is_eligible(rec, {kPushedAt + 120 * kSecond + 1, 120}));    // stale: no report
  EXPECT_TRUE(is_eligible(rec, {kPushedAt - 1, 120}));                    // dated ahead: no report
  EXPECT_TRUE(is_eligible(record_pushed(true), {kPushedAt, 120}));
}

TEST(OrchestratorHealth, TheViewSaysWhyAnOrchestratorIsActive) {
  const auto rec = record_pushed(false);
  const auto fresh = orchestrator_view(rec, SignedWei{}, ViewContext{kPushedAt + kSecond, 120});
  EXPECT_EQ(fresh.at("active_reason").as_string(), "forwarder_health");
  EXPECT_FALSE(fresh.at("active").as_bool());
  EXPECT_FALSE(fresh.at("eligible_for_payments").as_bool());
  const auto ahead = orchestrator_view(rec, SignedWei{}, ViewContext{kPushedAt - kSecond, 120});
  EXPECT_EQ(ahead.at("active_reason").as_string(), "forwarder_health");
  EXPECT_TRUE(ahead.at("eligible_for_payments").as_bool());
  const auto stale = orchestrator_view(rec, SignedWei{}, ViewContext{kPushedAt + 121 * kSecond, 120});
  EXPECT_EQ(stale.at("active_reason").as_string(), "recent_contact");  // registered 181 s before: within 300 s
  EXPECT_TRUE(stale.at("active").as_bool());
  EXPECT_TRUE(stale.at("eligible_for_payments").as_bool());
}

}  // namespace
}  // namespace lpops
