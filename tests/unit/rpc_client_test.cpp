// The JSON-RPC client's transport against a scripted loopback server that answers byte by
// byte as a test says: interim (1xx) responses, kept-alive connections the server closes
// while they sit idle, responses whose end is the connection's close, Basic credentials from
// a URL, errors under another request's id, a transaction the node already holds.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chain/eth_rpc.hpp"
#include "chain/hex.hpp"
#include "chain/keccak.hpp"
#include "chain/rpc_client.hpp"
#include "chain/ticket_broker.hpp"
#include "chain/transcoder_pool.hpp"
#include "tests/support/run_awaitable.hpp"

namespace lpops::chain {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

// A loopback HTTP server whose answers are the test's bytes. Each connection has a thread;
// a connection left idle for `idle_close` after an answer is closed by the server, as servers
// do with kept-alive connections.
class ScriptedServer {
 public:
  struct Reply {
    std::string bytes;
    bool close = false;  // closed once the bytes are written
  };
  using Script = std::function<Reply(const std::string& request, const json::value& body)>;

  explicit ScriptedServer(Script script, std::chrono::milliseconds idle_close = std::chrono::milliseconds(0))
      : script_(std::move(script)), idle_close_(idle_close) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("scripted server: cannot listen");
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    acceptor_.join();
    for (auto& t : connections_) t.join();
    ::close(fd_);
  }
  std::string url(const std::string& userinfo = "") const {
    return "http://" + userinfo + "127.0.0.1:" + std::to_string(port_);
  }
  std::size_t connections() const { return accepted_.load(); }
  std::size_t requests() const { return requests_.load(); }
  std::string last_request() const {
    std::lock_guard lock(mutex_);
    return last_;
  }

  // A JSON-RPC reply to `body` (its id) with `member` ("result" or "error") as given.
  static std::string rpc_reply(const json::value& body, const char* member, json::value value) {
    json::object reply{{"jsonrpc", "2.0"}, {"id", body.at("id")}};
    reply[member] = std::move(value);
    return json::serialize(reply);
  }
  static std::string ok_with(const std::string& json_text) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(json_text.size()) +
           "\r\n\r\n" + json_text;
  }

 private:
  void accept_loop() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++accepted_;
      connections_.emplace_back([this, c] { serve(c); });
    }
  }
  // Reads one request (header fields, then Content-Length bytes); false at the end of the stream.
  bool read_request(int c, std::string& pending, std::string& request, std::string& body) {
    for (;;) {
      const auto end = pending.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        std::string head = pending.substr(0, end);
        for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (const auto at = head.find("content-length: "); at != std::string::npos) length = std::stoul(head.substr(at + 16));
        if (pending.size() >= end + 4 + length) {
          request = pending.substr(0, end + 4 + length);
          body = pending.substr(end + 4, length);
          pending.erase(0, end + 4 + length);
          return true;
        }
      }
      if (idle_close_.count() > 0 && pending.empty()) {
        pollfd p{c, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(idle_close_.count())) == 0) return false;  // idle too long: close
      }
      char buffer[4096];
      const ssize_t n = ::recv(c, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      pending.append(buffer, static_cast<std::size_t>(n));
    }
  }
  void serve(int c) {
    std::string pending, request, body;
    while (!stop_ && read_request(c, pending, request, body)) {
      ++requests_;
      {
        std::lock_guard lock(mutex_);
        last_ = request;
      }
      boost::system::error_code ec;
      const auto parsed = json::parse(body, ec);
      const Reply reply = script_(request, ec ? json::value() : parsed);
      for (std::size_t sent = 0; sent < reply.bytes.size();) {
        const ssize_t n = ::send(c, reply.bytes.data() + sent, reply.bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      if (reply.close) break;
    }
    ::close(c);
  }

  Script script_;
  std::chrono::milliseconds idle_close_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> accepted_{0}, requests_{0};
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // only the acceptor adds, before the destructor joins
  mutable std::mutex mutex_;
  std::string last_;
};

// eth_chainId answered 0x2a.
ScriptedServer::Reply chain_id(const json::value& body) {
  return {ScriptedServer::ok_with(ScriptedServer::rpc_reply(body, "result", "0x2a"))};
}

template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> work) {
  return testing::run_awaitable(ioc, std::move(work));
}

