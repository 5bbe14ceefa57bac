// `lpops verify`: checks the transparency log without trusting the operator. A log file
// (offline) or a live node (--url): every entry hash, seq and prev_hash link, the Merkle
// root against signed checkpoints (signatures recovered and, with --audit-address, matched
// to the expected key), an inclusion proof for --event-id, and with --since a saved
// checkpoint that the log must extend (rollback and fork detection).
// Exit codes: 0 verified, 1 verification failed (first bad seq and why), 2 usage or I/O.
#include <filesystem>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>
#include <fstream>
#include <functional>
#include <sstream>
#include <unordered_map>

#include "app/http_get.hpp"
#include "app/node.hpp"
#include "chain/hex.hpp"
#include "domain/json_parse.hpp"
#include "storage/audit_verify.hpp"

namespace lpops::app {
namespace {

namespace json = boost::json;
using storage::Checkpoint;
using storage::LogVerifier;

struct Outcome {
  int code = 0;  // 0 ok, 1 verification failure, 2 usage / I/O
  std::string why;
  json::object details;
};

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO)) {}
  void tick(std::uint64_t done, std::uint64_t bytes, std::uint64_t total_bytes) {
    if (!enabled_ || done == 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    if (total_bytes)
      std::fprintf(stderr, "\rverify: %llu entries, %.0f%%, %.0f entries/s   ", static_cast<unsigned long long>(done),
                   100.0 * static_cast<double>(bytes) / static_cast<double>(total_bytes), static_cast<double>(done) / secs);
    else
      std::fprintf(stderr, "\rverify: %llu entries, %.0f entries/s   ", static_cast<unsigned long long>(done),
                   static_cast<double>(done) / secs);
  }
  void done() {
    if (enabled_) std::fprintf(stderr, "\r%60s\r", "");
  }

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_ = start_;  // the first line once there is something to say
};

// `twice`: set to a key the text names twice in one object (the value keeps the last; another
// reader may keep the first), for the caller to refuse.
Result<json::value> read_json_file(const std::string& path, std::optional<std::string>& twice) {
  std::ifstream in(path);
  if (!in) return Error{"cannot read " + path + ": " + std::strerror(errno)};
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  const std::string text = ss.str();
  auto v = parse_json(text, ec);
  if (ec) return Error{path + " is not one JSON value (a saved checkpoint is one JSON object, such as one line of checkpoints.jsonl)"};
  twice = duplicate_json_key(text);
  return v;
}

// The --audit-address keys, for a message: "the expected audit address 0x…", or "any of …".
std::string expected_signers(const VerifyOptions& o) {
  std::string list;
  for (const auto& text : o.audit_addresses) {
    auto a = chain::parse_address(text);
    list += (list.empty() ? "" : ", ") + (a ? chain::to_checksummed(*a) : text);
  }
  return (o.audit_addresses.size() == 1 ? "the expected audit address " : "any of the expected audit addresses ") + list;
}

// Whether `a` is one of the --audit-address keys (any key when none is given).
bool expected_signer(const VerifyOptions& o, const chain::Address& a) {
  if (o.audit_addresses.empty()) return true;
  for (const auto& text : o.audit_addresses)
    if (auto expected = chain::parse_address(text); expected && *expected == a) return true;
  return false;
}

// Several --audit-address keys are a rotation, in the order the keys signed (oldest first; a
// key used again later is listed again). Signers met in order must follow that list: each at
// its place or after the place of the signer before it. A key listed only before that place
// was rotated out, and signs nothing new.
struct Rotation {
  std::size_t at = 0;                    // the list's place of the last signer met
  std::optional<chain::Address> signer;  // that signer
  // `key` signs next (`what` names what it signed): nullopt when it follows the rotation.
  std::optional<std::string> follow(const VerifyOptions& o, const chain::Address& key, const std::string& what) {
    if (o.audit_addresses.size() < 2) return std::nullopt;
    for (std::size_t i = at; i < o.audit_addresses.size(); ++i)
      if (auto listed = chain::parse_address(o.audit_addresses[i]); listed && *listed == key) {
        at = i;
        signer = key;
        return std::nullopt;
      }
    if (!signer || !expected_signer(o, key)) return std::nullopt;  // an unlisted key is refused elsewhere
    return what + " is signed by " + chain::to_checksummed(key) + ", a key rotated out before " + chain::to_checksummed(*signer) +
           ", which signed before it (--audit-address lists the keys of a rotation in the order they signed, oldest first; "
           "a key used again is listed again)";
  }
};

// The --contract address, as --audit-address is read.
Result<chain::Address> expected_contract(const VerifyOptions& o) { return chain::parse_address(o.contract); }

// The binding every checkpoint must be signed for (--chain-id, --contract), when given.
std::optional<std::string> check_binding(const Checkpoint& c, const VerifyOptions& o) {
  if (o.chain_id && c.chain_id != o.chain_id)
    return "checkpoint at seq " + std::to_string(c.seq) + " is signed for chain id " + std::to_string(c.chain_id) + ", not " +
           std::to_string(o.chain_id) + " (--chain-id)";
  if (!o.contract.empty())
    if (auto want = expected_contract(o); want && *want != c.contract)
      return "checkpoint at seq " + std::to_string(c.seq) + " is signed for contract " + chain::to_checksummed(c.contract) +
             ", not " + chain::to_checksummed(*want) + " (--contract)";
  return std::nullopt;
}

// Signature, expected key and (with a log) agreement with the log. `audit` is the signer of
// the checkpoint before: another one is a key change, recorded in `key_changes` (an operator
// rotated the audit key; each checkpoint still holds by its own signature and the log), or,
// without `key_changes`, a failure.
// With `rotation`, the checkpoint's key must follow the rotation's (checkpoints in order).
std::optional<std::string> check_one(const Checkpoint& c, const VerifyOptions& o, const LogVerifier* log,
                                     std::optional<chain::Address>& audit, json::array* key_changes = nullptr,
                                     Rotation* rotation = nullptr) {
  if (auto err = storage::check_checkpoint_signature(c)) return "checkpoint at seq " + std::to_string(c.seq) + ": " + *err;
  if (!expected_signer(o, c.audit_address))
    return "checkpoint at seq " + std::to_string(c.seq) + " is signed by " + chain::to_checksummed(c.audit_address) +
           ", not by " + expected_signers(o);
  if (auto err = check_binding(c, o)) return err;
  if (rotation)
    if (auto err = rotation->follow(o, c.audit_address, "checkpoint at seq " + std::to_string(c.seq))) return err;
  if (audit && *audit != c.audit_address) {
    if (!key_changes) return "checkpoint at seq " + std::to_string(c.seq) + " is signed by another audit key than the others";
    key_changes->push_back(json::object{{"seq", c.seq},
                                        {"from", chain::to_checksummed(*audit)},
                                        {"to", chain::to_checksummed(c.audit_address)}});
  }
  audit = c.audit_address;
  if (log)
    if (auto err = log->check_checkpoint(c)) return *err;
  return std::nullopt;
}

