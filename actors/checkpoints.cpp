#include "actors/checkpoints.hpp"
#include "actors/fatal.hpp"
#include "domain/json_parse.hpp"
#include "storage/durable_fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "actors/journal.hpp"
#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "chain/signature.hpp"
#include "domain/canonical_json.hpp"
#include "domain/clock.hpp"
#include "storage/audit_verify.hpp"

namespace lpops::actors {
Result<std::shared_ptr<CheckpointBook>> CheckpointBook::open(const std::string& dir, chain::PrivateKey audit_key,
                                                             CheckpointOptions options, const storage::AuditLog& log) {
  std::shared_ptr<CheckpointBook> book(new CheckpointBook(std::move(audit_key)));
  book->address_ = book->key_.address();
  book->options_ = options;
  book->path_ = dir + "/checkpoints.jsonl";
  // Read whole, every read checked: a read that fails is never taken for the end of the file
  // (the file is cut after its last whole line below, which would then cut signed checkpoints).
  book->fd_ = ::open(book->path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (book->fd_ < 0) return Error{storage::errno_text("cannot open " + book->path_)};
  std::string text;
  {
    struct stat st {};
    if (::fstat(book->fd_, &st) != 0) return Error{storage::errno_text("cannot stat " + book->path_)};
    text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < text.size()) {
      const ssize_t n = ::pread(book->fd_, text.data() + got, text.size() - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        return Error{storage::errno_text("cannot read " + book->path_) +
                     " (nothing was changed; start the node again once the disk reads it, or restore it from a backup)"};
      if (n == 0) break;  // shorter than it was a moment ago: what there is
      got += static_cast<std::size_t>(n);
    }
    text.resize(got);
  }
  // Every complete line parsed first (a torn last line is cut below).
  struct Line {
    std::size_t pos, end;
    storage::Checkpoint c;
    std::optional<std::string> signature_error;
  };
  std::vector<Line> lines;
  std::size_t good_end = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto nl = text.find('\n', pos);
    if (nl == std::string::npos) break;
    boost::system::error_code ec;
    auto doc = parse_json(std::string_view(text).substr(pos, nl - pos), ec);
    if (ec || !doc.is_object()) return Error{book->path_ + ": line at byte " + std::to_string(pos) + " is not JSON"};
    auto c = storage::parse_checkpoint(doc);
    if (!c) return Error{book->path_ + ": line at byte " + std::to_string(pos) + ": " + c.error()};
    lines.push_back({pos, nl, std::move(*c), std::nullopt});
    pos = good_end = nl + 1;
  }
  // The signature of each must recover to the address it names (a forged or edited line
  // fails). Recovery is the costly part (~40 µs; 10,000 checkpoints at 10M entries), so it
  // runs on every core.
  {
    const std::size_t workers = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 8);
    std::vector<std::thread> pool;
    auto check = [&lines, workers](std::size_t w) {
      for (std::size_t i = w; i < lines.size(); i += workers) lines[i].signature_error = storage::check_checkpoint_signature(lines[i].c);
    };
    for (std::size_t w = 1; w < workers && w < lines.size(); ++w) pool.emplace_back(check, w);
    check(0);
    for (auto& t : pool) t.join();
  }
  const auto status = log.status();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& c = lines[i].c;
    const std::uint64_t seq = c.seq;
    const std::string at = "checkpoint at seq " + std::to_string(seq) + " (" + book->path_ + ")";
    // Each was signed when the log reached a new size: a repeated or smaller size means
    // lines were copied or moved.
    if (i > 0 && seq <= lines[i - 1].c.seq)
      return Error{at + " follows one at seq " + std::to_string(lines[i - 1].c.seq) + ": checkpoint lines were duplicated or moved"};
    if (lines[i].signature_error) return Error{at + ": " + *lines[i].signature_error};
    // The log must still be the history this checkpoint signed: same size prefix, same root.
    if (seq > status.seq)
      return Error{at + " is beyond the audit log (" + std::to_string(status.seq) +
                   " entries, as the log and journal.jsonl now hold them): entries it signed were lost, and with them "
                   "acknowledged journal records; restore journal.jsonl (with audit.jsonl, audit.index and "
                   "audit.orchestrators) from a backup that holds "
                   "them. Verifiers that kept this checkpoint refuse any shorter history"};
    auto log_root = log.root_at(seq);
    auto chain_head = seq ? log.entry_hash(seq) : std::optional<chain::Hash256>(chain::Hash256{});
    if (!log_root || *log_root != c.merkle_root || !chain_head || *chain_head != c.chain_head_hash)
      return Error{at + " does not match the audit log: the history it signed was rewritten (journal.jsonl, audit.jsonl, "
                   "audit.index or audit.orchestrators replaced or altered); restore them from a backup that matches it"};
    if (c.audit_address != book->address_ && i + 1 == lines.size())
      spdlog::warn("the audit key changed: the latest checkpoint was signed by {}, this node signs as {}; verifiers that "
                   "expect one key will reject the new checkpoints",
                   chain::to_lower_hex(c.audit_address), chain::to_lower_hex(book->address_));
    book->checkpoints_.emplace_back(seq, text.substr(lines[i].pos, lines[i].end - lines[i].pos));
    book->last_seq_ = seq;
  }
  if (good_end < text.size())
    spdlog::warn("{}: cut a torn last line ({} bytes; a checkpoint whose write did not finish, signed again as the log grows)",
                 book->path_, text.size() - good_end);
  if (!storage::fsync_parent_directory(book->path_))  // its name, if new
    return Error{"cannot fsync the directory of " + book->path_ + ": " + std::strerror(errno)};
  if (::ftruncate(book->fd_, static_cast<off_t>(good_end)) != 0 || ::lseek(book->fd_, 0, SEEK_END) < 0)
    return Error{"cannot prepare " + book->path_ + ": " + std::strerror(errno)};
  return book;
}

