#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "actors/checkpoints.hpp"
#include "actors/journal.hpp"
#include "actors/ledger.hpp"
#include "actors/credential.hpp"
#include "actors/fatal.hpp"
#include "actors/rank.hpp"
#include "actors/reader.hpp"
#include "actors/registry.hpp"
#include "actors/snapshotter.hpp"
#include "app/bootstrap.hpp"
#include "app/chain_runtime.hpp"
#include "app/node.hpp"
#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "chain/keystore.hpp"
#include "chain/rank_sources.hpp"
#include "chain/transcoder_pool.hpp"
#include "domain/canonical_json.hpp"
#include "domain/version.hpp"
#include "domain/wipe.hpp"
#include "storage/audit_log.hpp"
#include "storage/durable_fs.hpp"
#include "storage/record_format.hpp"
#include "config/settings.hpp"
#include "net/api.hpp"
#include "net/http_server.hpp"
#include "storage/file_store.hpp"
#include "storage/tail_line.hpp"

namespace lpops::app {
namespace {

// Each connection holds a file descriptor. The soft open-files limit goes up to the hard one
// (often 1024 against 500k+), and the connection cap stays far enough below what is left that
// the journal, a snapshot or the log never lack a descriptor for want of one a client took.
std::size_t connection_cap(std::size_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  constexpr rlim_t kReserved = 256;  // files, the actors' and I/O threads' descriptors
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= wanted + kReserved) return wanted;
  const std::size_t cap = limit.rlim_cur > 2 * kReserved ? limit.rlim_cur - kReserved : limit.rlim_cur / 2;
  spdlog::warn("open files limit {} (ulimit -n): at most {} connections at once (more get 503)", limit.rlim_cur, cap);
  return cap;
}

// A start-up failure once actors run: they would keep the process alive (and the actor system
// would wait for them on return), so log and exit at once. Nothing has been served; everything
// written so far (the policy record) is durable already.
[[noreturn]] void stop_starting(const std::string& why);

// Start-up refused: the critical line is the last word. A background check that ends while
// start-up is being refused says nothing more (its "re-checked" line would read as if the node
// went on); the lock orders the refusal and a check's report.
std::mutex g_start_outcome;
bool g_start_refused = false;  // guarded by g_start_outcome

// What this start made before its key first signs (the data directory and its missing
// parents, a new audit key, LOCK, a new journal file, the audit log's new files), in the order
// made. A start refused before then (a mistyped port or key, a journal that cannot be read or
// that lost records the audit log describes) takes them away again, so that it leaves the disk
// as it found it: no empty data directory, and no key that the next start would take as the
// node's identity though it never signed anything. Once the key signs (the start-up
// checkpoint, or with PAYMENTS_AUDIT_SIGN_ENTRIES the audit log's catch-up) the list is let
// go: from then on what is there is the node's.
std::vector<std::filesystem::path> g_made_by_start;  // guarded by g_start_outcome

void made_by_start(std::filesystem::path path) {
  std::lock_guard lock(g_start_outcome);
  g_made_by_start.push_back(std::move(path));
}

void keep_what_start_made() {
  std::lock_guard lock(g_start_outcome);
  g_made_by_start.clear();
}

// Newest first; a directory goes only if it is empty (remove() leaves one that is not).
void take_back_what_start_made() {
  for (auto it = g_made_by_start.rbegin(); it != g_made_by_start.rend(); ++it) {
    std::error_code ec;
    std::filesystem::remove(*it, ec);
  }
  g_made_by_start.clear();
}

// Takes back what start-up made when serve() returns before its key first signs (a refused
// setting); stop_starting() exits at once and takes it back itself, through refuse_start().
struct TakeBackOnReturn {
  TakeBackOnReturn() = default;
  TakeBackOnReturn(const TakeBackOnReturn&) = delete;
  TakeBackOnReturn& operator=(const TakeBackOnReturn&) = delete;
  ~TakeBackOnReturn() {
    std::lock_guard lock(g_start_outcome);
    take_back_what_start_made();
  }
};

template <typename... Args>
int refuse_start(spdlog::format_string_t<Args...> format, Args&&... args) {
  std::lock_guard lock(g_start_outcome);
  g_start_refused = true;
  spdlog::critical(format, std::forward<Args>(args)...);
  take_back_what_start_made();
  return 1;
}

// "1 record", "2 records": a count and its noun for a log line.
std::string counted(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// A setting that cannot be used, said as the settings' own checks say it (status 2).
int refuse_setting(const std::string& message) {
  std::fprintf(stderr, "lpops: invalid settings:\n%s\n", message.c_str());
  return 2;
}

// A check of stored data on a thread of its own (start-up does not wait for it): damage found
// stops the node (exit 70) as it would have stopped start-up, and leaves `marker` (a file in
// the data directory) behind. The next start then checks before it serves anything: without
// that, every restart would serve (and acknowledge writes) until the check found the same
// damage again. The thread is stopped and joined when this goes out of scope.
class BackgroundCheck {
 public:
  using Check = std::function<std::optional<std::string>(const std::atomic<bool>& stop)>;
  // done: the line said once the check passed.
  BackgroundCheck(std::uint64_t items, Check check, const char* what, const char* advice, std::string done,
                  std::string marker) {
    if (!items) {
      std::error_code ec;
      std::filesystem::remove(marker, ec);
      return;
    }
    auto report_done = [done](std::chrono::steady_clock::time_point start) {
      std::lock_guard lock(g_start_outcome);
      if (g_start_refused) return;
      spdlog::info("{} in {:.1f} s", done, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    };
    std::error_code ec;
    if (std::filesystem::exists(marker, ec)) {
      spdlog::warn("{}: the last run stopped on damage ({}); checking before serving", what, marker);
      const auto start = std::chrono::steady_clock::now();
      if (auto err = check(stop_)) stop_starting(std::string(what) + ": " + *err + " (" + advice + ")");
      std::filesystem::remove(marker, ec);
      report_done(start);
      return;
    }
    thread_ = std::thread([this, check = std::move(check), what, advice, marker, report_done] {
      const auto start = std::chrono::steady_clock::now();
      if (auto err = check(stop_)) {
        spdlog::critical("{}: {}; stopping ({})", what, *err, advice);
        if (FILE* f = std::fopen(marker.c_str(), "w")) {
          std::fprintf(f, "%s: %s\n", what, err->c_str());
          std::fflush(f);
          (void)::fsync(::fileno(f));
          std::fclose(f);
          (void)storage::fsync_parent_directory(marker);  // its name too
        }
        {
          // A start still under way takes back what it made, as on any refusal (after it the
          // list is empty).
          std::lock_guard lock(g_start_outcome);
          take_back_what_start_made();
        }
        spdlog::default_logger()->flush();
        std::_Exit(70);
      }
      if (!stop_) report_done(start);
    });
  }
  ~BackgroundCheck() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  BackgroundCheck(const BackgroundCheck&) = delete;
  BackgroundCheck& operator=(const BackgroundCheck&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

[[noreturn]] void stop_starting(const std::string& why) {
  refuse_start("{}; not starting", why);
  spdlog::default_logger()->flush();
  std::_Exit(1);
}

// SIGHUP (the terminal that started the node closed) stops it as SIGTERM does: drained,
// flushed, exit 0, instead of the default action's immediate end.
sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

const char* signal_name(int sig) {
  return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "a signal";
}

// While the ledger is recovered (seconds per million records), a stop signal ends the process
// at once, as a kill would: nothing is acknowledged yet, and every step of recovery is safe to
// cut short (the next start resumes it, as after a crash). A supervisor's stop is then neither
// held for the whole recovery nor followed by its SIGKILL. Once the watch ends, a signal stays
// pending for the later steps (a bootstrap cut short, never reporting ready, the drain).
class RecoveryStopWatch {
 public:
  RecoveryStopWatch()
      : thread_([this] {
          const sigset_t set = shutdown_signals();
          const timespec tick{0, 50'000'000};
          while (!done_.load()) {
            const int sig = ::sigtimedwait(&set, nullptr, &tick);
            if (sig <= 0) continue;
            if (done_.load()) {
              ::kill(::getpid(), sig);  // the watch is over: left pending for what follows
              return;
            }
            // A refusal under way finishes first (its clean-up holds the lock) and sets the status.
            std::lock_guard lock(g_start_outcome);
            if (g_start_refused) {
              spdlog::default_logger()->flush();
              std::_Exit(1);
            }
            spdlog::info("received {} during recovery: stopping now (nothing was acknowledged yet; the next start "
                         "resumes recovery)", signal_name(sig));
            spdlog::default_logger()->flush();
            std::_Exit(0);
          }
        }) {}
  ~RecoveryStopWatch() { end(); }
  void end() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  RecoveryStopWatch(const RecoveryStopWatch&) = delete;
  RecoveryStopWatch& operator=(const RecoveryStopWatch&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Returns once every journal record the ledger has framed is durable.
void wait_until_durable(caf::actor_system& sys, const caf::actor& ledger) {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  caf::anon_send(ledger, actors::JournalBarrier{[done] { done->set_value(); }});
  (void)sys;
  future.wait();
}

}  // namespace

int serve(const ServeOptions& o) {
  // Every thread started from here on inherits the blocked set; only sigwait sees them.
  sigset_t signals = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto loaded = load_command_settings(o.env_file, "lpops",
                                      {o.data_dir ? "PAYMENTS_DATA_DIR" : "", o.host ? "PAYMENTS_API_HOST" : "",
                                       o.port ? "PAYMENTS_API_PORT" : ""});
  if (!loaded) return 2;
  config::Settings settings = std::move(*loaded);
  if (o.data_dir) settings.data_dir = *o.data_dir;
  if (o.host) settings.api_host = *o.host;
  if (o.port) settings.api_port = *o.port;
  // The listen address is a setting: one that is no IP and resolves to nothing is a usage
  // error now, not a bind failure after recovery.
  {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(settings.api_host.c_str(), nullptr, &hints, &found);
    if (found) ::freeaddrinfo(found);
    if (rc != 0) {
      return refuse_setting("PAYMENTS_API_HOST (or --host) must be an IP address or a host name that resolves (got \"" +
                            settings.api_host + "\": " + ::gai_strerror(rc) + ")");
    }
  }

  spdlog::set_level(spdlog::level::from_str(settings.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  {
    std::error_code ec;
    const auto data_dir = std::filesystem::absolute(settings.data_dir, ec).lexically_normal();
    spdlog::info("lpops {}: data directory {}; settings from the environment{}; time credits {} ETH per minute, payouts "
                 "{}, fsync {}, snapshots every {} records or more, drain up to {} s",
                 kVersion, ec ? settings.data_dir : data_dir.string(),
                 settings.settings_file.empty() ? std::string(" (no .env file)") : " and " + settings.settings_file,
                 settings.workload_time_rate.text(), settings.payout_strategy, settings.journal_fsync ? "on" : "off",
                 settings.snapshot_every_records, settings.shutdown_drain_seconds);
  }
  for (const auto& [name, value] : settings.describe()) spdlog::debug("setting {}={}", name, value);
  // The keys come first: a key or keystore that cannot be used is a bad setting, said at
  // once (status 2), not after the port is bound and the ledger recovered. The data
  // directory is made first, for the key file kept there: one that cannot be made or written
  // stops start-up here (status 1, as recovery would), named as such, before any key file is
  // written into it.
  {
    std::error_code ec;
    std::vector<std::filesystem::path> new_levels;  // outermost first
    {
      // The levels that are missing, outermost first, to take back if start-up is refused.
      std::vector<std::filesystem::path> missing;
      std::error_code probe_ec;
      // Not there at all: a symlink (even one to nothing, a disk not mounted yet) is the
      // operator's, never taken back.
      auto missing_here = [](const std::filesystem::path& p) {
        std::error_code ec;  // set for a path not found too: the type says which
        return std::filesystem::symlink_status(p, ec).type() == std::filesystem::file_type::not_found;
      };
      for (auto level = std::filesystem::absolute(settings.data_dir, probe_ec).lexically_normal();
           !probe_ec && !level.empty() && missing_here(level); level = level.parent_path()) {
        if (level.has_filename()) missing.push_back(level);
        if (level == level.parent_path()) break;
      }
      for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        made_by_start(*it);
        new_levels.push_back(*it);
      }
    }
    // What is there already, said as such: a file, or a symlink to nothing (a disk not mounted).
    {
      std::error_code st_ec;
      const auto here = std::filesystem::symlink_status(settings.data_dir, st_ec).type();
      const auto target = std::filesystem::status(settings.data_dir, st_ec).type();
      if (here == std::filesystem::file_type::symlink && target == std::filesystem::file_type::not_found)
        stop_starting("data directory " + settings.data_dir + " is a symbolic link to " +
                      std::filesystem::read_symlink(settings.data_dir, st_ec).string() +
                      ", which does not exist (a disk not mounted yet?)");
      if (target != std::filesystem::file_type::not_found && target != std::filesystem::file_type::directory &&
          target != std::filesystem::file_type::none)
        stop_starting("data directory " + settings.data_dir + " exists and is not a directory");
    }
    std::filesystem::create_directories(settings.data_dir, ec);
    if (!ec && !std::filesystem::is_directory(settings.data_dir, ec) && !ec) ec = std::make_error_code(std::errc::not_a_directory);
    if (ec) stop_starting("data directory " + settings.data_dir + ": cannot create it: " + ec.message());
    // Each new level's name synced in its parent: the journal's name is synced in the data
    // directory later, but a new data directory's own name would otherwise not be.
    if (settings.journal_fsync)
      for (const auto& level : new_levels)
        if (!storage::fsync_parent_directory(level.string()))
          stop_starting(storage::errno_text("data directory " + settings.data_dir + ": cannot sync the directory holding " +
                                            level.string()));
    // Tried, not asked (access() says yes to root even where a write then fails).
    const std::string probe = (std::filesystem::path(settings.data_dir) / (".write-check-" + std::to_string(::getpid()))).string();
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) stop_starting("data directory " + settings.data_dir + " is not writable: " + std::strerror(errno));
    ::close(fd);
    ::unlink(probe.c_str());
  }
  // The directory is this node's from here on, before any key file is made in it and before
  // the port is taken: a second node pointed at it says so, rather than answering 503 for a
  // moment first. Refused here, it takes back nothing: the directory is the other node's.
  storage::FileStoreOptions store_options{settings.data_dir, settings.journal_fsync};
  store_options.direct_io = settings.journal_direct_io;
  store_options.acknowledged_through = storage::last_line_integer(settings.data_dir + "/audit.jsonl", "journal_seq");
  auto store = std::make_shared<storage::FileStore>(store_options);
  // After the store: a return takes back what start-up made while the store still holds the
  // directory's lock, so no other node can have taken it meanwhile.
  TakeBackOnReturn take_back_on_return;
  {
    const auto lock_file = std::filesystem::path(settings.data_dir) / "LOCK";
    std::error_code ec;
    const bool had_lock_file = std::filesystem::exists(lock_file, ec) || ec;
    if (auto err = store->lock_directory()) {
      keep_what_start_made();
      stop_starting(*err);
    }
    if (!had_lock_file) made_by_start(lock_file);
  }
  // The port file is written once the node serves: a place it cannot go is a bad command
  // line, said now (status 2), not after the node reported ready.
  if (o.port_file) {
    const std::string probe = *o.port_file + ".tmp";
    std::error_code ec;
    if (std::filesystem::is_directory(*o.port_file, ec)) {
      std::fprintf(stderr, "lpops: --port-file must name a file (got \"%s\")\n", o.port_file->c_str());
      return 2;
    }
    if (!std::ofstream(probe)) {
      std::fprintf(stderr, "lpops: --port-file %s: cannot write %s: %s\n", o.port_file->c_str(), probe.c_str(), std::strerror(errno));
      return 2;
    }
    std::filesystem::remove(probe, ec);
  }
  // The orchestrators to register at start, read and checked before the port is bound: a
  // bootstrap text that is no JSON list or object, or a single-mode registration that does
  // not validate, is a bad setting (status 2).
  std::vector<BootstrapEntry> bootstrap;
  try {
    bootstrap = prepare_bootstrap(settings);
  } catch (const std::runtime_error& e) {
    return refuse_setting(e.what());
  }
  // Before any key is read: no core dump (it would hold the keys), and a process others of the
  // same user cannot attach to or read, unless PAYMENTS_ALLOW_CORE_DUMPS.
  if (!settings.allow_core_dumps) {
    const struct rlimit none {0, 0};
    if (::setrlimit(RLIMIT_CORE, &none) != 0 || ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
      spdlog::warn("cannot turn core dumps off ({}): a crash may write the keys to disk", std::strerror(errno));
  }
  // The audit key: derived from the payout key (PAYMENT_PRIVATE_KEY, else the
  // PAYMENT_KEYSTORE_PATH keystore) as the reference does, else a key file of its own.
  Result<chain::PrivateKey> audit_key = Error{"unset"};
  std::optional<chain::PrivateKey> payout_key;
  if (settings.payment_private_key) {
    auto main_key = chain::PrivateKey::from_hex(*settings.payment_private_key);
    if (!main_key) {
      return refuse_setting("PAYMENT_PRIVATE_KEY: " + main_key.error());
    }
    payout_key = *main_key;
  } else if (settings.payment_keystore_path) {
    // Relative to the data directory, as every relative path of the reference's.
    std::filesystem::path keystore = *settings.payment_keystore_path;
    if (keystore.is_relative()) keystore = std::filesystem::path(settings.data_dir) / keystore;
    const auto json = chain::read_keystore_file(keystore.string());
    auto decrypted = json ? chain::decrypt_keystore(*json, settings.payment_keystore_password.value_or(""))
                          : Result<chain::PrivateKey>(Error{"cannot read the file: " + json.error()});
    // A keystore that does not load stops start-up, as a bad PAYMENT_PRIVATE_KEY does (the
    // reference went on without a payout key). Going on would also change the audit key,
    // which is derived from the payout key, and every verifier would refuse the new
    // checkpoints.
    if (!decrypted) {
      return refuse_setting("PAYMENT_KEYSTORE_PATH " + keystore.string() + ": " + decrypted.error() +
                            (settings.payment_keystore_password || !json ? "" : " (PAYMENT_KEYSTORE_PASSWORD is not set or empty)"));
    }
    payout_key = *decrypted;
  }
  std::optional<std::string> signer_address;
  if (payout_key) {
    audit_key = chain::audit::derive_audit_key(*payout_key);
    signer_address = chain::to_checksummed(payout_key->address());
    spdlog::info("payout key {}; the audit key is derived from it", *signer_address);
    // Nothing signs with it later: it and the texts it came from are wiped now, not kept for
    // the node's life.
    payout_key.reset();
  }
  // `loaded` was moved from: its short texts still hold all but their first byte.
  for (auto* secret : {&settings.payment_private_key, &settings.payment_keystore_password, &loaded->payment_private_key,
                       &loaded->payment_keystore_password})
    if (*secret) {
      wipe_text(**secret);
      secret->reset();
    }
  if (!audit_key) {
    // A relative PAYMENTS_AUDIT_KEY_PATH is under the data directory (as every relative path
    // of the reference's), not wherever the node was started from.
    std::filesystem::path key_file = settings.audit_key_path.value_or("audit.key");
    if (key_file.is_relative()) key_file = std::filesystem::path(settings.data_dir) / key_file;
    const std::string key_path = key_file.string();
    // A key is made only for a log that has none signed yet: a missing key file beside signed
    // checkpoints is a key lost (a backup restored without it, a changed path), and signing
    // on with a new one would change the node's identity unasked. A new key is made on purpose.
    std::error_code missing_ec;
    std::error_code size_ec;
    const auto checkpoints_size =
        std::filesystem::file_size(std::filesystem::path(settings.data_dir) / "checkpoints.jsonl", size_ec);
    if (!std::filesystem::exists(key_file, missing_ec) && !missing_ec && !size_ec && checkpoints_size > 0) {
      return refuse_start(
          "the audit key {} is missing, but this data directory holds checkpoints signed with an audit key "
          "(checkpoints.jsonl): restore the key file from the backup it was kept with. To sign from now on with a new key "
          "instead (verifiers that know the old key will refuse the new checkpoints until told), create it first: "
          "lpops keygen --key-file {}",
          key_path, key_path);
    }
    bool created = false;
    audit_key = load_or_create_key(key_path, &created);
    if (!audit_key) {
      return refuse_setting("PAYMENTS_AUDIT_KEY_PATH (the audit key): " + audit_key.error());  // the file it names is unusable
    }
    if (created) {
      // Taken back on a refused start only inside the data directory, which this node holds;
      // a key file elsewhere might be shared.
      std::error_code same_ec;
      if (std::filesystem::equivalent(std::filesystem::absolute(key_file).parent_path(), settings.data_dir, same_ec))
        made_by_start(key_file);
      spdlog::info("audit key created in {}", key_path);
    }
    // Whoever reads the key can sign checkpoints as this node.
    if (struct stat key_stat {}; ::stat(key_path.c_str(), &key_stat) == 0 && (key_stat.st_mode & 077) != 0)
      spdlog::warn("the audit key {} can be read by other users (mode {:04o}); `chmod 600 {}` keeps it to the node's own",
                   key_path, key_stat.st_mode & 07777, key_path);
  }

  // Listening starts before recovery, which takes seconds on a large journal: meanwhile
  // /healthz answers 200 (alive), /readyz 503 "starting", /metrics the metrics, and every
  // other route 503 with Retry-After, instead of refused connections. A port already taken
  // stops start-up now, not after recovery.
  auto metrics = std::make_shared<actors::Metrics>();
  // Orchestrator actors start with the first registration; their series are there (at 0) before.
  metrics->actor("orchestrator");
  auto ctx = std::make_shared<net::ApiContext>();
  ctx->settings = settings;
  ctx->metrics = metrics;
  if (signer_address) ctx->signer_address = *signer_address;
  ctx->storage_description = store->describe_public();  // /readyz is public: no path
  net::ServerOptions server_options;
  server_options.host = settings.api_host;
  server_options.port = static_cast<std::uint16_t>(settings.api_port);
  server_options.io_threads = static_cast<unsigned>(settings.http_threads);
  server_options.max_body_bytes = static_cast<std::size_t>(settings.max_body_bytes);
  server_options.read_timeout_seconds = static_cast<unsigned>(settings.http_timeout_seconds);
  server_options.max_buffered_body_bytes = settings.max_buffered_body_bytes;
  server_options.max_sending_body_bytes = settings.max_sending_body_bytes;
  server_options.max_connections = connection_cap(server_options.max_connections);
  server_options.max_connections_per_client = static_cast<std::size_t>(settings.max_connections_per_client);
  // A trusted proxy's connections carry many clients; the manager allowlist is the operators'.
  server_options.shared_peer = [proxies = settings.trusted_proxy_cidrs](const std::string& ip) {
    return config::any_contains(proxies, ip);
  };
  server_options.operator_peer = [allowed = settings.manager_ip_allowlist](const std::string& ip) {
    return config::any_contains(allowed, ip);
  };
  server_options.on_refused = [metrics](int status) { metrics->count_http("unrouted", status); };
  server_options.screen = net::make_api_screen(ctx);
  auto server = std::make_unique<net::HttpServer>(server_options, net::make_api_handler(ctx));
  ctx->connection_counts = [raw = server.get()] { return std::pair{raw->open_connections(), raw->in_flight()}; };
  // The server keeps its own copy: this one would hold the API context (and through it the
  // actors) past the server's end, and the actor system waits for them at exit.
  server_options.screen = nullptr;
  std::uint16_t port;
  try {
    port = server->start();
  } catch (const std::exception& e) {
    stop_starting(std::string(e.what()) + " (stop what listens there, or choose another address with PAYMENTS_API_HOST / --host "
                                          "and PAYMENTS_API_PORT / --port)");
  }
  // An IPv6 address is bracketed in a URL (RFC 3986).
  const std::string url_host = settings.api_host.find(':') != std::string::npos ? "[" + settings.api_host + "]" : settings.api_host;
  spdlog::info("listening on http://{}:{}; answering 503 until the ledger is recovered", url_host, port);
  RecoveryStopWatch stop_watch;

  // Recover: snapshot, then the journal tail, through the same apply() as live traffic.
  const auto recovery_start = std::chrono::steady_clock::now();
  BookOptions book_options{settings.credit_unit, settings.test_run_id};
  auto book = std::make_shared<Book>(book_options);
  auto recover = [&] {
    return store->recover(
        [&](const storage::SnapshotBook& snapshot, std::uint64_t seq) -> std::optional<std::string> {
          auto restored = Book::from_snapshot(snapshot.book, book_options, snapshot.workloads);
          if (!restored) return restored.error();
          if (restored->last_seq() != seq) return std::string("snapshot seq does not match its book");
          *book = std::move(restored).value();
          return std::nullopt;
        },
        [&](const storage::ParsedRecord& r) { return book->apply(r.effect, r.seq); });
  };
  {
    // Not there at all (a symlink, even to nothing, is the operator's): recovery creates it, empty.
    const auto journal = std::filesystem::path(settings.data_dir) / "journal.jsonl";
    std::error_code ec;
    if (std::filesystem::symlink_status(journal, ec).type() == std::filesystem::file_type::not_found)
      made_by_start(journal);
  }
  auto report = recover();
  if (!report && store->snapshot_used() && store->record_failed_to_apply()) {
    // A record that does not apply on top of the snapshot may be the snapshot's fault: the
    // journal is the record, so it is replayed from the start; only if that fails too is
    // the journal at fault.
    spdlog::warn("recovery on top of snapshot.json failed, which may be the snapshot's fault: replaying the whole journal "
                 "instead, and start-up stops only if that fails too. What failed: {}",
                 report.error());
    store->replay_whole_journal_next();  // the same store: the directory stays locked throughout
    *book = Book(book_options);
    report = recover();
  }
  if (!report) {
    return refuse_start("cannot recover {}: {}", settings.data_dir, report.error());
  }
  // The data directory is this node's now (recovery took its lock): a port file an earlier run
  // left (killed, or stopped by a failure) names a port nothing serves on; removed, so that
  // whoever waits for the file waits for this start to be ready.
  if (o.port_file) {
    std::error_code stale_ec;
    std::filesystem::remove(*o.port_file, stale_ec);
  }
  for (const auto& w : report->warnings) spdlog::warn("recovery: {}", w);
  if (report->rewritten_bytes)
    spdlog::warn("recovery: a write or flush of the journal failed in the run before ({}): the {} bytes written after its "
                 "last good flush were written again and flushed before they were read; records among them that did not "
                 "reach the disk whole were never acknowledged, and are cut below as a torn tail",
                 storage::kJournalSyncFailedMark, report->rewritten_bytes);
  if (report->unclean_stop)
    spdlog::warn("recovery: the previous run did not stop cleanly (killed, crashed or the machine lost power): its journal "
                 "ended in the zeroed blocks written ahead of records; every whole record is kept{}",
                 report->cut_bytes ? ", and a damaged tail is cut (below)" : std::string(""));
  if (report->cut_bytes)
    spdlog::warn("recovery: cut {} bytes from the journal tail ({}), copied to {}; a record cut here that changed a "
                 "balance was never acknowledged unless the audit log describes it (checked next); one that changed no "
                 "balance (a registration, a health push) may have been: if so, send it again (registrations and health "
                 "pushes are safe to repeat; docs/operations.md)",
                 report->cut_bytes, report->cut_reason, report->cut_saved_to);
  spdlog::info("recovered {} (snapshot at seq {}, {} replayed) from {} in {:.0f} ms", counted(report->last_seq, "record", "records"),
               report->snapshot_seq, report->replayed_records, store->describe(),
               std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - recovery_start).count());
  // The reference's own files in the same directory (a deployment switched over on its data
  // volume): their balances and records are not this ledger's, and nothing reads them.
  {
    std::string found;
    for (const char* name : {"balances.json", "registry.json", "workloads.json", "payouts.json"}) {
      std::error_code ec;
      if (std::filesystem::exists(std::filesystem::path(settings.data_dir) / name, ec))
        found += (found.empty() ? "" : ", ") + std::string(name);
    }
    if (!found.empty())
      spdlog::warn("{} holds livepeer-ops files ({}): lpops keeps its own journal and does not read them, so the "
                   "balances and orchestrators they hold are not in this ledger ({} records) until `lpops import --from "
                   "<that directory> --url <this node>` brings them over",
                   settings.data_dir, found, report->last_seq);
  }
  if (!settings.journal_fsync) spdlog::warn("PAYMENTS_JOURNAL_FSYNC is off: acknowledged writes can be lost on a crash");
  for (const auto& w : settings.warnings) spdlog::warn("{}", w);
  if (!settings.unused.empty()) {
    std::string names;
    for (const auto& n : settings.unused) names += (names.empty() ? "" : ", ") + n;
    spdlog::warn("settings that nothing reads (misspelt, or the reference's that do not apply here, such as its file "
                 "paths: every durable fact is in PAYMENTS_DATA_DIR; docs/configuration.md lists the settings): {}",
                 names);
  }
  if (settings.session_reporter_token)
    spdlog::warn("PAYMENTS_SESSION_REPORTER_TOKEN is set, but this version serves no session routes "
                 "(/api/sessions/...): the token guards nothing yet");
  if (!settings.admin_token)
    spdlog::warn("PAYMENTS_API_ADMIN_TOKEN is unset: the admin routes (workloads, adjustments, health pushes) are open to "
                 "anyone who reaches the port, as in the reference; the payout routes that move money answer 404 until it is set");
  // The records behind the snapshot were not replayed: they are re-read and checked in the
  // background (listings and proofs read them), and damage stops the node as it would at
  // start without the snapshot.
  BackgroundCheck journal_check(
      report->snapshot_seq,
      [store, up_to = report->snapshot_seq](const std::atomic<bool>& stop) { return store->check_prefix(up_to, stop); },
      "journal check", "restore the journal; the snapshot alone is not the record",
      "journal: the " + counted(report->snapshot_seq, "record", "records") + " behind the snapshot re-checked",
      settings.data_dir + "/journal-check.failed");

  std::vector<boost::json::object> records;
  for (const auto& id : book->orchestrator_order()) records.push_back(*book->orchestrator_record(id));

  // The chain runtime (one I/O thread for JSON-RPC, used by the rank check and the credential
  // check) outlives the actor system: actors hold its clients, which must go before it does.
  ChainRuntime chain;
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", static_cast<std::size_t>(settings.actor_threads));
  // Work sharing parks idle workers on a condition variable; work stealing would spin
  // them, which on a small machine takes CPU from the I/O threads.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};

  // The transparency log: open, verify, and regenerate whatever the journal has beyond it.
  storage::AuditRecovery audit_report;
  // The audit log's files a fresh start creates are taken back with the rest if it is refused.
  for (const char* name : {"audit.jsonl", "audit.index", "audit.orchestrators", "checkpoints.jsonl"}) {
    const auto file = std::filesystem::path(settings.data_dir) / name;
    std::error_code ec;
    if (std::filesystem::symlink_status(file, ec).type() == std::filesystem::file_type::not_found) made_by_start(file);
  }
  auto audit_open = storage::AuditLog::open(settings.data_dir, settings.journal_fsync, &audit_report);
  if (!audit_open) {
    return refuse_start("cannot open the audit log: {}", audit_open.error());
  }
  std::shared_ptr<storage::AuditLog> audit = std::move(audit_open).value();
  if (audit_report.rewritten_bytes)
    spdlog::warn("audit log: a flush failed in the run before ({}): the {} bytes written after its last good flush were "
                 "written again and flushed; they are checked against the journal below",
                 storage::kAuditSyncFailedMark, audit_report.rewritten_bytes);
  if (audit_report.cut_bytes)
    spdlog::warn("audit log: cut {} bytes from its tail ({}); regenerated from the journal below", audit_report.cut_bytes,
                 audit_report.cut_reason);
  if (!audit_report.index_note.empty()) spdlog::warn("audit log: {}", audit_report.index_note);
  // The entries taken from audit.index are re-read and checked in the background; a
  // mismatch means the files were altered on disk, and the node stops as it would at start.
  BackgroundCheck audit_check(
      audit_report.from_index,
      [audit, entries = audit_report.from_index](const std::atomic<bool>& stop) { return audit->check_stored(entries, stop); },
      "audit log check", "move the damaged files aside to rebuild the log from the journal",
      "audit log: the " + counted(audit_report.from_index, "entry", "entries") + " loaded from audit.index re-checked",
      settings.data_dir + "/audit-check.failed");
  actors::CheckpointOptions checkpoint_options;
  checkpoint_options.every_entries = static_cast<std::uint64_t>(settings.audit_checkpoint_every_entries);
  checkpoint_options.chain_id = static_cast<std::uint64_t>(settings.checkpoint_chain_id.value_or(settings.eth_chain_id));
  checkpoint_options.fsync = settings.journal_fsync;
  if (settings.checkpoint_contract_address)
    checkpoint_options.contract = chain::parse_address(*settings.checkpoint_contract_address).value();
  if (settings.audit_sign_entries) {
    audit->sign_entries_with(*audit_key);
    spdlog::info("audit log: every entry is also signed by the audit key (PAYMENTS_AUDIT_SIGN_ENTRIES)");
  }
  actors::AddressBook addresses;
  for (const auto& id : book->orchestrator_order())
    if (const auto* a = book->orchestrator_record(id)->if_contains("address"); a && a->is_string())
      addresses[id] = actors::address_book_entry(a->as_string());
  // The audit log is derived from the journal and written only after its records are durable:
  // entries for records the journal no longer has mean the journal lost acknowledged records
  // (a deleted, replaced or shortened file). Serving on would reset those balances and let
  // their event ids be credited again.
  if (const std::uint64_t described = audit->status().last_journal_seq; described > report->last_seq) {
    // Tails cut at this start or an earlier one hold the bytes of those records, if the disk
    // damaged them rather than something removing them.
    std::string cut_files;
    std::error_code ec;
    for (const auto& f : std::filesystem::directory_iterator(settings.data_dir, ec))
      if (const std::string name = f.path().filename().string(); name.starts_with("journal.jsonl.cut-"))
        cut_files += (cut_files.empty() ? "" : ", ") + name;
    return refuse_start("the journal ends at record {} but the audit log describes records up to {}: journal records were lost "
                        "after they were durable (acknowledged); restore journal.jsonl from a backup{}; only if those "
                        "records are known never to have been acknowledged, move audit.jsonl, audit.index, audit.orchestrators and checkpoints.jsonl aside (keep "
                        "audit.key: it is the node's signing identity), which starts a new transparency log",
                        report->last_seq, described,
                        cut_files.empty() ? ""
                                          : " (bytes cut from the journal's damaged tail are kept in " + cut_files +
                                                " in the data directory, for inspection)");
  }
  // The newest entry the log holds must describe the journal record it names, whatever
  // checkpoint covers it: a journal copied from another data directory (or restored from
  // another backup) is refused here, before the catch-up below appends a single entry built
  // from it. The entries past the newest checkpoint are compared further down.
  if (audit_report.entries > 0) {
    if (auto err = actors::check_audit_against_journal(*audit, addresses, *store, audit_report.entries,
                                                       audit_report.entries, report->last_seq)) {
      return refuse_start("{}", *err);
    }
  }
  // With PAYMENTS_AUDIT_SIGN_ENTRIES the catch-up signs each entry with the key: from here on
  // what start-up made is the node's. (Otherwise the key first signs the start-up checkpoint.)
  if (settings.audit_sign_entries) keep_what_start_made();
  {
    static constexpr char kCatchUpFailed[] =
        "audit log in {}: its entries for the journal's last records cannot be written ({}); if the disk is full, free "
        "space and start again: they are rebuilt from the journal, and nothing acknowledged is lost";
    std::vector<std::string> lines;
    const std::uint64_t from = audit->status().last_journal_seq + 1;
    for (std::uint64_t seq = from; seq <= report->last_seq; ++seq) {
      auto effect = actors::read_journal_effect(*store, seq);
      if (!effect) {
        return refuse_start("audit log catch-up: {}", effect.error());
      }
      if (auto l = actors::audit_line_for(*audit, addresses, *effect, seq)) lines.push_back(std::move(*l));
      if (lines.size() >= 10000) {
        if (auto err = audit->write(lines)) return refuse_start(kCatchUpFailed, settings.data_dir, *err);
        lines.clear();
      }
    }
    if (auto err = audit->write(lines)) return refuse_start(kCatchUpFailed, settings.data_dir, *err);
    if (auto err = audit->sync()) return refuse_start(kCatchUpFailed, settings.data_dir, *err);
    const auto st = audit->status();
    spdlog::info("audit log: {} ({} from audit.index, {} regenerated from the journal), root {}", counted(st.seq, "entry", "entries"),
                 audit_report.from_index, st.seq - audit_report.entries, chain::to_hex(st.root));
  }
  auto checkpoints_open = actors::CheckpointBook::open(settings.data_dir, *audit_key, checkpoint_options, *audit);
  if (!checkpoints_open) {
    // A damaged line says what is wrong; what to do is the same for each.
    const std::string& why = checkpoints_open.error();
    const bool advised = why.find("restore") != std::string::npos;
    return refuse_start("checkpoints: {}{}", why,
                        advised ? ""
                                : ". Restore checkpoints.jsonl from a backup; failing that, move it aside (keep it: verifiers "
                                  "may hold its checkpoints) and the node signs a checkpoint of the whole log at start");
  }
  std::shared_ptr<actors::CheckpointBook> checkpoints = std::move(checkpoints_open).value();
  // A checkpoint is signed every so many entries: a log far past the newest one lost its
  // checkpoints (checkpoints.jsonl removed, emptied or cut), or was rebuilt without them.
  if (const std::uint64_t entries = audit->status().seq, signed_size = checkpoints->signed_size(),
      every = static_cast<std::uint64_t>(settings.audit_checkpoint_every_entries);
      entries >= signed_size + 2 * every)
    spdlog::warn("checkpoints.jsonl: the newest checkpoint covers {} of the log's {} entries, though one is signed every {} "
                 "entries: signed checkpoints are missing (the file was removed, emptied or cut), and verifiers who kept "
                 "one can still check the log against it; the log's current size is signed next",
                 signed_size, entries, every);
  // The entries no signed checkpoint covers yet, compared with the journal before the next
  // checkpoint can sign them (those just regenerated from it need no comparison).
  if (const std::uint64_t first = checkpoints->signed_size() + 1; first <= audit_report.entries) {
    const auto compare_start = std::chrono::steady_clock::now();
    if (auto err = actors::check_audit_against_journal(*audit, addresses, *store, first, audit_report.entries,
                                                       report->last_seq)) {
      return refuse_start("{}", *err);
    }
    spdlog::info("audit log: entries {} to {} (past the newest signed checkpoint) match the journal; compared in {:.1f} s",
                 first, audit_report.entries,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - compare_start).count());
  }
  {
    const auto compare_start = std::chrono::steady_clock::now();
    if (auto err = actors::check_balances_against_audit(*audit, *book)) {
      return refuse_start("{}", *err);
    }
    const std::uint64_t balances = book->id_count();
    spdlog::info("audit log: the {} recovered {} {} newest audit entr{}; compared in {:.2f} s",
                 counted(balances, "balance", "balances"), balances == 1 ? "matches" : "match", balances == 1 ? "its" : "their",
                 balances == 1 ? "y" : "ies", std::chrono::duration<double>(std::chrono::steady_clock::now() - compare_start).count());
  }
  // The key signs from here on: what start-up made is the node's.
  keep_what_start_made();
  // Entries the last run added after its newest checkpoint (a crash before the next one; the
  // catch-up above), now compared with the journal, are vouched for at once.
  if (const std::uint64_t entries = audit->status().seq; checkpoints->signed_size() < entries) {
    if (auto failed = checkpoints->after_flush(*audit, true)) metrics->storage_errors(std::string(*failed)).Increment();
    else spdlog::info("checkpoint signed at start-up: it covers the log's {}", counted(entries, "entry", "entries"));
  }
  spdlog::info("audit address {}; a signed checkpoint every {} entries or {} s (chain id {}, contract {})",
               chain::to_checksummed(checkpoints->audit_address()), settings.audit_checkpoint_every_entries,
               settings.audit_checkpoint_interval_seconds, checkpoint_options.chain_id,
               chain::to_checksummed(checkpoint_options.contract));

  stop_watch.end();  // from here a signal is taken by the steps below and the drain
  auto snapshotter = sys.spawn<caf::detached>(actors::snapshotter_actor, std::make_shared<Book>(*book), store, metrics,
                                              static_cast<std::uint64_t>(settings.snapshot_every_records),
                                              report->last_seq - report->snapshot_seq);
  actors::AuditorOptions auditor_options;
  auditor_options.checkpoint_interval = std::chrono::seconds(settings.audit_checkpoint_interval_seconds);
  auto auditor = sys.spawn<caf::detached>(actors::auditor_actor, audit, checkpoints, auditor_options, metrics);
  actors::JournalOptions journal_options;
  journal_options.max_batch_records = static_cast<std::size_t>(settings.journal_max_batch_records);
  journal_options.audit_notify_entries = checkpoint_options.every_entries;
  journal_options.snapshot_feed_records =
      static_cast<std::size_t>(std::min<long>(256, settings.snapshot_every_records));
  // The ledger frames its own journal records (one thread hand-over less per command).
  actors::JournalSetup journal{store, metrics, report->last_seq, report->last_hash, snapshotter, audit, auditor,
                               std::move(addresses), journal_options};
  auto ledger = sys.spawn<caf::detached>(actors::ledger_actor, book, std::move(journal), metrics,
                                         actors::LedgerOptions{settings.workload_time_rate});
  book.reset();
  // The crediting policy goes into the transparency log (once per distinct policy), first.
  {
    boost::json::object policy{{"schema", "payments-backend:policy:v1"},
                               {"chain_id", settings.eth_chain_id},
                               {"payout_strategy", settings.payout_strategy},
                               {"credit_unit", settings.credit_unit},
                               {"workload_time_credit_eth_per_minute", settings.workload_time_rate.text()},
                               {"session_credit_eth_per_minute", settings.session_rate.text()},
                               {"power_credit_eth_per_minute", settings.power_rate.text()}};
    const std::string hash = chain::to_hex(chain::keccak256(canonical_json(policy)));
    // Serving starts once it is durable, so the log a client first sees already holds it.
    auto recorded = std::make_shared<std::promise<void>>();
    auto done = recorded->get_future();
    caf::anon_send(ledger, actors::RecordPolicy{hash, policy, [hash, recorded](int status, std::string body) {
                                                  if (status != 200) spdlog::error("policy {} not recorded: {}", hash, body);
                                                  else if (body.find("true") != std::string::npos)
                                                    spdlog::info("policy {} recorded in the transparency log", hash);
                                                  recorded->set_value();
                                                }});
    if (done.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
      spdlog::warn("policy {} not yet durable after 30 s; serving anyway", hash);
    // ... and signed: `audit/checkpoint` answers 200 from the moment the node reports ready
    // (the auditor signs the first checkpoint as soon as the log has an entry).
    for (int i = 0; i < 1000 && checkpoints->signed_size() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (checkpoints->signed_size() == 0) spdlog::warn("no checkpoint signed 5 s after the first entry; serving anyway");
  }
  actors::RegistryOptions registry_options;
  registry_options.address_denylist = {settings.address_denylist.begin(), settings.address_denylist.end()};
  registry_options.registrations_per_minute = static_cast<std::size_t>(settings.registration_per_minute);
  registry_options.registration_burst = static_cast<std::size_t>(settings.registration_burst);
  registry_options.health_ttl_seconds = settings.forwarder_health_ttl_seconds;
  registry_options.bootstrap_skips_rank_check = settings.bootstrap_skip_rank_validation;
  auto count_rpc = [metrics](const std::string& method, const chain::RpcError* error) {
    metrics->count_chain_rpc(method, chain::outcome_label(error));
  };
  caf::actor rank;
  if (settings.rank_check_enabled()) {
    // The reference's sources, in its order: the BondingManager's pool when configured, then
    // the subgraph and the explorer APIs; the rank actor falls back to a stale cache after.
    chain::RpcOptions rpc_options;
    rpc_options.on_outcome = count_rpc;
    std::shared_ptr<chain::EthRpc> eth;
    std::optional<chain::Address> manager;
    if (settings.top_contract_address) {
      auto rpc = chain.rpc(settings.eth_rpc_url, rpc_options);
      if (!rpc) stop_starting("ETH_RPC_URL: " + rpc.error());
      eth = *rpc;
      manager = chain::parse_address(*settings.top_contract_address).value();
    }
    // As the reference: 10 s per request, no retry (a registration waits for the sources).
    chain::RpcOptions web_options;
    web_options.timeout = std::chrono::seconds(10);
    web_options.max_attempts = 1;
    auto sources = std::make_shared<chain::rank::Sources>();
    if (settings.rank_subgraph_url) {
      auto client = chain.http(*settings.rank_subgraph_url, web_options);
      if (!client) stop_starting("PAYMENTS_RANK_SUBGRAPH_URL: " + client.error());
      sources->subgraph = *client;
    }
    for (const auto& url : settings.rank_explorer_urls) {
      auto client = chain.http(url, web_options);
      if (!client) stop_starting("PAYMENTS_RANK_EXPLORER_URLS: " + client.error());
      sources->explorers.push_back(*client);
    }
    actors::RankOptions rank_options;
    rank_options.cache_ttl_seconds = settings.top_cache_ttl_seconds;
    rank_options.fetch = [&chain, eth, manager, sources](std::function<void(actors::PoolFetched)> answer) {
      // Answered once: by the task, or for it when it fails (the rank actor waits for it).
      auto done = once(std::move(answer));
      chain.spawn([eth, manager, sources, done]() -> boost::asio::awaitable<void> {
        actors::PoolFetched result;
        std::string errors;
        if (eth) {
          auto pool = co_await chain::fetch_transcoder_pool(*eth, *manager, 100);
          if (pool.ok() && !pool->empty()) {
            result.ok = true;
            for (const auto& a : *pool) result.addresses.push_back(chain::to_lower_hex(a));
            done(std::move(result));
            co_return;
          }
          errors = pool.ok() ? "the BondingManager's transcoder pool is empty" : "BondingManager: " + pool.error->describe();
          if (sources->subgraph || !sources->explorers.empty())
            spdlog::warn("rank check: {}; asking the subgraph and the explorer APIs", errors);
        }
        if (sources->subgraph || !sources->explorers.empty()) {
          auto fetched = co_await chain::rank::fetch(*sources, 100);
          for (const auto& a : fetched.addresses) result.addresses.push_back(chain::to_lower_hex(a));
          if (!fetched.errors.empty()) errors += (errors.empty() ? "" : "; ") + fetched.errors;
        }
        result.ok = !result.addresses.empty();
        result.error = errors.empty() ? "no source named an address" : errors;
        done(std::move(result));
      }, [done](std::string why) {
        actors::PoolFetched failed;
        failed.error = "the fetch failed: " + why;
        done(std::move(failed));
      });
    };
    rank = sys.spawn(actors::rank_actor, metrics, std::move(rank_options));
  }
  spdlog::info("rank check {}", config::describe_rank_check(settings));
  caf::actor credential;
  if (settings.credential_contract_address) {
    chain::RpcOptions rpc_options;
    rpc_options.timeout = std::chrono::seconds(settings.credential_rpc_timeout_seconds);
    rpc_options.max_attempts = 2;  // a client is waiting
    rpc_options.on_outcome = count_rpc;
    auto rpc = chain.rpc(settings.eth_rpc_url, rpc_options);
    if (!rpc) stop_starting("ETH_RPC_URL: " + rpc.error());
    const auto contract = chain::parse_address(*settings.credential_contract_address).value();
    actors::CredentialOptions credential_options;
    credential_options.contract_address =
        settings.credential_contract_address_as_given.value_or(*settings.credential_contract_address);
    credential_options.nonce_ttl_seconds = std::max(30L, settings.credential_nonce_ttl_seconds);
    credential_options.window_seconds = settings.credential_nonce_ttl_seconds;
    credential_options.token_ttl_seconds = settings.credential_token_ttl_seconds;
    credential_options.max_nonces = static_cast<std::size_t>(settings.credential_max_nonces);
    credential_options.tokens_per_orchestrator = static_cast<std::size_t>(settings.credential_tokens_per_orchestrator);
    credential_options.check = [&chain, eth = *rpc, contract](chain::Address owner, chain::Address delegate,
                                                              std::function<void(chain::credential::Check)> answer) {
      auto done = once(std::move(answer));  // the token request waits for it
      chain.spawn([eth, contract, owner, delegate, done]() -> boost::asio::awaitable<void> {
        done(co_await chain::credential::check_on_chain(*eth, contract, owner, delegate));
      }, [done](std::string why) { done(chain::credential::Check{chain::credential::OnChain::unavailable, why}); });
    };
    credential = sys.spawn(actors::credential_actor, ledger, metrics, std::move(credential_options));
    spdlog::info("orchestrator credentials: contract {} via {}; nonces live {} s, expires_at at most {} s ahead, tokens {} s",
                 *settings.credential_contract_address, (*rpc)->client().redacted_url(),
                 std::max(30L, settings.credential_nonce_ttl_seconds), settings.credential_nonce_ttl_seconds,
                 settings.credential_token_ttl_seconds);
  } else {
    spdlog::info("orchestrator credentials disabled: PAYMENTS_ORCHESTRATOR_CREDENTIAL_CONTRACT_ADDRESS is unset");
  }
  if (auto err = actors::flag_denylisted_at_start(records, registry_options.address_denylist, ledger))
    actors::stop_process(*err);  // the ledger is running: no orderly return from here
  auto registry = sys.spawn(actors::registry_actor, std::move(records), ledger, metrics, registry_options, rank);
  auto reader = sys.spawn<caf::detached>(actors::reader_actor, store, metrics);

  run_bootstrap(std::move(bootstrap), registry);

  // Published to the HTTP threads by the store to `ready` below (they read none of these
  // before they see it).
  ctx->ledger = ledger;
  ctx->registry = registry;
  ctx->reader = reader;
  ctx->credential = credential;
  ctx->audit = audit;
  ctx->checkpoints = checkpoints;

  // A stop signal that came during start-up (it waits, blocked, until sigwait below): the
  // node never reports ready, and drains and stops at once.
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  if (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT) || sigismember(&pending, SIGHUP)) {
    spdlog::info("a stop signal arrived during start-up: not reporting ready");
  } else {
    // Ready first, then the port file: whoever waits for the file may call at once.
    // The journal's mode is known once recovery opened it (read only after `ready`).
    ctx->recovered_storage_description = store->describe_public();
    ctx->ready = true;
    if (o.port_file) {
      std::error_code ec;
      {
        std::ofstream out(*o.port_file + ".tmp");
        out << port << "\n";
        out.close();
        if (!out) stop_starting("--port-file " + *o.port_file + ": cannot write " + *o.port_file + ".tmp: " + std::strerror(errno));
      }
      std::filesystem::rename(*o.port_file + ".tmp", *o.port_file, ec);
      if (ec) stop_starting("--port-file " + *o.port_file + ": " + ec.message());
    }
    spdlog::info("lpops serving on http://{}:{} ({} HTTP threads, {} actor threads)", url_host, port,
                 settings.http_threads, settings.actor_threads);
  }

  int sig = 0;
  sigwait(&signals, &sig);
  ctx->draining = true;  // /readyz: 503 "draining"
  // A second stop signal ends the grace period and the drain at once: what was acknowledged is
  // durable already, and a request cut short was not acknowledged (if its change was committed,
  // a retry finds it).
  // Waits up to `wait` for it (none: looks only); true once it came.
  bool signalled_again = false;
  auto second_signal = [&signals, &signalled_again](timespec wait = {0, 0}) {
    if (signalled_again) return true;
    const int again = ::sigtimedwait(&signals, nullptr, &wait);
    if (again <= 0) return false;
    spdlog::warn("received {} again: stopping without waiting for the requests in flight", signal_name(again));
    signalled_again = true;
    return true;
  };
  // A node never reported ready (a stop during start-up) has nobody to warn: no grace.
  const bool grace = settings.shutdown_grace_seconds > 0 && ctx->ready.load();
  if (grace) {
    spdlog::info("received {}: /readyz says draining; still taking requests for {} s (PAYMENTS_SHUTDOWN_GRACE_SECONDS)",
                 signal_name(sig), settings.shutdown_grace_seconds);
    const auto grace_end = std::chrono::steady_clock::now() + std::chrono::seconds(settings.shutdown_grace_seconds);
    for (auto left = grace_end - std::chrono::steady_clock::now(); left.count() > 0;
         left = grace_end - std::chrono::steady_clock::now()) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      if (second_signal(timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)})) break;
    }
  }
  spdlog::info("{}: draining (up to {} s)", grace ? "grace period over" : "received " + std::string(signal_name(sig)),
               settings.shutdown_drain_seconds);
  if (const std::size_t abandoned = server->shutdown(std::chrono::seconds(settings.shutdown_drain_seconds), second_signal))
    spdlog::warn("{} request(s) still in flight were closed unanswered (a change of theirs that was committed is durable; "
                 "a retry finds it)", abandoned);
  wait_until_durable(sys, ledger);
  // Every entry is in the log now: the auditor signs a checkpoint of the last ones before the
  // actors stop, so the last line below can say what the files are vouched for to.
  {
    caf::scoped_actor self{sys};
    self->request(auditor, caf::infinite, actors::final_checkpoint_atom::value)
        .receive([](std::uint64_t) {},
                 [](caf::error& err) { spdlog::warn("the checkpoint at stop was not signed: {}", caf::to_string(err)); });
  }
  // The server's handler holds the context and with it the actor handles: both go before
  // the actors are stopped and the actor system waits for them.
  server.reset();
  ctx.reset();
  for (const auto& a : {registry, ledger, reader, snapshotter, auditor}) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  if (rank) caf::anon_send_exit(rank, caf::exit_reason::user_shutdown);
  if (credential) caf::anon_send_exit(credential, caf::exit_reason::user_shutdown);
  chain.stop();
  if (o.port_file) {
    std::error_code removed;
    std::filesystem::remove(*o.port_file, removed);  // nothing serves on that port any more
  }
  // The actors' own last steps (the auditor syncs the log and signs a checkpoint of its last
  // entries) are done before the last line says where the files end.
  sys.await_all_actors_done();
  // Where the journal ends, for the next start: damage before that point is then known not to
  // be a write torn by a crash.
  if (auto err = store->mark_clean_stop()) {
    // The journal's last flush failed: with PAYMENTS_JOURNAL_FSYNC=false records answered 200
    // may not be on the disk. Not a clean stop (status 70, as a failed flush while serving).
    if (store->flush_failed()) {
      spdlog::critical("journal: {}; the node did not stop cleanly", *err);
      spdlog::default_logger()->flush();
      return 70;
    }
    spdlog::warn("clean-stop.json not written ({}): the next start checks the journal's tail as after a crash", *err);
  }
  const auto audit_end = audit->status();
  spdlog::info("stopped cleanly: journal durable to record {}; audit log {} entries, {} of them under a signed checkpoint",
               store->durable_seq(), audit_end.seq, checkpoints->signed_size());
  spdlog::default_logger()->flush();
  return 0;
}

}  // namespace lpops::app
