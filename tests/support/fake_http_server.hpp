#pragma once
// A loopback HTTP/1.1 server for tests that play another service (a subgraph, an explorer
// API, a node that forges answers): each request, with its body, goes to `handler`, whose
// status and JSON body are sent back with Connection: close. With `silent`, connections are
// accepted and never answered. One request per connection; stops with the object.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace lpops::testing {

class FakeHttpServer {
 public:
  struct Request {
    std::string method, target, body;
    std::string head;  // the request line and header fields, as sent
  };
  struct Response {
    // 0: the connection is held and the request never answered; -1: it is closed unanswered
    // and the server stops listening (a node killed while it handles the request).
    int status = 200;
    std::string body;
    std::string location;  // sent as Location when not empty
    Response(std::pair<int, std::string> answer) : status(answer.first), body(std::move(answer.second)) {}  // NOLINT
    Response(int s, std::string b, std::string l = "") : status(s), body(std::move(b)), location(std::move(l)) {}
  };
  using Handler = std::function<Response(const Request&)>;
  explicit FakeHttpServer(Handler handler, bool silent = false);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::size_t requests() const { return requests_.load(); }

 private:
  void serve();
  Handler handler_;
  bool silent_ = false;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> held_;
  std::atomic<std::size_t> requests_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace lpops::testing