struct CheckpointKey {
  std::uint64_t seq;
  chain::Address key;
};

// Per-entry signatures (optional in the log). Entries up to the newest checkpoint are vouched
// for by it (it commits to every one of them, whichever key signed them: an audit key may
// have been rotated since). Past it, an entry vouches for the log only when signed by that
// checkpoint's key: a key rotated in since looks the same as a key anyone made, and a key
// rotated out must not extend the log. With --audit-address every key must be one of them.
// Gives the seq up to which signed entries vouch for the log (with no checkpoint at all,
// every signed entry does).
Result<std::uint64_t> check_entry_signers(const LogVerifier& log, const VerifyOptions& o,
                                          const std::optional<CheckpointKey>& newest) {
  std::uint64_t vouched = 0;
  Rotation rotation;
  for (const auto& r : log.signer_runs()) {
    if (!expected_signer(o, r.signer))
      return Error{(r.first_seq == r.last_seq ? "entry " + std::to_string(r.first_seq) + " is"
                                              : "entries " + std::to_string(r.first_seq) + "-" + std::to_string(r.last_seq) + " are") +
                   " signed by " + chain::to_checksummed(r.signer) + ", not by " + expected_signers(o)};
    if (auto err = rotation.follow(o, r.signer, "entry " + std::to_string(r.first_seq))) return Error{*err};
    if (!newest || r.signer == newest->key) vouched = r.last_seq;
  }
  return vouched;
}

// The lines' form: a log this node wrote has journal_seq on every line, and is held to its
// spelling and wrapper fields; one without (livepeer-ops's) has its entries checked alone. A
// log of this node's with journal_seq taken out reads as the second: said, so it shows.
void report_line_form(const LogVerifier& log, json::object& details) {
  if (log.size() > 0) details["line_form"] = log.lines_of_this_node() ? "lpops" : "livepeer-ops";
}

// The reference's payout debits the log verified although they took a balance below zero (the
// reference left it at zero): verified, but said, as each is a payout larger than the
// balance it was taken from.
void report_clamped_payout_debits(const LogVerifier& log, json::object& details) {
  if (!log.clamped_payout_debits()) return;
  details["clamped_payout_debits"] = log.clamped_payout_debits();
  json::array seqs;
  for (auto seq : log.clamped_payout_debit_seqs()) seqs.push_back(seq);
  details["clamped_payout_debit_seqs"] = std::move(seqs);
}

// Where the entries' signing key changed (an audit key rotation), for the outcome.
void report_entry_signers(const LogVerifier& log, json::object& details) {
  const auto& runs = log.signer_runs();
  if (runs.empty()) return;
  details["entry_signer"] = chain::to_checksummed(runs.back().signer);
  if (runs.size() < 2) return;
  json::array changes;
  for (std::size_t i = 1; i < runs.size(); ++i)
    changes.push_back(json::object{{"seq", runs[i].first_seq},
                                   {"from", chain::to_checksummed(runs[i - 1].signer)},
                                   {"to", chain::to_checksummed(runs[i].signer)}});
  details["entry_signer_changes"] = std::move(changes);
}

// How far signatures vouch for the log: up to the latest checkpoint, or up to the last signed
// entry (its hash chains to every entry before it). Past that, anyone who can hash could
// have written the entries: an error unless --allow-unsigned, which reports them as
// unvouched. (A running node's files have such a tail until its next checkpoint; a node
// stopped cleanly signs one covering everything.)
// `checkpoint_seq` is that of the newest checkpoint, if any: one at seq 0 vouches for nothing,
// but entries signed by another key than its own are still not the node's.
std::optional<std::string> check_vouched(const LogVerifier& log, std::optional<std::uint64_t> checkpoint_seq,
                                         std::uint64_t entries_vouched, const VerifyOptions& o, json::object& details) {
  const std::uint64_t vouched = std::min<std::uint64_t>(log.size(), std::max(checkpoint_seq.value_or(0), entries_vouched));
  // Nothing signed at all: the callers' own rule.
  if (vouched == 0 && !(checkpoint_seq && log.last_signed_seq() > 0)) return std::nullopt;
  details["vouched_through_seq"] = vouched;
  if (log.size() == vouched) return std::nullopt;
  details["unvouched_entries"] = log.size() - vouched;
  if (o.allow_unsigned) return std::nullopt;
  const std::string range = std::to_string(vouched + 1) + "-" + std::to_string(log.size());
  if (log.last_signed_seq() > vouched)
    return "entries " + range + " are signed by " + chain::to_checksummed(*log.entry_signer()) +
           ", not by the key of the newest checkpoint (a key rotated in since it, or one rotated out): verify again after the "
           "node's next checkpoint, name the key with --audit-address, or pass --allow-unsigned to report them as unvouched";
  if (log.entry_signer())
    return "entries " + range + " carry no signature and no checkpoint covers them, though earlier entries are signed by " +
           chain::to_checksummed(*log.entry_signer()) +
           ": nothing says the node wrote them (--allow-unsigned reports them as unvouched instead)";
  return "entries " + range + " come after the newest signed checkpoint (seq " + std::to_string(vouched) +
         "): they hash and chain correctly, but nothing signed vouches for them yet. A running node signs a checkpoint "
         "every PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES entries or PAYMENTS_AUDIT_CHECKPOINT_INTERVAL_SECONDS, and one at "
         "a clean stop: verify again after it, or pass --allow-unsigned to report them as unvouched";
}

