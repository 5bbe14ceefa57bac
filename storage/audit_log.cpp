#include "storage/audit_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <mutex>

#include "chain/address.hpp"
#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "chain/keccak_many.hpp"
#include "chain/signature.hpp"
#include "domain/canonical_json.hpp"
#include "domain/json_parse.hpp"
#include "storage/audit_scan.hpp"
#include "storage/durable_fs.hpp"

namespace lpops::storage {
namespace {

// 64-bit FNV-1a with a final mix: the event-id fingerprint and the record checksum. Not a
// security measure (lines confirm every lookup; the background check re-hashes every line).
std::uint64_t fingerprint(const void* data, std::size_t size, std::uint64_t seed = 0xcbf29ce484222325ULL) {
  std::uint64_t h = seed;
  const auto* p = static_cast<const std::uint8_t*>(data);
  for (std::size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

std::uint64_t event_fingerprint(std::string_view event_id) { return fingerprint(event_id.data(), event_id.size()); }

// A record's checksum: 64-bit words mixed (the record is 8-byte aligned and sized).
std::uint64_t words_checksum(const void* data, std::size_t words) {
  std::uint64_t h = 0x6c706f7073696478ULL;
  const auto* p = static_cast<const std::uint8_t*>(data);
  for (std::size_t i = 0; i < words; ++i) {
    std::uint64_t w;
    std::memcpy(&w, p + 8 * i, 8);
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
  }
  return h;
}

Result<std::uint64_t> file_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error{errno_text("cannot stat")};
  return static_cast<std::uint64_t>(st.st_size);
}

bool read_exact(int fd, char* out, std::size_t size, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

struct ParsedLine {
  std::uint64_t seq = 0;
  std::uint64_t journal_seq = 0;
  chain::Hash256 prev{}, hash{};
  std::string event_id, orchestrator_id;
};

// Checks one stored line: its entry hash recomputed from the entry's own fields.
Result<ParsedLine> parse_line(std::string_view text) {
  boost::system::error_code ec;
  auto doc = parse_json(text, ec);
  if (ec || !doc.is_object()) return Error{"not a JSON object"};
  const auto& wrapper = doc.as_object();
  const auto* entry_v = wrapper.if_contains("audit_entry");
  const auto* journal_v = wrapper.if_contains("journal_seq");
  if (!entry_v || !entry_v->is_object() || !journal_v || !journal_v->is_int64()) return Error{"not an audit wrapper line"};
  if (auto key = duplicate_json_key(text)) return Error{"names " + *key + " twice in one object"};
  if (auto problem = wrapper_problem(wrapper)) return Error{*problem};
  // This node writes every line in canonical form (sorted keys, no spaces, its own escapes):
  // another spelling of the same entry was written by something else.
  if (!written_form(doc, text)) return Error{"is not in the canonical form this node writes"};
  const boost::json::object& entry = entry_v->as_object();
  ParsedLine p;
  auto stored = chain::hash32_field(entry, "entry_hash");
  if (!stored) return Error{stored.error()};
  p.hash = *stored;
  auto prev = chain::hash32_field(entry, "prev_hash");
  if (!prev) return Error{prev.error()};
  p.prev = *prev;
  if (entry.at("entry_hash").as_string() != chain::to_hex(p.hash) || entry.at("prev_hash").as_string() != chain::to_hex(p.prev))
    return Error{"entry_hash and prev_hash are written as 0x and 64 lower-case hex digits"};
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

// parse_line's verdict for each line: canonical lines (as written here) by the one-pass
// check, hashed many at a time; any other line by parse_line itself.
void check_lines(const std::vector<std::string_view>& lines, std::vector<Result<ParsedLine>>& out) {
  out.clear();
  out.reserve(lines.size());
  std::vector<std::string> inputs(lines.size());
  std::vector<std::string_view> views;
  std::vector<std::size_t> fast;
  ScannedEntry scanned;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (scan_canonical_line(lines[i], scanned, inputs[i]) && scanned.journal_seq >= 0 && scanned.seq >= 1 && scanned.has_event_id) {
      ParsedLine p;
      p.seq = static_cast<std::uint64_t>(scanned.seq);
      p.journal_seq = static_cast<std::uint64_t>(scanned.journal_seq);
      p.prev = scanned.prev_hash;
      p.hash = scanned.entry_hash;
      p.event_id = std::string(scanned.event_id);
      p.orchestrator_id = std::string(scanned.orchestrator_id);
      out.emplace_back(std::move(p));
      views.push_back(inputs[i]);
      fast.push_back(i);
    } else {
      out.push_back(parse_line(lines[i]));
    }
  }
  std::vector<chain::Hash256> computed(views.size());
  chain::keccak256_many(views.data(), computed.data(), views.size());
  for (std::size_t j = 0; j < views.size(); ++j)
    if (computed[j] != out[fast[j]]->hash) out[fast[j]] = Error{"entry_hash does not match the entry"};
}

}  // namespace

// One audit.index record, 64 bytes, native byte order (the index is a local cache).
struct AuditLog::IndexRecord {
  chain::Hash256 entry_hash;
  std::uint64_t offset;
  std::uint32_t length;
  std::uint32_t orchestrator;
  std::uint64_t event_fp;
  std::uint64_t check;  // checksum of the 56 bytes before it
  std::uint64_t compute_check() const { return words_checksum(this, offsetof(IndexRecord, check) / 8); }
};

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
  std::string kind = type == Effect::Type::policy       ? "policy"
                     : type == Effect::Type::adjustment ? "adjustment"
                     : type == Effect::Type::payout     ? (entry.reason == "payout_reserve" ? "payout_reserve"
                                                           : entry.reason == "payout_void"  ? "payout_void"
                                                                                            : "payout_debit")
                     : entry.delta.negative             ? "payout_debit"
                                                        : "credit";
  // The source follows from kind and reason alone (readers check it so: audit_source_for).
  std::string source = audit_source_for(kind, entry.reason);
  return {std::move(kind), std::move(source)};
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& dir, bool fsync, AuditRecovery* report) {
  static_assert(sizeof(IndexRecord) == 64 && offsetof(IndexRecord, check) == 56, "audit.index records are 64 bytes");
  std::unique_ptr<AuditLog> log(new AuditLog());
  AuditRecovery scratch;
  AuditRecovery& rep = report ? *report : scratch;
  log->path_ = dir + "/audit.jsonl";
  log->dir_ = dir;
  log->fsync_ = fsync;
  log->fd_ = ::open(log->path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (log->fd_ < 0) return Error{errno_text("cannot open " + log->path_)};
  {
    // After a failed flush in the run before: the bytes past the last good flush are written
    // again, so that pages the kernel kept as clean reach the disk. (Bytes it had already
    // dropped read as what the disk holds, which the start-up checks against the journal find.)
    auto rewritten = rewrite_after_failed_flush(log->path_, dir + "/" + kAuditSyncFailedMark);
    if (!rewritten) return Error{rewritten.error()};
    rep.rewritten_bytes = *rewritten;
  }
  const std::string index_path = dir + "/audit.index", orchestrators_path = dir + "/audit.orchestrators";
  log->index_fd_ = ::open(index_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (log->index_fd_ < 0) return Error{errno_text("cannot open " + index_path)};
  log->orchestrators_fd_ = ::open(orchestrators_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (log->orchestrators_fd_ < 0) return Error{errno_text("cannot open " + orchestrators_path)};
  if (fsync && !fsync_directory(dir)) return Error{errno_text("cannot fsync " + dir)};  // the files' names, if new
  auto log_size = file_size(log->fd_);
  auto index_size = file_size(log->index_fd_);
  auto orchestrators_size = file_size(log->orchestrators_fd_);
  if (!log_size || !index_size || !orchestrators_size) return Error{errno_text("cannot stat the audit log files in " + dir)};

  // Orchestrator ids by number: one JSON string per line; a damaged or torn tail is dropped.
  {
    std::string text(*orchestrators_size, '\0');
    if (!read_exact(log->orchestrators_fd_, text.data(), text.size(), 0)) return Error{errno_text("cannot read " + orchestrators_path)};
    std::size_t start = 0;
    for (;;) {
      const std::size_t nl = text.find('\n', start);
      if (nl == std::string::npos) break;
      boost::system::error_code ec;
      auto v = parse_json(std::string_view(text).substr(start, nl - start), ec);
      if (ec || !v.is_string() || log->orchestrator_numbers_.count(std::string(v.as_string()))) break;
      log->orchestrator_numbers_.emplace(std::string(v.as_string()), static_cast<std::uint32_t>(log->orchestrator_ids_.size()));
      log->orchestrator_ids_.emplace_back(v.as_string());
      start = nl + 1;
    }
    log->orchestrators_offset_ = start;
    log->by_orchestrator_.resize(log->orchestrator_ids_.size());
  }

  // The longest valid prefix of audit.index, read in slices.
  std::uint64_t from_index = 0, offset = 0;
  {
    constexpr std::size_t kSlice = 1 << 16;
    std::vector<IndexRecord> slice(kSlice);
    std::vector<chain::Hash256> slice_hashes;
    slice_hashes.reserve(kSlice);
    const std::uint64_t records = *index_size / sizeof(IndexRecord);
    log->indexed_events_.reserve(records);
    bool valid = true;
    for (std::uint64_t at = 0; valid && at < records; at += kSlice) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kSlice, records - at));
      if (!read_exact(log->index_fd_, reinterpret_cast<char*>(slice.data()), n * sizeof(IndexRecord), at * sizeof(IndexRecord)))
        return Error{errno_text("cannot read " + index_path)};
      slice_hashes.clear();
      for (std::size_t i = 0; i < n; ++i) {
        const IndexRecord& r = slice[i];
        if (r.check != r.compute_check() || r.offset != offset || r.length == 0 || r.offset + r.length + 1 > *log_size ||
            r.orchestrator >= log->orchestrator_ids_.size()) {
          valid = false;
          break;
        }
        log->remember(r.entry_hash, r.offset, r.length, r.orchestrator, r.event_fp, from_index + 1, true);
        slice_hashes.push_back(r.entry_hash);
        offset = r.offset + r.length + 1;
        ++from_index;
      }
      log->tree_.append_many(slice_hashes.data(), slice_hashes.size());
    }
  }
  // The first and last covered lines must be the entries the index says (same file).
  chain::Hash256 head{};
  std::string index_note;
  if (from_index) {
    std::vector<Result<ParsedLine>> checked_one;
    auto check_line = [&](std::uint64_t seq) -> std::optional<ParsedLine> {
      const Span span = log->spans_[seq - 1];
      std::string text(span.length + 1, '\0');
      if (!read_exact(log->fd_, text.data(), text.size(), span.offset) || text.back() != '\n') return std::nullopt;
      text.pop_back();
      check_lines({text}, checked_one);
      const auto& parsed = checked_one.front();
      if (!parsed || parsed->seq != seq || parsed->hash != log->hashes_[seq - 1]) return std::nullopt;
      return *parsed;
    };
    auto first = check_line(1);
    auto last = check_line(from_index);
    if (!first || !last) {
      index_note = "audit.index does not match audit.jsonl; every line is read instead";
      from_index = 0;
      offset = 0;
      log->spans_.clear();
      log->hashes_.clear();
      log->tree_ = chain::merkle::Tree();
      log->indexed_events_.clear();
      for (auto& v : log->by_orchestrator_) v.clear();
    } else {
      head = log->hashes_.back();
      log->last_journal_seq_ = last->journal_seq;
    }
  }
  if (!from_index && *index_size >= sizeof(IndexRecord) && index_note.empty())
    index_note = *log_size == 0 ? "audit.jsonl is empty or was missing, though audit.index describes " +
                                      std::to_string(*index_size / sizeof(IndexRecord)) +
                                      " entries: the index is rebuilt with the log (whose entries start-up regenerates from "
                                      "the journal)"
                                : "audit.index is damaged; every line is read instead";
  if (from_index && from_index * sizeof(IndexRecord) < *index_size && index_note.empty())
    index_note = "audit.index has " + std::to_string(*index_size / sizeof(IndexRecord) - from_index) + " records beyond its valid prefix";

  // The lines after the index: read and checked (fast path for canonical lines), indexed.
  std::string buffer, chunk(1 << 20, '\0');
  std::uint64_t pos = offset, line_start = offset;
  std::string failure;
  std::uint64_t failure_offset = 0;
  std::vector<std::string_view> lines;
  std::vector<std::size_t> starts;
  std::vector<Result<ParsedLine>> checked;
  std::vector<chain::Hash256> fresh;
  for (;;) {
    ssize_t n = ::pread(log->fd_, chunk.data(), chunk.size(), static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{errno_text("cannot read " + log->path_)};
    if (n == 0) break;
    pos += static_cast<std::uint64_t>(n);
    buffer.append(chunk.data(), static_cast<std::size_t>(n));
    std::size_t start = 0;
    lines.clear();
    starts.clear();
    for (;;) {
      const std::size_t nl = buffer.find('\n', start);
      if (nl == std::string::npos) break;
      lines.emplace_back(buffer.data() + start, nl - start);
      starts.push_back(start);
      start = nl + 1;
    }
    if (failure.empty()) check_lines(lines, checked);
    fresh.clear();
    for (std::size_t i = 0; i < lines.size() && failure.empty(); ++i) {
      const std::string_view text = lines[i];
      const auto& parsed = checked[i];
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
        const std::uint64_t line_offset = line_start + starts[i];
        const std::uint32_t orchestrator = log->orchestrator_number(parsed->orchestrator_id, parsed->seq);
        const std::uint64_t fp = event_fingerprint(parsed->event_id);
        log->remember(parsed->hash, line_offset, static_cast<std::uint32_t>(text.size()), orchestrator, fp, parsed->seq);
        fresh.push_back(parsed->hash);
        IndexRecord r{parsed->hash, line_offset, static_cast<std::uint32_t>(text.size()), orchestrator, fp, 0};
        r.check = r.compute_check();
        log->staged_index_.append(reinterpret_cast<const char*>(&r), sizeof r);
        log->last_journal_seq_ = parsed->journal_seq;
        head = parsed->hash;
      }
      if (!failure.empty()) failure_offset = line_start + starts[i];
    }
    log->tree_.append_many(fresh.data(), fresh.size());
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
    rep.cut_bytes = pos - good_end;
    rep.cut_reason = failure.empty() ? "a torn last line" : failure;
  }
  // The index now: its valid prefix plus a record for every line read above.
  if (::ftruncate(log->index_fd_, static_cast<off_t>(from_index * sizeof(IndexRecord))) != 0 ||
      ::ftruncate(log->orchestrators_fd_, static_cast<off_t>(log->orchestrators_offset_)) != 0)
    return Error{errno_text("cannot cut the audit index in " + dir)};
  log->index_records_ = from_index;
  log->end_offset_ = log->staged_offset_ = good_end;
  log->visible_ = log->hashes_.size();
  if (auto err = log->write_all(log->orchestrators_fd_, log->staged_orchestrators_, log->orchestrators_offset_, "audit.orchestrators"))
    return Error{*err};
  log->orchestrators_offset_ += log->staged_orchestrators_.size();
  log->staged_orchestrators_.clear();
  log->staged_orchestrator_ends_.clear();
  if (auto err = log->write_all(log->index_fd_, log->staged_index_, log->index_records_ * sizeof(IndexRecord), "audit.index"))
    return Error{*err};
  log->index_records_ += log->staged_index_.size() / sizeof(IndexRecord);
  log->staged_index_.clear();
  if (!log->indexed_events_.empty()) {
    log->indexed_ready_ = false;
    log->indexer_ = std::thread([p = log.get()] {
      std::sort(p->indexed_events_.begin(), p->indexed_events_.end());
      std::lock_guard lock(p->indexed_mutex_);
      p->indexed_ready_ = true;
      p->indexed_cv_.notify_all();
    });
  }
  // What is there now is flushed once, so that a failed flush later in this run marks only the
  // bytes written after it (not the whole file) to be written again.
  if (fsync) {
    if (::fdatasync(log->fd_) != 0) return Error{errno_text("cannot sync " + log->path_)};
    log->synced_end_ = log->end_offset_;
  }
  rep.entries = log->hashes_.size();
  rep.from_index = from_index;
  rep.index_note = index_note;
  return log;
}

AuditLog::~AuditLog() {
  if (indexer_.joinable()) indexer_.join();
  for (int fd : {fd_, index_fd_, orchestrators_fd_})
    if (fd >= 0) ::close(fd);
}

void AuditLog::remember(const chain::Hash256& hash, std::uint64_t offset, std::uint32_t length, std::uint32_t orchestrator,
                        std::uint64_t event_fp, std::uint64_t seq, bool from_index) {
  spans_.push_back({offset, length});
  hashes_.push_back(hash);
  if (from_index) indexed_events_.emplace_back(event_fp, seq);
  else if (!event_first_.try_emplace(event_fp, seq).second) event_more_[event_fp].push_back(seq);
  by_orchestrator_[orchestrator].push_back(seq);
}

std::uint32_t AuditLog::orchestrator_number(const std::string& id, std::uint64_t seq) {
  auto [it, inserted] = orchestrator_numbers_.emplace(id, static_cast<std::uint32_t>(orchestrator_ids_.size()));
  if (inserted) {
    orchestrator_ids_.push_back(id);
    by_orchestrator_.emplace_back();
    append_canonical_string(staged_orchestrators_, id);
    staged_orchestrators_ += '\n';
    staged_orchestrator_ends_.emplace_back(seq, staged_orchestrators_.size());
  }
  return it->second;
}

std::optional<std::string> AuditLog::write_all(int fd, const std::string& data, std::uint64_t offset, const char* what) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return errno_text(std::string(what) + " write failed");
    done += static_cast<std::size_t>(n);
  }
  return std::nullopt;
}