// A 103 Early Hints (or an unasked 100 Continue) before each answer: read past, so that each
// call gets its own answer on the one kept-alive connection.
TEST(RpcClientTransport, InterimResponsesAreReadPast) {
  ScriptedServer server([](const std::string&, const json::value& body) -> ScriptedServer::Reply {
    return {"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n" +
            ScriptedServer::ok_with(ScriptedServer::rpc_reply(body, "result", "0x2a"))};
  });
  asio::io_context ioc;
  auto client = RpcClient::create(ioc.get_executor(), server.url()).value();
  for (int i = 0; i < 3; ++i) {
    auto reply = run(ioc, client->call("eth_chainId"));
    ASSERT_TRUE(reply.ok()) << i << ": " << reply.error->describe();
    EXPECT_EQ(reply.result, json::value("0x2a"));
  }
  EXPECT_EQ(server.connections(), 1u);
}

// A server that sent an interim answer, then closed, had the request: it is not sent again
// for free on another connection (with one attempt, the call fails).
TEST(RpcClientTransport, AnInterimAnswerThenACloseIsNotSentAgain) {
  std::atomic<int> seen{0};
  ScriptedServer server([&](const std::string&, const json::value& body) -> ScriptedServer::Reply {
    if (++seen == 1) return chain_id(body);
    return {"HTTP/1.1 103 Early Hints\r\n\r\n", true};
  });
  asio::io_context ioc;
  RpcOptions options;
  options.max_attempts = 1;
  auto client = RpcClient::create(ioc.get_executor(), server.url(), options).value();
  ASSERT_TRUE(run(ioc, client->call("eth_chainId")).ok());
  auto second = run(ioc, client->call("eth_chainId"));  // on the kept-alive connection
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(server.requests(), 2u);
}

// The pool holds connections the server has since closed (it closes them 200 ms idle): the
// next call finds one closed, and is sent on a new connection, not on the others.
TEST(RpcClientTransport, KeptAliveConnectionsTheServerClosedAreNotAllTried) {
  ScriptedServer server([](const std::string&, const json::value& body) { return chain_id(body); },
                        std::chrono::milliseconds(200));
  asio::io_context ioc;
  RpcOptions options;
  options.max_attempts = 2;
  options.backoff = std::chrono::milliseconds(10);
  options.max_idle_time = std::chrono::seconds(60);  // the pool keeps them: what the server does decides
  auto client = RpcClient::create(ioc.get_executor(), server.url(), options).value();
  // Four calls at once: four connections, all returned to the pool.
  std::atomic<int> answered{0};
  for (int i = 0; i < 4; ++i)
    asio::co_spawn(ioc, client->call("eth_chainId"), [&](std::exception_ptr, RpcReply r) {
      if (r.ok()) ++answered;
    });
  ioc.run_for(std::chrono::seconds(20));
  ASSERT_EQ(answered.load(), 4);
  ASSERT_EQ(server.connections(), 4u);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // the server closes all four
  auto reply = run(ioc, client->call("eth_chainId"));
  ASSERT_TRUE(reply.ok()) << reply.error->describe();
  EXPECT_EQ(server.connections(), 5u);
}

// A connection idle past max_idle_time is closed by the client, not tried: the next call goes
// out once, on a new connection.
TEST(RpcClientTransport, ConnectionsIdleTooLongAreNotReused) {
  ScriptedServer server([](const std::string&, const json::value& body) { return chain_id(body); });
  asio::io_context ioc;
  RpcOptions options;
  options.max_idle_time = std::chrono::milliseconds(100);
  auto client = RpcClient::create(ioc.get_executor(), server.url(), options).value();
  ASSERT_TRUE(run(ioc, client->call("eth_chainId")).ok());
  ASSERT_TRUE(run(ioc, client->call("eth_chainId")).ok());
  EXPECT_EQ(server.connections(), 1u);  // reused while fresh
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  ASSERT_TRUE(run(ioc, client->call("eth_chainId")).ok());
  EXPECT_EQ(server.connections(), 2u);
  EXPECT_EQ(client->requests_sent(), 3u);
}

