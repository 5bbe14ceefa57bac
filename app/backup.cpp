// `lpops backup`: a copy of a data directory that starts as a node of its own, taken while its
// node runs or not. The files are copied in the order docs/operations.md gives (checkpoints,
// audit log, snapshot, journal, key), each covered by the ones copied after it, and of the
// files being appended to only whole lines up to the first NUL byte: a line half written, or
// the zeroed blocks the journal writes ahead of its records (a block read just before a group
// commit filled it would otherwise leave zeros between records), stay behind. The copy is then
// read back as lpops replay reads a directory, and refused if anything is missing from it.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "app/node.hpp"
#include "domain/book.hpp"
#include "storage/durable_fs.hpp"
#include "storage/file_store.hpp"
#include "storage/tail_line.hpp"

namespace lpops::app {

namespace {

namespace fs = std::filesystem;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

struct Copied {
  bool present = false;
  std::uint64_t bytes = 0;  // kept in the copy
  std::uint64_t left = 0;   // read but left behind: a line not yet whole
};

// The files a failed backup made, removed when it fails (a directory that looks like a
// backup and is not one would be worse than none), the directories it made for it, and the
// target's own permissions when it was there before.
class Made {
 public:
  explicit Made(std::string dir) : dir_(std::move(dir)) {}
  void file(const std::string& path) { files_.push_back(path); }
  // Directories made for the backup (deepest first), removed after `dir` when empty.
  void outer(std::vector<std::string> dirs) { outer_ = std::move(dirs); }
  // The mode an existing target had, given back.
  void restore_mode(std::string path, mode_t mode) { restore_ = {std::move(path), mode}; }
  void keep() { keep_ = true; }
  ~Made() {
    if (keep_) return;
    std::error_code ec;
    for (const auto& f : files_) fs::remove(f, ec);
    fs::remove(dir_, ec);
    for (const auto& d : outer_) fs::remove(d, ec);
    if (restore_) ::chmod(restore_->first.c_str(), restore_->second);
  }
  Made(const Made&) = delete;
  Made& operator=(const Made&) = delete;