// A checkpoint saved earlier (--since): parsed, signature and expected key checked.
Result<Checkpoint> saved_checkpoint(const VerifyOptions& o, int* code) {
  std::optional<std::string> twice;
  auto saved_json = read_json_file(o.since_file, twice);
  if (!saved_json) {
    *code = 2;
    return Error{saved_json.error()};
  }
  if (twice) {
    *code = 1;
    return Error{o.since_file + ": the saved checkpoint names " + *twice + " twice (readers may take either value)"};
  }
  // A file that is no checkpoint at all is the wrong file (2, as an unreadable one); a
  // checkpoint whose signature or key does not hold is a failed verification (1).
  auto saved = storage::parse_checkpoint(*saved_json);
  if (!saved) {
    *code = 2;
    return Error{o.since_file + " is not a saved checkpoint: " + saved.error()};
  }
  *code = 1;
  // Saved before a key change too, it holds by its own signature: whether the log extends
  // it is what the caller checks next.
  std::optional<chain::Address> signer;
  if (auto err = check_one(*saved, o, nullptr, signer)) return Error{"saved checkpoint: " + *err};
  return saved;
}

// Said after a saved checkpoint the log or node does not extend, when another key signed it:
// the likelier cause is a file saved from another node than a rollback or a fork.
std::string other_signer_note(const Checkpoint& saved, const std::optional<chain::Address>& current) {
  if (!current || *current == saved.audit_address) return {};
  return " (the saved checkpoint is signed by " + chain::to_checksummed(saved.audit_address) + ", the " +
         "checked one by " + chain::to_checksummed(*current) + ": if it was saved from another node, check against that " +
         "node's own saved checkpoint; a node whose audit key changed also signs with another address)";
}

unsigned verify_threads(const VerifyOptions& o) {
  return o.threads ? o.threads : std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
}

// The event id of a stored line (a host wrapper or a bare entry), if it has one.
Result<std::string> event_id_of_line(std::string_view line) {
  boost::system::error_code ec;
  auto doc = parse_json(line, ec);
  if (ec) return Error{"not JSON"};
  auto entry = storage::checked_entry_ref(doc);
  if (!entry) return Error{entry.error()};
  const auto* e = entry->first->if_contains("event_id");
  if (!e || !e->is_string()) return Error{"no event id"};
  return std::string(e->as_string());
}

// Each balance change has its own event id: one recorded twice is a double credit (or
// debit) however well the log is chained and signed. Candidates come from fingerprints;
// `event_id_of` confirms them against the entries, so a fingerprint collision never fails.
std::optional<std::string> repeated_event(LogVerifier& log, const std::function<Result<std::string>(std::uint64_t)>& event_id_of) {
  // Within a group of equal fingerprints, each event id against every earlier one in it
  // (one lookup each): ids that merely collide do not hide a repeat after them. The first
  // repeat in the log is the one reported.
  std::optional<std::pair<std::uint64_t, std::string>> earliest;  // seq, message
  for (const auto& seqs : log.duplicate_event_candidates()) {
    std::unordered_map<std::string, std::uint64_t> seen;  // event id -> its first seq
    for (const auto seq : seqs) {
      if (earliest && seq >= earliest->first) break;
      auto id = event_id_of(seq);
      if (!id) return "entry " + std::to_string(seq) + ": " + id.error();
      auto [it, fresh] = seen.emplace(*id, seq);
      if (!fresh) {
        earliest = {seq, "entry " + std::to_string(seq) + ": event id " + *id + " repeats entry " + std::to_string(it->second) +
                             " (one change recorded twice)"};
        break;
      }
    }
  }
  if (earliest) return earliest->second;
  return std::nullopt;
}

// The log file is read through a mapping: a file cut shorter while it is read (a node cutting
// a torn tail at start-up, or a careless copy) turns the next read past its new end into
// SIGBUS. The handler ends the command with status 2 and says why, in JSON on standard output
// too with --json (only what is safe in a signal handler: texts made beforehand, write, _exit).
std::string g_shrank_stderr, g_shrank_stdout;
int g_shrank_status = 2;

extern "C" void on_log_shrank(int) {
  (void)!::write(STDERR_FILENO, g_shrank_stderr.data(), g_shrank_stderr.size());
  if (!g_shrank_stdout.empty()) (void)!::write(STDOUT_FILENO, g_shrank_stdout.data(), g_shrank_stdout.size());
  ::_exit(g_shrank_status);
}

void say_log_shrank_on_sigbus(const VerifyOptions& o) {
  std::fflush(stdout);
  struct sigaction action {};
  action.sa_handler = on_log_shrank;
  sigemptyset(&action.sa_mask);
  if (!o.sigbus_message.empty()) {  // another command's words and status
    g_shrank_stderr = "\n" + o.sigbus_message + "\n";
    g_shrank_stdout.clear();
    g_shrank_status = 1;
    ::sigaction(SIGBUS, &action, nullptr);
    return;
  }
  g_shrank_status = 2;
  const std::string why = o.log_file + " was cut shorter while it was read (a node cutting its torn tail, or a copy "
                          "being replaced): nothing was verified; run the command again";
  g_shrank_stderr = "\nlpops verify: error: " + why + "\n";
  g_shrank_stdout = o.json ? json::serialize(json::object{{"status", "error"}, {"reason", why}}) + "\n" : std::string();
  ::sigaction(SIGBUS, &action, nullptr);
}