// A response whose end is the connection's close (no Content-Length, no chunks) says
// keep-alive all the same; the connection is not kept, so the next call wastes no attempt on it.
TEST(RpcClientTransport, AResponseEndedByTheCloseIsNotKept) {
  ScriptedServer server([](const std::string&, const json::value& body) -> ScriptedServer::Reply {
    return {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + ScriptedServer::rpc_reply(body, "result", "0x2a"),
            true};
  });
  asio::io_context ioc;
  auto client = RpcClient::create(ioc.get_executor(), server.url()).value();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(run(ioc, client->call("eth_chainId")).ok()) << i;
  EXPECT_EQ(client->requests_sent(), 3u);
  EXPECT_EQ(server.requests(), 3u);
}

// A URL's user alone (a provider's key) is sent as Basic credentials with an empty password:
// "key:" (RFC 7617 needs the colon); user:password as given.
TEST(RpcClientTransport, BasicCredentialsFromTheUrl) {
  ScriptedServer server([](const std::string&, const json::value& body) { return chain_id(body); });
  auto basic = [](const std::string& userinfo) {
    std::string encoded(boost::beast::detail::base64::encoded_size(userinfo.size()), '\0');
    encoded.resize(boost::beast::detail::base64::encode(encoded.data(), userinfo.data(), userinfo.size()));
    return "Authorization: Basic " + encoded + "\r\n";
  };
  asio::io_context ioc;
  auto key_only = RpcClient::create(ioc.get_executor(), server.url("APIKEY@")).value();
  ASSERT_TRUE(run(ioc, key_only->call("eth_chainId")).ok());
  EXPECT_NE(server.last_request().find(basic("APIKEY:")), std::string::npos) << server.last_request();
  auto pair = RpcClient::create(ioc.get_executor(), server.url("user:p%40ss@")).value();
  ASSERT_TRUE(run(ioc, pair->call("eth_chainId")).ok());
  EXPECT_NE(server.last_request().find(basic("user:p@ss")), std::string::npos) << server.last_request();
}

// An error under another request's id answers nothing of this call; under a null id (a
// request the node could not read) it does.
// The same with an HTTP error status (some providers and proxies answer a JSON-RPC error with
// 4xx or 5xx): a revert under another call's id must not read as this call's revert.
TEST(RpcClientTransport, AnErrorUnderAnotherIdIsNotThisCallsAnswer) {
  std::atomic<bool> null_id{false}, http_error{false};
  ScriptedServer server([&](const std::string&, const json::value&) -> ScriptedServer::Reply {
    json::object reply{{"jsonrpc", "2.0"}, {"error", {{"code", -32000}, {"message", "stale"}}}};
    reply["id"] = null_id ? json::value(nullptr) : json::value(999999);
    const std::string text = json::serialize(reply);
    if (http_error)
      return {"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: " +
              std::to_string(text.size()) + "\r\n\r\n" + text};
    return {ScriptedServer::ok_with(text)};
  });
  asio::io_context ioc;
  auto client = RpcClient::create(ioc.get_executor(), server.url()).value();
  for (const bool error_status : {false, true}) {
    http_error = error_status;
    null_id = false;
    auto other = run(ioc, client->call("eth_chainId"));
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error->kind, RpcError::Kind::Protocol) << error_status << ": " << other.error->describe();
    null_id = true;
    auto unread = run(ioc, client->call("eth_chainId"));
    ASSERT_FALSE(unread.ok());
    EXPECT_EQ(unread.error->kind, RpcError::Kind::Rpc) << error_status << ": " << unread.error->describe();
    EXPECT_EQ(unread.error->code, -32000);
  }
}