void AuditLog::sign_entries_with(const chain::PrivateKey& key) {
  entry_key_ = key;
  entry_signer_ = key.address();
}

std::string AuditLog::append_entry(const LedgerEntry& entry, const std::string& kind, const std::string& source,
                                   const std::string& recipient, std::uint64_t journal_seq) {
  chain::Address address{};
  if (!recipient.empty())
    if (auto a = chain::parse_address(recipient)) address = *a;
  return append_entry(entry, kind, source, address, journal_seq);
}

AuditLog::Built AuditLog::build(const LedgerEntry& entry, const std::string& kind, const std::string& source,
                               const chain::Address& recipient, std::uint64_t journal_seq, std::uint64_t seq,
                               const chain::Hash256& prev_hash, const chain::PrivateKey* key, const chain::Address& signer) {
  chain::audit::EntryFields f;
  f.seq = seq;
  f.prev_hash = prev_hash;
  f.timestamp = iso_utc(entry.at, UtcSuffix::z);
  f.kind = kind;
  f.event_id = entry.event_id;
  f.orchestrator_id = entry.orchestrator_id;
  f.recipient = recipient;
  f.delta_wei = entry.delta;
  f.balance_wei = entry.balance_after;
  f.reason = entry.reason;
  const std::string canonical = chain::audit::entry_canonical(f, entry.metadata);
  Built out;
  out.hash = chain::keccak256(canonical);
  // The host wrapper, canonical (sorted keys), written directly.
  std::string& line = out.line;
  line.reserve(canonical.size() + 256);
  line += "{\"audit_entry\":";
  if (key) {
    line += chain::audit::with_entry_signature(chain::audit::with_entry_hash(canonical, out.hash), signer,
                                               chain::sign_digest(*key, chain::eip191_hash32(out.hash)).to_hex());
  } else {
    chain::audit::append_with_entry_hash(line, canonical, out.hash);
  }
  line += ",\"journal_seq\":" + std::to_string(journal_seq) + ",\"received_at\":";
  append_canonical_string(line, f.timestamp);
  line += ",\"schema\":\"";
  line += kAuditWrapperSchema;
  line += "\",\"source\":";
  append_canonical_string(line, source);
  line += '}';
  // The reference writes its wrapper lines ASCII-escaped (json.dumps' default); the entry's
  // hash is over its canonical form, raw UTF-8, which a reader rebuilds from the values.
  make_ascii_json(line);
  return out;
}