Outcome verify_file(const VerifyOptions& o) {
  Outcome out;
  // Checkpoints first: the given file, else checkpoints.jsonl next to the log. Read before
  // the log, so that checking a live node's files never finds a checkpoint signed after the
  // log was read (the log only grows; every checkpoint read covers entries already in it).
  std::string cp_path = o.checkpoints_file;
  std::string looked_for;  // checkpoints.jsonl beside the log, when it is not there
  if (cp_path.empty()) {
    const auto slash = o.log_file.find_last_of('/');
    cp_path = (slash == std::string::npos ? std::string(".") : o.log_file.substr(0, slash)) + "/checkpoints.jsonl";
    // Only a file not there at all is absent; one there that cannot be read is said below.
    std::error_code status_ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(cp_path, status_ec))) {
      looked_for = cp_path;
      cp_path.clear();
    }
  }
  std::vector<std::string> cp_lines;
  if (!cp_path.empty()) {
    std::error_code dir_ec;
    if (std::filesystem::is_directory(cp_path, dir_ec))
      return {2, cp_path + " is a directory: --checkpoints takes the checkpoints file (checkpoints.jsonl in the data directory)", {}};
    std::ifstream cps(cp_path, std::ios::binary);
    if (!cps) return {2, "cannot read " + cp_path + ": " + std::strerror(errno), {}};
    std::string text((std::istreambuf_iterator<char>(cps)), std::istreambuf_iterator<char>());
    // An unterminated last line that is no JSON is a checkpoint still being written (or
    // torn): not one yet. A whole one without its newline (a file saved by hand) counts.
    if (!text.empty() && text.back() != '\n') {
      const std::size_t keep = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
      boost::system::error_code ec;
      parse_json(std::string_view(text).substr(keep), ec);
      if (ec) {
        out.details["torn_checkpoint_bytes"] = text.size() - keep;
        text.erase(keep);
      } else {
        text += '\n';
      }
    }
    for (std::size_t at = 0; at < text.size();) {
      const std::size_t nl = text.find('\n', at);
      cp_lines.push_back(text.substr(at, nl - at));
      at = nl + 1;
    }
  }
  const int fd = ::open(o.log_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {2, "cannot read " + o.log_file + ": " + std::strerror(errno), {}};
  struct stat st {};
  std::uint64_t total = ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return {2, o.log_file + " is a directory: --log takes the log file (audit.jsonl in the data directory)", {}};
  }
  LogVerifier log(verify_threads(o));
  log.reserve(static_cast<std::size_t>(total / 512));  // entries are larger than this
  if (!o.event_id.empty()) log.watch_event(o.event_id);
  Progress progress(!o.json);
  // The file mapped read-only; whole lines handed to the verifier a batch at a time.
  const char* data = nullptr;
  say_log_shrank_on_sigbus(o);
  // A pipe, a FIFO or a file of /proc has no size to map (fstat says 0): read whole, so that
  // `--log /dev/stdin` or `--log <(zcat audit.jsonl.gz)` checks what it is given rather than
  // an empty log.
  std::string read_whole;
  const bool mapped = S_ISREG(st.st_mode);
  if (!mapped) {
    char buffer[1 << 16];
    while (true) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int read_errno = errno;
        ::close(fd);
        return {2, "cannot read " + o.log_file + ": " + std::strerror(read_errno), {}};
      }
      if (n == 0) break;
      read_whole.append(buffer, static_cast<std::size_t>(n));
    }
    total = read_whole.size();
    data = read_whole.data();
  } else if (total) {
    void* map = ::mmap(nullptr, total, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      ::close(fd);
      return {2, "cannot map " + o.log_file, {}};
    }
    ::madvise(map, total, MADV_SEQUENTIAL);
    data = static_cast<const char*>(map);
  }
  struct Unmap {
    const char* p;
    std::uint64_t n;
    ~Unmap() {
      if (p) ::munmap(const_cast<char*>(p), n);
    }
  } unmap{mapped ? data : nullptr, total};
  // An unterminated last line is a write still in progress, or one a crash tore: the node
  // writes every line with its newline and cuts such a tail at start-up. It is no entry (and
  // no checkpoint covers it); its size is reported.
  const std::uint64_t file_bytes = total;
  if (total && data[total - 1] != '\n') {
    const auto* last_nl = static_cast<const char*>(::memrchr(data, '\n', total));
    total = last_nl ? static_cast<std::uint64_t>(last_nl - data) + 1 : 0;
  }
  constexpr std::uint64_t kBatchBytes = 32 << 20;
  std::uint64_t pos = 0;
  while (pos < total) {
    std::uint64_t end = std::min(total, pos + kBatchBytes);
    if (end < total) {  // up to the end of the line the batch stops in
      const void* nl = std::memchr(data + end, '\n', total - end);
      end = nl ? static_cast<std::uint64_t>(static_cast<const char*>(nl) - data) + 1 : total;
    }
    if (!log.add_text(data + pos, end - pos)) {
      ::close(fd);
      progress.done();
      return {1, log.failure(), {}};
    }
    pos = end;
    progress.tick(log.size(), std::min(pos, total), total);
  }
  if (!log.finish()) {
    ::close(fd);
    progress.done();
    return {1, log.failure(), {}};
  }
  ::close(fd);
  progress.done();
  // Lines are entries in order (a blank or extra line has failed above), so the seq-th
  // line is entry seq.
  auto line_of = [&](std::uint64_t seq) -> Result<std::string> {
    std::uint64_t at = 0, n = 0;
    while (at < total) {
      const void* nl = std::memchr(data + at, '\n', total - at);
      const std::uint64_t stop = nl ? static_cast<std::uint64_t>(static_cast<const char*>(nl) - data) : total;
      if (++n == seq) return event_id_of_line(std::string_view(data + at, stop - at));
      at = stop + 1;
    }
    return Error{"not in the file"};
  };
  if (auto err = repeated_event(log, line_of)) return {1, *err, {}};
  out.details["entries"] = log.size();
  out.details["head_hash"] = chain::to_hex(log.head());
  out.details["merkle_root"] = chain::to_hex(log.root());
  if (total < file_bytes) out.details["torn_tail_bytes"] = file_bytes - total;
  report_line_form(log, out.details);
  report_clamped_payout_debits(log, out.details);

  std::optional<chain::Address> audit;
  std::optional<Checkpoint> latest;
  json::array key_changes;
  Rotation rotation;
  std::vector<CheckpointKey> signers;  // of the checkpoints, in order
  if (!cp_path.empty()) {
    std::uint64_t count = 0, previous = 0;
    while (!cp_lines.empty() && cp_lines.back().empty()) cp_lines.pop_back();  // blank lines at the end only
    for (const auto& line : cp_lines) {
      if (line.empty())
        return {1, cp_path + ": a blank line after checkpoint " + std::to_string(count) + " (the node never writes one)", {}};
      if (auto twice = duplicate_json_key(line))
        return {1, cp_path + ": checkpoint " + std::to_string(count + 1) + " names " + *twice + " twice (readers may take either value)", {}};
      boost::system::error_code ec;
      auto v = parse_json(line, ec);
      // A first line that is no checkpoint at all: another file was named (status 2), not a
      // checkpoint that fails.
      const auto* fields = !ec && v.is_object() ? &v.as_object() : nullptr;
      const auto* schema = fields ? fields->if_contains("schema") : nullptr;
      const bool checkpoint_like =
          fields && (schema ? schema->is_string() && schema->as_string().starts_with("payments-tee-core:checkpoint")
                            : fields->contains("merkle_root") && fields->contains("signature"));
      if (count == 0 && !checkpoint_like)
        return {2, cp_path + " is not a checkpoints file (its first line is no checkpoint: checkpoints.jsonl of a data directory)", {}};
      auto c = ec ? Result<Checkpoint>(Error{"not JSON"}) : storage::parse_checkpoint(v);
      if (!c) return {1, cp_path + ": " + c.error(), {}};
      if (count > 0 && c->seq <= previous) return {1, "checkpoint at seq " + std::to_string(c->seq) + " follows one at seq " + std::to_string(previous) + " (checkpoints only grow: a line was duplicated or moved)", {}};
      if (auto err = check_one(*c, o, &log, audit, &key_changes, &rotation)) return {1, *err, {}};
      signers.push_back({c->seq, c->audit_address});
      previous = c->seq;
      latest = *c;
      ++count;
    }
    out.details["checkpoints"] = count;
    if (!key_changes.empty()) out.details["audit_key_changes"] = key_changes;
  }
  auto entries_vouched = check_entry_signers(log, o, latest ? std::optional<CheckpointKey>({latest->seq, latest->audit_address}) : std::nullopt);
  if (!entries_vouched) return {1, entries_vouched.error(), {}};
  if (auto err = check_vouched(log, latest ? std::optional<std::uint64_t>(latest->seq) : std::nullopt, *entries_vouched, o,
                               out.details))
    return {1, *err, {}};
  // Said with the check that needed one: no checkpoints file was found beside the log.
  const std::string none_found =
      looked_for.empty() ? std::string()
                         : " (no --checkpoints was given and " + looked_for +
                               " does not exist: name the node's checkpoints.jsonl with --checkpoints FILE)";
  if (!o.audit_addresses.empty() && !latest && !log.entry_signer())
    return {1, "no signed checkpoint to check the audit address against" + none_found, {}};
  // Anyone can hash and chain entries: without a signature nothing says the node wrote them
  // (a checkpoint of the empty log, at seq 0, vouches for none of them).
  const bool vouching_checkpoint = latest && latest->seq > 0;
  if (log.size() > 0 && !vouching_checkpoint && !log.entry_signer() && !o.allow_unsigned)
    return {1, "no signed checkpoint (and no signed entries): the entries hash and chain correctly, but nothing signed "
               "vouches for them (--allow-unsigned checks the structure alone)" + none_found, {}};
  if (!vouching_checkpoint && !log.entry_signer()) out.details["signed"] = false;
  report_entry_signers(log, out.details);
  if (latest) {
    out.details["checkpoint_seq"] = latest->seq;
    out.details["audit_address"] = chain::to_checksummed(latest->audit_address);
  }
  if (!o.since_file.empty()) {
    int code = 0;
    auto saved = saved_checkpoint(o, &code);
    if (!saved) return {code, saved.error(), {}};
    if (auto err = log.check_checkpoint(*saved))
      return {1,
              "the log does not extend the saved checkpoint: " + *err +
                  other_signer_note(*saved, latest ? std::optional<chain::Address>(latest->audit_address) : std::nullopt),
              {}};
    // The checkpoints after it follow the rotation from its key on.
    Rotation since;
    (void)since.follow(o, saved->audit_address, "the saved checkpoint");
    for (const auto& later : signers)
      if (later.seq > saved->seq)
        if (auto err = since.follow(o, later.key, "checkpoint at seq " + std::to_string(later.seq))) return {1, *err, {}};
    out.details["consistent_since_seq"] = saved->seq;
  }
  if (!o.event_id.empty()) {
    auto seq = log.seq_of(o.event_id);
    if (!seq) return {1, "event " + o.event_id + " is not in the log", {}};
    const std::uint64_t size = latest ? latest->seq : log.size();
    // Not provable yet, nothing wrong: as the node's 409 over --url (status 2).
    if (*seq > size)
      return {2, "event " + o.event_id + " (seq " + std::to_string(*seq) + ") is newer than the latest checkpoint (seq " +
                     std::to_string(size) + "): it cannot be proved yet; retry after the node's next checkpoint",
              {}};
    auto path = log.inclusion_proof(*seq, size);
    const auto root = latest ? latest->merkle_root : log.root();
    if (!path || !chain::merkle::verify_inclusion(*log.entry_hash(*seq), *seq - 1, size, *path, root))
      return {1, "inclusion proof for " + o.event_id + " does not verify", {}};
    out.details["verified_event_id"] = o.event_id;
    out.details["event_seq"] = *seq;
  }
  return out;
}