CheckpointBook::~CheckpointBook() {
  if (fd_ >= 0) ::close(fd_);
}

std::string CheckpointBook::make(const storage::AuditStatus& s) const {
  return make(s, options_.chain_id, options_.contract, iso_utc(now_micros(), UtcSuffix::z));
}

std::string CheckpointBook::rebound(const std::string& stored, std::uint64_t chain_id, const chain::Address& contract) const {
  // The stored line's own binding decides, not the configured one: a checkpoint signed before
  // ETH_CHAIN_ID or the contract changed is signed again for the binding asked for, and one
  // signed before the audit key changed is signed again by the key the node now reports (the
  // reference signs each answer with its key of the moment); checkpoints.jsonl keeps the
  // lines as they were signed.
  const auto o = parse_json(stored).as_object();
  auto address_field = [&](const char* name) -> std::optional<chain::Address> {
    const auto* field = o.if_contains(name);
    if (!field || !field->is_string()) return std::nullopt;
    auto a = chain::parse_address(field->as_string());
    return a ? std::optional<chain::Address>(*a) : std::nullopt;
  };
  const auto* stored_chain = o.if_contains("chain_id");
  const auto stored_contract = address_field("contract_address");
  const auto stored_signer = address_field("audit_address");
  if (stored_chain && stored_chain->is_number() && stored_chain->to_number<std::uint64_t>() == chain_id && stored_contract &&
      *stored_contract == contract && stored_signer && *stored_signer == address_)
    return stored;
  storage::AuditStatus s;
  s.seq = o.at("seq").to_number<std::uint64_t>();
  s.head = chain::hash32_field(o, "chain_head_hash").value();
  s.root = chain::hash32_field(o, "merkle_root").value();
  return make(s, chain_id, contract, std::string(o.at("timestamp").as_string()));
}

std::string CheckpointBook::make(const storage::AuditStatus& s, std::uint64_t chain_id, const chain::Address& contract,
                                 const std::string& timestamp) const {
  const chain::Hash256 head = chain::audit::checkpoint_head(s.head, s.root);
  const chain::Hash256 message = chain::audit::checkpoint_message(address_, s.seq, head, chain_id, contract);
  const chain::Signature sig = chain::sign_digest(key_, chain::eip191_hash32(message));
  boost::json::object o{{"schema", chain::audit::kCheckpointSchema},
                        {"audit_address", chain::to_lower_hex(address_)},
                        {"chain_id", chain_id},
                        {"contract_address", chain::to_lower_hex(contract)},
                        {"seq", s.seq},
                        {"head_hash", chain::to_hex(head)},
                        {"chain_head_hash", chain::to_hex(s.head)},
                        {"merkle_root", chain::to_hex(s.root)},
                        {"message_hash", chain::to_hex(message)},
                        {"signature", sig.to_hex()},
                        {"timestamp", timestamp}};
  return canonical_json(o);
}

std::optional<std::string_view> CheckpointBook::after_flush(storage::AuditLog& log, bool force) {
  const auto status = log.status();
  if (status.seq == last_seq_) return std::nullopt;
  // One each time the log's size crosses a multiple of every_entries (the journal tells the
  // auditor at those crossings; a checkpoint signed late, at 6 for a step of 5, must not
  // make the next crossing, at 10, too soon for another).
  const std::uint64_t every = std::max<std::uint64_t>(options_.every_entries, 1);
  if (!force && status.seq / every == last_seq_ / every) return std::nullopt;
  // What a checkpoint signs must be durable first. After a failed flush nothing is signed
  // this run (said once, where it failed).
  if (log.sync_failed()) return std::nullopt;
  if (auto err = log.sync()) {
    spdlog::error("checkpoint skipped: {}", *err);
    return "audit_log";
  }
  const std::string line = make(status);
  const std::string data = line + "\n";
  errno = 0;
  const off_t end = ::lseek(fd_, 0, SEEK_END);
  if (end < 0 || ::write(fd_, data.data(), data.size()) != static_cast<ssize_t>(data.size()) ||
      (options_.fsync && ::fdatasync(fd_) != 0)) {
    // A short write sets no errno: the disk is full. (A failed lseek names its own error.)
    const int saved = errno ? errno : ENOSPC;
    // A partial line would stay before the next checkpoint, and start-up would then find a
    // line that is not JSON in the middle of the file: the file goes back to where it was.
    if (end >= 0 && (::ftruncate(fd_, end) != 0 || ::lseek(fd_, end, SEEK_SET) < 0))
      spdlog::error("checkpoints.jsonl: cannot cut a partly written checkpoint: {}", std::strerror(errno));
    spdlog::error("checkpoint at seq {} not written: {} (signed again at the next step)", status.seq, std::strerror(saved));
    return "checkpoints";
  }
  std::lock_guard lock(mutex_);
  checkpoints_.emplace_back(status.seq, line);
  last_seq_ = status.seq;
  return std::nullopt;
}

