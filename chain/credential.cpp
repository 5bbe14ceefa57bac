#include "chain/credential.hpp"

#include <algorithm>
#include <cctype>

#include "chain/abi.hpp"
#include "chain/keccak_many.hpp"

namespace lpops::chain::credential {
namespace {

const abi::Function& balance_of() {
  static const abi::Function f = abi::Function::parse("balanceOf(address)", "uint256").value();
  return f;
}
const abi::Function& delegate_of() {
  static const abi::Function f = abi::Function::parse("delegateOf(address)", "address").value();
  return f;
}

// Only an execution revert says something about the credential (no credential, a zero
// owner); any other JSON-RPC error (rate limits, internal errors, an unknown method) is the
// node's trouble and must not turn a valid credential away.
bool is_revert(const RpcError& e) {
  if (e.kind != RpcError::Kind::Rpc) return false;
  if (e.code == 3) return true;  // geth, anvil: "execution reverted" with data
  std::string m = e.message;
  for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return m.find("revert") != std::string::npos;
}

}  // namespace

Hash256 auth_hash(std::string_view orchestrator_id, const Address& owner, const Address& delegate, const Hash256& nonce,
                  std::uint64_t expires_at) {
  static const auto types = abi::parse_types("string,string,address,address,bytes32,uint256").value();
  auto packed = abi::encode_packed(types, {abi::Value::string_of(kAuthDomain), abi::Value::string_of(orchestrator_id),
                                           abi::Value::address(owner), abi::Value::address(delegate),
                                           abi::Value::word_of(nonce), abi::Value::uint(expires_at)})
                    .value();
  return keccak256(packed.data(), packed.size());
}

namespace {

// `fn(owner)` at "latest", its one output; on failure `check` says why (a revert: not valid;
// anything else: unavailable).
boost::asio::awaitable<std::optional<abi::Value>> view_of(EthRpc& rpc, const abi::Function& fn, Address contract, Address owner,
                                                          Check& check) {
  CallRequest request{std::nullopt, contract, 0, fn.encode_call({abi::Value::address(owner)}).value(), std::nullopt};
  auto answer = co_await rpc.call(request);
  if (!answer.ok()) {
    check.outcome = is_revert(*answer.error) ? OnChain::not_valid : OnChain::unavailable;
    check.detail = fn.name + ": " + answer.error->describe();
    co_return std::nullopt;
  }
  auto decoded = fn.decode_output(*answer);
  if (!decoded) {
    check.outcome = OnChain::unavailable;
    check.detail = fn.name + " answered malformed data: " + decoded.error();
    co_return std::nullopt;
  }
  co_return (*decoded)[0];
}

}  // namespace

boost::asio::awaitable<Check> check_on_chain(EthRpc& rpc, Address contract, Address owner, Address delegate) {
  Check out;
  auto held = co_await view_of(rpc, balance_of(), contract, owner, out);
  if (!held) co_return out;
  if (held->as_uint() < 1) {
    out.outcome = OnChain::not_valid;
    out.detail = "the owner holds no credential";
    co_return out;
  }
  auto named = co_await view_of(rpc, delegate_of(), contract, owner, out);
  if (!named) co_return out;
  if (named->as_address() != delegate) {
    out.outcome = OnChain::not_valid;
    out.detail = "the credential names another delegate";
    co_return out;
  }
  out.outcome = OnChain::valid;
  co_return out;
}

Hash256 ledger_leaf_hash(const Hash256& orch_hash, const Address& recipient, const SignedWei& balance) {
  // abi.encode(string, bytes32, address, int256), written directly: the head (the string's
  // offset 0x80, the hash, the padded address, the amount), then the string's length and
  // its bytes padded to a word. 192 bytes; tested against abi::encode and ethers.
  static_assert(kLedgerLeafDomain.size() <= 32);
  std::array<std::uint8_t, 192> b{};
  b[31] = 0x80;
  std::copy(orch_hash.begin(), orch_hash.end(), b.begin() + 32);
  std::copy(recipient.begin(), recipient.end(), b.begin() + 64 + 12);
  // Outside int256: a balance ≥ 2^255 wei is its uint256 word, as in the reference; a debt
  // beyond 2^255 wei (only reachable by forced adjustments of absurd size) its magnitude.
  auto word = abi::Value::integer(balance);
  const abi::Word amount = word ? word->word : abi::Value::uint(balance.magnitude).word;
  std::copy(amount.begin(), amount.end(), b.begin() + 96);
  b[159] = static_cast<std::uint8_t>(kLedgerLeafDomain.size());
  std::copy(kLedgerLeafDomain.begin(), kLedgerLeafDomain.end(), b.begin() + 160);
  return keccak256(b.data(), b.size());
}

LedgerTree LedgerTree::build(std::vector<LedgerLeaf> leaves) {
  for (auto& l : leaves) {
    l.orch_hash = keccak256(l.orchestrator_id);
    l.leaf_hash = ledger_leaf_hash(l.orch_hash, l.recipient, l.balance);
  }
  std::sort(leaves.begin(), leaves.end(), [](const LedgerLeaf& a, const LedgerLeaf& b) { return a.orch_hash < b.orch_hash; });
  LedgerTree t;
  t.leaves_ = std::move(leaves);
  const std::size_t n = t.leaves_.size();
  if (n == 0) return t;
  std::vector<Hash256> hashes(n);
  for (std::size_t i = 0; i < n; ++i) hashes[i] = t.leaves_[i].leaf_hash;
  std::vector<Hash256> level(n);
  merkle_leaves(hashes.data(), level.data(), n);
  t.levels_.push_back(std::move(level));
  while (t.levels_.back().size() > 1) {
    const auto& below = t.levels_.back();
    std::vector<Hash256> up((below.size() + 1) / 2);
    merkle_parents(below.data(), up.data(), below.size() / 2);
    if (below.size() % 2) up.back() = below.back();
    t.levels_.push_back(std::move(up));
  }
  return t;
}

std::vector<Hash256> LedgerTree::proof(std::size_t index) const {
  std::vector<Hash256> path;
  for (std::size_t j = 0; j + 1 < levels_.size(); ++j, index /= 2) {
    const std::size_t sibling = index ^ 1;
    if (sibling < levels_[j].size()) path.push_back(levels_[j][sibling]);
  }
  return path;
}

void LedgerTree::update(std::size_t index, const Address& recipient, const SignedWei& balance) {
  LedgerLeaf& l = leaves_[index];
  l.recipient = recipient;
  l.balance = balance;
  l.leaf_hash = ledger_leaf_hash(l.orch_hash, recipient, balance);
  levels_[0][index] = merkle::leaf_node(l.leaf_hash);
  for (std::size_t j = 1; j < levels_.size(); ++j) {
    index /= 2;
    const auto& below = levels_[j - 1];
    levels_[j][index] = 2 * index + 1 < below.size() ? merkle::interior_node(below[2 * index], below[2 * index + 1]) : below[2 * index];
  }
}

std::optional<std::size_t> LedgerTree::index_of(std::string_view orchestrator_id) const {
  const Hash256 h = keccak256(orchestrator_id);
  auto it = std::lower_bound(leaves_.begin(), leaves_.end(), h, [](const LedgerLeaf& l, const Hash256& k) { return l.orch_hash < k; });
  if (it == leaves_.end() || it->orch_hash != h || it->orchestrator_id != orchestrator_id) return std::nullopt;
  return static_cast<std::size_t>(it - leaves_.begin());
}

}  // namespace lpops::chain::credential