// Time spent waiting out the node's rate limit, over the whole run.
struct RateLimitWaits {
  double waited_s = 0;
  double said_at = -1;
  std::string at;  // where a long walk is, said with each wait ("12000 of 50000 log entries read")
};
RateLimitWaits rate_limit_waits;

// GET target: the body as text (a 429 waited out, below).
Result<std::pair<int, std::string>> get_text(HttpGetter& http, const std::string& target) {
  auto r = http.get(target);
  // The node rate-limits its public routes per IP (429): wait and ask again, 0.5 s doubling up
  // to 10 s for one request, for at most ~10 minutes over the run, rather than fail a long
  // walk of the log.
  double wait_s = 0.5;
  auto& w = rate_limit_waits;
  while (r && r->first == 429 && w.waited_s < 600) {
    // Said on stderr (the --json answer is on stdout), at the first refusal and every 30 s.
    if (w.said_at < 0 || w.waited_s - w.said_at >= 30) {
      std::fprintf(stderr, "verify: the node rate-limits its public routes (HTTP 429); waiting and asking again (%.0f s so far%s%s)\n",
                   w.waited_s, w.at.empty() ? "" : "; ", w.at.c_str());
      w.said_at = w.waited_s;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(wait_s));
    w.waited_s += wait_s;
    wait_s = std::min(wait_s * 2, 10.0);
    r = http.get(target);
  }
  if (!r) return Error{r.error()};
  return *r;
}