std::string AuditLog::append_entry(const LedgerEntry& entry, const std::string& kind, const std::string& source,
                                   const chain::Address& recipient, std::uint64_t journal_seq) {
  // hashes_ changes only here (the one thread that stages entries), so reading it needs no lock.
  const std::uint64_t seq = hashes_.size() + 1;
  Built built = build(entry, kind, source, recipient, journal_seq, seq, hashes_.empty() ? chain::Hash256{} : hashes_.back(),
                      entry_key_ ? &*entry_key_ : nullptr, entry_signer_);
  std::string& line = built.line;
  const chain::Hash256& hash = built.hash;
  const std::uint64_t fp = event_fingerprint(entry.event_id);
  std::unique_lock lock(mutex_);
  const std::uint32_t orchestrator = orchestrator_number(entry.orchestrator_id, seq);
  IndexRecord r{hash, staged_offset_, static_cast<std::uint32_t>(line.size()), orchestrator, fp, 0};
  r.check = r.compute_check();
  staged_index_.append(reinterpret_cast<const char*>(&r), sizeof r);
  remember(hash, staged_offset_, static_cast<std::uint32_t>(line.size()), orchestrator, fp, seq);
  staged_offset_ += line.size() + 1;
  staged_hashes_.push_back(hash);  // the tree takes them in bulk when they are written
  last_journal_seq_ = journal_seq;
  return std::move(built.line);
}

