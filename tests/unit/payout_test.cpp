// Two-phase payouts in the book: reserve → post | void, the available balance, idempotent
// repeats, conflicts, replay and snapshots, and the audit kinds of each step.
#include <gtest/gtest.h>

#include <functional>

#include "domain/book.hpp"
#include "domain/orchestrator.hpp"
#include "storage/audit_log.hpp"

namespace lpops {
namespace {

namespace json = boost::json;
constexpr UnixMicros kNow = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
const Wei kEth = Wei(1'000'000'000'000'000'000ull);

struct Ledger {
  Book book;
  std::vector<Effect> effects;

  Ledger() {
    Registration r;
    r.orchestrator_id = "o1";
    r.address = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01";
    json::object rec = new_orchestrator_record(r, kNow);
    merge_registration(rec, r, "127.0.0.1", true, kNow);
    effects.push_back(*book.upsert_orchestrator(rec, kNow).effect);
    AdjustmentRequest a;
    a.orchestrator_id = "o1";
    a.amount = SignedWei{false, 2 * kEth};
    a.generated_id = "seed";
    keep(book.adjust(a, kNow));
  }
  Decision keep(Decision d) {
    if (d.effect) effects.push_back(*d.effect);
    return d;
  }
  Decision reserve(const std::string& id, std::optional<Wei> amount, const std::string& digest = "d") {
    PayoutRequest r;
    r.payout_id = id;
    r.orchestrator_id = "o1";
    r.amount = amount;
    r.request_digest = digest;
    return keep(book.reserve_payout(r, kNow));
  }
  SignedWei available() const { return book.account("o1")->available(); }
  // A reservation refused with `status` that changes nothing: no record, the same available.
  void expect_refused(const std::string& id, std::optional<Wei> amount, int status) {
    const auto seq = book.last_seq();
    const SignedWei before = available();
    auto d = reserve(id, amount);
    ASSERT_TRUE(d.failure);
    EXPECT_EQ(d.failure->status, status);
    EXPECT_EQ(book.last_seq(), seq);
    EXPECT_EQ(available(), before);
  }
  // o1's registry record changed by `change`, as a registration or start-up would store it.
  void change_record(const std::function<void(json::object&)>& change) {
    json::object rec = *book.orchestrator_record("o1");
    change(rec);
    effects.push_back(*book.upsert_orchestrator(rec, kNow).effect);
  }
  Book replayed() const {
    Book fresh;
    std::uint64_t seq = 0;
    for (const auto& e : effects) EXPECT_FALSE(fresh.apply(e.to_json(), ++seq).has_value());
    return fresh;
  }
};

const std::string kTx = "0x" + std::string(64, 'a');

TEST(Payout, ReservePostAndVoidMoveTheAvailableBalanceAndTheBalance) {
  Ledger l;
  auto r = l.reserve("p1", kEth / 2);
  ASSERT_FALSE(r.failure) << r.failure->detail;
  EXPECT_EQ(r.response.at("status").as_string(), "reserved");
  EXPECT_EQ(r.response.at("recipient").as_string(), "0xabcdef0123456789abcdef0123456789abcdef01");
  EXPECT_EQ(r.effect->entry->event_id, "payout:p1:reserve");
  EXPECT_TRUE(r.effect->entry->delta.is_zero());
  EXPECT_EQ(l.book.balance("o1"), (SignedWei{false, 2 * kEth}));
  EXPECT_EQ(l.available(), (SignedWei{false, 2 * kEth - kEth / 2}));
  EXPECT_EQ(l.book.account("o1")->pending_debits, kEth / 2);

  // More than is available: 409, nothing changes.
  const auto seq = l.book.last_seq();
  EXPECT_EQ(l.reserve("p2", 2 * kEth).failure->status, 409);
  EXPECT_EQ(l.book.last_seq(), seq);

  // Posting: the reservation becomes a debit.
  auto posted = l.keep(l.book.post_payout("p1", kTx, 123, kNow));
  ASSERT_FALSE(posted.failure);
  EXPECT_EQ(posted.effect->entry->event_id, "payout:p1");
  EXPECT_EQ(posted.effect->entry->reason, "payout");
  EXPECT_EQ(posted.effect->entry->delta, (SignedWei{true, kEth / 2}));
  EXPECT_EQ(l.book.balance("o1"), (SignedWei{false, 2 * kEth - kEth / 2}));
  EXPECT_EQ(l.available(), l.book.balance("o1"));
  EXPECT_EQ(l.book.account("o1")->pending_debits, 0);
  EXPECT_EQ(storage::audit_kind_and_source(*posted.effect->entry, posted.effect->type).first, "payout_debit");
  EXPECT_EQ(storage::audit_kind_and_source(*r.effect->entry, r.effect->type).first, "payout_reserve");
  // The stats count it as a payout.
  const auto* days = l.book.day_totals("o1");
  ASSERT_NE(days, nullptr);
  EXPECT_EQ(days->begin()->second.payouts.value(), (SignedWei{false, kEth / 2}));

  // The whole available balance by default, then voided: all of it is available again.
  auto all = l.reserve("p3", std::nullopt);
  ASSERT_FALSE(all.failure);
  EXPECT_EQ(all.response.at("amount_wei").as_string(), format_wei(2 * kEth - kEth / 2));
  EXPECT_TRUE(l.available().is_zero());
  EXPECT_EQ(l.reserve("p4", std::nullopt).failure->status, 409);  // nothing left
  auto voided = l.keep(l.book.void_payout("p3", std::string("rpc node lost the transaction"), kNow));
  ASSERT_FALSE(voided.failure);
  EXPECT_EQ(voided.effect->entry->event_id, "payout:p3:void");
  EXPECT_EQ(storage::audit_kind_and_source(*voided.effect->entry, voided.effect->type).first, "payout_void");
  EXPECT_EQ(l.available(), l.book.balance("o1"));

  // Replay through the journal form and a snapshot give the same book.
  Book replayed = l.replayed();
  EXPECT_EQ(json::serialize(replayed.snapshot()), json::serialize(l.book.snapshot()));
  auto restored = Book::from_snapshot(l.book.snapshot(), {});
  ASSERT_TRUE(restored.ok()) << restored.error();
  EXPECT_EQ(json::serialize(restored->snapshot()), json::serialize(l.book.snapshot()));
  EXPECT_EQ(restored->payout("p3")->status, "voided");
  EXPECT_EQ(restored->snapshot_text(), json::serialize(restored->snapshot()));
  ASSERT_EQ(l.book.list_payouts({}).size(), 2u);
  EXPECT_EQ(l.book.list_payouts({})[0]->payout_id, "p3");  // newest first
  EXPECT_EQ(l.book.list_payouts({std::nullopt, std::string("posted"), 10}).size(), 1u);
}

// A snapshot's pending debits must be its reserved payouts: one rewritten to hold back or
// free an amount (its checksum recomputed) is refused, and start-up replays the journal.
TEST(Payout, ASnapshotWhosePendingDebitsAreNotItsReservedPayoutsIsRefused) {
  Ledger l;
  ASSERT_FALSE(l.reserve("p1", kEth / 2).failure);
  auto restored = Book::from_snapshot(l.book.snapshot(), {});
  ASSERT_TRUE(restored.ok()) << restored.error();
  EXPECT_EQ(restored->account("o1")->available(), l.available());

  json::object more = l.book.snapshot();
  more["accounts"].as_object()["o1"].as_array()[2] = json::string((kEth).str());
  auto phantom = Book::from_snapshot(more, {});
  ASSERT_FALSE(phantom.ok());
  EXPECT_NE(phantom.error().find("pending debits of o1"), std::string::npos) << phantom.error();

  json::object freed = l.book.snapshot();
  freed["payouts"].as_array()[0].as_object()["status"] = "voided";
  auto voided = Book::from_snapshot(freed, {});
  ASSERT_FALSE(voided.ok());
  EXPECT_NE(voided.error().find("pending debits of o1"), std::string::npos) << voided.error();
}

TEST(Payout, RepeatsAnswerAgainAndConflictsAre409s) {
  Ledger l;
  ASSERT_FALSE(l.reserve("p1", kEth).failure);
  const auto seq = l.book.last_seq();
  auto again = l.reserve("p1", kEth);  // the same request
  EXPECT_FALSE(again.failure);
  EXPECT_FALSE(again.effect);
  EXPECT_EQ(again.response.at("payout_id").as_string(), "p1");
  EXPECT_EQ(l.reserve("p1", kEth / 2, "other").failure->status, 409);
  EXPECT_EQ(l.book.post_payout("nope", kTx, std::nullopt, kNow).failure->status, 404);
  EXPECT_EQ(l.book.void_payout("nope", std::nullopt, kNow).failure->status, 404);
  ASSERT_FALSE(l.keep(l.book.post_payout("p1", kTx, std::nullopt, kNow)).failure);
  // The reservation repeated after the post answers as it did: reserved (GET shows it posted).
  const auto first_answer = again.response;
  EXPECT_EQ(l.reserve("p1", kEth).response, first_answer);
  EXPECT_EQ(l.book.payout("p1")->status, "posted");
  auto repost = l.book.post_payout("p1", kTx, std::nullopt, kNow);
  EXPECT_FALSE(repost.failure);
  EXPECT_FALSE(repost.effect);
  EXPECT_EQ(l.book.post_payout("p1", "0x" + std::string(64, 'b'), std::nullopt, kNow).failure->status, 409);
  EXPECT_EQ(l.book.void_payout("p1", std::nullopt, kNow).failure->status, 409);
  ASSERT_FALSE(l.reserve("p2", kEth / 4).failure);
  ASSERT_FALSE(l.keep(l.book.void_payout("p2", std::nullopt, kNow)).failure);
  EXPECT_FALSE(l.book.void_payout("p2", std::nullopt, kNow).effect);  // voided again: nothing new
  // Another reason is a conflict; the first one, or none, answers as before.
  ASSERT_FALSE(l.reserve("p4", kEth / 16).failure);
  ASSERT_FALSE(l.keep(l.book.void_payout("p4", std::string("dropped"), kNow)).failure);
  EXPECT_EQ(l.book.void_payout("p4", std::string("replaced"), kNow).failure->status, 409);
  auto same = l.book.void_payout("p4", std::string("dropped"), kNow);
  ASSERT_FALSE(same.failure);
  EXPECT_FALSE(same.effect);
  EXPECT_EQ(same.response.at("void_reason").as_string(), "dropped");
  EXPECT_FALSE(l.book.void_payout("p4", std::nullopt, kNow).failure);
  EXPECT_EQ(l.book.post_payout("p2", kTx, std::nullopt, kNow).failure->status, 409);
  EXPECT_EQ(l.book.last_seq(), seq + 5);
  // A posted transaction pays this orchestrator once; a repeat with another block is a conflict.
  ASSERT_FALSE(l.reserve("p3", kEth / 8).failure);
  EXPECT_EQ(l.book.post_payout("p3", kTx, std::nullopt, kNow).failure->status, 409);
  EXPECT_EQ(l.book.post_payout("p1", kTx, 99, kNow).failure->status, 409);
  // Ids with ':' (event ids of other payouts' steps) or not starting with a letter or digit.
  EXPECT_EQ(l.reserve("p1:reserve", kEth / 8).failure->status, 422);
  EXPECT_EQ(l.reserve("..", kEth / 8).failure->status, 422);
  PayoutRequest unknown;
  unknown.payout_id = "p9";
  unknown.orchestrator_id = "nobody";
  EXPECT_EQ(l.book.reserve_payout(unknown, kNow).failure->status, 404);
}

// Payouts of several orchestrators posted by one transaction name its one block, or none.
TEST(Payout, OneTransactionIsInOneBlock) {
  Ledger l;
  Registration r;
  r.orchestrator_id = "o2";
  r.address = "0x" + std::string(40, 'b');
  json::object rec = new_orchestrator_record(r, kNow);
  merge_registration(rec, r, "127.0.0.1", true, kNow);
  l.effects.push_back(*l.book.upsert_orchestrator(rec, kNow).effect);
  AdjustmentRequest a;
  a.orchestrator_id = "o2";
  a.amount = SignedWei{false, kEth};
  a.generated_id = "seed2";
  l.keep(l.book.adjust(a, kNow));
  ASSERT_FALSE(l.reserve("p1", kEth / 2).failure);
  PayoutRequest second;
  second.payout_id = "p2";
  second.orchestrator_id = "o2";
  second.amount = kEth / 2;
  second.request_digest = "d2";
  ASSERT_FALSE(l.keep(l.book.reserve_payout(second, kNow)).failure);
  ASSERT_FALSE(l.keep(l.book.post_payout("p1", kTx, 100, kNow)).failure);
  const auto seq = l.book.last_seq();
  auto other_block = l.book.post_payout("p2", kTx, 101, kNow);
  ASSERT_TRUE(other_block.failure);
  EXPECT_EQ(other_block.failure->status, 409);
  EXPECT_EQ(other_block.failure->detail, "Transaction " + kTx + " was posted in block 100 (payout p1)");
  EXPECT_EQ(l.book.last_seq(), seq);
  EXPECT_EQ(l.book.payout("p2")->status, "reserved");
  // The same block, or none given, is taken.
  ASSERT_FALSE(l.keep(l.book.post_payout("p2", kTx, 100, kNow)).failure);
  EXPECT_EQ(l.book.payout("p2")->block_number, std::optional<std::uint64_t>(100));
  EXPECT_EQ(l.replayed().payout("p2")->block_number, std::optional<std::uint64_t>(100));
}

// As the payout rounds skip them, a reservation for a denylisted orchestrator is refused.
TEST(Payout, NoReservationForADenylistedOrchestrator) {
  Ledger l;
  l.change_record([](json::object& rec) { mark_denylisted(rec, kNow); });
  l.expect_refused("p1", kEth / 2, 403);
  EXPECT_EQ(l.available(), (SignedWei{false, 2 * kEth}));
}

// An orchestrator registered with the zero address (the reference admits it) is paid only to
// a recipient named in the request: a payout to its address would be burnt.
TEST(Payout, NoDefaultRecipientIsTheZeroAddress) {
  Ledger l;
  l.change_record([](json::object& rec) { rec["address"] = "0x0000000000000000000000000000000000000000"; });
  l.expect_refused("p1", kEth / 2, 409);
  EXPECT_EQ(l.available(), (SignedWei{false, 2 * kEth}));
  PayoutRequest named;
  named.payout_id = "p2";
  named.orchestrator_id = "o1";
  named.amount = kEth / 2;
  named.recipient = "0x00000000000000000000000000000000000000aa";
  named.request_digest = "n";
  ASSERT_FALSE(l.keep(l.book.reserve_payout(named, kNow)).failure);
  EXPECT_EQ(l.available(), (SignedWei{false, 3 * kEth / 2}));
}

// A negative balance brought over by an import is a debt of the old ledger: it never spends
// what payouts have reserved here (available = credits - posted - pending); past that it comes
// over, marked forced when it takes the account below zero, as a forced adjustment is.
TEST(Payout, ANegativeImportedBalanceCannotSpendAReservation) {
  Ledger l;
  ASSERT_FALSE(l.reserve("p1", 2 * kEth).failure);  // everything available is reserved
  const SignedWei minus_half{true, kEth / 2};
  EXPECT_EQ(l.book.check_balance_import("o1", minus_half, false).kind, Book::ImportCheck::Kind::conflict);
  ASSERT_FALSE(l.keep(l.book.void_payout("p1", "not sent", kNow)).failure);
  EXPECT_EQ(l.book.check_balance_import("o1", minus_half, false).kind, Book::ImportCheck::Kind::create);
  const SignedWei minus_three{true, 3 * kEth};
  ASSERT_EQ(l.book.check_balance_import("o1", minus_three, false).kind, Book::ImportCheck::Kind::create);
  const auto imported = l.keep(l.book.import_balance("o1", minus_three, "-3", false, kNow));
  ASSERT_FALSE(imported.failure);
  ASSERT_TRUE(imported.effect && imported.effect->entry);
  EXPECT_EQ(imported.effect->entry->metadata.at("forced"), json::value(true));
  EXPECT_EQ(l.available(), (SignedWei{true, kEth}));
}

TEST(Payout, ApplyRefusesPayoutEffectsThatDoNotFitAndChangesNothing) {
  Ledger l;
  auto r = l.reserve("p1", kEth);
  ASSERT_FALSE(r.failure);
  const std::string before = json::serialize(l.book.snapshot());
  // The same reservation again, and a settlement of an unknown payout.
  EXPECT_TRUE(l.book.apply(*r.effect, l.book.last_seq() + 1).has_value());
  Effect post = *r.effect;
  Payout p = *r.effect->payout;
  p.payout_id = "ghost";
  p.status = "posted";
  post.payout = std::make_shared<const Payout>(p);
  post.entry->delta = SignedWei{true, kEth};
  EXPECT_TRUE(l.book.apply(post, l.book.last_seq() + 1).has_value());
  // A posting whose amount differs from the reservation.
  p.payout_id = "p1";
  p.amount = kEth / 2;
  post.payout = std::make_shared<const Payout>(p);
  EXPECT_TRUE(l.book.apply(post, l.book.last_seq() + 1).has_value());
  EXPECT_EQ(json::serialize(l.book.snapshot()), before);
}

}  // namespace
}  // namespace lpops