Result<json::value> get_json(HttpGetter& http, const std::string& target, int* status = nullptr) {
  auto r = get_text(http, target);
  if (!r) return Error{r.error()};
  if (status) *status = r->first;
  boost::system::error_code ec;
  auto v = parse_json(r->second, ec);
  if (ec) return Error{"GET " + http.path_of(target) + ": HTTP " + std::to_string(r->first) + ", not JSON"};
  if (!status && r->first != 200)
    return Error{"GET " + http.path_of(target) + ": HTTP " + std::to_string(r->first) + " " + r->second.substr(0, 200)};
  return v;
}

// A JSON array of 32-byte hex hashes (a proof).
Result<std::vector<chain::Hash256>> hash_list(const json::value& v) {
  if (!v.is_array()) return Error{"not a list of hashes"};
  std::vector<chain::Hash256> out;
  for (const auto& x : v.as_array()) {
    auto h = x.is_string() ? chain::hash32_from_hex(x.as_string()) : Result<chain::Hash256>(Error{"not a string"});
    if (!h) return Error{"malformed hash in proof"};
    out.push_back(*h);
  }
  return out;
}

std::string url_escape(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') out += static_cast<char>(c);
    else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

Outcome verify_url(const VerifyOptions& o) {
  Outcome out;
  auto http_r = HttpGetter::create(o.url, std::chrono::seconds(o.timeout_seconds));
  if (!http_r) return {2, http_r.error(), {}};
  auto& http = **http_r;
  const std::string base = "/api/transparency/tee-core";
  // Asked for the expected binding, the node signs its statement for it (as the reference does).
  std::string binding;
  if (o.chain_id) binding += "chain_id=" + std::to_string(o.chain_id);
  if (!o.contract.empty()) binding += (binding.empty() ? "" : "&") + std::string("contract_address=") + url_escape(o.contract);
  const std::string cp_target = base + "/audit/checkpoint" + (binding.empty() ? "" : "?" + binding);
  auto cp_text = get_text(http, cp_target);
  if (!cp_text) return {2, cp_text.error(), {}};
  if (cp_text->first != 200)
    return {2, "GET " + http.path_of(cp_target) + ": HTTP " + std::to_string(cp_text->first) + " " + cp_text->second.substr(0, 200), {}};
  boost::system::error_code cp_ec;
  auto cp_json = parse_json(cp_text->second, cp_ec);
  if (cp_ec) return {2, "GET " + http.path_of(cp_target) + ": HTTP 200, not JSON", {}};
  // Named twice, a member reads differently in different readers: a forged answer.
  if (auto twice = duplicate_json_key(cp_text->second)) return {1, "served checkpoint names " + *twice + " twice", {}};
  auto cp = storage::parse_checkpoint(cp_json);
  if (!cp) return {1, "served checkpoint: " + cp.error(), {}};
  std::optional<chain::Address> audit;
  if (auto err = check_one(*cp, o, nullptr, audit)) return {1, *err, {}};
  // The newest checkpoint must be signed by the key the node reports: one signed by another
  // (a replaced checkpoints file, or a key changed since, until the node signs again) vouches
  // for nothing this node stands behind.
  {
    auto status_json = get_json(http, base + "/audit/status");
    if (!status_json) return {2, status_json.error(), {}};
    const auto* reported = status_json->is_object() ? status_json->as_object().if_contains("audit_address") : nullptr;
    auto address = reported && reported->is_string() ? chain::parse_address(std::string(reported->as_string()))
                                                     : Result<chain::Address>(Error{"missing"});
    if (!address) {
      std::string lower = reported && reported->is_string() ? std::string(reported->as_string()) : "";
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      address = chain::parse_address(lower);
    }
    if (!address) return {1, "the node's audit status names no audit_address", {}};
    if (*address != cp->audit_address)
      return {1, "the node reports audit address " + chain::to_checksummed(*address) + ", but its newest checkpoint (seq " +
                     std::to_string(cp->seq) + ") is signed by " + chain::to_checksummed(cp->audit_address),
              {}};
  }
  out.details["checkpoint_seq"] = cp->seq;
  out.details["audit_address"] = chain::to_checksummed(cp->audit_address);
  // Whether the log at `second` extends the log at `first` (the node's consistency proof
  // between the two roots): nullopt when it does, else the outcome to return.
  auto extends = [&](std::uint64_t first, const chain::Hash256& first_root, std::uint64_t second,
                     const chain::Hash256& second_root, const std::string& what) -> std::optional<Outcome> {
    if (first == second) {
      if (first_root == second_root) return std::nullopt;
      return Outcome{1, "fork: " + what + " and the node's checkpoint have different roots at seq " + std::to_string(first), {}};
    }
    const std::string target = base + "/audit/consistency?first=" + std::to_string(first) + "&second=" + std::to_string(second);
    auto answer = get_text(http, target);
    if (!answer) return Outcome{2, answer.error(), {}};
    const int status = answer->first;
    // A node that answers and will not prove it (4xx, whatever its body) fails the check: the
    // log it serves may not extend the one it signed before. A failure on its side (5xx), a
    // rate limit that outlasted the waits (429) or the network's leaves the check undone (2).
    if (status >= 400 && status < 500 && status != 429)
      return Outcome{1, "the node will not prove that its log at seq " + std::to_string(second) + " extends the one at seq " +
                            std::to_string(first) + " (" + what + "): GET " + http.path_of(target) + " answered HTTP " +
                            std::to_string(status) + " " + answer->second.substr(0, 200),
                     {}};
    if (status != 200)
      return Outcome{2, "GET " + http.path_of(target) + ": HTTP " + std::to_string(status) + " " + answer->second.substr(0, 200), {}};
    boost::system::error_code parse_ec;
    auto proof = parse_json(answer->second, parse_ec);
    if (parse_ec) return Outcome{1, "consistency proof: GET " + http.path_of(target) + " answered 200 with no JSON", {}};
    const auto* proof_list = proof.is_object() ? proof.as_object().if_contains("proof") : nullptr;
    auto path = proof_list ? hash_list(*proof_list) : Result<std::vector<chain::Hash256>>(Error{"no proof"});
    if (!path) return Outcome{1, "consistency proof: " + path.error(), {}};
    if (!chain::merkle::verify_consistency(first, second, first_root, second_root, *path))
      return Outcome{1, "fork: the log at seq " + std::to_string(second) + " does not extend the one at seq " +
                            std::to_string(first) + " (" + what + ")", {}};
    return std::nullopt;
  };

  // The log as the newest checkpoint signs it (entries the node added since are vouched for
  // by nothing yet), unless --skip-log.
  std::unique_ptr<LogVerifier> downloaded;
  if (!o.skip_log) {
    downloaded = std::make_unique<LogVerifier>(verify_threads(o));
    LogVerifier& log = *downloaded;
    Progress progress(!o.json);
    // Each entry is checked as the bytes served, as `--log` checks a file's lines (canonical
    // form, no key named twice): re-serialised, a forged duplicate key or another spelling
    // would pass here while readers of the served log disagree on what it says.
    while (log.size() < cp->seq) {
      const std::string target = base + "/log?order=asc&limit=1000&since_seq=" + std::to_string(log.size());
      rate_limit_waits.at = std::to_string(log.size()) + " of " + std::to_string(cp->seq) + " log entries read";
      auto page = get_text(http, target);
      rate_limit_waits.at.clear();
      if (!page) return {2, page.error(), {}};
      if (page->first != 200)
        return {2, "GET " + http.path_of(target) + ": HTTP " + std::to_string(page->first) + " " + page->second.substr(0, 200), {}};
      boost::system::error_code ec;
      parse_json(page->second, ec);
      // A page naming a key twice ("entries", say) reads differently in different readers.
      if (!ec)
        if (auto twice = duplicate_json_key(page->second)) return {1, "log page names " + *twice + " twice (" + target + ")", {}};
      auto entries = ec ? std::nullopt : raw_array_elements(page->second, "entries");
      if (!entries) return {1, "log page without entries (" + target + ")", {}};
      const std::size_t wanted = static_cast<std::size_t>(std::min<std::uint64_t>(entries->size(), cp->seq - log.size()));
      if (!log.add_batch(entries->data(), wanted)) return {1, log.failure(), {}};
      progress.tick(log.size(), 0, 0);
      // A short page is not the end (something in between may page smaller): an empty one is
      // (check_checkpoint then says what is missing).
      if (entries->empty()) break;
    }
    progress.done();
    // An entry asked for again (to confirm a repeated event id) must be the one verified at
    // that position: its hash, not only its own consistency, is compared.
    // A page not had (the network, or an answer other than 200) is an I/O failure (status 2),
    // not a verdict on the log.
    bool served_line_unreachable = false;
    auto served_line = [&](std::uint64_t seq) -> Result<std::string> {
      auto page = get_text(http, base + "/log?order=asc&limit=1&since_seq=" + std::to_string(seq - 1));
      if (!page || page->first != 200) {
        served_line_unreachable = true;
        return Error{page ? "HTTP " + std::to_string(page->first) + " " + page->second.substr(0, 200) : page.error()};
      }
      auto entries = raw_array_elements(page->second, "entries");
      if (!entries || entries->empty()) return Error{"not served"};
      boost::system::error_code ec;
      const auto doc = parse_json(entries->front(), ec);
      auto entry = ec ? Result<std::pair<const json::object*, chain::Hash256>>(Error{"not JSON"}) : storage::checked_entry_ref(doc);
      if (!entry) return Error{"served again: " + entry.error()};
      if (entry->second != log.entry_hash(seq))
        return Error{"served again, it is another entry than the one verified at seq " + std::to_string(seq)};
      return event_id_of_line(std::string(entries->front()));
    };
    if (auto err = repeated_event(log, served_line)) return {served_line_unreachable ? 2 : 1, *err, {}};
    if (auto err = log.check_checkpoint(*cp)) return {1, *err, {}};
    auto entries_vouched = check_entry_signers(log, o, CheckpointKey{cp->seq, cp->audit_address});
    if (!entries_vouched) return {1, entries_vouched.error(), {}};
    if (auto err = check_vouched(log, cp->seq, *entries_vouched, o, out.details)) return {1, *err, {}};
    report_entry_signers(log, out.details);
    report_line_form(log, out.details);
    report_clamped_payout_debits(log, out.details);
    out.details["entries"] = log.size();
    out.details["merkle_root"] = chain::to_hex(log.root());
  }
  if (!o.since_file.empty()) {
    int code = 0;
    auto saved = saved_checkpoint(o, &code);
    if (!saved) return {code, saved.error(), {}};
    if (saved->seq > cp->seq)
      return {1, "rollback: the node's checkpoint is at seq " + std::to_string(cp->seq) + ", below the saved seq " +
                     std::to_string(saved->seq) + other_signer_note(*saved, cp->audit_address), {}};
    if (auto failed = extends(saved->seq, saved->merkle_root, cp->seq, cp->merkle_root, "the saved checkpoint")) {
      failed->why += other_signer_note(*saved, cp->audit_address);
      return *failed;
    }
    // The node's newest checkpoint follows the rotation from the saved one's key on.
    Rotation since;
    (void)since.follow(o, saved->audit_address, "the saved checkpoint");
    if (saved->seq < cp->seq)
      if (auto err = since.follow(o, cp->audit_address, "the node's newest checkpoint (seq " + std::to_string(cp->seq) + ")"))
        return {1, *err, {}};
    out.details["consistent_since_seq"] = saved->seq;
  }
  if (!o.event_id.empty()) {
    int status = 0;
    auto proof = get_json(http, base + "/audit/proof?event_id=" + url_escape(o.event_id) + (binding.empty() ? "" : "&" + binding),
                          &status);
    if (!proof) return {2, proof.error(), {}};
    // 409: the entry is newer than the node's newest checkpoint. Nothing is wrong yet; the
    // node's advice (retry after the next checkpoint) is passed on.
    if (status == 409) {
      const auto* d = proof->is_object() ? proof->as_object().if_contains("detail") : nullptr;
      return {2, "cannot prove " + o.event_id + " yet: " + (d && d->is_string() ? std::string(d->as_string()) : "HTTP 409"), {}};
    }
    // The node's own failure (5xx) says nothing of the log: status 2, as documented.
    if (status >= 500)
      return {2, "cannot get a proof for " + o.event_id + ": the node answered HTTP " + std::to_string(status), {}};
    if (status != 200) return {1, "no proof for " + o.event_id + " (HTTP " + std::to_string(status) + ")", {}};
    if (!proof->is_object()) return {1, "the proof is not a JSON object", {}};
    const auto& p = proof->as_object();
    const json::value* cp_value = p.if_contains("checkpoint");
    const json::value* entry_value = p.if_contains("audit_entry");
    const json::value* leaf_value = p.if_contains("leaf_index");
    if (!cp_value || !entry_value || !leaf_value || !leaf_value->is_int64())
      return {1, "the proof lacks checkpoint, audit_entry or leaf_index", {}};
    auto proof_cp = storage::parse_checkpoint(*cp_value);
    if (!proof_cp) return {1, "proof checkpoint: " + proof_cp.error(), {}};
    if (auto err = check_one(*proof_cp, o, nullptr, audit)) return {1, "proof checkpoint: " + *err, {}};
    // The proof's checkpoint must be the one verified above or one consistent with it: a
    // checkpoint of a fork proves nothing about this log, even signed with the audit key.
    const bool proof_first = proof_cp->seq <= cp->seq;
    if (auto failed = extends(proof_first ? proof_cp->seq : cp->seq, proof_first ? proof_cp->merkle_root : cp->merkle_root,
                              proof_first ? cp->seq : proof_cp->seq, proof_first ? cp->merkle_root : proof_cp->merkle_root,
                              "the proof's checkpoint"))
      return *failed;
    // And, with the log downloaded, the log itself at that size.
    if (downloaded && proof_cp->seq <= downloaded->size())
      if (auto err = downloaded->check_checkpoint(*proof_cp)) return {1, "the proof's checkpoint: " + *err, {}};
    auto entry = storage::checked_entry(*entry_value);
    if (!entry) return {1, "proof entry: " + entry.error(), {}};
    const auto* event = entry->first.if_contains("event_id");
    if (!event || !event->is_string() || event->as_string() != o.event_id) return {1, "the proof is for another event", {}};
    const auto* seq_value = entry->first.if_contains("seq");
    if (!seq_value || !seq_value->is_int64() || seq_value->as_int64() < 1) return {1, "proof entry: no seq", {}};
    const auto seq = static_cast<std::uint64_t>(seq_value->as_int64());
    if (static_cast<std::uint64_t>(leaf_value->as_int64()) != seq - 1) return {1, "leaf_index is not seq - 1", {}};
    const auto* proof_list = p.if_contains("proof");
    auto path = proof_list ? hash_list(*proof_list) : Result<std::vector<chain::Hash256>>(Error{"no proof"});
    if (!path) return {1, "inclusion proof: " + path.error(), {}};
    if (!chain::merkle::verify_inclusion(entry->second, seq - 1, proof_cp->seq, *path, proof_cp->merkle_root))
      return {1, "inclusion proof for " + o.event_id + " does not verify against the signed checkpoint", {}};
    out.details["verified_event_id"] = o.event_id;
    out.details["event_seq"] = seq;
  }
  return out;
}

}  // namespace

