#include "chain/ticket_broker.hpp"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace lpops::chain::livepeer {
namespace {

using abi::Value;

constexpr const char* kTicketTuple = "(address,address,uint256,uint256,uint256,bytes32,bytes)";

const abi::Function& function(const char* signature, const char* outputs = "") {
  // Signatures are constants of this file; a parse failure is a programming error.
  auto f = abi::Function::parse(signature, outputs);
  if (!f) throw std::logic_error(f.error());
  return *new abi::Function(std::move(f).value());
}

const abi::Event& event(const char* declaration) {
  auto e = abi::Event::parse(declaration);
  if (!e) throw std::logic_error(e.error());
  return *new abi::Event(std::move(e).value());
}

Value ticket_value(const Ticket& t) {
  return Value::list({Value::address(t.recipient), Value::address(t.sender), Value::uint(t.face_value), Value::uint(t.win_prob),
                      Value::uint(t.sender_nonce), Value::word_of(t.recipient_rand_hash), Value::bytes_of(t.aux_data)});
}

Value signature_value(const Signature& s) {
  const auto rsv = s.to_rsv();
  return Value::bytes_of(abi::Bytes(rsv.begin(), rsv.end()));
}

}  // namespace

Hash256 Ticket::hash() const {
  Keccak256 h;
  auto word = [&](const Wei& v) {
    const Value w = Value::uint(v);
    h.update(w.word.data(), w.word.size());
  };
  h.update(recipient.data(), recipient.size());
  h.update(sender.data(), sender.size());
  word(face_value);
  word(win_prob);
  word(sender_nonce);
  h.update(recipient_rand_hash.data(), recipient_rand_hash.size());
  if (!aux_data.empty()) h.update(aux_data.data(), aux_data.size());
  return h.final();
}

Hash256 recipient_rand_hash(const Wei& recipient_rand) {
  const Value w = Value::uint(recipient_rand);
  return keccak256(w.word.data(), w.word.size());
}

abi::Bytes aux_data(const Wei& creation_round, const Hash256& block_hash) {
  const Value w = Value::uint(creation_round);
  abi::Bytes out(64);
  std::copy(w.word.begin(), w.word.end(), out.begin());
  std::copy(block_hash.begin(), block_hash.end(), out.begin() + 32);
  return out;
}

Signature sign_ticket(const PrivateKey& key, const Ticket& ticket) { return sign_digest(key, eip191_hash32(ticket.hash())); }

bool is_winning(const Ticket& ticket, const Signature& signature, const Wei& recipient_rand) {
  const auto rsv = signature.to_rsv();
  const Value rand = Value::uint(recipient_rand);
  Keccak256 h;
  h.update(rsv.data(), rsv.size());
  h.update(rand.word.data(), rand.word.size());
  const Hash256 digest = h.final();
  Wei x;
  mp::import_bits(x, digest.begin(), digest.end(), 8);
  return x < ticket.win_prob;
}

const abi::Function& redeem_winning_ticket() {
  static const auto& f = function("redeemWinningTicket((address,address,uint256,uint256,uint256,bytes32,bytes),bytes,uint256)");
  return f;
}
const abi::Function& batch_redeem_winning_tickets() {
  static const auto& f =
      function("batchRedeemWinningTickets((address,address,uint256,uint256,uint256,bytes32,bytes)[],bytes[],uint256[])");
  return f;
}
const abi::Function& fund_deposit() {
  static const auto& f = function("fundDeposit()");
  return f;
}
const abi::Function& get_sender_info() {
  static const auto& f = function("getSenderInfo(address)", "((uint256,uint256),(uint256,uint256))");
  return f;
}
const abi::Function& controller() {
  static const auto& f = function("controller()", "address");
  return f;
}
const abi::Function& get_contract() {
  static const auto& f = function("getContract(bytes32)", "address");
  return f;
}
const abi::Function& current_round() {
  static const auto& f = function("currentRound()", "uint256");
  return f;
}
const abi::Function& current_round_initialized() {
  static const auto& f = function("currentRoundInitialized()", "bool");
  return f;
}
const abi::Function& block_hash_for_round() {
  static const auto& f = function("blockHashForRound(uint256)", "bytes32");
  return f;
}
const abi::Function& is_registered_transcoder() {
  static const auto& f = function("isRegisteredTranscoder(address)", "bool");
  return f;
}
const abi::Function& get_first_transcoder_in_pool() {
  static const auto& f = function("getFirstTranscoderInPool()", "address");
  return f;
}
const abi::Function& get_next_transcoder_in_pool() {
  static const auto& f = function("getNextTranscoderInPool(address)", "address");
  return f;
}