std::optional<std::string> AuditLog::write(const std::vector<std::string>& lines) {
  if (lines.empty()) return std::nullopt;
  std::string data;
  for (const auto& l : lines) {
    data += l;
    data += '\n';
  }
  // New orchestrator ids first, then the lines, then their index records: an index record
  // never describes bytes that were not written before it.
  std::string orchestrators, index;
  {
    std::unique_lock lock(mutex_);
    // The ids introduced by the entries written now (seqs up to last).
    const std::uint64_t last = visible_ + lines.size();
    std::size_t id_bytes = 0;
    while (!staged_orchestrator_ends_.empty() && staged_orchestrator_ends_.front().first <= last) {
      id_bytes = staged_orchestrator_ends_.front().second;
      staged_orchestrator_ends_.pop_front();
    }
    orchestrators = staged_orchestrators_.substr(0, id_bytes);
    staged_orchestrators_.erase(0, id_bytes);
    for (auto& end : staged_orchestrator_ends_) end.second -= id_bytes;
    const std::size_t bytes = std::min(staged_index_.size(), lines.size() * sizeof(IndexRecord));
    index = staged_index_.substr(0, bytes);
    staged_index_.erase(0, bytes);
  }
  if (auto err = write_all(orchestrators_fd_, orchestrators, orchestrators_offset_, "audit.orchestrators")) return err;
  orchestrators_offset_ += orchestrators.size();
  if (auto err = write_all(fd_, data, end_offset_, "audit.jsonl")) return err;
  if (auto err = write_all(index_fd_, index, index_records_ * sizeof(IndexRecord), "audit.index")) return err;
  index_records_ += index.size() / sizeof(IndexRecord);
  std::unique_lock lock(mutex_);
  const std::size_t hashed = std::min(staged_hashes_.size(), lines.size());
  tree_.append_many(staged_hashes_.data(), hashed);
  staged_hashes_.erase(staged_hashes_.begin(), staged_hashes_.begin() + static_cast<std::ptrdiff_t>(hashed));
  end_offset_ += data.size();
  visible_ += lines.size();
  return std::nullopt;
}