// A batch's answers are matched to its calls by id, in any order; an answer under an id the
// batch did not send, or a second answer for one call, is passed over, and a call without an
// answer fails alone. A single error object answers every call only under no id or a null one:
// under an id it is some other call's answer, with a 200 or an error status.
TEST(RpcClientTransport, BatchAnswersAreMatchedByTheirIds) {
  std::atomic<int> variant{0};
  ScriptedServer server([&](const std::string&, const json::value& body) -> ScriptedServer::Reply {
    const auto wrap = [](const std::string& text, bool error_status) {
      if (!error_status) return ScriptedServer::ok_with(text);
      return "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: " +
             std::to_string(text.size()) + "\r\n\r\n" + text;
    };
    const json::value error{{"code", -32600}, {"message", "batch refused"}};
    switch (variant.load()) {
      case 0: {
        // Reversed, the second call answered twice, an unknown id, the first call unanswered.
        const auto& calls = body.as_array();
        json::array answers;
        answers.push_back(json::object{{"jsonrpc", "2.0"}, {"id", 7777777}, {"result", "0xdead"}});
        for (std::size_t i = calls.size(); i-- > 1;)
          answers.push_back(json::object{{"jsonrpc", "2.0"}, {"id", calls[i].at("id")}, {"result", calls[i].at("method")}});
        answers.push_back(json::object{{"jsonrpc", "2.0"}, {"id", calls[1].at("id")}, {"result", "second answer"}});
        answers.push_back(json::object{{"jsonrpc", "2.0"}, {"id", "not a number"}, {"result", "0x1"}});
        return {wrap(json::serialize(answers), false)};
      }
      case 1:
      case 2:
        return {wrap(json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", nullptr}, {"error", error}}), variant == 2)};
      default:
        return {wrap(json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", 424242}, {"error", error}}), variant == 4)};
    }
  });
  asio::io_context ioc;
  auto client = RpcClient::create(ioc.get_executor(), server.url()).value();
  const auto calls = [] {
    return std::vector<RpcCall>{{"eth_chainId", {}}, {"eth_blockNumber", {}}, {"eth_gasPrice", {}}};
  };

  variant = 0;
  auto matched = run(ioc, client->batch(calls()));
  ASSERT_EQ(matched.size(), 3u);
  ASSERT_FALSE(matched[0].ok());
  EXPECT_EQ(matched[0].error->kind, RpcError::Kind::Protocol);
  EXPECT_NE(matched[0].error->message.find("no answer"), std::string::npos) << matched[0].error->describe();
  ASSERT_TRUE(matched[1].ok()) << matched[1].error->describe();
  EXPECT_EQ(matched[1].result, json::value("eth_blockNumber"));  // the first answer, not the second
  ASSERT_TRUE(matched[2].ok()) << matched[2].error->describe();
  EXPECT_EQ(matched[2].result, json::value("eth_gasPrice"));

  for (const int whole : {1, 2}) {
    variant = whole;
    auto refused = run(ioc, client->batch(calls()));
    ASSERT_EQ(refused.size(), 3u);
    for (const auto& r : refused) {
      ASSERT_FALSE(r.ok()) << whole;
      EXPECT_EQ(r.error->kind, RpcError::Kind::Rpc) << whole << ": " << r.error->describe();
      EXPECT_EQ(r.error->code, -32600) << whole;
    }
  }
  for (const int other : {3, 4}) {
    variant = other;
    auto misrouted = run(ioc, client->batch(calls()));
    ASSERT_EQ(misrouted.size(), 3u);
    for (const auto& r : misrouted) {
      ASSERT_FALSE(r.ok()) << other;
      EXPECT_EQ(r.error->kind, RpcError::Kind::Protocol) << other << ": " << r.error->describe();
    }
  }
}

// A node that already holds the transaction (its first sending arrived): it is broadcast, under
// the hash of its bytes. Another refusal stands.
TEST(RpcClientTransport, ATransactionTheNodeAlreadyHoldsIsSent) {
  std::atomic<int> variant{0};
  ScriptedServer server([&](const std::string&, const json::value& body) -> ScriptedServer::Reply {
    const char* words = variant == 0 ? "already known" : variant == 1 ? "Transaction already imported" : "nonce too low";
    return {ScriptedServer::ok_with(
        ScriptedServer::rpc_reply(body, "error", json::object{{"code", -32000}, {"message", words}}))};
  });
  asio::io_context ioc;
  EthRpc rpc(RpcClient::create(ioc.get_executor(), server.url()).value());
  const abi::Bytes raw{0x02, 0xf8, 0x6b, 0x01, 0x80};
  const Hash256 expected = keccak256(raw.data(), raw.size());
  for (int v : {0, 1}) {
    variant = v;
    auto sent = run(ioc, rpc.send_raw_transaction(raw));
    ASSERT_TRUE(sent.ok()) << v << ": " << sent.error->describe();
    EXPECT_EQ(*sent, expected);
  }
  variant = 2;
  auto refused = run(ioc, rpc.send_raw_transaction(raw));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error->message.find("nonce too low"), std::string::npos);
}

// The pool is walked at one block, the one eth_blockNumber names: a node that answers
// "latest" with a pool changed mid-walk (here: any call at another block sees the second
// member gone, which ends the walk at once) does not cut the list short.
TEST(TranscoderPool, EveryCallIsAtTheBlockAskedFirst) {
  auto word_of = [](int n) {
    std::string w(64, '0');
    w[63] = static_cast<char>('0' + n);
    return "0x" + w;
  };
  std::atomic<int> calls_at_other_blocks{0};
  ScriptedServer server([&](const std::string&, const json::value& body) -> ScriptedServer::Reply {
    const std::string method(body.at("method").as_string());
    if (method == "eth_blockNumber") return {ScriptedServer::ok_with(ScriptedServer::rpc_reply(body, "result", "0x2a"))};
    const auto& params = body.at("params").as_array();
    const bool pinned = params.size() == 2 && params[1] == json::value("0x2a");
    if (!pinned) ++calls_at_other_blocks;
    const std::string data(params[0].at("data").as_string());
    // Pool 1 -> 2 -> 3 at block 42; at any other block, 2 has left (1 -> zero).
    std::string answer = word_of(0);
    if (data.size() == 10) answer = word_of(1);  // getFirstTranscoderInPool()
    else if (data.ends_with(std::string(63, '0') + "1")) answer = pinned ? word_of(2) : word_of(0);
    else if (data.ends_with(std::string(63, '0') + "2")) answer = word_of(3);
    return {ScriptedServer::ok_with(ScriptedServer::rpc_reply(body, "result", json::value(answer)))};
  });
  asio::io_context ioc;
  EthRpc rpc(RpcClient::create(ioc.get_executor(), server.url()).value());
  auto pool = run(ioc, fetch_transcoder_pool(rpc, Address{}, 100));
  ASSERT_TRUE(pool.ok()) << pool.error->describe();
  ASSERT_EQ(pool->size(), 3u);
  EXPECT_EQ(calls_at_other_blocks.load(), 0);
}

// A node that does not know the block named (one behind, behind the same load balancer) is
// asked at "latest" instead of failing the walk.
TEST(TranscoderPool, ABlockTheNodeDoesNotKnowFallsBackToLatest) {
  std::atomic<int> latest_calls{0};
  ScriptedServer server([&](const std::string&, const json::value& body) -> ScriptedServer::Reply {
    const std::string method(body.at("method").as_string());
    if (method == "eth_blockNumber") return {ScriptedServer::ok_with(ScriptedServer::rpc_reply(body, "result", "0x2b"))};
    const auto& params = body.at("params").as_array();
    if (params[1] != json::value("latest"))
      return {ScriptedServer::ok_with(
          ScriptedServer::rpc_reply(body, "error", json::object{{"code", -32000}, {"message", "header not found"}}))};
    ++latest_calls;
    const bool first = std::string(params[0].at("data").as_string()).size() == 10;
    std::string answer = "0x" + std::string(64, '0');
    if (first) answer.back() = '5';
    return {ScriptedServer::ok_with(ScriptedServer::rpc_reply(body, "result", json::value(answer)))};
  });
  asio::io_context ioc;
  EthRpc rpc(RpcClient::create(ioc.get_executor(), server.url()).value());
  auto pool = run(ioc, fetch_transcoder_pool(rpc, Address{}, 100));
  ASSERT_TRUE(pool.ok()) << pool.error->describe();
  EXPECT_EQ(pool->size(), 1u);
  EXPECT_EQ(latest_calls.load(), 2);
}

}  // namespace
}  // namespace lpops::chain
