#include "chain/eth_rpc.hpp"

#include <boost/asio/use_awaitable.hpp>

#include "chain/hex.hpp"
#include "chain/keccak.hpp"

namespace lpops::chain {

namespace json = boost::json;
namespace asio = boost::asio;

namespace {

RpcError protocol(std::string message) {
  RpcError e;
  e.kind = RpcError::Kind::Protocol;
  e.message = std::move(message);
  return e;
}

template <class T, class Parse>
asio::awaitable<RpcResult<T>> typed(RpcClient& client, std::string method, json::array params, Parse parse) {
  RpcReply reply = co_await client.call(method, std::move(params));
  RpcResult<T> out;
  if (!reply.ok()) {
    out.error = std::move(reply.error);
    co_return out;
  }
  Result<T> parsed = parse(reply.result);
  if (!parsed) {
    out.error = protocol(method + ": " + parsed.error());
    co_return out;
  }
  out.value = std::move(parsed).value();
  co_return out;
}

Result<abi::Bytes> parse_data(const json::value& v) {
  if (!v.is_string()) return Error{"expected hex data"};
  return from_hex(v.as_string());
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> parse_fixed(const json::value& v) {
  auto b = parse_data(v);
  if (!b) return Error{b.error()};
  if (b->size() != N) return Error{"expected " + std::to_string(N) + " bytes"};
  std::array<std::uint8_t, N> out;
  std::copy(b->begin(), b->end(), out.begin());
  return out;
}

Result<Log> parse_log(const json::value& v) {
  if (!v.is_object()) return Error{"a log is not an object"};
  const auto& o = v.as_object();
  Log log;
  const auto* address = o.if_contains("address");
  if (!address) return Error{"log without address"};
  auto a = parse_fixed<20>(*address);
  if (!a) return Error{"log address: " + a.error()};
  log.address = *a;
  const auto* topics = o.if_contains("topics");
  if (!topics || !topics->is_array()) return Error{"log without topics"};
  for (const auto& t : topics->as_array()) {
    auto h = parse_fixed<32>(t);
    if (!h) return Error{"log topic: " + h.error()};
    log.topics.push_back(*h);
  }
  const auto* data = o.if_contains("data");
  if (!data) return Error{"log without data"};
  auto d = parse_data(*data);
  if (!d) return Error{"log data: " + d.error()};
  log.data = std::move(d).value();
  if (const auto* b = o.if_contains("blockNumber"); b && !b->is_null()) {
    auto n = parse_quantity_u64(*b);
    if (!n) return Error{"log blockNumber: " + n.error()};
    log.block_number = *n;
  }
  if (const auto* h = o.if_contains("transactionHash"); h && !h->is_null()) {
    auto x = parse_fixed<32>(*h);
    if (!x) return Error{"log transactionHash: " + x.error()};
    log.transaction_hash = *x;
  }
  if (const auto* i = o.if_contains("logIndex"); i && !i->is_null()) {
    auto n = parse_quantity_u64(*i);
    if (!n) return Error{"log logIndex: " + n.error()};
    log.log_index = *n;
  }
  if (const auto* r = o.if_contains("removed"); r && r->is_bool()) log.removed = r->as_bool();
  return log;
}

Result<std::optional<Receipt>> parse_receipt(const json::value& v) {
  if (v.is_null()) return std::optional<Receipt>{};
  if (!v.is_object()) return Error{"a receipt is not an object"};
  const auto& o = v.as_object();
  Receipt r;
  auto field = [&](const char* name) -> const json::value* { return o.if_contains(name); };
  if (!field("transactionHash") || !field("status") || !field("blockNumber") || !field("gasUsed") || !field("logs"))
    return Error{"receipt lacks transactionHash, status, blockNumber, gasUsed or logs"};
  auto hash = parse_fixed<32>(*field("transactionHash"));
  auto status = parse_quantity_u64(*field("status"));
  auto block = parse_quantity_u64(*field("blockNumber"));
  auto gas = parse_quantity_u64(*field("gasUsed"));
  if (!hash || !status || !block || !gas) return Error{"receipt has a malformed field"};
  r.transaction_hash = *hash;
  r.success = *status == 1;
  r.block_number = *block;
  r.gas_used = *gas;
  if (const auto* p = field("effectiveGasPrice"); p && !p->is_null()) {
    auto price = parse_quantity(*p);
    if (!price) return Error{"receipt effectiveGasPrice: " + price.error()};
    r.effective_gas_price = *price;
  }
  if (const auto* c = field("contractAddress"); c && !c->is_null()) {
    auto a = parse_fixed<20>(*c);
    if (!a) return Error{"receipt contractAddress: " + a.error()};
    r.contract_address = *a;
  }
  if (!field("logs")->is_array()) return Error{"receipt logs is not an array"};
  for (const auto& l : field("logs")->as_array()) {
    auto log = parse_log(l);
    if (!log) return Error{log.error()};
    r.logs.push_back(std::move(log).value());
  }
  return std::optional<Receipt>{std::move(r)};
}

json::object call_object(const CallRequest& r) {
  json::object o;
  if (r.from) o["from"] = to_lower_hex(*r.from);
  if (r.to) o["to"] = to_lower_hex(*r.to);
  if (r.value != 0) o["value"] = quantity(r.value);
  if (!r.data.empty()) o["data"] = to_hex(r.data);
  if (r.gas) o["gas"] = quantity(*r.gas);
  return o;
}

}  // namespace

std::string quantity(std::uint64_t v) { return quantity(Wei(v)); }

std::string quantity(const Wei& v) { return "0x" + v.str(0, std::ios_base::hex); }

Result<Wei> parse_quantity(const json::value& v) {
  if (!v.is_string()) return Error{"expected a hex quantity string"};
  std::string_view s = v.as_string();
  if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return Error{"expected a 0x quantity"};
  s.remove_prefix(2);
  if (s.size() > 64) return Error{"quantity wider than 256 bits"};
  Wei out = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (d < 0) return Error{"not a hex digit in quantity"};
    out = (out << 4) | d;
  }
  return out;
}

Result<std::uint64_t> parse_quantity_u64(const json::value& v) {
  auto w = parse_quantity(v);
  if (!w) return Error{w.error()};
  if (*w > std::numeric_limits<std::uint64_t>::max()) return Error{"quantity does not fit in 64 bits"};
  return static_cast<std::uint64_t>(*w);
}

std::optional<std::string> revert_reason(const RpcError& error) {
  if (error.kind != RpcError::Kind::Rpc || !error.data.is_string()) return std::nullopt;
  auto data = from_hex(error.data.as_string());
  if (!data) return std::nullopt;
  return abi::decode_revert_reason(*data);
}

asio::awaitable<RpcResult<std::uint64_t>> EthRpc::chain_id() {
  json::array params{};
  co_return co_await typed<std::uint64_t>(*client_, "eth_chainId", std::move(params), parse_quantity_u64);
}
asio::awaitable<RpcResult<std::uint64_t>> EthRpc::block_number() {
  json::array params{};
  co_return co_await typed<std::uint64_t>(*client_, "eth_blockNumber", std::move(params), parse_quantity_u64);
}
asio::awaitable<RpcResult<Wei>> EthRpc::get_balance(const Address& a, std::string block) {
  json::array params{to_lower_hex(a), block};
  co_return co_await typed<Wei>(*client_, "eth_getBalance", std::move(params), parse_quantity);
}
asio::awaitable<RpcResult<std::uint64_t>> EthRpc::get_transaction_count(const Address& a, std::string block) {
  json::array params{to_lower_hex(a), block};
  co_return co_await typed<std::uint64_t>(*client_, "eth_getTransactionCount", std::move(params), parse_quantity_u64);
}
asio::awaitable<RpcResult<std::uint64_t>> EthRpc::estimate_gas(const CallRequest& request) {
  json::array params{call_object(request)};
  co_return co_await typed<std::uint64_t>(*client_, "eth_estimateGas", std::move(params), parse_quantity_u64);
}
asio::awaitable<RpcResult<Wei>> EthRpc::gas_price() {
  json::array params{};
  co_return co_await typed<Wei>(*client_, "eth_gasPrice", std::move(params), parse_quantity);
}
asio::awaitable<RpcResult<Wei>> EthRpc::max_priority_fee_per_gas() {
  json::array params{};
  co_return co_await typed<Wei>(*client_, "eth_maxPriorityFeePerGas", std::move(params), parse_quantity);
}
asio::awaitable<RpcResult<FeeHistory>> EthRpc::fee_history(std::uint64_t blocks, std::string newest,
                                                           std::vector<double> percentiles) {
  json::array ps;
  for (double p : percentiles) ps.push_back(p);
  json::array params{quantity(blocks), newest, ps};
  co_return co_await typed<FeeHistory>(*client_, "eth_feeHistory", std::move(params), [](const json::value& v) -> Result<FeeHistory> {
        if (!v.is_object()) return Error{"not an object"};
        const auto& o = v.as_object();
        FeeHistory h;
        if (const auto* oldest = o.if_contains("oldestBlock")) {
          auto n = parse_quantity_u64(*oldest);
          if (!n) return Error{"oldestBlock: " + n.error()};
          h.oldest_block = *n;
        }
        if (const auto* base = o.if_contains("baseFeePerGas"); base && base->is_array()) {
          for (const auto& b : base->as_array()) {
            auto w = parse_quantity(b);
            if (!w) return Error{"baseFeePerGas: " + w.error()};
            h.base_fee_per_gas.push_back(*w);
          }
        }
        if (const auto* reward = o.if_contains("reward"); reward && reward->is_array()) {
          for (const auto& row : reward->as_array()) {
            if (!row.is_array()) return Error{"reward row is not an array"};
            std::vector<Wei> r;
            for (const auto& x : row.as_array()) {
              auto w = parse_quantity(x);
              if (!w) return Error{"reward: " + w.error()};
              r.push_back(*w);
            }
            h.reward.push_back(std::move(r));
          }
        }
        return h;
      });
}
asio::awaitable<RpcResult<abi::Bytes>> EthRpc::call(const CallRequest& request, std::string block) {
  json::array params{call_object(request), block};
  co_return co_await typed<abi::Bytes>(*client_, "eth_call", std::move(params), parse_data);
}
asio::awaitable<RpcResult<Hash256>> EthRpc::send_raw_transaction(const abi::Bytes& raw) {
  json::array params{to_hex(raw)};
  auto r = co_await typed<Hash256>(*client_, "eth_sendRawTransaction", std::move(params), parse_fixed<32>);
  // A node that already holds this very transaction (its first sending arrived, and the answer
  // was lost to a timeout before the client sent it again, or another node relayed it): it is
  // broadcast, under the hash of its bytes. Any other refusal stands.
  if (!r.ok() && r.error && r.error->kind == RpcError::Kind::Rpc) {
    std::string words = r.error->message;
    for (auto& c : words) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (words.find("already known") != std::string::npos || words.find("already imported") != std::string::npos) {
      RpcResult<Hash256> known;
      known.value = keccak256(raw.data(), raw.size());
      co_return known;
    }
  }
  co_return r;
}
asio::awaitable<RpcResult<std::optional<Receipt>>> EthRpc::get_transaction_receipt(const Hash256& hash) {
  json::array params{to_hex(hash)};
  co_return co_await typed<std::optional<Receipt>>(*client_, "eth_getTransactionReceipt", std::move(params), parse_receipt);
}
asio::awaitable<RpcResult<std::vector<Log>>> EthRpc::get_logs(const LogFilter& filter) {
  json::object f{{"fromBlock", filter.from_block}, {"toBlock", filter.to_block}};
  if (!filter.addresses.empty()) {
    json::array a;
    for (const auto& x : filter.addresses) a.push_back(json::string(to_lower_hex(x)));
    f["address"] = std::move(a);
  }
  if (!filter.topics.empty()) {
    json::array t;
    for (const auto& x : filter.topics) t.push_back(x ? json::value(to_hex(*x)) : json::value(nullptr));
    f["topics"] = std::move(t);
  }
  json::array params{std::move(f)};
  co_return co_await typed<std::vector<Log>>(*client_, "eth_getLogs", std::move(params),
                                             [](const json::value& v) -> Result<std::vector<Log>> {
                                               if (!v.is_array()) return Error{"not an array"};
                                               std::vector<Log> out;
                                               for (const auto& l : v.as_array()) {
                                                 auto log = parse_log(l);
                                                 if (!log) return Error{log.error()};
                                                 out.push_back(std::move(log).value());
                                               }
                                               return out;
                                             });
}

}  // namespace lpops::chain
