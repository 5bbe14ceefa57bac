#include "storage/audit_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <mutex>

#include "chain/address.hpp"
#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "domain/canonical_json.hpp"

namespace lpops::storage {
namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

struct ParsedLine {
  std::uint64_t seq = 0;
  std::uint64_t journal_seq = 0;
  chain::Hash256 prev{}, hash{};
  std::string event_id, orchestrator_id;
};

// Checks one stored line: its entry hash recomputed from the entry's own fields.
Result<ParsedLine> parse_line(std::string_view text) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(text, ec);
  if (ec || !doc.is_object()) return Error{"not a JSON object"};
  const auto& wrapper = doc.as_object();
  const auto* entry_v = wrapper.if_contains("audit_entry");
  const auto* journal_v = wrapper.if_contains("journal_seq");
  if (!entry_v || !entry_v->is_object() || !journal_v || !journal_v->is_int64()) return Error{"not an audit wrapper line"};
  const boost::json::object& entry = entry_v->as_object();
  ParsedLine p;
  auto stored = chain::hash32_field(entry, "entry_hash");
  if (!stored) return Error{stored.error()};
  p.hash = *stored;
  auto prev = chain::hash32_field(entry, "prev_hash");
  if (!prev) return Error{prev.error()};
  p.prev = *prev;
  const auto* seq = entry.if_contains("seq");
  const auto* event = entry.if_contains("event_id");
  if (!seq || !seq->is_int64() || seq->as_int64() < 1 || !event || !event->is_string()) return Error{"seq or event_id is missing"};
  p.seq = static_cast<std::uint64_t>(seq->as_int64());
  p.event_id = std::string(event->as_string());
  if (const auto* o = entry.if_contains("orchestrator_id"); o && o->is_string()) p.orchestrator_id = std::string(o->as_string());
  p.journal_seq = static_cast<std::uint64_t>(journal_v->as_int64());
  if (chain::keccak256(canonical_json_without(entry, {"entry_hash", "signer", "signature"})) != p.hash)
    return Error{"entry_hash does not match the entry"};
  return p;
}

}  // namespace

std::string_view audit_entry_text(std::string_view line) {
  // Canonical wrappers start with {"audit_entry": and continue with ,"journal_seq": after it;
  // inside the entry a quote is always escaped, so the last such marker is the wrapper's.
  constexpr std::string_view head = "{\"audit_entry\":";
  constexpr std::string_view next = ",\"journal_seq\":";
  if (line.substr(0, head.size()) != head) return {};
  const auto end = line.rfind(next);
  if (end == std::string_view::npos || end < head.size()) return {};
  return line.substr(head.size(), end - head.size());
}