std::uint64_t CheckpointBook::signed_size() const {
  std::lock_guard lock(mutex_);
  return checkpoints_.empty() ? 0 : checkpoints_.back().first;
}

std::optional<std::string> CheckpointBook::latest() const {
  std::lock_guard lock(mutex_);
  if (checkpoints_.empty()) return std::nullopt;
  return checkpoints_.back().second;
}

std::vector<std::string> CheckpointBook::history(std::size_t limit, std::uint64_t before) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  // Sorted by seq: the first one at or past `before`, then backwards.
  auto end = std::lower_bound(checkpoints_.begin(), checkpoints_.end(), before,
                              [](const auto& c, std::uint64_t seq) { return c.first < seq; });
  for (auto it = std::make_reverse_iterator(end); it != checkpoints_.rend() && out.size() < limit; ++it) out.push_back(it->second);
  return out;
}

std::optional<std::pair<std::uint64_t, std::string>> CheckpointBook::covering(std::uint64_t seq) const {
  std::lock_guard lock(mutex_);
  if (checkpoints_.empty() || checkpoints_.back().first < seq) return std::nullopt;
  return checkpoints_.back();
}

namespace {
using tick_atom = caf::atom_constant<caf::atom("audittick")>;
}

caf::behavior auditor_actor(caf::stateful_actor<AuditorState>* self, std::shared_ptr<storage::AuditLog> log,
                            std::shared_ptr<CheckpointBook> checkpoints, AuditorOptions options,
                            std::shared_ptr<Metrics> metrics) {
  stop_process_on_exception(self, "auditor");
  auto& st = self->state;
  st.synced_at = st.last_checkpoint = std::chrono::steady_clock::now();
  st.actor_metrics = track_actor(self, metrics, "auditor");
  st.metrics = std::move(metrics);
  // Stopping: the log made durable, and a checkpoint signed for whatever the last one does not
  // cover, so that a stopped node's files are vouched for to their last entry (the journal
  // has written every entry by now: the node waits for it before stopping the actors).
  self->attach_functor([log, checkpoints] {
    if (checkpoints->after_flush(*log, true)) return;  // logged; start-up signs one
    if (log->sync_failed()) return;  // said where it failed; the next start writes the bytes again
    if (auto err = log->sync()) spdlog::error("audit log: {}", *err);
  });
  const auto tick = std::min(options.sync_interval, options.checkpoint_interval);
  self->delayed_send(self, tick, tick_atom::value);
  auto sign = [=](bool force) {
    if (auto failed = checkpoints->after_flush(*log, force)) self->state.metrics->storage_errors(std::string(*failed)).Increment();
  };
  auto sync_log = [=] {
    const bool failed_before = log->sync_failed();  // said once
    if (auto err = log->sync(); err && !failed_before) {
      spdlog::error("audit log: {}", *err);
      self->state.metrics->storage_errors("audit_log").Increment();
    }
    self->state.synced_at = std::chrono::steady_clock::now();
  };
  return {
      [=](audit_written_atom) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        // The first checkpoint at once (until then nothing is provable, and /audit/checkpoint
        // has nothing to serve); then every `every_entries`.
        sign(checkpoints->signed_size() == 0);
        if (std::chrono::steady_clock::now() - self->state.synced_at >= options.sync_interval) sync_log();
      },
      [=](final_checkpoint_atom) -> std::uint64_t {
        HandlerTimer timer(*self->state.actor_metrics, self);
        sign(true);
        sync_log();
        return checkpoints->signed_size();
      },
      [=](tick_atom) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        const auto now = std::chrono::steady_clock::now();
        if (checkpoints->signed_size() == 0) {
          sign(true);  // a log restored without its checkpoints
        } else if (now - s.last_checkpoint >= options.checkpoint_interval) {
          sign(true);  // only when anything was added since the last
          s.last_checkpoint = now;
        }
        if (now - s.synced_at >= options.sync_interval) sync_log();
        self->delayed_send(self, tick, tick_atom::value);
      },
  };
}

}  // namespace lpops::actors
