// Orchestrator credentials: the auth hash (shared vector), tokens in the book (issue,
// expiry, the per-orchestrator limit, revocation, replay and snapshots), the nonce and
// token text formats, and the ledger tree.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <fstream>
#include <random>
#include <set>

#include "actors/credential.hpp"
#include "actors/ledger.hpp"
#include "chain/abi.hpp"
#include "chain/eth_rpc.hpp"
#include "chain/credential.hpp"
#include "chain/hex.hpp"
#include "domain/book.hpp"
#include "domain/digest.hpp"
#include "domain/orchestrator.hpp"
#include "net/http_server.hpp"
#include "tests/support/run_awaitable.hpp"
#include "tests/support/test_store.hpp"
#include "chain/signature.hpp"

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>

namespace lpops {
namespace {

namespace json = boost::json;
using namespace lpops::chain;

constexpr UnixMicros kNow = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
constexpr UnixMicros kMinute = 60'000'000;

TEST(Credential, AuthHashReproducesTheSharedVector) {
  std::ifstream in(std::string(LPOPS_VECTORS_DIR) + "/chain.json");
  const auto doc = json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  const auto& v = doc.at("credential_auth");
  const auto& i = v.at("inputs");
  const Hash256 h = credential::auth_hash(std::string(i.at("orchestrator_id").as_string()),
                                          parse_address(i.at("owner").as_string()).value(),
                                          parse_address(i.at("delegate").as_string()).value(),
                                          hash32_from_hex(i.at("nonce").as_string()).value(),
                                          static_cast<std::uint64_t>(i.at("expires_at").as_int64()));
  EXPECT_EQ(to_hex(h), v.at("hash").as_string());
  // Every input is bound: changing any one changes the hash.
  EXPECT_NE(credential::auth_hash("orch-b", parse_address(i.at("owner").as_string()).value(),
                                  parse_address(i.at("delegate").as_string()).value(),
                                  hash32_from_hex(i.at("nonce").as_string()).value(), 1700000000),
            h);
  EXPECT_NE(credential::auth_hash("orch-a", parse_address(i.at("owner").as_string()).value(),
                                  parse_address(i.at("delegate").as_string()).value(),
                                  hash32_from_hex(i.at("nonce").as_string()).value(), 1700000001),
            h);
}

TEST(Credential, TokenTextsHaveTheReferenceShapes) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string token = actors::new_credential_token();
    ASSERT_EQ(token.size(), 43u);
    for (char c : token) ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << token;
    EXPECT_TRUE(seen.insert(token).second);
    const std::string id = actors::new_token_id();
    ASSERT_EQ(id.size(), 32u);
    EXPECT_EQ(id[12], '4');
    EXPECT_NE(std::string("89ab").find(id[16]), std::string::npos) << id;
  }
  // sha256("abc")
  EXPECT_EQ(actors::credential_token_hash("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

struct Tokens {
  Book book;
  std::vector<Effect> effects;

  void add_orchestrator(const std::string& id, bool denylisted = false, char address_digit = 'a') {
    Registration r;
    r.orchestrator_id = id;
    r.address = "0x" + std::string(40, address_digit);
    json::object rec = new_orchestrator_record(r, kNow);
    merge_registration(rec, r, "127.0.0.1", true, kNow);
    rec["denylisted"] = denylisted;
    effects.push_back(*book.upsert_orchestrator(rec, kNow).effect);
  }
  Decision issue(const std::string& id, const std::string& token, UnixMicros expires, std::size_t max = 3, UnixMicros now = kNow) {
    auto d = book.issue_credential_token(id, "id-" + token, actors::credential_token_hash(token), expires, max, now);
    if (d.effect) effects.push_back(*d.effect);
    return d;
  }
  Book replayed() const {
    Book fresh;
    std::uint64_t seq = 0;
    for (const auto& e : effects) EXPECT_FALSE(fresh.apply(e.to_json(), ++seq).has_value());
    return fresh;
  }
};

TEST(Credential, BookIssuesTokensAndAuthenticatesOnlyLiveOnes) {
  Tokens t;
  t.add_orchestrator("o1");
  t.add_orchestrator("bad", true);
  EXPECT_EQ(t.issue("nobody", "x", kNow + kMinute).failure->status, 404);
  EXPECT_EQ(t.issue("bad", "x", kNow + kMinute).failure->status, 403);
  ASSERT_FALSE(t.issue("o1", "t1", kNow + kMinute).failure);
  EXPECT_EQ(t.issue("o1", "t1", kNow + 2 * kMinute).failure->status, 409);  // the same token twice
  const auto h1 = actors::credential_token_hash("t1");
  EXPECT_EQ(t.book.authenticate(h1, kNow), "o1");
  EXPECT_EQ(t.book.authenticate(h1, kNow + kMinute), std::nullopt);  // expired
  EXPECT_EQ(t.book.authenticate(actors::credential_token_hash("t2"), kNow), std::nullopt);
  // Denylisting the orchestrator stops its tokens; letting it in again restores them.
  t.add_orchestrator("o1", true);
  EXPECT_EQ(t.book.authenticate(h1, kNow), std::nullopt);
  t.add_orchestrator("o1", false);
  EXPECT_EQ(t.book.authenticate(h1, kNow), "o1");
}

TEST(Credential, IssuingDropsExpiredAndOldestTokensBeyondTheLimit) {
  Tokens t;
  t.add_orchestrator("o1");
  t.add_orchestrator("o2");
  ASSERT_FALSE(t.issue("o1", "old", kNow + kMinute).failure);
  ASSERT_FALSE(t.issue("o2", "other", kNow + 100 * kMinute).failure);
  // Two minutes later "old" has expired: issuing drops it.
  const UnixMicros later = kNow + 2 * kMinute;
  for (const char* token : {"a", "b", "c"}) ASSERT_FALSE(t.issue("o1", token, later + 10 * kMinute, 3, later).failure);
  EXPECT_EQ(t.book.credential_token_count(), 4u);  // a, b, c and o2's
  // A fourth live one drops the oldest ("a"); o2's token is untouched.
  ASSERT_FALSE(t.issue("o1", "d", later + 10 * kMinute, 3, later).failure);
  EXPECT_EQ(t.book.authenticate(actors::credential_token_hash("a"), later), std::nullopt);
  for (const char* token : {"b", "c", "d"}) EXPECT_EQ(t.book.authenticate(actors::credential_token_hash(token), later), "o1");
  EXPECT_EQ(t.book.authenticate(actors::credential_token_hash("other"), later), "o2");
  EXPECT_EQ(t.book.credential_token_count(), 4u);

  // Revocation drops every token of one orchestrator, once.
  auto r = t.book.revoke_credential_tokens("o1", later);
  ASSERT_TRUE(r.effect);
  t.effects.push_back(*r.effect);
  EXPECT_EQ(r.response.at("revoked").to_number<std::int64_t>(), 3);
  EXPECT_EQ(t.book.authenticate(actors::credential_token_hash("d"), later), std::nullopt);
  auto again = t.book.revoke_credential_tokens("o1", later);
  EXPECT_FALSE(again.effect);
  EXPECT_EQ(again.response.at("revoked").to_number<std::int64_t>(), 0);
  EXPECT_EQ(t.book.revoke_credential_tokens("nobody", later).failure->status, 404);

  // Replay through the journal form and a snapshot round trip give the same tokens.
  Book replayed = t.replayed();
  EXPECT_EQ(json::serialize(replayed.snapshot()), json::serialize(t.book.snapshot()));
  auto restored = Book::from_snapshot(t.book.snapshot(), {});
  ASSERT_TRUE(restored.ok()) << restored.error();
  EXPECT_EQ(json::serialize(restored->snapshot()), json::serialize(t.book.snapshot()));
  EXPECT_EQ(t.book.snapshot_text(), json::serialize(t.book.snapshot()));  // written without a document
  EXPECT_EQ(restored->authenticate(actors::credential_token_hash("other"), later), "o2");
  EXPECT_EQ(restored->snapshot_text(), json::serialize(restored->snapshot()));
}

TEST(Credential, ApplyRefusesAnEffectThatDoesNotFitAndChangesNothing) {
  Tokens t;
  t.add_orchestrator("o1");
  ASSERT_FALSE(t.issue("o1", "t1", kNow + kMinute).failure);
  const std::string before = json::serialize(t.book.snapshot());
  Effect e;
  e.type = Effect::Type::credential;
  e.at = kNow;
  e.credential = CredentialNote{"o2", std::nullopt, std::nullopt, 0, {actors::credential_token_hash("t1")}};  // not o2's
  EXPECT_TRUE(t.book.apply(e, t.book.last_seq() + 1).has_value());
  e.credential = CredentialNote{"o1", std::string("id"), actors::credential_token_hash("t1"), kNow + kMinute, {}};  // exists
  EXPECT_TRUE(t.book.apply(e, t.book.last_seq() + 1).has_value());
  EXPECT_EQ(json::serialize(t.book.snapshot()), before);
}

// A JSON-RPC server on loopback whose every eth_call answers `reply` (the JSON after "id").
class FixedRpcServer {
 public:
  explicit FixedRpcServer(std::string result_or_error) {
    net::ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.io_threads = 1;
    server_ = std::make_unique<net::HttpServer>(o, [body = std::move(result_or_error)](net::Request&& r, net::Responder respond) {
      auto id = json::parse(r.body).as_object().at("id");
      net::Response resp;
      resp.body = "{\"jsonrpc\":\"2.0\",\"id\":" + json::serialize(id) + "," + body + "}";
      respond(std::move(resp));
    });
    port_ = server_->start();
  }
  ~FixedRpcServer() { server_->shutdown(std::chrono::milliseconds(100)); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::unique_ptr<net::HttpServer> server_;
  std::uint16_t port_ = 0;
};

credential::OnChain check_against(const std::string& answer) {
  FixedRpcServer server(answer);
  boost::asio::io_context ioc;
  RpcOptions options;
  options.max_attempts = 1;
  EthRpc rpc(RpcClient::create(ioc.get_executor(), server.url(), options).value());
  const Address contract = parse_address("0x" + std::string(40, '5')).value();
  auto check = testing::run_awaitable(ioc, credential::check_on_chain(rpc, contract, contract, contract));
  return check.outcome;
}

TEST(Credential, OnlyARevertSaysTheCredentialIsNotValid) {
  using credential::OnChain;
  // Node trouble of every kind: the credential is unknown (503), never invalid (403).
  for (const char* trouble : {R"("error":{"code":-32005,"message":"rate limited"})",
                              R"("error":{"code":-32603,"message":"internal error"})",
                              R"("error":{"code":-32601,"message":"the method eth_call does not exist"})",
                              R"("error":{"code":-32000,"message":"header not found"})", R"("result":"0x12")"})
    EXPECT_EQ(check_against(trouble), OnChain::unavailable) << trouble;
  EXPECT_EQ(check_against(R"("error":{"code":3,"message":"execution reverted: zero address","data":"0x"})"), OnChain::not_valid);
  EXPECT_EQ(check_against(R"("error":{"code":-32000,"message":"execution reverted"})"), OnChain::not_valid);
  // balanceOf 0: no credential.
  EXPECT_EQ(check_against(R"("result":"0x0000000000000000000000000000000000000000000000000000000000000000")"), OnChain::not_valid);
}

TEST(LedgerTree, LeafHashIsTheStandardAbiEncoding) {
  const auto types = abi::parse_types("string,bytes32,address,int256").value();
  std::mt19937_64 rng(5);
  for (int i = 0; i < 200; ++i) {
    const Hash256 orch = keccak256(std::to_string(rng()));
    Address a;
    for (auto& byte : a) byte = static_cast<std::uint8_t>(rng());
    Wei m = i % 3 == 0 ? Wei(rng()) : Wei(rng()) * Wei(rng()) * Wei(rng());
    const SignedWei balance{i % 4 == 1 && m != 0, m};
    auto encoded = abi::encode(types, {abi::Value::string_of(credential::kLedgerLeafDomain), abi::Value::word_of(orch),
                                       abi::Value::address(a), abi::Value::integer(balance).value()})
                       .value();
    ASSERT_EQ(encoded.size(), 192u);
    EXPECT_EQ(credential::ledger_leaf_hash(orch, a, balance), keccak256(encoded.data(), encoded.size())) << i;
  }
}

TEST(LedgerTree, ProofsAndRootsEqualTheAuditTreesAtEverySizeAndUpdatesEqualRebuilds) {
  for (std::size_t n = 1; n <= 70; ++n) {
    std::vector<credential::LedgerLeaf> leaves(n);
    for (std::size_t i = 0; i < n; ++i) {
      leaves[i].orchestrator_id = "o" + std::to_string(i);
      leaves[i].balance = SignedWei{false, Wei(i)};
    }
    auto tree = credential::LedgerTree::build(leaves);
    merkle::Tree reference;
    for (std::size_t i = 0; i < n; ++i) reference.append(tree.leaf(i).leaf_hash);
    ASSERT_EQ(tree.root(), reference.root()) << n;
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(tree.proof(i), reference.inclusion_proof(i, n).value()) << n << " " << i;
    // Changing a balance in place equals building anew with it, for each leaf in turn.
    for (std::size_t k = 0; k < n; ++k) {
      const SignedWei changed{k % 2 == 0, Wei(12345 + k)};
      const std::string id = tree.leaf(k).orchestrator_id;
      const Hash256 before = tree.root();
      tree.update(k, tree.leaf(k).recipient, changed);
      ASSERT_NE(tree.root(), before) << n << " " << k;
      for (auto& l : leaves)
        if (l.orchestrator_id == id) l.balance = changed;
      auto rebuilt = credential::LedgerTree::build(leaves);
      ASSERT_EQ(tree.root(), rebuilt.root()) << n << " " << k;
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(tree.proof(i), rebuilt.proof(i)) << n << " " << k << " " << i;
    }
  }
}

TEST(LedgerTree, TheLedgersCachedTreeAlwaysEqualsAFreshOne) {
  Tokens t;  // a book with orchestrators
  actors::LedgerTreeCache cache;
  std::mt19937_64 rng(17);
  auto fresh_root = [&] {
    std::vector<credential::LedgerLeaf> leaves;
    for (const auto& id : t.book.orchestrator_order()) {
      credential::LedgerLeaf l;
      l.orchestrator_id = id;
      l.recipient = parse_address(t.book.orchestrator_record(id)->at("address").as_string()).value();
      l.balance = t.book.balance(id);
      leaves.push_back(l);
    }
    return credential::LedgerTree::build(leaves).root();
  };
  int ids = 0;
  for (int step = 0; step < 300; ++step) {
    const auto r = rng() % 10;
    if (r == 0 || ids < 2) {
      t.add_orchestrator("o" + std::to_string(ids++));
    } else if (r == 2) {  // a record rewritten with another address (a leaf moves to another recipient)
      t.add_orchestrator("o" + std::to_string(rng() % ids), false, "0123456789abcdef"[rng() % 16]);
    } else {
      AdjustmentRequest a;
      a.orchestrator_id = "o" + std::to_string(rng() % ids);
      a.amount = SignedWei{r == 1, Wei(rng() % 1'000'000 + 1)};
      a.force = true;
      a.generated_id = std::to_string(step);
      ASSERT_FALSE(t.book.adjust(a, kNow).failure);
    }
    if (rng() % 3 == 0) {
      const auto& tree = actors::refresh_ledger_tree(t.book, cache);
      ASSERT_EQ(tree.size(), static_cast<std::size_t>(ids));
      ASSERT_EQ(tree.root(), fresh_root()) << step;
    }
  }
}

TEST(LedgerTree, LeavesAreSortedByOrchestratorHashAndEveryProofVerifies) {
  std::vector<credential::LedgerLeaf> leaves;
  for (int i = 0; i < 37; ++i) {
    credential::LedgerLeaf l;
    l.orchestrator_id = "orch-" + std::to_string(i);
    l.recipient = parse_address("0x" + std::string(38, '0') + (i < 16 ? "0" : "") + [&] {
                    char b[3];
                    std::snprintf(b, sizeof b, "%x", i);
                    return std::string(b);
                  }()).value();
    l.balance = SignedWei{i % 5 == 0 && i > 0, Wei(i) * Wei(1'000'000'000'000ull)};
    leaves.push_back(l);
  }
  auto tree = credential::LedgerTree::build(leaves);
  ASSERT_EQ(tree.size(), 37u);
  std::vector<Hash256> leaf_hashes;
  for (std::size_t i = 0; i < tree.size(); ++i) {
    if (i) {
      EXPECT_LT(tree.leaf(i - 1).orch_hash, tree.leaf(i).orch_hash);
    }
    leaf_hashes.push_back(tree.leaf(i).leaf_hash);
  }
  EXPECT_EQ(tree.root(), merkle::root_of(leaf_hashes));
  for (const auto& l : leaves) {
    auto index = tree.index_of(l.orchestrator_id);
    ASSERT_TRUE(index);
    const auto& leaf = tree.leaf(*index);
    EXPECT_EQ(leaf.leaf_hash, credential::ledger_leaf_hash(keccak256(l.orchestrator_id), l.recipient, l.balance));
    EXPECT_TRUE(merkle::verify_inclusion(leaf.leaf_hash, *index, tree.size(), tree.proof(*index), tree.root()));
    // Another balance is another leaf, and its proof fails.
    const Hash256 other = credential::ledger_leaf_hash(leaf.orch_hash, leaf.recipient, SignedWei{false, leaf.balance.magnitude + 1});
    EXPECT_FALSE(merkle::verify_inclusion(other, *index, tree.size(), tree.proof(*index), tree.root()));
  }
  EXPECT_FALSE(tree.index_of("orch-99"));
  EXPECT_EQ(credential::LedgerTree::build({}).size(), 0u);
}


// A token whose checks began before its orchestrator's tokens were revoked is not issued
// after the revocation, even when the chain says yes; a request begun after it is.
class NoDiskStore final : public testing::TestStore {
 public:
  NoDiskStore() : TestStore("no-disk test store") {}

 private:
  void commit(const std::vector<const storage::FramedRecord*>&) override {}
};

struct Answer {
  std::promise<std::pair<int, std::string>> promise;
  std::future<std::pair<int, std::string>> future = promise.get_future();
  actors::Reply reply() {
    return [this](int status, std::string body) { promise.set_value({status, std::move(body)}); };
  }
  std::pair<int, std::string> get() {
    if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << "no answer within 10 s";
      return {0, "no answer"};
    }
    return future.get();
  }
};

// A ledger with orchestrator o1 and a credential actor whose chain checks wait for the test.
struct CredentialRig {
  explicit CredentialRig(std::size_t max_nonces = 10'000, std::size_t per_orchestrator = 64, std::int64_t window_seconds = 300) {
    Registration r;
    r.orchestrator_id = "o1";
    r.address = "0x" + std::string(40, 'a');
    owner = parse_address(r.address).value();
    json::object rec = new_orchestrator_record(r, kNow);
    merge_registration(rec, r, "127.0.0.1", true, kNow);
    book->upsert_orchestrator(rec, kNow);
    actors::JournalSetup journal;
    journal.store = std::make_shared<NoDiskStore>();
    journal.metrics = std::make_shared<actors::Metrics>();
    journal.last_seq = book->last_seq();
    ledger = sys.spawn<caf::detached>(actors::ledger_actor, book, journal, journal.metrics,
                                      actors::LedgerOptions{Rate::parse_eth_per_minute("0.000005353596").value()});
    actors::CredentialOptions options;
    options.max_nonces = max_nonces;
    options.nonces_per_orchestrator = per_orchestrator;
    options.window_seconds = window_seconds;
    options.clock = [this] { return clock_offset.load() + now_micros(); };
    options.check = [this](Address, Address, std::function<void(credential::Check)> done) {
      std::lock_guard lock(mutex);
      held.push_back(std::move(done));
      changed.notify_all();
    };
    cred = sys.spawn(actors::credential_actor, ledger, journal.metrics, options);
  }
  ~CredentialRig() {
    caf::anon_send_exit(cred, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(ledger, caf::exit_reason::user_shutdown);
  }

  // A nonce for o1 and its expiry.
  std::pair<std::string, std::int64_t> nonce() {
    Answer n;
    caf::anon_send(cred, actors::CredentialNonce{"o1", n.reply()});
    auto [status, body] = n.get();
    EXPECT_EQ(status, 200) << body;
    if (status != 200) return {};
    const auto doc = json::parse(body);
    return {std::string(doc.at("nonce").as_string()), doc.at("expires_at").as_int64()};
  }
  // Asks for a token with the nonce, signed by the delegate (or by `as`, naming itself the
  // delegate), for `expires_at` (the nonce's own by default).
  void ask(const std::pair<std::string, std::int64_t>& n, Answer& token, const PrivateKey* as = nullptr,
           std::optional<std::int64_t> expires_at = std::nullopt) {
    const PrivateKey& signer = as ? *as : delegate;
    const std::int64_t expires = expires_at.value_or(n.second);
    const auto digest = eip191_hash32(credential::auth_hash("o1", owner, signer.address(), hash32_from_hex(n.first).value(),
                                                            static_cast<std::uint64_t>(expires)));
    caf::anon_send(cred, actors::CredentialToken{"o1", signer.address(), n.first, expires, sign_digest(signer, digest).to_hex(),
                                                 token.reply()});
  }
  // The chain check of the request under way, once it began (empty if none began).
  std::function<void(credential::Check)> held_check() {
    std::unique_lock lock(mutex);
    EXPECT_TRUE(changed.wait_for(lock, std::chrono::seconds(10), [&] { return !held.empty(); })) << "no chain check began";
    if (held.empty()) return {};
    auto done = std::move(held.back());
    held.clear();
    return done;
  }
  // Asks for a token with `n`; returns the request's chain check, held.
  std::function<void(credential::Check)> begin_with(const std::pair<std::string, std::int64_t>& n, Answer& token) {
    ask(n, token);
    return held_check();
  }
  // The same with a new nonce.
  std::function<void(credential::Check)> begin_request(Answer& token) { return begin_with(nonce(), token); }

  std::shared_ptr<Book> book = std::make_shared<Book>();
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::actor ledger, cred;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::function<void(credential::Check)>> held;
  const PrivateKey delegate = PrivateKey::from_hex("0x" + std::string(63, '0') + "7").value();
  Address owner{};
  std::atomic<std::int64_t> clock_offset{0};  // µs added to the wall clock the actor reads
};

const credential::Check kValid{credential::OnChain::valid, ""};

TEST(Credential, ATokenCheckedWhileItsOrchestratorIsRevokedIsNotIssued) {
  CredentialRig rig;
  Answer first;
  auto check = rig.begin_request(first);
  ASSERT_TRUE(check);
  Answer revoked;
  caf::anon_send(rig.ledger, actors::RevokeTokens{"o1", revoked.reply()});
  EXPECT_EQ(revoked.get().first, 200);
  check(kValid);  // the chain says yes only after the revocation
  auto [status, body] = first.get();
  EXPECT_EQ(status, 409) << body;
  EXPECT_NE(body.find("revoked while this request was being checked"), std::string::npos) << body;

  // A request begun after the revocation gets its token.
  Answer second;
  check = rig.begin_request(second);
  ASSERT_TRUE(check);
  check(kValid);
  auto [status2, body2] = second.get();
  EXPECT_EQ(status2, 200) << body2;
  const std::string token(json::parse(body2).at("token").as_string());
  Answer who;
  caf::anon_send(rig.ledger, actors::Query{[&token](const Book& b) {
                   auto id = b.authenticate(actors::credential_token_hash(token), now_micros());
                   return std::pair{200, id.value_or("")};
                 },
                                           who.reply()});
  EXPECT_EQ(who.get(), std::pair(200, std::string("o1")));
}

// One orchestrator's spent nonces have a cap of their own, below the node's, so that its
// delegate asking for token after token cannot keep the others from signing in; and so have
// one delegate's requests while the chain is asked. A nonce the chain refused stops counting.
TEST(Credential, OneOrchestratorsNoncesAreCappedOnTheirOwn) {
  CredentialRig rig(10'000, 2);
  Answer first, second;
  auto first_check = rig.begin_with(rig.nonce(), first);
  ASSERT_TRUE(first_check);
  auto second_check = rig.begin_with(rig.nonce(), second);
  ASSERT_TRUE(second_check);
  // Two of the delegate's under way: a third waits for one to end.
  Answer third;
  rig.ask(rig.nonce(), third);
  EXPECT_EQ(third.get(), std::pair(429, std::string(R"({"detail":"Too many credential requests of this delegate under way; retry later"})")));
  first_check(kValid);  // spent: counted for the orchestrator until it expires
  EXPECT_EQ(first.get().first, 200);
  second_check(credential::Check{credential::OnChain::not_valid, "no"});  // refused: no longer counted
  EXPECT_EQ(second.get().first, 403);
  Answer fourth;
  auto fourth_check = rig.begin_with(rig.nonce(), fourth);
  ASSERT_TRUE(fourth_check);
  fourth_check(kValid);
  EXPECT_EQ(fourth.get().first, 200);
  // Two spent: the orchestrator's cap.
  Answer fifth;
  rig.ask(rig.nonce(), fifth);
  EXPECT_EQ(fifth.get(), std::pair(429, std::string(R"({"detail":"Too many credentials issued to this orchestrator recently; retry later"})")));
}

// Anyone can sign as a delegate of their own making and so pass the signature check; what
// such requests hold while the chain is asked is counted per delegate, so that they cannot
// crowd out the orchestrator's real delegate.
TEST(Credential, StrangersUnderWayDoNotCrowdOutTheDelegate) {
  CredentialRig rig(10'000, 2);
  std::vector<PrivateKey> strangers;
  std::vector<std::function<void(credential::Check)>> checks;
  std::vector<std::unique_ptr<Answer>> answers;
  for (int i = 0; i < 6; ++i) {
    strangers.push_back(PrivateKey::from_hex("0x" + std::string(62, '0') + std::to_string(10 + i)).value());
    answers.push_back(std::make_unique<Answer>());
    rig.ask(rig.nonce(), *answers.back(), &strangers.back());
    checks.push_back(rig.held_check());
    ASSERT_TRUE(checks.back()) << i;
  }
  Answer real;
  auto real_check = rig.begin_request(real);
  ASSERT_TRUE(real_check) << "the real delegate's request was refused";
  real_check(kValid);
  EXPECT_EQ(real.get().first, 200);
  for (std::size_t i = 0; i < checks.size(); ++i) {
    checks[i](credential::Check{credential::OnChain::not_valid, "not the delegate"});
    EXPECT_EQ(answers[i]->get().first, 403) << i;
  }
}

// expires_at may lie at most the nonce TTL ahead, however long the nonce itself lives (at
// least 30 s, as the reference's store keeps them).
TEST(Credential, ExpiresAtMayLieAtMostTheWindowAhead) {
  CredentialRig rig(10'000, 64, 10);
  const auto n = rig.nonce();
  const std::int64_t now_s = now_micros() / 1'000'000;
  Answer too_far;
  rig.ask(n, too_far, nullptr, now_s + 20);
  EXPECT_EQ(too_far.get(), std::pair(401, std::string(R"({"detail":"Credential expired"})")));
  Answer within;
  auto check = [&] {
    rig.ask(n, within, nullptr, now_s + 5);
    return rig.held_check();
  }();
  ASSERT_TRUE(check);
  check(kValid);
  EXPECT_EQ(within.get().first, 200);
}

// A spent nonce is forgotten once it expires (its MAC's expiry refuses it from then on). Should
// the wall clock step back before that expiry, it would be valid again: the key is drawn
// anew, so the same request does not get a second token.
TEST(Credential, ASpentNonceStaysSpentWhenTheClockStepsBack) {
  CredentialRig rig;
  const auto n = rig.nonce();
  Answer first;
  auto check = rig.begin_with(n, first);
  ASSERT_TRUE(check);
  check(kValid);
  ASSERT_EQ(first.get().first, 200);
  // Ten minutes on (past the nonce's 300 s): a request sweeps the spent nonce away.
  rig.clock_offset = 600'000'000;
  Answer later;
  rig.ask(rig.nonce(), later, nullptr, now_micros() / 1'000'000 + 601);
  auto later_check = rig.held_check();
  ASSERT_TRUE(later_check);
  later_check(kValid);
  EXPECT_EQ(later.get().first, 200);
  // The clock steps back to where it was: the first request again.
  rig.clock_offset = 0;
  Answer replay;
  rig.ask(n, replay);
  EXPECT_EQ(replay.get(), std::pair(401, std::string(R"({"detail":"Invalid credential nonce"})")));
  // New nonces work.
  Answer fresh;
  auto fresh_check = rig.begin_request(fresh);
  ASSERT_TRUE(fresh_check);
  fresh_check(kValid);
  EXPECT_EQ(fresh.get().first, 200);
}

// RFC 4231's test cases 1 and 2 (case 6: a key longer than the block is hashed first).
TEST(Credential, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(hex_lower(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex_lower(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hex_lower(hmac_sha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// A nonce carries its expiry and a MAC over it and the orchestrator id: another id, another
// key, a changed byte or a malformed text is not one of the node's.
TEST(Credential, NoncesAreMacedNotStored) {
  std::array<std::uint8_t, 32> key{};
  key[0] = 1;
  const std::string n = actors::make_credential_nonce(key, "o1", 1'767'225'900);
  ASSERT_EQ(n.size(), 66u);
  EXPECT_EQ(n.substr(0, 18), "0x000000006955ba2c");  // 1767225900, big-endian
  EXPECT_EQ(actors::credential_nonce_expiry(key, "o1", n), 1'767'225'900);
  EXPECT_NE(actors::make_credential_nonce(key, "o1", 1'767'225'900), n);  // random bytes in each
  EXPECT_FALSE(actors::credential_nonce_expiry(key, "o2", n));
  EXPECT_FALSE(actors::credential_nonce_expiry(key, "o1x", n));
  auto other_key = key;
  other_key[31] = 9;
  EXPECT_FALSE(actors::credential_nonce_expiry(other_key, "o1", n));
  for (std::size_t i = 2; i < n.size(); ++i) {
    std::string changed = n;
    changed[i] = changed[i] == '0' ? '1' : '0';
    EXPECT_FALSE(actors::credential_nonce_expiry(key, "o1", changed)) << i;  // the expiry is covered too
  }
  EXPECT_FALSE(actors::credential_nonce_expiry(key, "o1", n.substr(0, 64)));
  EXPECT_FALSE(actors::credential_nonce_expiry(key, "o1", "0x" + std::string(64, 'z')));
  EXPECT_FALSE(actors::credential_nonce_expiry(key, "o1", "1x" + n.substr(2)));
}

// Asking for nonces holds nothing, so no number of them (past PAYMENTS_ORCHESTRATOR_CREDENTIAL_MAX_NONCES)
// keeps an orchestrator from signing in. What is held are the nonces of token requests whose
// signature is valid, while the chain is asked and, once a token is issued, until they expire:
// those are capped (then 429), and a nonce held or spent is refused.
TEST(Credential, OnlyNoncesOfValidSignaturesAreHeldAndCapped) {
  CredentialRig rig(2);
  std::vector<std::pair<std::string, std::int64_t>> minted;
  for (int i = 0; i < 20'000; ++i) minted.push_back(rig.nonce());
  // The first nonce asked for is good still, and a request with it waits for the chain.
  Answer first;
  auto first_check = rig.begin_with(minted.front(), first);
  ASSERT_TRUE(first_check);
  // The same nonce while it is held: refused.
  Answer twice;
  rig.ask(minted.front(), twice);
  EXPECT_EQ(twice.get(), std::pair(401, std::string(R"({"detail":"Invalid credential nonce"})")));
  // The chain says no: the nonce is usable again.
  first_check(credential::Check{credential::OnChain::not_valid, "no"});
  EXPECT_EQ(first.get().first, 403);
  Answer again;
  auto again_check = rig.begin_with(minted.front(), again);
  ASSERT_TRUE(again_check);
  again_check(kValid);
  EXPECT_EQ(again.get().first, 200);
  // Spent by the token.
  Answer spent;
  rig.ask(minted.front(), spent);
  EXPECT_EQ(spent.get(), std::pair(401, std::string(R"({"detail":"Invalid credential nonce"})")));
  // One spent and one held reach the cap of 2: the next valid request is 429.
  Answer held;
  auto held_check = rig.begin_with(minted.back(), held);
  ASSERT_TRUE(held_check);
  Answer refused;
  rig.ask(minted[1], refused);
  EXPECT_EQ(refused.get(), std::pair(429, std::string(R"({"detail":"Too many credentials issued recently; retry later"})")));
  held_check(kValid);
  EXPECT_EQ(held.get().first, 200);
  // A request whose signature is not the delegate's is refused before it is counted or held.
  Answer forged;
  auto n = rig.nonce();
  caf::anon_send(rig.cred, actors::CredentialToken{"o1", rig.delegate.address(), n.first, n.second,
                                                   "0x" + std::string(130, '1'), forged.reply()});
  EXPECT_EQ(forged.get(), std::pair(401, std::string(R"({"detail":"Invalid credential signature"})")));
}
}  // namespace
}  // namespace lpops