std::optional<std::string> AuditLog::sync() {
  std::lock_guard guard(sync_mutex_);
  if (sync_failure_) return sync_failure_;
  if (!fsync_) return std::nullopt;
  std::uint64_t end = 0;
  {
    std::shared_lock lock(mutex_);
    end = end_offset_;  // written before the flush: covered by it
  }
  if (::fdatasync(fd_) == 0) {
    synced_end_ = end;
    return std::nullopt;
  }
  sync_failure_ = errno_text("audit.jsonl fdatasync failed") + ": what was written after its byte " +
                  std::to_string(synced_end_) +
                  " may not be on the disk, and a later flush would not say so; no checkpoint is signed until the node "
                  "restarts, and the start writes those bytes again (check the disk: its errors are in the kernel's log)";
  // The mark, so that the next start writes the bytes past the last good flush again (their
  // pages may be in memory still, taken for clean). Made durable as far as the disk allows.
  if (auto err = mark_failed_flush(dir_ + "/" + kAuditSyncFailedMark, synced_end_))
    *sync_failure_ += "; and " + *err + ": before starting the node again, run `sync` and check the disk";
  return sync_failure_;
}

bool AuditLog::sync_failed() const {
  std::lock_guard guard(sync_mutex_);
  return sync_failure_.has_value();
}