std::pair<int, std::string> check_audit_files(const std::string& log, const std::string& checkpoints) {
  VerifyOptions o;
  o.log_file = log;
  o.checkpoints_file = checkpoints;
  o.allow_unsigned = true;  // a running node's copy ends with entries its next checkpoint signs
  o.json = true;            // no progress lines
  o.sigbus_message = "lpops backup: the copy's audit log " + log +
                     " could not be read (an I/O error of the disk): the backup failed; its partial copy is left, and the "
                     "next backup into that target removes it";
  struct sigaction before {};
  ::sigaction(SIGBUS, nullptr, &before);
  std::pair<int, std::string> result;
  try {
    const Outcome out = verify_file(o);
    result = {out.code, out.why};
  } catch (const std::exception& e) {
    result = {2, e.what()};
  }
  ::sigaction(SIGBUS, &before, nullptr);  // the command's own again
  return result;
}

int verify(const VerifyOptions& o) {
  // Usage errors (exit 2) before any work: a check that could never run is not a pass.
  const char* usage = nullptr;
  if (o.log_file.empty() == o.url.empty()) usage = "give exactly one of --log and --url";
  else if (o.skip_log && o.url.empty()) usage = "--skip-log goes with --url (--log always checks the whole file)";
  else if (!o.checkpoints_file.empty() && o.log_file.empty()) usage = "--checkpoints goes with --log";
  else if (o.event_id_given && o.event_id.empty()) usage = "--event-id is empty";
  for (const auto& a : o.audit_addresses)
    if (!usage && !chain::parse_address(a)) {
      const bool hex_form = a.size() == 42 && a.starts_with("0x") && a.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos;
      usage = hex_form ? "--audit-address is in mixed case but not its EIP-55 checksum (a typo? in lower case it is not checked)"
                       : "--audit-address is not a 0x-prefixed 20-byte hex address";
    }
  if (!usage && !o.contract.empty() && !expected_contract(o))
    usage = "--contract is not a 0x-prefixed 20-byte hex address (or is in mixed case but not its EIP-55 checksum)";
  if (usage) {
    std::fprintf(stderr, "lpops verify: %s\n", usage);
    // With --json the outcome is JSON on standard output whatever it is, a usage error too.
    if (o.json) std::printf("%s\n", json::serialize(json::object{{"status", "error"}, {"reason", usage}}).c_str());
    return 2;
  }
  Outcome out;
  try {
    out = o.url.empty() ? verify_file(o) : verify_url(o);
  } catch (const std::exception& e) {
    out = {2, e.what(), {}};
  }
  if (o.json) {
    json::object doc = out.details;
    doc["status"] = out.code == 0 ? "ok" : (out.code == 1 ? "failed" : "error");
    if (out.code) doc["reason"] = out.why;
    std::printf("%s\n", json::serialize(doc).c_str());
  } else if (out.code == 0) {
    std::printf("verified:");
    for (const auto& [k, v] : out.details) std::printf(" %s=%s", std::string(k).c_str(), v.is_string() ? std::string(v.as_string()).c_str() : json::serialize(v).c_str());
    std::printf("\n");
  } else {
    std::fprintf(stderr, "lpops verify: %s: %s\n", out.code == 1 ? "FAILED" : "error", out.why.c_str());
  }
  return out.code;
}

}  // namespace lpops::app
