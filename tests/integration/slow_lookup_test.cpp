// A host name whose lookup does not end in time, as with a DNS server that does not answer:
// the command-line tools give up when their --timeout has passed and say that the address was
// not found in time, instead of waiting through all of the C library's retries. A name looked
// up in time, and an IP address (never looked up), work as before.
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>

#include <boost/json.hpp>

#include "tests/integration/fixture.hpp"
#include "tests/support/fake_http_server.hpp"

namespace lpops::testing {
namespace {

// The environment of a command whose every lookup of a host name takes `ms` milliseconds.
std::map<std::string, std::string> slow_lookups(long ms, std::map<std::string, std::string> env = {}) {
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  asan += std::string(asan.empty() ? "" : ":") + "verify_asan_link_order=0";
  env["LD_PRELOAD"] = LPOPS_SLOW_LOOKUP;
  env["LPOPS_FAULT_LOOKUP_DELAY_MS"] = std::to_string(ms);
  env["ASAN_OPTIONS"] = asan;
  return env;
}

// An RPC node that knows eth_gasPrice (1 gwei) and remembers the Host field of what it is sent.
class GasPriceNode {
 public:
  GasPriceNode()
      : server_([this](const FakeHttpServer::Request& r) -> std::pair<int, std::string> {
          {
            std::lock_guard lock(mutex_);
            host_ = header(r.head, "host");
          }
          boost::system::error_code ec;
          const auto call = boost::json::parse(r.body, ec);
          if (ec || !call.is_object()) return {400, "{}"};
          boost::json::object reply{{"jsonrpc", "2.0"}, {"id", call.at("id")}};
          if (call.at("method") == "eth_gasPrice") reply["result"] = "0x3b9aca00";
          else reply["error"] = boost::json::object{{"code", -32601}, {"message", "the method does not exist"}};
          return {200, boost::json::serialize(reply)};
        }) {}
  std::string port() const { return std::to_string(server_.port()); }
  std::string host() const {
    std::lock_guard lock(mutex_);
    return host_;
  }
  std::size_t requests() const { return server_.requests(); }

 private:
  static std::string header(const std::string& head, const std::string& name) {
    std::string lower = head;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = lower.find("\r\n" + name + ": ");
    if (at == std::string::npos) return "";
    const auto begin = at + 4 + name.size();
    return head.substr(begin, head.find("\r\n", begin) - begin);
  }
  mutable std::mutex mutex_;
  std::string host_;
  FakeHttpServer server_;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(SlowLookup, FeesGivesUpOnALookupPastItsTimeout) {
  GasPriceNode node;
  const std::vector<std::string> fees{lpops_binary(), "fees", "--env-file", "/dev/null", "--timeout", "1"};
  // Looked up in 200 ms, within the second: the price, asked with the URL's host and port.
  auto quick = run_command_split(fees, slow_lookups(200, {{"ETH_RPC_URL", "http://localhost:" + node.port()}}));
  ASSERT_EQ(quick.exit_code, 0) << quick.out << quick.err;
  EXPECT_NE(quick.out.find("\"gas_price_wei\":\"1000000000\""), std::string::npos) << quick.out;
  EXPECT_EQ(node.host(), "localhost:" + node.port());

  // A lookup of 60 s: each of the three attempts ends after its second, and the error says why.
  const std::size_t asked = node.requests();
  const auto start = std::chrono::steady_clock::now();
  auto slow = run_command(fees, slow_lookups(60'000, {{"ETH_RPC_URL", "http://localhost:" + node.port()}}),
                          std::chrono::seconds(50));
  const double took = seconds_since(start);
  EXPECT_EQ(slow.exit_code, 1) << slow.output;
  EXPECT_NE(slow.output.find("no address for localhost within 1 s (after 3 attempts)"), std::string::npos) << slow.output;
  EXPECT_LT(took, 20.0) << slow.output;
  EXPECT_GE(took, 3.0) << slow.output;  // three attempts of a second each
  EXPECT_EQ(node.requests(), asked);

  // An IP address is not looked up: the slow DNS does not touch it. Host carries the port,
  // and an IPv6 address its brackets.
  auto by_address =
      run_command_split(fees, slow_lookups(60'000, {{"ETH_RPC_URL", "http://[::ffff:127.0.0.1]:" + node.port()}}),
                        std::chrono::seconds(50));
  EXPECT_EQ(by_address.exit_code, 0) << by_address.out << by_address.err;
  EXPECT_EQ(node.host(), "[::ffff:127.0.0.1]:" + node.port());
}

TEST(SlowLookup, VerifyGivesUpOnALookupPastItsTimeout) {
  GasPriceNode recorder;  // any HTTP server: what matters is whether a request reaches it
  const std::string by_name = "http://localhost:" + recorder.port();
  // In time: the request is sent (and answered 400: it is no lpops node).
  auto quick = run_command({lpops_binary(), "verify", "--url", by_name, "--skip-log", "--timeout", "2"}, slow_lookups(200));
  EXPECT_NE(quick.exit_code, 0) << quick.output;
  EXPECT_GE(recorder.requests(), 1u) << quick.output;
  EXPECT_EQ(recorder.host(), "localhost:" + recorder.port());

  const std::size_t asked = recorder.requests();
  const auto start = std::chrono::steady_clock::now();
  auto slow = run_command({lpops_binary(), "verify", "--url", by_name, "--skip-log", "--timeout", "1"},
                          slow_lookups(60'000), std::chrono::seconds(50));
  const double took = seconds_since(start);
  EXPECT_EQ(slow.exit_code, 2) << slow.output;
  EXPECT_NE(slow.output.find("no address for localhost within 1 s"), std::string::npos) << slow.output;
  EXPECT_LT(took, 15.0) << slow.output;
  EXPECT_EQ(recorder.requests(), asked);
}

}  // namespace
}  // namespace lpops::testing