std::optional<std::string> AuditLog::check_stored(std::uint64_t entries, const std::atomic<bool>& stop) const {
  constexpr std::uint64_t kBatch = 4096;
  std::vector<Span> spans;
  std::vector<chain::Hash256> hashes;
  chain::Hash256 previous{};
  std::uint64_t previous_journal_seq = 0;
  std::string text;
  std::vector<std::string_view> lines;
  std::vector<Result<ParsedLine>> parsed;
  // Whom each entry is listed under (audit.index and audit.orchestrators): the line must name
  // that orchestrator, or listings by orchestrator would serve another's entries.
  constexpr std::uint32_t kNobody = std::numeric_limits<std::uint32_t>::max();
  std::vector<std::uint32_t> owner(entries + 1, kNobody);
  std::vector<std::string> ids;
  {
    std::shared_lock lock(mutex_);
    ids = orchestrator_ids_;
    for (std::uint32_t k = 0; k < by_orchestrator_.size(); ++k)
      for (const std::uint64_t seq : by_orchestrator_[k])
        if (seq <= entries) owner[seq] = k;
  }
  for (std::uint64_t first = 1; first <= entries; first += kBatch) {
    if (stop.load(std::memory_order_relaxed)) return std::nullopt;
    const std::uint64_t last = std::min(entries, first + kBatch - 1);
    {
      std::shared_lock lock(mutex_);
      if (last > hashes_.size()) return "the log has fewer entries than checked";
      spans.assign(spans_.begin() + static_cast<std::ptrdiff_t>(first - 1), spans_.begin() + static_cast<std::ptrdiff_t>(last));
      hashes.assign(hashes_.begin() + static_cast<std::ptrdiff_t>(first - 1), hashes_.begin() + static_cast<std::ptrdiff_t>(last));
    }
    const std::uint64_t begin = spans.front().offset, end = spans.back().offset + spans.back().length + 1;
    text.resize(end - begin);
    if (!read_exact(fd_, text.data(), text.size(), begin)) return "cannot read " + path_;
    lines.clear();
    for (std::size_t i = 0; i < spans.size(); ++i) {
      const std::size_t at = spans[i].offset - begin;
      if (at + spans[i].length >= text.size() || text[at + spans[i].length] != '\n' || (at > 0 && text[at - 1] != '\n'))
        return path_ + ": entry " + std::to_string(first + i) + ": not where audit.index says it is";
      lines.push_back(std::string_view(text).substr(at, spans[i].length));
    }
    check_lines(lines, parsed);
    for (std::size_t i = 0; i < spans.size(); ++i) {
      const std::uint64_t seq = first + i;
      auto fail = [&](const std::string& why) { return path_ + ": entry " + std::to_string(seq) + ": " + why; };
      if (!parsed[i]) return fail(parsed[i].error());
      if (parsed[i]->seq != seq) return fail("seq " + std::to_string(parsed[i]->seq) + " is out of place");
      if (parsed[i]->prev != previous) return fail("prev_hash does not link to the entry before it");
      if (parsed[i]->hash != hashes[i]) return fail("entry_hash differs from audit.index");
      if (owner[seq] == kNobody || ids[owner[seq]] != parsed[i]->orchestrator_id)
        return fail("names orchestrator " + parsed[i]->orchestrator_id + ", but audit.index and audit.orchestrators list it under " +
                    (owner[seq] == kNobody ? std::string("none") : ids[owner[seq]]));
      // Each entry describes a later journal record than the one before (as the lines read at
      // start-up past the index, and as `lpops verify` checks them).
      if (parsed[i]->journal_seq <= previous_journal_seq)
        return fail("journal_seq " + std::to_string(parsed[i]->journal_seq) + " does not increase (the entry before names " +
                    std::to_string(previous_journal_seq) + ")");
      previous = parsed[i]->hash;
      previous_journal_seq = parsed[i]->journal_seq;
    }
  }
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

bool AuditLog::line_has_event(std::uint64_t seq, const std::string& event_id) const {
  auto text = line(seq);
  if (!text) return false;
  ScannedEntry scanned;
  std::string ignored;
  if (scan_canonical_line(*text, scanned, ignored)) return scanned.has_event_id && scanned.event_id == event_id;
  auto parsed = parse_line(*text);
  return parsed && parsed->event_id == event_id;
}

bool AuditLog::events_indexed() const {
  std::lock_guard lock(indexed_mutex_);
  return indexed_ready_;
}

std::optional<std::uint64_t> AuditLog::seq_of(const std::string& event_id) const {
  const std::uint64_t fp = event_fingerprint(event_id);
  std::vector<std::uint64_t> candidates;
  {
    std::unique_lock lock(indexed_mutex_);
    indexed_cv_.wait(lock, [this] { return indexed_ready_; });
  }
  // indexed_events_ no longer changes once sorted.
  for (auto it = std::lower_bound(indexed_events_.begin(), indexed_events_.end(), std::pair<std::uint64_t, std::uint64_t>{fp, 0});
       it != indexed_events_.end() && it->first == fp; ++it)
    candidates.push_back(it->second);
  {
    std::shared_lock lock(mutex_);
    if (const std::uint64_t* first = event_first_.find(fp)) {
      candidates.push_back(*first);
      if (auto more = event_more_.find(fp); more != event_more_.end())
        candidates.insert(candidates.end(), more->second.begin(), more->second.end());
    }
  }
  for (std::uint64_t seq : candidates)  // ascending: the first entry with the id
    if (line_has_event(seq, event_id)) return seq;
  return std::nullopt;
}

std::optional<chain::Hash256> AuditLog::entry_hash(std::uint64_t seq) const {
  std::shared_lock lock(mutex_);
  if (seq == 0 || seq > visible_) return std::nullopt;
  return hashes_[seq - 1];
}

std::vector<std::string> AuditLog::orchestrator_ids() const {
  std::shared_lock lock(mutex_);
  return orchestrator_ids_;
}

std::vector<std::uint64_t> AuditLog::seqs(const std::optional<std::string>& orchestrator_id, std::uint64_t since,
                                          std::size_t limit, bool descending) const {
  std::shared_lock lock(mutex_);
  std::vector<std::uint64_t> out;
  if (orchestrator_id) {
    auto it = orchestrator_numbers_.find(*orchestrator_id);
    if (it == orchestrator_numbers_.end()) return out;
    // The orchestrator's seqs ascend: only those in (since, visible_] are visited.
    const auto& v = by_orchestrator_[it->second];
    const auto first = std::upper_bound(v.begin(), v.end(), since);
    const auto last = std::upper_bound(first, v.end(), visible_);
    if (descending)
      for (auto at = last; at != first && out.size() < limit;) out.push_back(*--at);
    else
      for (auto at = first; at != last && out.size() < limit; ++at) out.push_back(*at);
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
