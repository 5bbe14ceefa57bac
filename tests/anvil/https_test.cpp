// The JSON-RPC client over https: a loopback TLS server with a throw-away self-signed
// certificate answers eth_chainId. The certificate is trusted only through
// RpcOptions::ca_file, and it must name the host the client asked for.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include "chain/eth_rpc.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/run_awaitable.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::chain {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> work) {
  return testing::run_awaitable(ioc, std::move(work));
}

struct Counts {
  std::size_t accepted = 0;    // TCP connections
  std::size_t handshakes = 0;  // ... whose TLS handshake completed
};

// Answers every JSON-RPC request on every connection with result 0x7a69, echoing the id.
asio::awaitable<void> serve(tcp::acceptor& acceptor, asio::ssl::context& tls, Counts& counts) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    ++counts.accepted;
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), tls);
    try {
      co_await stream.async_handshake(asio::ssl::stream_base::server, asio::use_awaitable);
      ++counts.handshakes;
      beast::flat_buffer buffer;
      for (;;) {
        http::request<http::string_body> req;
        co_await http::async_read(stream, buffer, req, asio::use_awaitable);
        auto body = boost::json::parse(req.body()).as_object();
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = boost::json::serialize(boost::json::object{{"jsonrpc", "2.0"}, {"id", body.at("id")}, {"result", "0x7a69"}});
        res.prepare_payload();
        res.keep_alive(req.keep_alive());
        co_await http::async_write(stream, res, asio::use_awaitable);
      }
    } catch (const std::exception&) {
      // The client went away or refused our certificate: next connection.
    }
  }
}

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = dir_.str() + "/cert.pem";
    key_ = dir_.str() + "/key.pem";
    auto made = testing::run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                      "-nodes", "-keyout", key_, "-out", cert_, "-days", "1", "-subj", "/CN=localhost",
                                      "-addext", "subjectAltName=DNS:localhost"});
    ASSERT_EQ(made.exit_code, 0) << made.output;
    tls_.use_certificate_chain_file(cert_);
    tls_.use_private_key_file(key_, asio::ssl::context::pem);
    acceptor_.emplace(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    asio::co_spawn(ioc_, serve(*acceptor_, tls_, counts_), asio::detached);
  }

  std::string url(const std::string& host) { return "https://" + host + ":" + std::to_string(acceptor_->local_endpoint().port()); }

  testing::TempDir dir_;
  std::string cert_, key_;
  asio::io_context ioc_;
  asio::ssl::context tls_{asio::ssl::context::tls_server};
  std::optional<tcp::acceptor> acceptor_;
  Counts counts_;
};

TEST_F(HttpsTest, TrustedCertificateWorksAndConnectionsAreReused) {
  RpcOptions options;
  options.ca_file = cert_;
  auto client = RpcClient::create(ioc_.get_executor(), url("localhost"), options).value();
  EthRpc rpc(client);
  for (int i = 0; i < 3; ++i) {
    auto id = run(ioc_, rpc.chain_id());
    ASSERT_TRUE(id.ok()) << id.error->describe();
    EXPECT_EQ(*id, 31337u);
  }
  EXPECT_EQ(client->requests_sent(), 3u);
  EXPECT_EQ(counts_.accepted, 1u);  // the three requests went over one connection
  EXPECT_EQ(counts_.handshakes, 1u);
}

TEST_F(HttpsTest, UntrustedOrMisnamedCertificatesAreRefused) {
  RpcOptions options;
  options.max_attempts = 1;
  auto untrusted = RpcClient::create(ioc_.get_executor(), url("localhost"), options).value();
  auto r1 = run(ioc_, untrusted->call("eth_chainId"));
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error->kind, RpcError::Kind::Transport) << r1.error->describe();

  EXPECT_EQ(counts_.accepted, 1u);  // refused in the handshake, not by the network
  EXPECT_EQ(counts_.handshakes, 0u);

  // A trusted certificate that names "localhost" only, reached at 127.0.0.1: the same server,
  // the same address, so only the name check can refuse it.
  options.ca_file = cert_;
  auto misnamed = RpcClient::create(ioc_.get_executor(), url("127.0.0.1"), options).value();
  auto r2 = run(ioc_, misnamed->call("eth_chainId"));
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error->kind, RpcError::Kind::Transport) << r2.error->describe();
  EXPECT_EQ(counts_.accepted, 2u);
  EXPECT_EQ(counts_.handshakes, 0u);
  // The same client options at the name the certificate gives: accepted.
  auto named = RpcClient::create(ioc_.get_executor(), url("localhost"), options).value();
  auto r3 = run(ioc_, named->call("eth_chainId"));
  EXPECT_TRUE(r3.ok()) << r3.error->describe();
}

}  // namespace
}  // namespace lpops::chain
