#include "tests/support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace lpops::testing {
namespace {

int open_connection(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

std::string HttpResult::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (::strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return {};
}

HttpClient::HttpClient(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout) {}

HttpClient::~HttpClient() { disconnect(); }

bool HttpClient::connect_socket() {
  disconnect();
  fd_ = open_connection(host_, port_, timeout_);
  return fd_ >= 0;
}

void HttpClient::disconnect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

bool HttpClient::send_all(const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

HttpResult HttpClient::read_response(bool& connection_close, bool head_request) {
  HttpResult r;
  auto fill = [&]() -> bool {
    char chunk[16384];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
  };
  std::size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) {
      r.body = buffer_.empty() ? "connection closed before a response" : "truncated response headers";
      return r;
    }
  }
  std::string head = buffer_.substr(0, header_end);
  buffer_.erase(0, header_end + 4);
  std::size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) {
    r.body = "malformed status line";
    return r;
  }
  int status = std::atoi(status_line.c_str() + 9);
  std::size_t content_length = 0;
  bool chunked = false;
  connection_close = false;
  for (std::size_t pos = line_end + 2; line_end != std::string::npos && pos < head.size();) {
    std::size_t next = head.find("\r\n", pos);
    std::string line = head.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      if (::strcasecmp(name.c_str(), "content-length") == 0) content_length = std::stoul(value);
      if (::strcasecmp(name.c_str(), "transfer-encoding") == 0 && value.find("chunked") != std::string::npos) chunked = true;
      if (::strcasecmp(name.c_str(), "connection") == 0 && ::strcasecmp(value.c_str(), "close") == 0) connection_close = true;
      r.headers.emplace_back(std::move(name), std::move(value));
    }
    if (next == std::string::npos) break;
    pos = next + 2;
  }
  if (head_request) {
    r.status = status;  // Content-Length describes the GET body, which a HEAD answer leaves out
    return r;
  }
  if (chunked) {
    for (;;) {
      std::size_t eol;
      while ((eol = buffer_.find("\r\n")) == std::string::npos)
        if (!fill()) return HttpResult{0, "truncated chunked body", {}};
      std::size_t size = std::stoul(buffer_.substr(0, eol), nullptr, 16);
      while (buffer_.size() < eol + 2 + size + 2)
        if (!fill()) return HttpResult{0, "truncated chunked body", {}};
      r.body.append(buffer_, eol + 2, size);
      buffer_.erase(0, eol + 2 + size + 2);
      if (size == 0) break;
    }
  } else {
    while (buffer_.size() < content_length)
      if (!fill()) return HttpResult{0, "truncated body", {}};
    r.body = buffer_.substr(0, content_length);
    buffer_.erase(0, content_length);
  }
  r.status = status;
  return r;
}

HttpResult HttpClient::request(const std::string& method, const std::string& target, const std::string& body,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_ + "\r\n";
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    has_type = has_type || ::strcasecmp(k.c_str(), "content-type") == 0;
  }
  if (!body.empty() && !has_type) req += "Content-Type: application/json\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  // A kept-alive connection may have been closed by the server: retry once on a new one,
  // but only when nothing at all came back (the request was then not processed).
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = fd_ >= 0;
    if (fd_ < 0 && !connect_socket()) return HttpResult{0, "cannot connect", {}};
    bool close_after = false;
    HttpResult r;
    if (send_all(req)) r = read_response(close_after, method == "HEAD");
    else r.body = "send failed";
    if (r.status != 0) {
      if (close_after) disconnect();
      return r;
    }
    disconnect();
    if (!reused || r.body != "connection closed before a response") return r;
  }
  return HttpResult{0, "connection closed before a response", {}};
}

std::string HttpClient::raw_exchange(const std::string& bytes, bool then_end) {
  int fd = open_connection(host_, port_, timeout_);
  if (fd < 0) return {};
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  if (then_end) ::shutdown(fd, SHUT_WR);
  std::string out;
  char chunk[4096];
  for (;;) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    out.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

bool wait_for_port(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = open_connection(host, port, std::chrono::milliseconds(500));
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace lpops::testing
