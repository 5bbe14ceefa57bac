#pragma once
// Runs the real `lpops serve` binary on an ephemeral loopback port for integration tests.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lpops::testing {

class NodeProcess {
 public:
  // env: extra environment variables (PAYMENTS_*); the data dir and port are set here.
  NodeProcess(std::string data_dir, std::map<std::string, std::string> env = {});
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Starts the process and waits (bounded) until it serves; false if it exited instead.
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  std::uint16_t port() const { return port_; }
  const std::string& port_file() const { return port_path_; }  // --port-file
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // Spawns the node and SIGKILLs it `delay` later, wherever its start-up is (recovering,
  // binding, serving); false if it had ended on its own by then.
  bool start_and_kill_after(std::chrono::microseconds delay);
  void kill_hard();                      // SIGKILL, then reap
  // SIGKILL and reap; false (a failure to report) if the process had already ended on its own
  // or did not end by that signal.
  bool kill_hard_if_alive();
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(30));  // SIGTERM; exit code
  int wait_exit(std::chrono::milliseconds timeout);  // exit code, or -signal, or -1000 on timeout
  // What the process printed since its last start(): a log file is per data directory and
  // kept across starts, and a check of one start must not be met by an earlier one's lines.
  std::string log() const;

 private:
  std::string data_dir_;
  std::map<std::string, std::string> env_;
  std::string log_path_, port_path_;
  std::size_t log_from_ = 0;  // the log file's size when the last start() began
  bool spawn_node();
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

// Runs a command to completion with a bounded time; returns exit code and output.
struct CommandResult {
  int exit_code = -1;
  std::string output;  // standard output and standard error, as written
};
CommandResult run_command(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));
// The same with the two streams apart, for what a command promises of each.
struct SplitCommandResult {
  int exit_code = -1;
  std::string out, err;
};
SplitCommandResult run_command_split(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                                     std::chrono::milliseconds timeout = std::chrono::seconds(60));

const char* lpops_binary();

// Process helpers shared by the fixtures that start real programs.
std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra);
// Standard output to `log_path`, and standard error too unless `error_path` names another file.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& log_path,
            const std::string& error_path = "");
int wait_pid(pid_t pid, std::chrono::milliseconds timeout);  // exit code, -signal, or -1000 on timeout
std::string read_all(const std::string& path);

}  // namespace lpops::testing
