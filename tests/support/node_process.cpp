#include "tests/support/node_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

extern char** environ;

namespace lpops::testing {

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string key = kv.substr(0, eq);
    // Settings come only from the test, never from the developer's shell.
    if (key.rfind("PAYMENTS_", 0) == 0 || key == "TOP_CONTRACT_ADDRESS") continue;
    env[key] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& log_path,
            const std::string& error_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (error_path.empty()) posix_spawn_file_actions_adddup2(&actions, 1, 2);
  else posix_spawn_file_actions_addopen(&actions, 2, error_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

int wait_pid(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) return -1000;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const char* lpops_binary() { return LPOPS_BINARY; }

NodeProcess::NodeProcess(std::string data_dir, std::map<std::string, std::string> env)
    : data_dir_(std::move(data_dir)), env_(std::move(env)) {
  std::filesystem::create_directories(data_dir_);
  log_path_ = data_dir_ + "/../" + std::filesystem::path(data_dir_).filename().string() + ".log";
  port_path_ = data_dir_ + "/../" + std::filesystem::path(data_dir_).filename().string() + ".port";
}

NodeProcess::~NodeProcess() {
  if (pid_ > 0) kill_hard();
}

bool NodeProcess::start(std::chrono::milliseconds timeout) {
  if (!spawn_node()) return false;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_path_);
    int port = 0;
    if (in >> port && port > 0) {
      port_ = static_cast<std::uint16_t>(port);
      return true;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill_hard();
  return false;
}

bool NodeProcess::spawn_node() {
  std::filesystem::remove(port_path_);
  std::error_code size_ec;
  const auto log_size = std::filesystem::file_size(log_path_, size_ec);
  log_from_ = size_ec ? 0 : static_cast<std::size_t>(log_size);
  auto env = env_;
  env["PAYMENTS_API_HOST"] = env.count("PAYMENTS_API_HOST") ? env["PAYMENTS_API_HOST"] : "127.0.0.1";
  env["PAYMENTS_DATA_DIR"] = data_dir_;
  // Tests reach nothing but loopback: the rank check's public sources (the subgraph, the
  // explorer APIs) are left out unless a test names its own.
  env.emplace("PAYMENTS_RANK_SUBGRAPH_URL", "");
  env.emplace("PAYMENTS_RANK_EXPLORER_URLS", "");
  env["PAYMENTS_API_PORT"] = "8081";
  pid_ = spawn({lpops_binary(), "serve", "--port", "0", "--port-file", port_path_}, merged_environment(env), log_path_);
  return pid_ > 0;
}

bool NodeProcess::start_and_kill_after(std::chrono::microseconds delay) {
  if (!spawn_node()) return false;
  std::this_thread::sleep_for(delay);
  return kill_hard_if_alive();
}

bool NodeProcess::kill_hard_if_alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // it ended on its own
    pid_ = -1;
    return false;
  }
  ::kill(pid_, SIGKILL);
  const int code = wait_pid(pid_, std::chrono::seconds(30));
  pid_ = -1;
  return code == -SIGKILL;
}

void NodeProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_pid(pid_, std::chrono::seconds(30));
  pid_ = -1;
}

int NodeProcess::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  return wait_exit(timeout);
}

int NodeProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  int code = wait_pid(pid_, timeout);
  if (code != -1000) pid_ = -1;
  return code;
}

std::string NodeProcess::log() const {
  std::string all = read_all(log_path_);
  return log_from_ <= all.size() ? all.substr(log_from_) : all;
}

namespace {

// Runs `argv` with standard output to one file and standard error to `split ? another : the
// same`; the exit code (or -1000 after a timeout, the process killed) and the files' text.
struct Ran {
  int exit_code = -1;
  std::string out, err;
};
Ran run_to_files(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                 std::chrono::milliseconds timeout, bool split) {
  std::random_device rd;
  const std::string base = (std::filesystem::temp_directory_path() / ("lpops-cmd-" + std::to_string(rd()))).string();
  const std::string out_path = base + ".out", err_path = split ? base + ".err" : "";
  Ran ran;
  const pid_t pid = spawn(argv, merged_environment(env), out_path, err_path);
  if (pid <= 0) return ran;
  ran.exit_code = wait_pid(pid, timeout);
  if (ran.exit_code == -1000) {
    ::kill(pid, SIGKILL);
    wait_pid(pid, std::chrono::seconds(10));
  }
  ran.out = read_all(out_path);
  std::filesystem::remove(out_path);
  if (split) {
    ran.err = read_all(err_path);
    std::filesystem::remove(err_path);
  }
  return ran;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                          std::chrono::milliseconds timeout) {
  auto ran = run_to_files(argv, env, timeout, false);
  return {ran.exit_code, std::move(ran.out)};
}

SplitCommandResult run_command_split(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                                     std::chrono::milliseconds timeout) {
  auto ran = run_to_files(argv, env, timeout, true);
  return {ran.exit_code, std::move(ran.out), std::move(ran.err)};
}

}  // namespace lpops::testing
