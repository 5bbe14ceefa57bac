#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <array>
#include <random>

#include "domain/book.hpp"
#include "domain/clock.hpp"
#include "domain/orchestrator.hpp"
#include "domain/payout.hpp"
#include "domain/rate.hpp"
#include "domain/reference_import.hpp"

namespace lpops {
namespace {

namespace json = boost::json;

constexpr UnixMicros kNow = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

Rate reference_rate() { return Rate::parse_eth_per_minute("0.000005353596").value(); }

// A book plus the effects it produced, so a test can replay them into a fresh book.
struct Recorded {
  Book book;
  std::vector<Effect> effects;

  void keep(const Decision& d) {
    if (d.effect) effects.push_back(*d.effect);
  }
  void add_orchestrator(const std::string& id) {
    Registration r;
    r.orchestrator_id = id;
    r.address = "0x" + std::string(40, static_cast<char>('a' + effects.size() % 6));
    json::object rec = new_orchestrator_record(r, kNow);
    merge_registration(rec, r, "127.0.0.1", true, kNow);
    effects.push_back(*book.upsert_orchestrator(rec, kNow).effect);
  }
  Decision time_workload(const std::string& id, const std::string& orch, std::uint64_t ms,
                         const std::string& status = "verified", const Rate& rate = reference_rate()) {
    WorkloadDraft d;
    d.workload_id = id;
    d.orchestrator_id = orch;
    auto decision = book.create_time_workload(d, ms, status, rate, kNow);
    keep(decision);
    return decision;
  }
  Book replayed() const {
    Book fresh;
    std::uint64_t seq = 0;
    // Through the journal's JSON form, as start-up replay does.
    for (const auto& e : effects) EXPECT_FALSE(fresh.apply(e.to_json(), ++seq).has_value());
    return fresh;
  }
};

TEST(Book, TimeWorkloadCreditsDurationTimesRate) {
  Recorded r;
  r.add_orchestrator("o1");
  auto d = r.time_workload("w1", "o1", 90'000);
  ASSERT_FALSE(d.failure);
  const auto response = boost::json::parse(d.response_body()).as_object();
  EXPECT_EQ(response.at("payout_amount_eth").as_string(), "0.000008030394");
  EXPECT_TRUE(response.at("credited").as_bool());
  EXPECT_EQ(format_eth(r.book.balance("o1")), "0.000008030394");
  // Each workload keeps the rate it was priced at, and the book's unit, when the rate changes.
  auto other = Rate::parse_eth_per_minute("0.5");
  ASSERT_TRUE(other);
  ASSERT_FALSE(r.time_workload("w2", "o1", 60'000, "verified", *other).failure);
  ASSERT_FALSE(r.time_workload("w3", "o1", 60'000).failure);
  for (auto [id, rate] : {std::pair{"w1", reference_rate().text()}, std::pair{"w2", std::string("0.5")},
                          std::pair{"w3", reference_rate().text()}}) {
    const Workload* w = r.book.workload(id);
    ASSERT_TRUE(w && w->pricing) << id;
    EXPECT_EQ(w->pricing->credit_eth_per_minute.view(), rate) << id;
    EXPECT_EQ(w->pricing->credit_unit.view(), "eth") << id;
  }
}

// After the wall clock stepped back, a workload is dated no earlier than the newest one, so
// listings (in insertion order, newest first) stay in submission order.
TEST(Book, AWorkloadIsNeverDatedBeforeTheNewest) {
  Recorded r;
  r.add_orchestrator("o1");
  WorkloadDraft d;
  d.orchestrator_id = "o1";
  d.workload_id = "a";
  r.keep(r.book.create_time_workload(d, 60'000, "verified", reference_rate(), kNow + 10'000'000));
  d.workload_id = "b";  // the clock 5 s behind
  r.keep(r.book.create_time_workload(d, 60'000, "verified", reference_rate(), kNow + 5'000'000));
  d.workload_id = "c";
  r.keep(r.book.create_workload(d, kNow + 1'000'000));
  d.workload_id = "d";  // the clock past the newest again
  r.keep(r.book.create_workload(d, kNow + 11'000'000));
  EXPECT_EQ(r.book.workload("a")->submitted_at, kNow + 10'000'000);
  EXPECT_EQ(r.book.workload("b")->submitted_at, kNow + 10'000'001);  // a microsecond after the newest
  EXPECT_EQ(r.book.workload("b")->credited_at, kNow + 10'000'001);
  EXPECT_EQ(r.book.workload("c")->submitted_at, kNow + 10'000'002);
  EXPECT_EQ(r.book.workload("d")->submitted_at, kNow + 11'000'000);
  EXPECT_EQ(r.replayed().workload("b")->submitted_at, kNow + 10'000'001);
  // The clock not moving at all: each still has a time of its own.
  d.workload_id = "e";
  r.keep(r.book.create_workload(d, kNow + 11'000'000));
  EXPECT_EQ(r.book.workload("e")->submitted_at, kNow + 11'000'001);
}

// Workloads submitted within one microsecond, or after the clock stepped back, are paged
// through with `until` one microsecond before the last row's time: each comes once.
TEST(Book, PagingByUntilRepeatsAndSkipsNothing) {
  Recorded r;
  r.add_orchestrator("o1");
  WorkloadDraft d;
  d.orchestrator_id = "o1";
  for (int i = 0; i < 40; ++i) {
    d.workload_id = "w" + std::to_string(i);
    // Ten at each of four clock readings, the third behind the second.
    const UnixMicros clock = kNow + std::array<UnixMicros, 4>{0, 5'000'000, 2'000'000, 5'000'000}[i / 10];
    ASSERT_FALSE(r.book.create_workload(d, clock).failure);
  }
  std::vector<std::string> seen;
  WorkloadFilter f;
  f.limit = 7;
  for (int page = 0; page < 20; ++page) {
    const auto rows = json::parse(workload_listing_json(r.book.frozen_workloads(), f)).at("workloads").as_array();
    if (rows.empty()) break;
    for (const auto& row : rows) seen.emplace_back(row.at("workload_id").as_string());
    const auto last = parse_iso(std::string(rows.back().at("submitted_at").as_string()));
    ASSERT_TRUE(last);
    f.until = *last - 1;
  }
  ASSERT_EQ(seen.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], "w" + std::to_string(39 - i));
}

// The hot commands write their response directly: byte for byte what serialising
// to_view() gives, for every mix of optional fields and every character class.
TEST(Book, WorkloadViewWrittenDirectlyIsTheSerialisedView) {
  const std::vector<std::string> texts = {"", "plain", "quote\"back\\slash", "tab\tnl\ncr\r", std::string("nul\0x", 5),
                                          "\x01\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "</script>"};
  std::size_t checked = 0;
  for (std::size_t mask = 0; mask < 64; ++mask)
    for (const auto& text : texts) {
      Workload w;
      w.workload_id = "w-" + text;
      w.orchestrator_id = "o" + text;
      auto opt = [&](int bit) { return (mask >> bit) & 1 ? std::optional<std::string>(text + std::to_string(bit)) : std::nullopt; };
      w.plan_id = opt(0);
      w.run_id = opt(1);
      w.artifact_hash = opt(2);
      w.artifact_uri = opt(3);
      w.notes = opt(4);
      w.tx_hash = opt(5);
      w.payout_amount = Wei(mask) * Wei(1'000'000'007ull) * Wei(1'000'000'009ull);
      w.status = lpops::WorkloadStatus(mask % 2 ? "verified" : "pending");
      w.submitted_at = 1'767'225'600'123'456 + static_cast<UnixMicros>(mask);
      w.credited = mask % 3 == 0;
      if (w.credited) w.credited_at = w.submitted_at + 5;
      std::string direct;
      w.append_view_json(direct);
      ASSERT_EQ(direct, boost::json::serialize(w.to_view())) << "mask " << mask << " text " << text;
      ++checked;
    }
  EXPECT_EQ(checked, 64u * texts.size());
}

TEST(Book, DuplicateWorkloadIdCreditsOnce) {
  Recorded r;
  r.add_orchestrator("o1");
  r.add_orchestrator("o2");
  ASSERT_FALSE(r.time_workload("w1", "o1", 60'000).failure);
  auto again = r.time_workload("w1", "o1", 60'000);
  ASSERT_TRUE(again.failure);
  EXPECT_EQ(again.failure->status, 409);
  auto other = r.time_workload("w1", "o2", 60'000);  // ids are global
  ASSERT_TRUE(other.failure);
  EXPECT_EQ(other.failure->status, 409);
  EXPECT_EQ(r.book.balance("o1").magnitude, reference_rate().credit_for(60'000));
  EXPECT_TRUE(r.book.balance("o2").is_zero());
}

TEST(Book, UnknownOrchestratorAndBadStatusAreRejectedWithoutEffect) {
  Recorded r;
  auto unknown = r.time_workload("w1", "nobody", 1000);
  ASSERT_TRUE(unknown.failure);
  EXPECT_EQ(unknown.failure->status, 404);
  r.add_orchestrator("o1");
  auto bad = r.time_workload("w1", "o1", 1000, "done");
  ASSERT_TRUE(bad.failure);
  EXPECT_EQ(bad.failure->status, 400);
  EXPECT_EQ(r.book.workload_count(), 0u);
}

// Its senders validate a record; one without an id (a bug) is refused and changes nothing.
TEST(Book, AnOrchestratorRecordWithoutAnIdIsRefused) {
  Recorded r;
  r.add_orchestrator("o1");
  const auto seq = r.book.last_seq();
  for (const json::value& id : {json::value(nullptr), json::value(""), json::value(7)}) {
    json::object rec{{"address", "0x" + std::string(40, 'b')}};
    if (!id.is_null()) rec["orchestrator_id"] = id;
    auto refused = r.book.upsert_orchestrator(rec, kNow);
    ASSERT_TRUE(refused.failure) << id;
    EXPECT_EQ(refused.failure->status, 500);
    EXPECT_FALSE(refused.effect);
    EXPECT_EQ(r.book.last_seq(), seq);
  }
}

TEST(Book, PatchCreditsExactlyOnce) {
  Recorded r;
  r.add_orchestrator("o1");
  WorkloadDraft d;
  d.workload_id = "w1";
  d.orchestrator_id = "o1";
  d.artifact_uri = "s3://bucket/video.MP4";
  d.payout_amount = Wei{"1000000000000000"};
  r.keep(r.book.create_workload(d, kNow));
  EXPECT_TRUE(r.book.balance("o1").is_zero());  // never credits at creation
  WorkloadPatch verify;
  verify.status = "verified";
  auto first = r.book.patch_workload("w1", verify, kNow);
  r.keep(first);
  ASSERT_TRUE(first.effect.has_value());
  EXPECT_EQ(format_eth(r.book.balance("o1")), "0.001");
  WorkloadPatch paid;
  paid.status = "paid";
  r.keep(r.book.patch_workload("w1", paid, kNow));
  r.keep(r.book.patch_workload("w1", verify, kNow));
  WorkloadPatch rejected;
  rejected.status = "rejected";
  r.keep(r.book.patch_workload("w1", rejected, kNow));  // never reverses a credit
  EXPECT_EQ(format_eth(r.book.balance("o1")), "0.001");
  auto noop = r.book.patch_workload("w1", WorkloadPatch{}, kNow);
  EXPECT_FALSE(noop.effect.has_value());
  EXPECT_EQ(r.book.entry_seqs("o1", 100).size(), 1u);
}

// At a rate of zero a time workload credits nothing, at creation or later: an empty PATCH
// of it is a no-op (it used to mark it credited, a change with no credit).
TEST(Book, AZeroTimeCreditIsNeverMarkedCredited) {
  Recorded r;
  r.add_orchestrator("o1");
  ASSERT_FALSE(r.time_workload("z1", "o1", 60'000, "verified", Rate::parse_eth_per_minute("0").value()).failure);
  const auto seq = r.book.last_seq();
  auto patched = r.book.patch_workload("z1", WorkloadPatch{}, kNow);
  EXPECT_FALSE(patched.effect.has_value());
  EXPECT_EQ(r.book.last_seq(), seq);
  WorkloadPatch paid;
  paid.status = "paid";
  auto changed = r.book.patch_workload("z1", paid, kNow);
  ASSERT_TRUE(changed.effect.has_value());  // the status changes
  EXPECT_FALSE(changed.effect->entry.has_value());
  EXPECT_NE(changed.response_body().find("\"credited\":false"), std::string::npos) << changed.response_body();
  EXPECT_TRUE(r.book.balance("o1").is_zero());
}

TEST(Book, ATimeWorkloadVerifiedLaterIsCreditedAsATimeCredit) {
  Recorded r;
  r.add_orchestrator("o1");
  ASSERT_FALSE(r.time_workload("t1", "o1", 60'000, "pending").failure);
  ASSERT_FALSE(r.time_workload("t2", "o1", 60'000, "verified").failure);
  EXPECT_EQ(r.book.balance("o1").magnitude, reference_rate().credit_for(60'000));
  WorkloadPatch verify;
  verify.status = "verified";  // no artifact: a time workload needs none, as at creation
  auto patched = r.book.patch_workload("t1", verify, kNow);
  r.keep(patched);
  ASSERT_TRUE(patched.effect && patched.effect->entry);
  const LedgerEntry& later = *patched.effect->entry;
  EXPECT_EQ(later.event_id, "workload_time:t1");
  EXPECT_EQ(later.reason, "workload_time");
  // The same metadata as a time credit made at creation, but for the workload's own fields.
  const LedgerEntry& at_creation = *r.effects[2].entry;
  ASSERT_EQ(at_creation.event_id, "workload_time:t2");
  for (const char* key : {"duration_ms", "credit_eth_per_minute", "credit_unit", "status"})
    EXPECT_EQ(later.metadata.at(key), at_creation.metadata.at(key)) << key;
  EXPECT_EQ(r.book.balance("o1").magnitude, reference_rate().credit_for(60'000) * 2);
  EXPECT_TRUE(r.replayed().balances_text() == r.book.balances_text());
}

TEST(Book, PatchWithoutArtifactDoesNotCredit) {
  Recorded r;
  r.add_orchestrator("o1");
  WorkloadDraft d;
  d.workload_id = "w1";
  d.orchestrator_id = "o1";
  d.artifact_uri = "s3://bucket/readme.txt";
  d.payout_amount = Wei{5};
  r.keep(r.book.create_workload(d, kNow));
  WorkloadPatch verify;
  verify.status = "verified";
  r.keep(r.book.patch_workload("w1", verify, kNow));
  EXPECT_TRUE(r.book.balance("o1").is_zero());
  WorkloadPatch hash;
  hash.artifact_hash = "abc";
  r.keep(r.book.patch_workload("w1", hash, kNow));
  EXPECT_EQ(r.book.balance("o1").magnitude, Wei{5});
}

AdjustmentRequest adjustment(const std::string& orch, const std::string& eth, std::optional<std::string> key = {}) {
  AdjustmentRequest a;
  a.orchestrator_id = orch;
  a.amount = parse_eth(eth).value();
  a.idempotency_key = std::move(key);
  a.request_digest = orch + eth;
  a.generated_id = "gen" + eth;
  return a;
}

TEST(Book, NegativeAdjustmentNeverGoesBelowZeroUnlessForced) {
  Recorded r;
  r.add_orchestrator("o1");
  r.keep(r.book.adjust(adjustment("o1", "1"), kNow));
  auto over = r.book.adjust(adjustment("o1", "-1.5"), kNow);
  ASSERT_TRUE(over.failure);
  EXPECT_EQ(over.failure->status, 409);
  EXPECT_EQ(format_eth(r.book.balance("o1")), "1");
  auto forced_req = adjustment("o1", "-1.5");
  forced_req.force = true;
  auto forced = r.book.adjust(forced_req, kNow);
  r.keep(forced);
  ASSERT_FALSE(forced.failure);
  EXPECT_EQ(forced.response.at("balance_eth").as_string(), "-0.5");
  EXPECT_EQ(format_eth(r.book.balance("o1")), "-0.5");
}

TEST(Book, IdempotencyKeyReturnsTheOriginalResult) {
  Recorded r;
  r.add_orchestrator("o1");
  auto first = r.book.adjust(adjustment("o1", "2", "k1"), kNow);
  r.keep(first);
  ASSERT_TRUE(first.effect.has_value());
  r.keep(r.book.adjust(adjustment("o1", "3"), kNow));
  auto repeat = r.book.adjust(adjustment("o1", "2", "k1"), kNow);
  EXPECT_FALSE(repeat.effect.has_value());
  EXPECT_EQ(repeat.response, first.response);
  EXPECT_EQ(format_eth(r.book.balance("o1")), "5");
  auto misuse = r.book.adjust(adjustment("o1", "9", "k1"), kNow);
  ASSERT_TRUE(misuse.failure);
  EXPECT_EQ(misuse.failure->status, 409);
  // Across a restart: the replayed book knows the key.
  Book again = r.replayed();
  auto after = again.adjust(adjustment("o1", "2", "k1"), kNow);
  EXPECT_FALSE(after.effect.has_value());
  EXPECT_EQ(after.response, first.response);
}

TEST(Book, AKeyStoredWithTheDigestAsSentMatchesItsRepeat) {
  // A key an earlier version stored took the digest of the fields as sent; a repeat of that
  // request carries it as digest_as_sent and gets the original answer, across a restart too.
  Recorded r;
  r.add_orchestrator("o1");
  auto old = adjustment("o1", "2", "k1");
  old.request_digest = "as-sent";
  auto first = r.book.adjust(old, kNow);
  r.keep(first);
  ASSERT_TRUE(first.effect.has_value());
  Book again = r.replayed();
  for (Book* book : {&r.book, &again}) {
    auto repeat = adjustment("o1", "2", "k1");
    repeat.request_digest = "effect";
    repeat.digest_as_sent = "as-sent";
    auto answer = book->adjust(repeat, kNow);
    ASSERT_FALSE(answer.failure);
    EXPECT_FALSE(answer.effect.has_value());
    EXPECT_EQ(answer.response, first.response);
    repeat.digest_as_sent = "other";
    auto other = book->adjust(repeat, kNow);
    ASSERT_TRUE(other.failure);
    EXPECT_EQ(other.failure->status, 409);
  }
  EXPECT_EQ(format_eth(again.balance("o1")), "2");
}

TEST(Book, AmountsThatWouldOverflowAnAccountAre422sAndChangeNothing) {
  Recorded r;
  r.add_orchestrator("o1");
  r.add_orchestrator("o2");
  r.time_workload("small", "o1", 60'000);
  // A workload of 2^256-1 wei is accepted pending; crediting it on top of a balance is not.
  WorkloadDraft d;
  d.workload_id = "huge";
  d.orchestrator_id = "o1";
  d.artifact_hash = "h";
  d.payout_amount = max_wei();
  r.keep(r.book.create_workload(d, kNow));
  const auto before = r.book.snapshot_text();
  WorkloadPatch verify;
  verify.status = "verified";
  auto patched = r.book.patch_workload("huge", verify, kNow);
  ASSERT_TRUE(patched.failure);
  EXPECT_EQ(patched.failure->status, 422);
  EXPECT_FALSE(patched.effect);
  EXPECT_EQ(r.book.snapshot_text(), before);
  // A balance stays an int256 (the ledger proofs encode it as one): 2^255 wei is refused, a
  // time credit on an account already at 2^255-1 too.
  const Wei int256_max = (Wei{1} << 255) - 1;
  AdjustmentRequest past_max = adjustment("o2", "1", "past-max");
  past_max.amount = SignedWei{false, int256_max + 1};
  auto refused = r.book.adjust(past_max, kNow);
  ASSERT_TRUE(refused.failure);
  EXPECT_EQ(refused.failure->status, 422);
  AdjustmentRequest to_max = adjustment("o2", "1", "to-max");
  to_max.amount = SignedWei{false, int256_max};
  r.keep(r.book.adjust(to_max, kNow));
  ASSERT_EQ(r.book.balance("o2").magnitude, int256_max);
  const auto at_max = r.book.snapshot_text();
  WorkloadDraft t;
  t.workload_id = "t1";
  t.orchestrator_id = "o2";
  auto timed = r.book.create_time_workload(t, 60'000, "verified", reference_rate(), kNow);
  ASSERT_TRUE(timed.failure);
  EXPECT_EQ(timed.failure->status, 422);
  EXPECT_EQ(r.book.snapshot_text(), at_max);
  // A change is an int256 itself: from 2^255-1 down to -2^255 at once is refused.
  AdjustmentRequest swing = adjustment("o2", "-1", "swing");
  swing.amount = SignedWei{true, int256_max + (Wei{1} << 255)};
  swing.force = true;
  auto too_wide = r.book.adjust(swing, kNow);
  ASSERT_TRUE(too_wide.failure);
  EXPECT_EQ(too_wide.failure->status, 422);
  // Forced debits: down to -2^255 and no further.
  AdjustmentRequest debit = adjustment("o1", "-1", "debit-0");
  debit.amount = SignedWei{true, r.book.balance("o1").magnitude};
  r.keep(r.book.adjust(debit, kNow));
  debit.idempotency_key = "debit-1";
  debit.amount = SignedWei{true, Wei{1} << 255};
  debit.force = true;
  r.keep(r.book.adjust(debit, kNow));
  ASSERT_TRUE(r.book.balance("o1").negative);
  ASSERT_EQ(r.book.balance("o1").magnitude, Wei{1} << 255);
  debit.idempotency_key = "debit-2";
  debit.amount = SignedWei{true, Wei{1}};
  auto second = r.book.adjust(debit, kNow);
  ASSERT_TRUE(second.failure);
  EXPECT_EQ(second.failure->status, 422);
  // The summary adds amounts wider than 256 bits: two pending maximal workloads.
  d.workload_id = "huge-2";
  r.keep(r.book.create_workload(d, kNow));
  const auto rows = workload_summary_rows(r.book.frozen_workloads(), std::nullopt, std::nullopt);
  const auto& o1 = rows.at(0).as_object();
  ASSERT_EQ(o1.at("orchestrator_id").as_string(), "o1");
  EXPECT_EQ(o1.at("pending_wei").as_string(), (Wide{max_wei()} * 2).str());
  EXPECT_TRUE(r.replayed().balances_text() == r.book.balances_text());
}

TEST(Rate, CheckedCreditForAgreesWithCreditForAndFitsAtTheLimits) {
  // The largest rate the settings accept (12 integer digits, 36 decimals) times the largest
  // duration still fits in 256 bits; checked_credit_for is the ledger's guard regardless.
  const auto largest = Rate::parse_eth_per_minute("999999999999." + std::string(36, '9'));
  ASSERT_TRUE(largest.ok()) << largest.error();
  EXPECT_EQ(largest->checked_credit_for(kMaxWorkloadDurationMs).value(), largest->credit_for(kMaxWorkloadDurationMs));
  EXPECT_EQ(reference_rate().checked_credit_for(60'000).value(), reference_rate().credit_for(60'000));
  EXPECT_FALSE(Rate::parse_eth_per_minute("1" + std::string(12, '0')).ok());
}

// An exponent moves the decimal point, as Decimal reads the reference's setting; the limits
// (36 decimals, 12 integer digits) apply to the number it gives.
TEST(Rate, ExponentFormsReadAsTheirPlainDecimal) {
  const std::vector<std::pair<std::string, std::string>> same = {
      {"1E-6", "0.000001"},       {"5.353596e-6", "0.000005353596"}, {"2.5E3", "2500"}, {"2.5e+0", "2.5"},
      {".5e1", "5"},              {"5.e-1", "0.5"},                  {"0e5", "0"},      {"1E-36", "0." + std::string(35, '0') + "1"},
      {"+1.250E-02", "0.0125"}};
  for (const auto& [text, plain] : same) {
    const auto a = Rate::parse_eth_per_minute(text);
    const auto b = Rate::parse_eth_per_minute(plain);
    ASSERT_TRUE(a.ok()) << text << ": " << a.error();
    ASSERT_TRUE(b.ok()) << plain << ": " << b.error();
    EXPECT_EQ(a->text(), b->text()) << text;
    EXPECT_EQ(a->credit_for(123'457), b->credit_for(123'457)) << text;
  }
  for (const std::string bad : {"1E-37", "1e12", "1e", "e5", "1e5.0", "1e+-2", "1E999", "-1e-6", "1e-6x", "0x1p3"})
    EXPECT_FALSE(Rate::parse_eth_per_minute(bad).ok()) << bad;
}

TEST(Book, AnIdempotencyKeyCannotTakeTheEventIdOfAnAdjustmentWithoutKey) {
  Recorded r;
  r.add_orchestrator("o1");
  AdjustmentRequest plain = adjustment("o1", "1");
  plain.generated_id = "8e46b90ce0ffdaa58b283ef4f15309e9";
  r.keep(r.book.adjust(plain, kNow));
  EXPECT_TRUE(r.book.adjustment_id_taken("8e46b90ce0ffdaa58b283ef4f15309e9"));
  const auto before = r.book.snapshot_text();
  auto keyed = r.book.adjust(adjustment("o1", "0.1", "8e46b90ce0ffdaa58b283ef4f15309e9"), kNow);
  ASSERT_TRUE(keyed.failure);
  EXPECT_EQ(keyed.failure->status, 409);
  EXPECT_EQ(r.book.snapshot_text(), before);
  // Keys are taken too, and both survive replay and snapshots.
  r.keep(r.book.adjust(adjustment("o1", "0.2", "k1"), kNow));
  EXPECT_TRUE(r.book.adjustment_id_taken("k1"));
  auto restored = Book::from_snapshot(r.book.snapshot(), {});
  ASSERT_TRUE(restored.ok());
  EXPECT_TRUE(restored->adjustment_id_taken("8e46b90ce0ffdaa58b283ef4f15309e9"));
  EXPECT_TRUE(r.replayed().adjustment_id_taken("8e46b90ce0ffdaa58b283ef4f15309e9"));
  EXPECT_FALSE(restored->adjustment_id_taken("k2"));
}

TEST(Book, ReplayReproducesStateAndSnapshotRoundTrips) {
  Recorded r;
  for (int i = 0; i < 5; ++i) r.add_orchestrator("o" + std::to_string(i));
  for (int i = 0; i < 50; ++i) r.time_workload("w" + std::to_string(i), "o" + std::to_string(i % 5), 1000 + i * 7);
  r.keep(r.book.adjust(adjustment("o1", "0.5", "key"), kNow));
  r.keep(r.book.adjust(adjustment("o2", "0.25"), kNow));  // without a key
  r.add_orchestrator("idle");  // registered, no ledger entries
  // Ids and keys whose JSON strings need escapes, and non-ASCII text.
  r.add_orchestrator("q\"uote\\back\tslash\x01\xc3\xa9");
  r.time_workload("w-escaped\n", "q\"uote\\back\tslash\x01\xc3\xa9", 1234);
  r.keep(r.book.adjust(adjustment("q\"uote\\back\tslash\x01\xc3\xa9", "0.125", "k\"\x1f\xe2\x82\xac"), kNow));
  r.keep(r.book.record_policy("0x01", json::object{{"rate", "1"}}, kNow));  // an entry without a record
  EXPECT_FALSE(r.book.knows_orchestrator("__system__"));
  EXPECT_EQ(r.book.day_totals("idle"), nullptr);
  EXPECT_TRUE(r.book.entry_seqs(std::string("idle"), 10).empty());
  EXPECT_EQ(r.book.entry_seqs(std::string("o1"), 100).size(), 11u);
  Book replayed = r.replayed();
  EXPECT_EQ(replayed.balances_text(), r.book.balances_text());
  EXPECT_EQ(json::serialize(replayed.snapshot()), json::serialize(r.book.snapshot()));
  auto restored = Book::from_snapshot(r.book.snapshot(), {});
  ASSERT_TRUE(restored.ok()) << restored.error();
  EXPECT_EQ(json::serialize(restored->snapshot()), json::serialize(r.book.snapshot()));
  // The snapshot written without a document is the same text.
  EXPECT_EQ(r.book.snapshot_text(), json::serialize(r.book.snapshot()));
  EXPECT_EQ(Book().snapshot_text(), json::serialize(Book().snapshot()));
  // Written in pieces (as the snapshotter writes it to disk), the same text; a failed piece stops it.
  std::string joined;
  int pieces = 0;
  ASSERT_TRUE(r.book.write_snapshot_text([&](std::string_view p) {
    joined += p;
    ++pieces;
    return true;
  }, 256));
  EXPECT_EQ(joined, r.book.snapshot_text());
  EXPECT_GT(pieces, 10);
  int calls = 0;
  EXPECT_FALSE(r.book.write_snapshot_text([&](std::string_view) { return ++calls < 3; }, 256));
  EXPECT_EQ(calls, 3);
  // A restored book continues where the original left off.
  EXPECT_EQ(restored->last_seq(), r.book.last_seq());
}

TEST(Book, SnapshotWithTotalsForAnIdWithoutAccountIsRejected) {
  Recorded r;
  r.add_orchestrator("o1");
  r.time_workload("w1", "o1", 60'000);
  for (const char* part : {"days", "entry_seqs_by_orchestrator"}) {
    json::object s = r.book.snapshot();
    auto& by_id = s[part].as_object();
    by_id["ghost"] = by_id["o1"];
    auto restored = Book::from_snapshot(s, {});
    ASSERT_FALSE(restored.ok()) << part;
    EXPECT_NE(restored.error().find("ghost"), std::string::npos) << restored.error();
  }
}

// An account holding money without its orchestrator's record would vanish from the balances
// served: a snapshot rewritten so (its checksum recomputed) is refused. The policy's
// pseudo-account (no record, nothing in it) is not such an account.
TEST(Book, ASnapshotWithAnAccountButNoOrchestratorRecordIsRefused) {
  Recorded r;
  r.add_orchestrator("o1");
  r.add_orchestrator("o2");
  r.time_workload("w1", "o1", 60'000);
  r.keep(r.book.record_policy("0x01", json::object{{"rate", "1"}}, kNow));
  ASSERT_TRUE(Book::from_snapshot(r.book.snapshot(), {}).ok());
  json::object s = r.book.snapshot();
  auto& records = s["orchestrators"].as_array();
  records.erase(std::remove_if(records.begin(), records.end(),
                               [](const json::value& v) { return v.at("orchestrator_id").as_string() == "o1"; }),
                records.end());
  ASSERT_EQ(records.size(), 1u);
  auto restored = Book::from_snapshot(s, {});
  ASSERT_FALSE(restored.ok());
  EXPECT_NE(restored.error().find("account for o1, which has no orchestrator record"), std::string::npos) << restored.error();
}

TEST(Workload, AppendJsonIsTheSerialisedStoredForm) {
  // Every optional present or absent, and strings the serialiser must escape.
  const std::vector<std::string> texts = {"w-1", "quote\"back\\slash", "tab\tnew\nline\x01", "ünïcode ✓", ""};
  std::mt19937 rng(4);
  for (int i = 0; i < 500; ++i) {
    Workload w;
    auto pick = [&] { return texts[rng() % texts.size()]; };
    w.workload_id = pick();
    w.orchestrator_id = pick();
    for (auto* field : {&w.plan_id, &w.run_id, &w.artifact_hash, &w.artifact_uri, &w.notes, &w.tx_hash})
      if (rng() % 2) *field = pick();
    w.payout_amount = Wei(rng()) * Wei(rng());
    w.status = lpops::WorkloadStatus(std::array{"pending", "verified", "paid", "rejected"}[rng() % 4]);
    w.submitted_at = static_cast<UnixMicros>(rng()) * 1000;
    w.credited = rng() % 2;
    if (rng() % 2) w.credited_at = static_cast<UnixMicros>(rng()) * 997;
    if (rng() % 2) w.pricing = WorkloadPricing{rng(), pick(), pick(), static_cast<UnixMicros>(rng())};
    std::string out;
    w.append_json(out);
    ASSERT_EQ(out, json::serialize(w.to_json())) << i;
    // Read back (ids must not be empty), the record is the same, an empty text still set.
    if (w.workload_id.empty() || w.orchestrator_id.empty()) continue;
    auto back = Workload::from_json(json::parse(out).as_object());
    ASSERT_TRUE(back) << back.error();
    std::string again;
    back->append_json(again);
    ASSERT_EQ(again, out) << i;
    EXPECT_EQ(back->notes, w.notes);
    EXPECT_EQ(back->status, w.status);
  }
}

// A payout posted a microsecond after its reservation (the records' tests).
Payout posted_payout() {
  Payout p;
  p.payout_id = "p1";
  p.orchestrator_id = "o1";
  p.recipient = "0x" + std::string(40, 'a');
  p.amount = Wei{5};
  p.status = "posted";
  p.reserved_at = kNow;
  p.settled_at = kNow + 1;
  return p;
}

// A record's time that does not read is damage, refused as such, not taken for 1970 or for
// no time at all.
TEST(Effect, ARecordWithAnUnreadableTimeIsRefused) {
  Recorded r;
  r.add_orchestrator("o1");
  ASSERT_FALSE(r.time_workload("w1", "o1", 60000).failure);
  const json::object stored = r.effects.back().to_json();
  ASSERT_TRUE(Effect::from_json(stored).ok());
  auto damaged = [&](auto change) {
    json::object o = stored;
    change(o);
    return Effect::from_json(o);
  };
  auto workload = [](json::object& o) -> json::object& { return o.at("workload").as_object(); };
  const auto at = damaged([](json::object& o) { o["at"] = "garbage"; });
  ASSERT_FALSE(at.ok());
  EXPECT_NE(at.error().find("(at)"), std::string::npos) << at.error();
  EXPECT_FALSE(damaged([](json::object& o) { o.erase("at"); }).ok());
  ASSERT_TRUE(stored.at("workload").as_object().contains("credited_at"));
  const auto credited = damaged([&](json::object& o) { workload(o)["credited_at"] = "yesterday"; });
  ASSERT_FALSE(credited.ok());
  EXPECT_NE(credited.error().find("credited_at"), std::string::npos) << credited.error();
  EXPECT_TRUE(damaged([&](json::object& o) { workload(o)["credited_at"] = nullptr; }).ok());  // not credited
  const auto computed = damaged([&](json::object& o) { workload(o).at("pricing").as_object()["computed_at"] = "13:00"; });
  ASSERT_FALSE(computed.ok());
  EXPECT_NE(computed.error().find("computed_at"), std::string::npos) << computed.error();

  json::object payout = posted_payout().to_json();
  ASSERT_TRUE(Payout::from_json(payout).ok());
  payout["settled_at"] = "soon";
  const auto settled = Payout::from_json(payout);
  ASSERT_FALSE(settled.ok());
  EXPECT_NE(settled.error().find("settled_at"), std::string::npos) << settled.error();
}

// A payout record's members read only as they are written: a misspelt or mistyped one is
// damage, not a value to drop (a posted payout's block number lost). One left out reads as its
// default.
TEST(Effect, APayoutRecordReadsOnlyAsWritten) {
  Payout p = posted_payout();
  p.tx_hash = "0x" + std::string(64, 'b');
  p.block_number = 7;
  const json::object stored = p.to_json();
  auto read = Payout::from_json(stored);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(read->to_json(), stored);
  auto with = [&](const char* key, json::value value) {
    json::object o = stored;
    o[key] = std::move(value);
    return Payout::from_json(o);
  };
  auto misspelt = stored;
  misspelt.erase("block_number");
  misspelt["block_numbr"] = 7;
  const auto unknown = Payout::from_json(misspelt);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().find("unknown member 'block_numbr'"), std::string::npos) << unknown.error();
  const auto as_text = with("block_number", "7");
  ASSERT_FALSE(as_text.ok());
  EXPECT_NE(as_text.error().find("'block_number' does not read as written"), std::string::npos) << as_text.error();
  EXPECT_FALSE(with("notes", 12).ok());
  EXPECT_FALSE(with("amount_wei", "05").ok());
  auto older = stored;
  older.erase("request_digest");
  EXPECT_TRUE(Payout::from_json(older).ok());
}

// A workload record's members read only as they are written, as a payout's do: a misspelt or
// mistyped member is damage, not a value to drop or default (a credited workload read as
// uncredited would be credited again).
TEST(Effect, AWorkloadRecordReadsOnlyAsWritten) {
  Recorded r;
  r.add_orchestrator("o1");
  ASSERT_FALSE(r.time_workload("w1", "o1", 60000).failure);
  const json::object stored = r.effects.back().workload->to_json();
  ASSERT_TRUE(stored.contains("pricing"));
  ASSERT_TRUE(stored.at("credited").as_bool());
  auto read = Workload::from_json(stored);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(read->to_json(), stored);
  auto with = [&](const char* key, json::value value) {
    json::object o = stored;
    o[key] = std::move(value);
    return Workload::from_json(o);
  };
  auto refused = [&](const Result<Workload>& got, std::string_view why) {
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.error().find(why), std::string::npos) << got.error();
  };
  refused(with("credited", "true"), "'credited' does not read as written");
  refused(with("credited_elsewhere", 1), "'credited_elsewhere' does not read as written");
  refused(with("credted", true), "unknown member 'credted'");
  refused(with("notes", 12), "'notes' does not read as written");
  refused(with("payout_amount_wei", json::string("0" + std::string(stored.at("payout_amount_wei").as_string()))),
          "'payout_amount_wei' does not read as written");
  const std::string submitted(stored.at("submitted_at").as_string());
  refused(with("submitted_at", json::string(submitted.substr(0, submitted.size() - 1) + "+00:00")),
          "'submitted_at' does not read as written");
  refused(with("pricing", "workload_time"), "'pricing' does not read as written");
  auto pricing = [&](const char* key, json::value value) {
    json::object o = stored;
    o.at("pricing").as_object()[key] = std::move(value);
    return Workload::from_json(o);
  };
  refused(pricing("duration_ms", "60000"), "pricing member 'duration_ms'");
  refused(pricing("duration_ms", -1), "pricing member 'duration_ms'");
  refused(pricing("kind", "flat"), "pricing member 'kind'");
  refused(pricing("rate", "1"), "pricing with an unknown member 'rate'");
  // What a view writes for "none" reads as none; a member left out reads as its default.
  auto none = with("notes", nullptr);
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_FALSE(none->notes);
  auto older = stored;
  older.erase("credited_at");
  EXPECT_TRUE(Workload::from_json(older).ok());
  // The first version wrote the view's form, with the amount in ETH as well: read, if it agrees.
  auto view_form = read->to_view();
  view_form["pricing"] = stored.at("pricing");
  auto first_version = Workload::from_json(view_form);
  ASSERT_TRUE(first_version.ok()) << first_version.error();
  EXPECT_EQ(first_version->to_json(), stored);
  view_form["payout_amount_eth"] = "1";
  refused(Workload::from_json(view_form), "'payout_amount_eth' does not agree");
}

TEST(Effect, AppendJsonIsTheSerialisedJournalForm) {
  // The journal writes effects directly; the text must be what the JSON document gives.
  std::string controls;
  for (int c = 1; c < 0x20; ++c) controls += static_cast<char>(c);
  controls += "\x7f/<>";
  const std::vector<std::string> texts = {"w-1", "quote\"back\\slash", controls, "ünïcode ✓ \u2028", ""};
  std::mt19937_64 rng(11);
  auto pick = [&] { return texts[rng() % texts.size()]; };
  auto amount = [&] {
    // One limb, two limbs, the top of the range.
    switch (rng() % 4) {
      case 0: return Wei(rng() % 1000);
      case 1: return Wei(rng());
      case 2: return Wei(rng()) * Wei(rng()) + Wei(rng());
      default: return max_wei() - Wei(rng() % 7);
    }
  };
  for (int i = 0; i < 1000; ++i) {
    Effect e;
    e.type = static_cast<Effect::Type>(rng() % 5);
    e.at = static_cast<UnixMicros>(rng() % 4'000'000'000'000'000ULL);
    if (rng() % 3 == 0)
      e.orchestrator = std::make_shared<const json::object>(
          json::object{{"orchestrator_id", pick()}, {"address", pick()}, {"n", rng() % 99}, {"x", nullptr}});
    if (rng() % 2) {
      Workload w;
      w.workload_id = pick();
      w.orchestrator_id = pick();
      if (rng() % 2) w.notes = pick();
      w.payout_amount = amount();
      w.status = lpops::WorkloadStatus("verified");
      w.submitted_at = e.at;
      w.credited = rng() % 2;
      if (rng() % 2) w.pricing = WorkloadPricing{rng() % 100000, pick(), pick(), e.at};
      e.workload = std::make_shared<const Workload>(std::move(w));
    }
    if (rng() % 2) {
      LedgerEntry entry;
      entry.event_id = pick();
      entry.orchestrator_id = pick();
      entry.delta = SignedWei{rng() % 2 == 0, amount()};
      if (entry.delta.is_zero()) entry.delta.negative = false;
      entry.balance_after = SignedWei{false, amount()};
      entry.reason = pick();
      if (rng() % 2) entry.metadata = json::object{{"source", pick()}, {"duration_ms", rng() % 1000}, {"nested", json::array{1, "a", nullptr}}};
      entry.at = e.at;
      e.entry = std::move(entry);
    }
    if (rng() % 3 == 0) {
      AdjustmentNote note;
      if (rng() % 2) note.reference_workload_id = pick();
      if (rng() % 2) note.notes = pick();
      if (rng() % 2) note.idempotency_key = pick();
      if (rng() % 2) note.request_digest = pick();
      e.adjustment = std::move(note);
    }
    if (rng() % 3 == 0) {
      CredentialNote note{pick(), std::nullopt, std::nullopt, static_cast<UnixMicros>(rng() % 4'000'000'000'000'000ULL), {}};
      if (rng() % 2) note.token_id = pick();
      if (rng() % 2) note.token_hash = pick();
      for (int k = static_cast<int>(rng() % 3); k > 0; --k) note.dropped.push_back(pick());
      e.credential = std::move(note);
    }
    std::string out;
    e.append_json(out);
    ASSERT_EQ(out, json::serialize(e.to_json())) << i;
  }
}

TEST(Book, ApplyRejectsAnEntryThatDoesNotMatchTheRunningBalance) {
  Recorded r;
  r.add_orchestrator("o1");
  r.time_workload("w1", "o1", 60'000);
  json::object tampered = r.effects.back().to_json();
  tampered["entry"].as_object()["balance_wei"] = "999";
  Book fresh;
  ASSERT_FALSE(fresh.apply(r.effects.front().to_json(), 1).has_value());
  const auto before = fresh.balances_text();
  EXPECT_TRUE(fresh.apply(tampered, 2).has_value());
  EXPECT_TRUE(fresh.balance("o1").is_zero());
  // The same for an id the book has never seen: no account appears.
  tampered["entry"].as_object()["orchestrator_id"] = "ghost";
  EXPECT_TRUE(fresh.apply(tampered, 2).has_value());
  EXPECT_EQ(fresh.account("ghost"), nullptr);
  EXPECT_EQ(fresh.balances_text(), before);
}

TEST(Book, BalancesEqualSumOfCreditsProperty) {
  EXPECT_TRUE(rc::check("random workloads: balance == sum of credited amounts, replay agrees", [] {
    Recorded r;
    r.add_orchestrator("a");
    r.add_orchestrator("b");
    const auto ops = *rc::gen::container<std::vector<std::pair<std::uint32_t, std::uint32_t>>>(
        rc::gen::pair(rc::gen::inRange<std::uint32_t>(0, 40), rc::gen::inRange<std::uint32_t>(1, 86'400'000)));
    std::map<std::string, Wei> expected;
    std::set<std::uint32_t> seen;
    for (auto [id, ms] : ops) {
      std::string orch = id % 2 ? "a" : "b";
      auto d = r.time_workload("w" + std::to_string(id), orch, ms);
      RC_ASSERT(d.failure.has_value() == !seen.insert(id).second);
      if (!d.failure) expected[orch] += reference_rate().credit_for(ms);
    }
    for (auto& [orch, wei] : expected) RC_ASSERT(r.book.balance(orch).magnitude == wei);
    RC_ASSERT(r.replayed().balances_text() == r.book.balances_text());
  }));
}

}  // namespace
}  // namespace lpops

namespace lpops {
namespace {

// Imports from the reference's files: checked against the book, applied as ordinary effects
// (a workload without an entry, a balance as one entry), exactly once across replay and
// snapshots.
TEST(Book, ImportsReplayAndSnapshotAndAreRecognisedAgain) {
  using Kind = Book::ImportCheck::Kind;
  Recorded r;
  r.add_orchestrator("o1");
  auto read = reference_import::read_workload_entry(
      "w1", json::object{{"orchestrator_id", "o1"}, {"payout_amount_eth", "0.5"}, {"status", "paid"},
                         {"submitted_at", "2025-03-01T00:00:00"}, {"credited", true}, {"credited_at", "2025-03-01T00:00:01"},
                         {"artifact_hash", "h"}});
  ASSERT_TRUE(std::holds_alternative<reference_import::WorkloadEntry>(read));
  Workload w = std::get<reference_import::WorkloadEntry>(read).workload;
  EXPECT_EQ(r.book.check_workload_import(w, r.book.newest_workload_time(), kNow).kind, Kind::create);
  r.keep(r.book.import_workload(w, kNow));
  EXPECT_EQ(r.book.check_workload_import(w, std::nullopt, kNow).kind, Kind::existing);
  EXPECT_EQ(r.book.balance("o1"), SignedWei{});  // credited in the file: in the imported balance, not again here

  const SignedWei amount = parse_eth("1.5").value();
  EXPECT_EQ(r.book.check_balance_import("o1", amount).kind, Kind::create);
  EXPECT_EQ(r.book.check_balance_import("ghost", amount).kind, Kind::conflict);
  EXPECT_EQ(r.book.check_balance_import("o1", SignedWei{}).kind, Kind::zero);
  r.keep(r.book.import_balance("o1", amount, "1.5", false, kNow));
  EXPECT_EQ(r.book.balance("o1"), amount);
  EXPECT_EQ(r.book.check_balance_import("o1", amount).kind, Kind::existing);
  EXPECT_EQ(r.book.check_balance_import("o1", parse_eth("2").value()).kind, Kind::conflict);

  // A later patch never credits the credited workload again.
  WorkloadPatch p;
  p.status = "verified";
  r.keep(r.book.patch_workload("w1", p, kNow));
  EXPECT_EQ(r.book.balance("o1"), amount);

  Book replayed = r.replayed();
  EXPECT_EQ(replayed.balances_text(), r.book.balances_text());
  EXPECT_EQ(replayed.check_balance_import("o1", amount).kind, Kind::existing);
  EXPECT_EQ(replayed.check_workload_import(w, std::nullopt, kNow).kind, Kind::existing);
  auto restored = Book::from_snapshot(r.book.snapshot(), {});
  ASSERT_TRUE(restored.ok()) << restored.error();
  EXPECT_EQ(restored->check_balance_import("o1", parse_eth("2").value()).kind, Kind::conflict);
  // Not older than the newest workload held.
  Workload older = w;
  older.workload_id = "w0";
  older.submitted_at = w.submitted_at - 1;
  EXPECT_EQ(restored->check_workload_import(older, restored->newest_workload_time(), kNow).kind, Kind::conflict);
}

TEST(ReferenceImport, RegistryRecordsKeepKnownFieldsAndNameTheRest) {
  auto read = reference_import::read_registry_entry(
      "orch-a", json::object{{"address", "0xABCDEF0000000000000000000000000000000001"}, {"registration_count", 3},
                             {"denylisted", true}, {"eligible_for_payments", true}, {"payout_address", "0x1"}, {"extra", 1}});
  ASSERT_TRUE(std::holds_alternative<reference_import::RegistryEntry>(read));
  const auto& e = std::get<reference_import::RegistryEntry>(read);
  EXPECT_EQ(e.address, "0xabcdef0000000000000000000000000000000001");
  EXPECT_EQ(e.record.at("address").as_string(), "0xABCDEF0000000000000000000000000000000001");
  EXPECT_EQ(e.record.at("registration_count").as_int64(), 3);
  EXPECT_FALSE(e.record.at("eligible_for_payments").as_bool());  // denylisted is never eligible
  EXPECT_TRUE(e.record.at("first_seen").is_null());
  EXPECT_EQ(e.ignored_fields, (std::vector<std::string>{"payout_address", "extra"}));
  const json::object bad_fields{{"health_timeout", 0},         {"min_service_uptime", 101},
                                {"first_seen", "soon"},        {"denylisted", "no"},
                                {"monitored_services", json::array{1}}, {"forwarder_health", "up"},
                                {"contact_email", std::string(256, 'e')}};
  for (const auto& kv : bad_fields) {
    const std::string field(kv.key());
    json::object o{{"address", "0x" + std::string(40, 'a')}};
    o[field] = kv.value();
    auto bad = reference_import::read_registry_entry("x", o);
    ASSERT_TRUE(std::holds_alternative<reference_import::Problems>(bad)) << field;
    const auto& problems = std::get<reference_import::Problems>(bad);
    ASSERT_EQ(problems.size(), 1u) << field;
    EXPECT_EQ(problems[0].field, field);
  }
  // The single-orchestrator mode's registration, as the reference's settings allowed it: any
  // timeout above 0 and a URL of any length.
  json::object single{{"address", "0x" + std::string(40, 'a')}, {"health_timeout", 120.0}, {"health_url", "http://h/" + std::string(600, 'u')}};
  EXPECT_TRUE(std::holds_alternative<reference_import::RegistryEntry>(reference_import::read_registry_entry("x", single)));
}

// Every field of an entry is checked: one reading names all of its problems.
std::vector<std::string> problem_fields(const std::variant<reference_import::RegistryEntry, reference_import::Problems>& read) {
  std::vector<std::string> fields;
  if (const auto* p = std::get_if<reference_import::Problems>(&read))
    for (const auto& x : *p) fields.push_back(x.field);
  return fields;
}
std::vector<std::string> problem_messages(const std::variant<reference_import::WorkloadEntry, reference_import::Problems>& read) {
  std::vector<std::string> out;
  if (const auto* p = std::get_if<reference_import::Problems>(&read))
    for (const auto& x : *p) out.push_back(x.field + " " + x.message);
  return out;
}

TEST(ReferenceImport, EveryProblemOfAnEntryIsNamed) {
  EXPECT_EQ(problem_fields(reference_import::read_registry_entry(
                "orch-a", json::object{{"orchestrator_id", "orch-b"}, {"address", "0x12"}, {"registration_count", -1},
                                       {"health_timeout", -1}, {"first_seen", "soon"}})),
            (std::vector<std::string>{"orchestrator_id", "address", "first_seen", "registration_count", "health_timeout"}));
  // One problem only when the entry is not a record at all, or its key is bad.
  EXPECT_EQ(problem_fields(reference_import::read_registry_entry("orch-a", json::value("0x12"))), (std::vector<std::string>{""}));
  EXPECT_EQ(problem_fields(reference_import::read_registry_entry("", json::object{{"address", "0x12"}})),
            (std::vector<std::string>{""}));

  const auto all = problem_messages(reference_import::read_workload_entry(
      "w1", json::object{{"workload_id", "w2"},
                         {"plan_id", 7},
                         {"notes", std::string(1025, 'n')},
                         {"payout_amount_eth", "-1"},
                         {"status", "done"},
                         {"submitted_at", "yesterday"},
                         {"credited", "yes"},
                         {"credited_at", "later"},
                         {"pricing", json::object{{"duration_ms", -5}, {"credit_eth_per_minute", "x"}, {"credit_unit", 3}}}}));
  EXPECT_EQ(all, (std::vector<std::string>{
                     "workload_id must equal the workload's key",
                     "orchestrator_id is required (1-128 characters)",
                     "plan_id must be a string or null",
                     "notes must be at most 1024 characters",
                     "payout_amount_eth must not be negative",
                     "status must be pending, verified, paid or rejected",
                     "submitted_at must be an ISO 8601 timestamp",
                     "credited must be true or false",
                     "credited_at must be an ISO 8601 timestamp",
                     "pricing duration_ms must be an integer from 0 to " + std::to_string(kMaxWorkloadDurationMs),
                     "pricing credit_unit must be a string or null",
                     "pricing credit_eth_per_minute: " + Rate::parse_eth_per_minute("x").error(),
                 }));
  // The payout amount is checked against a pricing that reads, next to the other problems.
  const auto priced = problem_messages(reference_import::read_workload_entry(
      "w1", json::object{{"orchestrator_id", "o1"},
                         {"payout_amount_eth", "2"},
                         {"status", "done"},
                         {"submitted_at", "2025-03-01T00:00:00"},
                         {"pricing", json::object{{"duration_ms", 60000}, {"credit_eth_per_minute", "1"}}}}));
  EXPECT_EQ(priced, (std::vector<std::string>{
                        "status must be pending, verified, paid or rejected",
                        "payout_amount_eth is not pricing.duration_ms × pricing.credit_eth_per_minute / 60000 (1 ETH)",
                    }));
  // Missing required fields, each named.
  EXPECT_EQ(problem_messages(reference_import::read_workload_entry("w1", json::object{})),
            (std::vector<std::string>{"orchestrator_id is required (1-128 characters)", "payout_amount_eth is required",
                                      "status must be pending, verified, paid or rejected",
                                      "submitted_at is required (an ISO 8601 timestamp)"}));
}

}  // namespace
}  // namespace lpops