std::pair<std::string, std::string> audit_kind_and_source(const LedgerEntry& entry, Effect::Type type) {
  if (type == Effect::Type::policy) return {"policy", "policy"};
  if (type == Effect::Type::adjustment) return {"adjustment", "ledger_adjustment"};
  if (entry.delta.negative) return {"payout_debit", "payout_confirm"};
  return {"credit", entry.reason.empty() ? std::string("credit") : entry.reason};
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& dir, bool fsync, AuditRecovery* report) {
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->path_ = dir + "/audit.jsonl";
  log->fsync_ = fsync;
  log->fd_ = ::open(log->path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (log->fd_ < 0) return Error{errno_text("cannot open " + log->path_)};

  // Read and verify every line.
  std::string buffer, chunk(1 << 20, '\0');
  std::uint64_t pos = 0, line_start = 0;
  chain::Hash256 head{};
  std::string failure;
  std::uint64_t failure_offset = 0;
  for (;;) {
    ssize_t n = ::pread(log->fd_, chunk.data(), chunk.size(), static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{errno_text("cannot read " + log->path_)};
    if (n == 0) break;
    pos += static_cast<std::uint64_t>(n);
    buffer.append(chunk.data(), static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (;;) {
      const std::size_t nl = buffer.find('\n', start);
      if (nl == std::string::npos) break;
      const std::string_view text(buffer.data() + start, nl - start);
      if (failure.empty()) {
        auto parsed = parse_line(text);
        const std::uint64_t expected = log->hashes_.size() + 1;
        if (!parsed) {
          failure = parsed.error();
        } else if (parsed->seq != expected) {
          failure = "seq " + std::to_string(parsed->seq) + " where " + std::to_string(expected) + " was expected";
        } else if (parsed->prev != head) {
          failure = "prev_hash does not link to entry " + std::to_string(expected - 1);
        } else if (parsed->journal_seq <= log->last_journal_seq_) {
          failure = "journal_seq does not increase";
        } else {
          log->spans_.push_back({line_start + start, static_cast<std::uint32_t>(text.size())});
          log->hashes_.push_back(parsed->hash);
          log->tree_.append(parsed->hash);
          log->by_event_.emplace(parsed->event_id, parsed->seq);
          log->by_orchestrator_[parsed->orchestrator_id].push_back(parsed->seq);
          log->last_journal_seq_ = parsed->journal_seq;
          head = parsed->hash;
        }
        if (!failure.empty()) failure_offset = line_start + start;
      }
      start = nl + 1;
    }
    buffer.erase(0, start);
    line_start += start;
  }
  const std::uint64_t good_end = failure.empty() ? line_start : failure_offset;
  const bool torn = !buffer.empty();  // a last line without its newline
  if (!failure.empty()) {
    // Damage is tolerated only in the very last line (a torn write); anything followed by
    // more lines is tampering or corruption, which the operator must look at.
    std::string rest(pos - failure_offset, '\0');
    ssize_t got = ::pread(log->fd_, rest.data(), rest.size(), static_cast<off_t>(failure_offset));
    if (got < 0) return Error{errno_text("cannot read " + log->path_)};
    const auto first_nl = rest.find('\n');
    if (first_nl != std::string::npos && first_nl + 1 < rest.size())
      return Error{log->path_ + ": entry " + std::to_string(log->hashes_.size() + 1) + " at byte " + std::to_string(failure_offset) +
                   " is damaged (" + failure + ") and followed by more entries; move the file aside to rebuild it from the journal"};
  }
  if (torn || !failure.empty()) {
    if (::ftruncate(log->fd_, static_cast<off_t>(good_end)) != 0) return Error{errno_text("cannot cut " + log->path_)};
    if (fsync && ::fdatasync(log->fd_) != 0) return Error{errno_text("cannot sync " + log->path_)};
    if (report) {
      report->cut_bytes = pos - good_end;
      report->cut_reason = failure.empty() ? "a torn last line" : failure;
    }
  }
  log->end_offset_ = log->staged_offset_ = good_end;
  log->visible_ = log->hashes_.size();
  if (report) report->entries = log->hashes_.size();
  return log;
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

std::string AuditLog::append_entry(const LedgerEntry& entry, const std::string& kind, const std::string& source,
                                   const std::string& recipient, std::uint64_t journal_seq) {
  chain::audit::EntryFields f;
  {
    std::shared_lock lock(mutex_);
    f.seq = hashes_.size() + 1;
    f.prev_hash = hashes_.empty() ? chain::Hash256{} : hashes_.back();
  }
  f.timestamp = iso_utc(entry.at, UtcSuffix::z);
  f.kind = kind;
  f.event_id = entry.event_id;
  f.orchestrator_id = entry.orchestrator_id;
  if (!recipient.empty())
    if (auto a = chain::parse_address(recipient)) f.recipient = *a;
  f.delta_wei = entry.delta;
  f.balance_wei = entry.balance_after;
  f.reason = entry.reason;
  f.metadata = entry.metadata;
  const std::string canonical = chain::audit::entry_canonical(f);
  const chain::Hash256 hash = chain::keccak256(canonical);
  // The host wrapper, canonical (sorted keys), written directly.
  std::string line;
  line.reserve(canonical.size() + 256);
  line += "{\"audit_entry\":";
  line += chain::audit::with_entry_hash(canonical, hash);
  line += ",\"journal_seq\":" + std::to_string(journal_seq) + ",\"received_at\":";
  append_canonical_string(line, f.timestamp);
  line += ",\"schema\":\"";
  line += kAuditWrapperSchema;
  line += "\",\"source\":";
  append_canonical_string(line, source);
  line += '}';
  std::unique_lock lock(mutex_);
  spans_.push_back({staged_offset_, static_cast<std::uint32_t>(line.size())});
  staged_offset_ += line.size() + 1;
  hashes_.push_back(hash);
  tree_.append(hash);
  by_event_.emplace(entry.event_id, f.seq);
  by_orchestrator_[entry.orchestrator_id].push_back(f.seq);
  last_journal_seq_ = journal_seq;
  return line;
}

std::optional<std::string> AuditLog::write(const std::vector<std::string>& lines) {
  if (lines.empty()) return std::nullopt;
  std::string data;
  for (const auto& l : lines) {
    data += l;
    data += '\n';
  }
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(end_offset_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return errno_text("audit log write failed");
    done += static_cast<std::size_t>(n);
  }
  std::unique_lock lock(mutex_);
  end_offset_ += data.size();
  visible_ += lines.size();
  return std::nullopt;
}

std::optional<std::string> AuditLog::sync() {
  if (fsync_ && ::fdatasync(fd_) != 0) return errno_text("audit log fdatasync failed");
  return std::nullopt;
}

AuditStatus AuditLog::status() const {
  std::shared_lock lock(mutex_);
  AuditStatus s;
  s.seq = visible_;
  s.head = visible_ ? hashes_[visible_ - 1] : chain::Hash256{};
  s.root = tree_.root_at(visible_).value();
  s.last_journal_seq = last_journal_seq_;
  return s;
}

std::optional<std::string> AuditLog::read_span(std::uint64_t offset, std::uint32_t length) const {
  std::string out(length, '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    done += static_cast<std::size_t>(n);
  }
  return out;
}

std::optional<std::string> AuditLog::line(std::uint64_t seq) const {
  Span span;
  {
    std::shared_lock lock(mutex_);
    if (seq == 0 || seq > visible_) return std::nullopt;
    span = spans_[seq - 1];
  }
  return read_span(span.offset, span.length);
}

std::optional<std::uint64_t> AuditLog::seq_of(const std::string& event_id) const {
  std::shared_lock lock(mutex_);
  auto it = by_event_.find(event_id);
  if (it == by_event_.end() || it->second > visible_) return std::nullopt;
  return it->second;
}

std::optional<chain::Hash256> AuditLog::entry_hash(std::uint64_t seq) const {
  std::shared_lock lock(mutex_);
  if (seq == 0 || seq > visible_) return std::nullopt;
  return hashes_[seq - 1];
}

std::vector<std::uint64_t> AuditLog::seqs(const std::optional<std::string>& orchestrator_id, std::uint64_t since,
                                          std::size_t limit, bool descending) const {
  std::shared_lock lock(mutex_);
  std::vector<std::uint64_t> out;
  auto take = [&](auto begin, auto end) {
    for (auto it = begin; it != end && out.size() < limit; ++it)
      if (*it > since && *it <= visible_) out.push_back(*it);
  };
  if (orchestrator_id) {
    auto it = by_orchestrator_.find(*orchestrator_id);
    if (it == by_orchestrator_.end()) return out;
    const auto& v = it->second;
    if (descending) take(v.rbegin(), v.rend());
    else take(std::upper_bound(v.begin(), v.end(), since), v.end());
    return out;
  }
  if (descending) {
    for (std::uint64_t seq = visible_; seq > since && out.size() < limit; --seq) out.push_back(seq);
  } else {
    for (std::uint64_t seq = since + 1; seq <= visible_ && out.size() < limit; ++seq) out.push_back(seq);
  }
  return out;
}

Result<chain::Hash256> AuditLog::root_at(std::uint64_t size) const {
  std::shared_lock lock(mutex_);
  if (size > visible_) return Error{"the log has " + std::to_string(visible_) + " entries"};
  return tree_.root_at(size);
}

Result<std::vector<chain::Hash256>> AuditLog::inclusion_proof(std::uint64_t seq, std::uint64_t tree_size) const {
  std::shared_lock lock(mutex_);
  if (tree_size > visible_) return Error{"the log has " + std::to_string(visible_) + " entries"};
  if (seq == 0) return Error{"seq starts at 1"};
  return tree_.inclusion_proof(seq - 1, tree_size);
}

Result<std::vector<chain::Hash256>> AuditLog::consistency_proof(std::uint64_t first, std::uint64_t second) const {
  std::shared_lock lock(mutex_);
  if (second > visible_) return Error{"the log has " + std::to_string(visible_) + " entries"};
  return tree_.consistency_proof(first, second);
}

}  // namespace lpops::storage
