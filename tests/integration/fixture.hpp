#pragma once
// A started node plus a client, for tests that talk HTTP to the real binary.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::testing {

namespace json = boost::json;

inline json::value parse_json(const std::string& text) {
  boost::system::error_code ec;
  json::parse_options deep;
  deep.max_depth = 1024;  // as the node reads its own files
  auto v = json::parse(text, ec, {}, deep);
  return ec ? json::value(nullptr) : v;
}

class NodeTest : public ::testing::Test {
 protected:
  void start_node(std::map<std::string, std::string> env = {}) {
    node_ = std::make_unique<NodeProcess>(dir_.str() + "/data", std::move(env));
    ASSERT_TRUE(node_->start()) << node_->log();
    client_ = std::make_unique<HttpClient>("127.0.0.1", node_->port());
  }
  void restart_node(std::map<std::string, std::string> env = {}) {
    ASSERT_EQ(node_->terminate(), 0) << node_->log();
    start_node(std::move(env));
  }

  HttpResult get(const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return client_->request("GET", target, "", headers);
  }
  HttpResult post(const std::string& target, const json::value& body,
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return client_->request("POST", target, json::serialize(body), headers);
  }
  HttpResult raw(const std::string& method, const std::string& target, const std::string& body,
                 const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return client_->request(method, target, body, headers);
  }
  json::value get_json(const std::string& target) {
    auto r = get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return parse_json(r.body);
  }
  void register_orchestrator(const std::string& id, const std::string& address) {
    auto r = post("/api/orchestrators/register", json::object{{"orchestrator_id", id}, {"address", address}});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // Checkpoints are signed off the request path: waits (bounded) until one covers `seq`.
  void wait_for_checkpoint(std::int64_t seq) {
    for (int i = 0; i < 1000; ++i) {
      auto r = get("/api/transparency/tee-core/audit/checkpoint");
      if (r.status == 200 && parse_json(r.body).at("seq").as_int64() >= seq) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "no checkpoint at seq " << seq << " within 10 s";
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<HttpClient> client_;
};

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A new key file, made as an operator changing the audit key makes it (a node makes one on
// its own only for a log with no signed checkpoint yet).
inline void make_key_file(const std::string& path) {
  const auto made = run_command({lpops_binary(), "keygen", "--key-file", path}, {}, std::chrono::seconds(30));
  ASSERT_EQ(made.exit_code, 0) << made.output;
}

inline std::string address_of(int i) {
  char buf[43];
  std::snprintf(buf, sizeof buf, "0x%040x", i + 1);
  return buf;
}

}  // namespace lpops::testing