abi::Bytes redeem_calldata(const SignedTicket& t) {
  auto data = redeem_winning_ticket().encode_call(
      {ticket_value(t.ticket), signature_value(t.signature), Value::uint(t.recipient_rand)});
  assert(data.ok());  // the values are built here to match the types
  return std::move(data).value();
}

Result<abi::Bytes> batch_redeem_calldata(const std::vector<SignedTicket>& tickets) {
  if (tickets.empty()) return Error{"a batch needs at least one ticket"};
  std::vector<Value> ts, sigs, rands;
  for (const auto& t : tickets) {
    ts.push_back(ticket_value(t.ticket));
    sigs.push_back(signature_value(t.signature));
    rands.push_back(Value::uint(t.recipient_rand));
  }
  return batch_redeem_winning_tickets().encode_call({Value::list(std::move(ts)), Value::list(std::move(sigs)), Value::list(std::move(rands))});
}

abi::Bytes fund_deposit_calldata() {
  const auto sel = fund_deposit().selector();
  return abi::Bytes(sel.begin(), sel.end());
}

abi::Bytes get_sender_info_calldata(const Address& sender) {
  return get_sender_info().encode_call({Value::address(sender)}).value();
}

Result<SenderInfo> decode_sender_info(const abi::Bytes& returned) {
  auto v = get_sender_info().decode_output(returned);
  if (!v) return Error{"getSenderInfo: " + v.error()};
  const auto& sender = (*v)[0].items;
  const auto& reserve = (*v)[1].items;
  return SenderInfo{sender[0].as_uint(), sender[1].as_uint(), reserve[0].as_uint(), reserve[1].as_uint()};
}

const abi::Event& winning_ticket_redeemed_event() {
  static const auto& e = event(
      "WinningTicketRedeemed(address indexed sender, address indexed recipient, uint256 faceValue, uint256 winProb, "
      "uint256 senderNonce, uint256 recipientRand, bytes auxData)");
  return e;
}
const abi::Event& winning_ticket_transfer_event() {
  static const auto& e = event("WinningTicketTransfer(address indexed sender, address indexed recipient, uint256 amount)");
  return e;
}
const abi::Event& deposit_funded_event() {
  static const auto& e = event("DepositFunded(address indexed sender, uint256 amount)");
  return e;
}

Result<WinningTicketRedeemed> decode_winning_ticket_redeemed(const std::vector<Hash256>& topics, const abi::Bytes& data) {
  auto v = winning_ticket_redeemed_event().decode_log(topics, data);
  if (!v) return Error{v.error()};
  const auto& x = *v;
  return WinningTicketRedeemed{x[0].as_address(), x[1].as_address(), x[2].as_uint(), x[3].as_uint(),
                               x[4].as_uint(),    x[5].as_uint(),    x[6].bytes};
}

Result<WinningTicketTransfer> decode_winning_ticket_transfer(const std::vector<Hash256>& topics, const abi::Bytes& data) {
  auto v = winning_ticket_transfer_event().decode_log(topics, data);
  if (!v) return Error{v.error()};
  return WinningTicketTransfer{(*v)[0].as_address(), (*v)[1].as_address(), (*v)[2].as_uint()};
}

Result<DepositFunded> decode_deposit_funded(const std::vector<Hash256>& topics, const abi::Bytes& data) {
  auto v = deposit_funded_event().decode_log(topics, data);
  if (!v) return Error{v.error()};
  return DepositFunded{(*v)[0].as_address(), (*v)[1].as_uint()};
}

}  // namespace lpops::chain::livepeer