 private:
  std::string dir_;
  std::vector<std::string> outer_;
  std::optional<std::pair<std::string, mode_t>> restore_;
  std::vector<std::string> files_;
  bool keep_ = false;
};

// Copies `name` from `from` into `to` (absent: not present). With `lines`, only whole lines up
// to the first NUL byte. The copy has the source's permission bits (`secret`: 0600, the owner's
// alone, whatever the source's: a key readable by others in the backup signs for the node)
// and is flushed to disk.
// `quiet_source`: no node writes the source, so bytes other than zeros after its first NUL
// are damage (or a torn write), not a commit landing meanwhile: refused.
Result<Copied> copy_one(const std::string& from, const std::string& to, const std::string& name, bool lines, bool secret,
                        bool terminal, bool quiet_source, Made& made, bool& damaged) {
  Copied c;
  const std::string source = from + "/" + name, target = to + "/" + name;
  Fd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) {
    if (errno == ENOENT) return c;
    return Error{storage::errno_text("cannot open " + source)};
  }
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) return Error{storage::errno_text("cannot stat " + source)};
  if (!S_ISREG(st.st_mode)) return Error{source + " is not a regular file"};
  // (A umask can only take bits away from 0600.)
  Fd out(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, secret ? 0600 : st.st_mode & 0777));
  if (out.get() < 0) return Error{storage::errno_text("cannot create " + target)};
  made.file(target);
  std::optional<std::uint64_t> nul_at;  // where the copied lines ended at a NUL, when they did
  std::vector<char> buffer(1 << 20);
  struct Wipe {  // a secret's bytes do not stay in the freed buffer
    std::vector<char>& bytes;
    bool secret;
    ~Wipe() {
      if (secret) OPENSSL_cleanse(bytes.data(), bytes.size());
    }
  } wipe{buffer, secret};
  std::uint64_t written = 0, keep = 0, reported = 0;
  for (bool at_end = false; !at_end;) {
    const ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{storage::errno_text("cannot read " + source)};
    if (n == 0) break;
    std::size_t length = static_cast<std::size_t>(n);
    if (lines) {
      if (const void* nul = std::memchr(buffer.data(), '\0', length)) {
        length = static_cast<std::size_t>(static_cast<const char*>(nul) - buffer.data());
        at_end = true;
        nul_at = written + length;
        // What follows in this piece is looked at below, with the rest of the file.
        if (quiet_source && ::lseek(in.get(), static_cast<off_t>(*nul_at), SEEK_SET) < 0)
          return Error{storage::errno_text("cannot seek in " + source)};
      }
      if (const void* newline = ::memrchr(buffer.data(), '\n', length))
        keep = written + static_cast<std::size_t>(static_cast<const char*>(newline) - buffer.data()) + 1;
    }
    if (!storage::write_all(out.get(), buffer.data(), length)) return Error{storage::errno_text("cannot write " + target)};
    written += length;
    // Progress for a large journal: on a terminal every 256 MiB, in a log every GiB.
    const std::uint64_t step = terminal ? (256ull << 20) : (1ull << 30);
    if (written / step != reported / step) {
      std::fprintf(stderr, terminal ? "\r%s: %llu MiB copied" : "%s: %llu MiB copied\n", name.c_str(),
                   static_cast<unsigned long long>(written >> 20));
      reported = written;
    }
  }
  if (terminal && reported) std::fprintf(stderr, "\n");
  if (nul_at && quiet_source) {
    for (std::uint64_t at = *nul_at;;) {
      const ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error{storage::errno_text("cannot read " + source)};
      if (n == 0) break;
      for (ssize_t i = 0; i < n; ++i)
        if (buffer[static_cast<std::size_t>(i)] != '\0') {
          damaged = true;
          return Error{source + " has data at byte " + std::to_string(at + static_cast<std::uint64_t>(i)) +
                       " after zeros from byte " + std::to_string(*nul_at) +
                       ", and no node is writing it: damage or a torn write, not a commit landing during the copy. "
                       "Run lpops replay on the data directory (or start its node) to see which; nothing was backed up"};
        }
      at += static_cast<std::uint64_t>(n);
    }
  }
  if (!lines) keep = written;
  if (::ftruncate(out.get(), static_cast<off_t>(keep)) != 0) return Error{storage::errno_text("cannot cut " + target)};
  if (::fsync(out.get()) != 0) return Error{storage::errno_text("cannot flush " + target)};
  c.present = true;
  c.bytes = keep;
  c.left = written - keep;
  return c;
}

bool inside(const fs::path& path, const fs::path& dir) {
  auto p = path.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d, ++p)
    if (p == path.end() || *p != *d) return false;
  return true;
}

}  // namespace

