#pragma once
// Starts a real anvil node (tests/node_modules, pinned in tests/package.json) on a free
// loopback port and stops it when the object dies.
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace lpops::testing {

class AnvilProcess {
 public:
  AnvilProcess();
  ~AnvilProcess();
  AnvilProcess(const AnvilProcess&) = delete;
  AnvilProcess& operator=(const AnvilProcess&) = delete;

  bool start();  // waits (bounded) until it answers eth_chainId
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::uint16_t port() const { return port_; }
  std::string log() const;
  void stop();  // SIGTERM, bounded wait, then SIGKILL

  // anvil's first default account (the well-known test mnemonic), funded with 10000 ETH.
  static constexpr const char* kFundedKey = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
  static constexpr std::uint64_t kChainId = 31337;

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

std::uint16_t free_loopback_port();

}  // namespace lpops::testing
