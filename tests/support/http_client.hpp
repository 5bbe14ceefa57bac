#pragma once
// A small blocking HTTP/1.1 client over POSIX sockets for loopback tests: keep-alive,
// Content-Length and chunked bodies, bounded waits. It never throws; a transport failure
// gives status 0 with the reason in `body`.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lpops::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(const std::string& name) const;
};

class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult request(const std::string& method, const std::string& target, const std::string& body = "",
                     const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Sends raw bytes on a fresh connection and returns what comes back (for malformed HTTP).
  // With `then_end`, the client's side of the connection is closed after the bytes (the
  // server reads the end of the stream where a request it waits on would go on).
  std::string raw_exchange(const std::string& bytes, bool then_end = false);

 private:
  bool connect_socket();
  void disconnect();
  bool send_all(const std::string& data);
  HttpResult read_response(bool& connection_close, bool head_request = false);  // a HEAD answer has no body

  std::string host_;
  std::uint16_t port_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buffer_;
};

// Polls until something accepts connections on host:port, for at most `timeout`.
bool wait_for_port(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout);

}  // namespace lpops::testing
