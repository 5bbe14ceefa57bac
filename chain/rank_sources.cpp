#include "chain/rank_sources.hpp"

#include <algorithm>
#include <set>

namespace lpops::chain::rank {
namespace {

namespace json = boost::json;

std::optional<Address> looks_like_address(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.size() != 42 || !text.starts_with("0x")) return std::nullopt;
  auto a = parse_address(text);
  if (!a) return std::nullopt;
  return *a;
}

const json::value* member(const json::value& v, std::string_view key) {
  return v.is_object() ? v.get_object().if_contains(key) : nullptr;
}

}  // namespace

json::object subgraph_request(std::size_t limit) {
  return json::object{{"query", "query ($limit: Int!) { transcoders(first: $limit, where: {active: true}) { id } }"},
                      {"variables", json::object{{"limit", limit}}}};
}

std::vector<Address> subgraph_addresses(const json::value& answer) {
  std::vector<Address> out;
  const json::value* data = member(answer, "data");
  const json::value* transcoders = data ? member(*data, "transcoders") : nullptr;
  if (!transcoders || !transcoders->is_array()) return out;
  for (const auto& t : transcoders->get_array()) {
    const json::value* id = member(t, "id");
    if (id && id->is_string())
      if (auto a = looks_like_address(id->get_string())) out.push_back(*a);
  }
  return out;
}

std::vector<Address> explorer_addresses(const json::value& answer) {
  std::vector<Address> out;
  const json::value* list = &answer;
  if (answer.is_object()) {
    list = member(answer, "orchestrators");
    if (!list || !list->is_array())
      if (const json::value* data = member(answer, "data")) list = member(*data, "orchestrators");
  }
  if (!list || !list->is_array()) return out;
  for (const auto& item : list->get_array()) {
    if (!item.is_object()) continue;
    for (const char* key : {"address", "id", "serviceURI", "ethAddress"}) {
      const json::value* v = member(item, key);
      if (!v || !v->is_string()) continue;
      if (auto a = looks_like_address(v->get_string())) {
        out.push_back(*a);
        break;
      }
    }
  }
  return out;
}

boost::asio::awaitable<Fetched> fetch(const Sources& sources, std::size_t limit) {
  Fetched out;
  std::set<Address> seen;
  auto take = [&](const std::vector<Address>& found) {
    for (const auto& a : found)
      if (out.addresses.size() < limit && seen.insert(a).second) out.addresses.push_back(a);
  };
  auto note = [&](const std::string& what) { out.errors += (out.errors.empty() ? "" : "; ") + what; };
  if (sources.subgraph) {
    auto [err, answer] = co_await sources.subgraph->post_json(subgraph_request(limit));
    if (err) {
      note("subgraph " + sources.subgraph->redacted_url() + ": " + err->describe());
    } else {
      const auto found = subgraph_addresses(answer);
      take(found);
      // A GraphQL failure comes back as a 200 with "errors".
      const json::value* errors = member(answer, "errors");
      if (found.empty())
        note("subgraph " + sources.subgraph->redacted_url() + ": " +
             (errors ? "errors " + json::serialize(*errors).substr(0, 200) : std::string("no active transcoders in the answer")));
    }
  }
  if (out.addresses.size() < limit) {
    for (const auto& explorer : sources.explorers) {
      auto [err, answer] = co_await explorer->get_json();
      if (err) {
        note("explorer " + explorer->redacted_url() + ": " + err->describe());
        continue;
      }
      const auto found = explorer_addresses(answer);
      if (found.empty()) {
        note("explorer " + explorer->redacted_url() + ": no orchestrator addresses in the answer");
        continue;
      }
      take(found);
      break;
    }
  }
  co_return out;
}

}  // namespace lpops::chain::rank
