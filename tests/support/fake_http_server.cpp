#include "tests/support/fake_http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace lpops::testing {

FakeHttpServer::FakeHttpServer(Handler handler, bool silent) : handler_(std::move(handler)), silent_(silent) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 16) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("fake HTTP server: cannot listen");
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { serve(); });
}

FakeHttpServer::~FakeHttpServer() {
  stop_ = true;
  thread_.join();
  for (int c : held_) ::close(c);
  if (fd_ >= 0) ::close(fd_);
}

void FakeHttpServer::serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) continue;
    if (silent_) {
      held_.push_back(c);  // accepted, never answered
      continue;
    }
    // The header, then as much body as Content-Length says (bounded waits throughout).
    std::string raw;
    char buf[4096];
    auto read_more = [&] {
      pollfd r{c, POLLIN, 0};
      if (::poll(&r, 1, 2000) <= 0) return false;
      const ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return false;
      raw.append(buf, static_cast<std::size_t>(n));
      return true;
    };
    while (raw.find("\r\n\r\n") == std::string::npos && read_more()) {}
    const auto head_end = raw.find("\r\n\r\n");
    Request request;
    if (head_end != std::string::npos) {
      const auto sp = raw.find(' ');
      request.method = raw.substr(0, sp);
      request.target = raw.substr(sp + 1, raw.find(' ', sp + 1) - sp - 1);
      std::size_t length = 0;
      std::string head = raw.substr(0, head_end);
      request.head = head;
      for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (const auto cl = head.find("\r\ncontent-length:"); cl != std::string::npos) length = std::stoul(head.substr(cl + 17));
      while (raw.size() < head_end + 4 + length && read_more()) {}
      request.body = raw.substr(head_end + 4, length);
    }
    ++requests_;
    const Response answer = handler_(request);
    if (answer.status == 0) {
      held_.push_back(c);  // this request is never answered
      continue;
    }
    if (answer.status < 0) {
      ::close(c);
      ::close(fd_);  // later connections are refused
      fd_ = -1;
      return;
    }
    const std::string response = "HTTP/1.1 " + std::to_string(answer.status) + " X\r\nContent-Type: application/json\r\n" +
                                 (answer.location.empty() ? "" : "Location: " + answer.location + "\r\n") +
                                 "Content-Length: " + std::to_string(answer.body.size()) + "\r\nConnection: close\r\n\r\n" +
                                 answer.body;
    for (std::size_t off = 0; off < response.size();) {
      const ssize_t n = ::write(c, response.data() + off, response.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    ::close(c);
  }
}

}  // namespace lpops::testing