int backup(const BackupOptions& o) {
  std::string data_dir;
  std::optional<std::string> key_elsewhere;  // PAYMENTS_AUDIT_KEY_PATH, when it is outside the data directory
  std::optional<std::string> key_in_dir;     // its file name, when it is another file in the data directory
  if (o.data_dir) {
    data_dir = *o.data_dir;
  } else {
    auto settings = load_command_settings(o.env_file, "lpops backup");
    if (!settings) return 2;
    data_dir = settings->data_dir;
    if (settings->audit_key_path) {
      fs::path key = *settings->audit_key_path;
      if (key.is_relative()) key = fs::path(data_dir) / key;
      std::error_code same_ec;
      if (!fs::equivalent(key, fs::path(data_dir) / "audit.key", same_ec)) {
        // Another name in the data directory (a key changed as docs/operations.md says) is
        // copied under it; one outside is named for the operator to keep.
        std::error_code canon_ec;
        const fs::path canon_key = fs::weakly_canonical(fs::absolute(key), canon_ec);
        const fs::path canon_dir = fs::weakly_canonical(fs::absolute(data_dir), canon_ec);
        if (!canon_ec && canon_key.parent_path() == canon_dir && canon_key.has_filename())
          key_in_dir = canon_key.filename().string();
        else
          key_elsewhere = key.string();
      }
    }
  }
  std::error_code ec;
  const fs::path from = fs::weakly_canonical(fs::absolute(data_dir), ec);
  if (ec) {
    std::fprintf(stderr, "lpops backup: the data directory %s: %s\n", data_dir.c_str(), ec.message().c_str());
    return 2;
  }
  const fs::path to = fs::weakly_canonical(fs::absolute(o.to), ec);
  if (ec) {
    std::fprintf(stderr, "lpops backup: --to %s: %s\n", o.to.c_str(), ec.message().c_str());
    return 2;
  }
  if (!fs::is_regular_file(from / "journal.jsonl", ec)) {
    std::fprintf(stderr, "lpops backup: %s holds no journal.jsonl: not a data directory\n", from.c_str());
    return 2;
  }
  if (inside(to, from) || inside(from, to)) {
    std::fprintf(stderr, "lpops backup: --to %s and the data directory %s must not contain each other\n", to.c_str(), from.c_str());
    return 2;
  }
  // A node serving the directory holds its lock: then the files grow while they are copied.
  // Otherwise a shared lock, held to the end, keeps a node from starting (and cutting a tail)
  // meanwhile, as lpops replay does.
  Fd source_lock(::open(from.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (source_lock.get() < 0) {
    std::fprintf(stderr, "lpops backup: %s\n", storage::errno_text("cannot open " + from.string()).c_str());
    return 1;
  }
  const bool quiet_source = ::flock(source_lock.get(), LOCK_SH | LOCK_NB) == 0;
  const auto not_empty = [&to] {
    std::fprintf(stderr, "lpops backup: --to %s exists and is not an empty directory (a backup is written into a new one)\n",
                 to.c_str());
    return 2;
  };
  if (fs::exists(to, ec) && !fs::is_directory(to, ec)) return not_empty();
  // An existing target may hold only what interrupted backups left (.partial-<pid>); anything
  // else refuses it before any change. (Checked again under the target's lock below.)
  // The .partial-<pid> directories, or nullopt when anything else is there; `list_error` says
  // why the target could not be listed.
  std::string list_error;
  const auto leftovers = [&to, &list_error]() -> std::optional<std::vector<fs::path>> {
    std::vector<fs::path> partial;
    std::error_code list_ec;
    for (fs::directory_iterator it(to, list_ec), end; !list_ec && it != end; it.increment(list_ec)) {
      const std::string name = it->path().filename().string();
      std::error_code kind_ec;
      if (name.starts_with(".partial-") && name.size() > 9 &&
          name.find_first_not_of("0123456789", 9) == std::string::npos && fs::is_directory(fs::symlink_status(it->path(), kind_ec)))
        partial.push_back(it->path());
      else
        return std::nullopt;
    }
    if (list_ec && list_ec != std::errc::no_such_file_or_directory) {
      list_error = "cannot list " + to.string() + ": " + list_ec.message();
      return std::nullopt;
    }
    return partial;
  };
  if (fs::exists(to, ec) && !leftovers()) {
    if (list_error.empty()) return not_empty();
    std::fprintf(stderr, "lpops backup: %s\n", list_error.c_str());
    return 1;
  }
  // The directories made for the target, deepest first (removed again if the backup fails).
  std::vector<std::string> made_dirs;
  {
    fs::path p = to.has_filename() ? to : to.parent_path();  // "…/new/" is "…/new"
    while (!p.empty() && p != p.parent_path() && !fs::exists(fs::symlink_status(p, ec))) {
      made_dirs.push_back(p.string());
      p = p.parent_path();
    }
  }
  std::optional<mode_t> old_mode;
  if (made_dirs.empty()) {
    struct stat target_stat {};
    if (::stat(to.c_str(), &target_stat) == 0) old_mode = target_stat.st_mode & 07777;
  } else if (auto err = storage::create_directories_durably(to.string())) {
    std::fprintf(stderr, "lpops backup: cannot create %s: %s\n", to.c_str(), err->c_str());
    for (const auto& d : made_dirs) fs::remove(d, ec);
    return 1;
  }
  // One backup at a time into a target: a second one is refused while the first holds the lock
  // (released however it ends). Under it, what interrupted backups left is theirs to remove.
  Fd target_lock(::open(to.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (target_lock.get() < 0 || ::flock(target_lock.get(), LOCK_EX | LOCK_NB) != 0) {
    const bool busy = target_lock.get() >= 0 && errno == EWOULDBLOCK;
    const std::string why = busy ? "another lpops backup is writing into " + to.string()
                                 : storage::errno_text("cannot lock " + to.string());
    std::fprintf(stderr, "lpops backup: %s\n", why.c_str());
    for (const auto& d : made_dirs) fs::remove(d, ec);
    return busy ? 2 : 1;
  }
  const auto stale = leftovers();
  if (!stale) {  // filled meanwhile by something else, or no longer readable
    for (const auto& d : made_dirs) fs::remove(d, ec);
    if (list_error.empty()) return not_empty();
    std::fprintf(stderr, "lpops backup: %s\n", list_error.c_str());
    return 1;
  }
  for (const auto& partial : *stale) {
    std::fprintf(stderr, "lpops backup: removing %s, left by an interrupted backup\n", partial.c_str());
    std::error_code remove_ec;
    fs::remove_all(partial, remove_ec);
    if (remove_ec) {
      std::fprintf(stderr, "lpops backup: cannot remove %s: %s\n", partial.c_str(), remove_ec.message().c_str());
      return 1;
    }
  }
  // The copy is made in a directory of its own inside --to, and its files are moved up into
  // --to once it checks out, journal.jsonl last, with the stop signals held off meanwhile; a
  // move that fails puts back those before it. So only a SIGKILL, a crash or a power cut in the
  // instant of the moves can leave part of a backup in --to; one interrupted before leaves only
  // that directory, named as partial.
  const fs::path staging = to / (".partial-" + std::to_string(::getpid()));
  Made made(staging.string());
  made.outer(made_dirs);
  if (old_mode) made.restore_mode(to.string(), *old_mode);
  // As private as the data directory: the copy holds the ledger and the audit key.
  struct stat source_stat {};
  if (::stat(from.c_str(), &source_stat) == 0 && ::chmod(to.c_str(), source_stat.st_mode & 0777) != 0)
    std::fprintf(stderr, "lpops backup: warning: %s\n",
                 storage::errno_text("cannot give " + to.string() + " the data directory's permissions").c_str());
  if (::mkdir(staging.c_str(), 0700) != 0) {
    std::fprintf(stderr, "lpops backup: %s\n", storage::errno_text("cannot create " + staging.string()).c_str());
    return 1;
  }
  const bool terminal = ::isatty(STDERR_FILENO);
  boost::json::object files;
  // The order matters: each file is covered by the ones after it (a checkpoint signs entries
  // the copied log holds, a log entry describes a record the copied journal holds, the
  // snapshot is never ahead of the copied journal).
  struct Step {
    const char* name;
    bool lines;
    bool secret = false;
  };
  const std::string key_name = key_in_dir.value_or("audit.key");
  for (const Step step : {Step{"checkpoints.jsonl", true}, Step{"audit.jsonl", true}, Step{"snapshot.json", false},
                          Step{"journal.jsonl", true}, Step{key_name.c_str(), false, true}, Step{"orchestrators.json", false}}) {
    if (key_elsewhere && std::string_view(step.name) == "audit.key") continue;  // not the node's key
    bool damaged = false;
    auto copied = copy_one(from.string(), staging.string(), step.name, step.lines, step.secret, terminal, quiet_source, made, damaged);
    if (!copied) {
      std::fprintf(stderr, "lpops backup: %s\n", copied.error().c_str());
      return 1;  // a file that cannot be read or written, damage: the backup failed
    }
    if (copied->present)
      files[step.name] = boost::json::object{{"bytes", copied->bytes}, {"left_behind_bytes", copied->left}};
  }
  if (!storage::fsync_directory(staging.string())) {
    std::fprintf(stderr, "lpops backup: %s\n", storage::errno_text("cannot flush the directory " + staging.string()).c_str());
    return 1;
  }

  // The copy read back as a node would start on it, the journal whole.
  storage::FileStoreOptions check_options{staging.string(), false, /*read_only=*/true};
  check_options.acknowledged_through = storage::last_line_integer(staging.string() + "/audit.jsonl", "journal_seq");
  std::uint64_t records = 0, audit_entries = 0;
  Book book;
  Result<storage::RecoveryReport> report = Error{"not read"};
  {
    storage::FileStore store(check_options);
    report = store.recover([](const boost::json::object&, std::uint64_t) { return std::nullopt; },
                           [&](const storage::ParsedRecord& r) {
                             // The copy read back: on a terminal one line, rewritten; in a log a
                             // line per million records.
                             if (++records % 100000 == 0 && (terminal || records % 1000000 == 0))
                               std::fprintf(stderr, terminal ? "\rchecking the copy: %llu records read back"
                                                             : "checking the copy: %llu records read back\n",
                                            static_cast<unsigned long long>(records));
                             if (r.effect.contains("entry")) ++audit_entries;
                             return book.apply(r.effect, r.seq);
                           });
  }
  if (terminal && records >= 100000) std::fprintf(stderr, "\n");
  std::optional<std::string> failure;
  if (!report) failure = report.error();
  else if (report->cut_bytes) failure = "its journal has " + std::to_string(report->cut_bytes) + " bad tail bytes (" + report->cut_reason + ")";
  else failure = records_missing_from_journal(staging.string(), report->last_seq, audit_entries);
  // The audit log and checkpoints whole, as a node checks them before it signs again: a line
  // damaged before the last, or a checkpoint that is no JSON or not signed for the log,
  // would stop a node started on the copy.
  if (!failure && files.contains("audit.jsonl")) {
    const bool with_checkpoints = files.contains("checkpoints.jsonl");
    auto [code, why] = check_audit_files(staging.string() + "/audit.jsonl",
                                         with_checkpoints ? staging.string() + "/checkpoints.jsonl" : std::string());
    if (code != 0) failure = "its audit log does not verify (" + why + ")";
  }
  if (failure) {
    for (std::size_t at; (at = failure->find("refusing to start")) != std::string::npos;) failure->replace(at, 17, "not usable");
    std::fprintf(stderr, "lpops backup: the copy in %s does not check out: %s. It was removed; the data directory itself "
                         "is untouched: run lpops replay on it\n", to.c_str(), failure->c_str());
    return 1;
  }
  const std::uint64_t checkpoints = storage::last_line_integer(staging.string() + "/checkpoints.jsonl", "seq").value_or(0);
  // Whole and checked: its files move up into --to, the journal last, durably.
  {
    std::vector<std::string> names;
    for (const auto& kv : files)
      if (kv.key() != "journal.jsonl") names.emplace_back(kv.key());
    if (files.contains("journal.jsonl")) names.emplace_back("journal.jsonl");
    sigset_t stops, before;
    sigemptyset(&stops);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&stops, sig);
    ::sigprocmask(SIG_BLOCK, &stops, &before);
    // The journal's move is made durable after the others' (a directory's renames reach the
    // disk in no set order): a target whose journal.jsonl survives a power cut holds the rest.
    std::size_t moved = 0;
    bool flushed_before_journal = true;
    for (; moved < names.size(); ++moved) {
      const fs::path in_staging = staging / names[moved], in_target = to / names[moved];
      if (names[moved] == "journal.jsonl" && !storage::fsync_directory(to.string())) {
        flushed_before_journal = false;
        break;
      }
      if (::rename(in_staging.c_str(), in_target.c_str()) != 0) break;
    }
    if (moved < names.size()) {
      const std::string why =
          flushed_before_journal
              ? storage::errno_text("cannot move " + (staging / names[moved]).string() + " to " + (to / names[moved]).string())
              : storage::errno_text("cannot flush " + to.string());
      for (std::size_t i = moved; i-- > 0;)  // put back what moved, for `made` to remove
        (void)::rename((to / names[i]).c_str(), (staging / names[i]).c_str());
      ::sigprocmask(SIG_SETMASK, &before, nullptr);
      std::fprintf(stderr, "lpops backup: %s; nothing was backed up\n", why.c_str());
      return 1;
    }
    made.keep();
    ::sigprocmask(SIG_SETMASK, &before, nullptr);
    if (::rmdir(staging.c_str()) != 0 || !storage::fsync_directory(to.string())) {
      std::fprintf(stderr, "lpops backup: %s; the backup in %s is whole, but may not be on the disk yet: check the disk\n",
                   storage::errno_text("cannot flush " + to.string()).c_str(), to.c_str());
      return 1;
    }
  }
  const bool key_copied = files.contains(key_name);
  if (o.json) {
    boost::json::object out{{"from", from.string()},     {"to", to.string()},     {"journal_records", report->last_seq},
                            {"audit_entries", audit_entries}, {"signed_entries", checkpoints}, {"workloads", book.workload_count()},
                            {"audit_key_copied", key_copied}, {"files", std::move(files)}};
    // With --data-dir no settings are read: a key PAYMENTS_AUDIT_KEY_PATH names is not looked for.
    if (o.data_dir) {
      out["settings_read"] = false;
      std::fprintf(stderr, "lpops backup: with --data-dir the settings are not read: a key PAYMENTS_AUDIT_KEY_PATH names "
                           "under another name or elsewhere is not looked for\n");
    }
    if (key_elsewhere) {
      out["audit_key_elsewhere"] = *key_elsewhere;
      std::fprintf(stderr, "lpops backup: the audit key is %s (PAYMENTS_AUDIT_KEY_PATH), which a backup does not "
                           "copy (it is not a file of the data directory): keep it with the backup\n", key_elsewhere->c_str());
    }
    std::printf("%s\n", boost::json::serialize(out).c_str());
  } else {
    std::printf("backup of %s in %s: %llu journal records, %llu audit entries (%llu signed), %zu workloads; it replays as "
                "a node would start on it\n",
                from.c_str(), to.c_str(), static_cast<unsigned long long>(report->last_seq),
                static_cast<unsigned long long>(audit_entries), static_cast<unsigned long long>(checkpoints), book.workload_count());
    if (key_in_dir && key_copied)
      std::printf("the audit key %s (PAYMENTS_AUDIT_KEY_PATH) is copied with it: restore it under that name, or set "
                  "PAYMENTS_AUDIT_KEY_PATH to it\n", key_in_dir->c_str());
    else if (key_elsewhere)
      std::printf("the audit key is %s (PAYMENTS_AUDIT_KEY_PATH), which a backup does not copy (it is not a file of the data "
                  "directory): keep it with the backup\n",
                  key_elsewhere->c_str());
    else if (!key_copied)
      std::printf("no audit.key in %s: the audit key is kept elsewhere (PAYMENTS_AUDIT_KEY_PATH, or derived from the payout "
                  "key); keep it with the backup\n", from.c_str());
    if (o.data_dir)
      std::printf("(with --data-dir the settings are not read: a key PAYMENTS_AUDIT_KEY_PATH names under another name or "
                  "elsewhere is not looked for)\n");
  }
  return 0;
}

}  // namespace lpops::app
