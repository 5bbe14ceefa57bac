#include "tests/support/anvil_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/node_process.hpp"

namespace lpops::testing {

std::uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

AnvilProcess::AnvilProcess() {
  log_path_ = (std::filesystem::temp_directory_path() / ("lpops-anvil-" + std::to_string(::getpid()) + "-" +
                                                         std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".log"))
                  .string();
}

AnvilProcess::~AnvilProcess() {
  stop();
  std::filesystem::remove(log_path_);
}

void AnvilProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (wait_pid(pid_, std::chrono::seconds(5)) == -1000) {
    ::kill(pid_, SIGKILL);
    wait_pid(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
}

bool AnvilProcess::start() {
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_loopback_port();
    pid_ = spawn({LPOPS_ANVIL, "--host", "127.0.0.1", "--port", std::to_string(port_), "--chain-id",
                  std::to_string(kChainId)},
                 merged_environment({}), log_path_);
    if (pid_ <= 0) return false;
    for (int i = 0; i < 200; ++i) {  // up to 10 s
      HttpClient c("127.0.0.1", port_, std::chrono::milliseconds(500));
      auto r = c.request("POST", "/", R"({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]})",
                         {{"Content-Type", "application/json"}});
      if (r.status == 200) return true;
      if (wait_pid(pid_, std::chrono::milliseconds(0)) != -1000) break;  // exited (port taken?)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    wait_pid(pid_, std::chrono::seconds(5));
    pid_ = -1;
  }
  return false;
}

std::string AnvilProcess::log() const { return read_all(log_path_); }

}  // namespace lpops::testing
