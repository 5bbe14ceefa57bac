#include "storage/file_store.hpp"
#include "domain/json_parse.hpp"
#include "storage/durable_fs.hpp"

#include <openssl/evp.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "domain/json_fields.hpp"

namespace lpops::storage {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kReadChunkBytes = 8u << 20;
// Direct mode: O_DIRECT needs offsets, lengths and buffers aligned to the device's logical
// block; 4 KiB suits every device with 512 B or 4 KiB blocks.
constexpr std::size_t kDirectAlign = 4096;
constexpr std::size_t kZeroChunkBytes = 1u << 20;
// One direct write (then one fdatasync) takes at most this much: a group of records, or
// one record of up to kMaxRecordBytes. A crash can tear only the last write, so bytes
// past the journal's first NUL farther than this are damage, not a torn write.
constexpr std::size_t kDirectWriteBytes = 8u << 20;
constexpr std::uint64_t kTornWriteSpan = std::max<std::uint64_t>(kDirectWriteBytes, kMaxRecordBytes) + 2 * kDirectAlign;

std::uint64_t round_up(std::uint64_t n) { return (n + kDirectAlign - 1) / kDirectAlign * kDirectAlign; }
std::uint64_t round_down(std::uint64_t n) { return n / kDirectAlign * kDirectAlign; }
// v2: the book's bytes carry their SHA-256 ("book_sha256", after the book), so a snapshot
// damaged on disk is never taken for the ledger (the journal is replayed instead).
// v3: the checksum covers everything before it (the header too: seq, journal_offset,
// last_hash); v2 (still read) covered the book only, so a damaged header digit passed it.
constexpr std::string_view kSnapshotFormat = "lpops-snapshot:v3";
constexpr std::string_view kSnapshotFormatV2 = "lpops-snapshot:v2";
constexpr std::string_view kBookKey = ",\"book\":";
constexpr std::string_view kBookHashKey = ",\"book_sha256\":\"";
constexpr std::string_view kSnapshotHashKey = ",\"sha256\":\"";

// Streams complete lines of [from, EOF) with their offsets; returns the offset just past
// the last complete line, or nullopt (errno set) when a read fails: a read error is never
// taken for the end of the file, or start-up would cut the records behind it. The journal's
// content ends at its first NUL byte (zeroed blocks written ahead of the records follow
// it): `nul_at` gets its offset, or stays untouched.
template <class OnLine>
std::optional<std::uint64_t> for_each_line(int fd, std::uint64_t from, OnLine&& on_line, std::uint64_t* nul_at = nullptr) {
  std::string buffer;
  std::uint64_t buffer_start = from;
  std::vector<char> chunk(kReadChunkBytes);
  std::uint64_t pos = from;
  for (bool last = false; !last;) {
    ssize_t n = ::pread(fd, chunk.data(), chunk.size(), static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    if (const void* nul = std::memchr(chunk.data(), 0, static_cast<std::size_t>(n))) {
      n = static_cast<const char*>(nul) - chunk.data();
      if (nul_at) *nul_at = pos + static_cast<std::uint64_t>(n);
      last = true;
    }
    pos += static_cast<std::uint64_t>(n);
    buffer.append(chunk.data(), static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (;;) {
      std::size_t nl = buffer.find('\n', start);
      if (nl == std::string::npos) break;
      if (!on_line(std::string_view(buffer).substr(start, nl - start), buffer_start + start)) return buffer_start + start;
      start = nl + 1;
    }
    buffer.erase(0, start);
    buffer_start += start;
  }
  return buffer_start;
}

// The offset just past the last non-NUL byte of [from, to), or `from` if they are all NUL;
// nullopt on a read error.
std::optional<std::uint64_t> end_of_data(int fd, std::uint64_t from, std::uint64_t to) {
  std::vector<char> chunk(kReadChunkBytes);
  std::uint64_t end = from;
  for (std::uint64_t pos = from; pos < to;) {
    ssize_t n = ::pread(fd, chunk.data(), static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), to - pos)),
                        static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    for (ssize_t i = n; i > 0; --i)
      if (chunk[static_cast<std::size_t>(i - 1)] != 0) {
        end = pos + static_cast<std::uint64_t>(i);
        break;
      }
    pos += static_cast<std::uint64_t>(n);
  }
  return end;
}

// The offset of the first intact record (its own hash checks out) with a seq above
// `after_seq` among the lines of [from, to), NUL runs counting as line breaks; nullopt when
// there is none. `read_failed` is set (errno with it) when the bytes cannot be read.
std::optional<std::uint64_t> intact_record_in(int fd, std::uint64_t from, std::uint64_t to, std::uint64_t after_seq,
                                              bool& read_failed) {
  read_failed = false;
  std::string bytes(static_cast<std::size_t>(to - from), '\0');
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(from + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      read_failed = true;
      return std::nullopt;
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(done);
  std::size_t start = 0;
  while (start < bytes.size()) {
    std::size_t stop = start;
    while (stop < bytes.size() && bytes[stop] != '\n' && bytes[stop] != '\0') ++stop;
    if (stop > start) {
      auto r = parse_record(std::string_view(bytes).substr(start, stop - start));
      if (r && r->seq > after_seq) return from + start;
    }
    start = stop + 1;
  }
  return std::nullopt;
}

// What the first bytes of a cut tail say of the record they begin, for the operator who must
// judge whether it was acknowledged: its seq, its effect's type and the orchestrator or
// workload it names, as far as the bytes reach (`, which begins record seq 13 ("orchestrator",
// orchestrator_id "orch-9")`); empty when they begin no record.
std::string describe_cut(std::string_view bytes) {
  bytes = bytes.substr(0, std::min<std::size_t>(bytes.size(), 4096));
  auto field = [&](std::string_view key, bool quoted) -> std::string {
    const std::string needle = "\"" + std::string(key) + "\":" + (quoted ? "\"" : "");
    const auto at = bytes.find(needle);
    if (at == std::string_view::npos) return {};
    const auto from = at + needle.size();
    std::size_t to = from;
    while (to < bytes.size() && to - from < 128 &&
           (quoted ? bytes[to] != '"' && bytes[to] != '\\' : bytes[to] >= '0' && bytes[to] <= '9'))
      ++to;
    if (to == from || to >= bytes.size() || (quoted && bytes[to] != '"')) return {};
    return std::string(bytes.substr(from, to - from));
  };
  if (!bytes.starts_with("{\"seq\":")) return {};
  const std::string seq = field("seq", false);
  if (seq.empty()) return {};
  std::string what = ", which begins record seq " + seq;
  std::string inner;
  if (const auto type = field("type", true); !type.empty()) inner = "\"" + type + "\"";
  for (const char* key : {"workload_id", "event_id", "orchestrator_id"})
    if (const auto value = field(key, true); !value.empty()) {
      inner += (inner.empty() ? "" : ", ") + std::string(key) + " \"" + value + "\"";
      break;
    }
  return inner.empty() ? what : what + " (" + inner + ")";
}

char* aligned_buffer(std::size_t bytes) {
  void* p = nullptr;
  return ::posix_memalign(&p, kDirectAlign, bytes) == 0 ? static_cast<char*>(p) : nullptr;
}

// Where a snapshot's bytes go. Buffered: through the page cache, written back piece by piece
// (sync_file_range, waiting for each), so that the journal's commits, which flush the disk's
// cache, never queue behind hundreds of MB; pacing only spreads the writeback out (the fsync
// at the end makes the file durable), so a filesystem that refuses sync_file_range just gets
// the snapshot unpaced; a write-back error it reports fails the snapshot (the fsync at the end
// would not report it again). Direct (O_DIRECT):
// gathered in an aligned buffer and written a block-aligned piece at a time, the last one
// padded and the file then cut to its length; nothing passes through the page cache, so a
// snapshot neither evicts the node's memory nor leaves writeback for the journal's flushes.
class SnapshotSink {
 public:
  static constexpr std::size_t kDirectPiece = 1u << 20;
  static constexpr std::uint64_t kSpaceCheckBytes = 4u << 20;
  // `reserve`: the free space the snapshot must leave (for the journal and the audit log);
  // checked every kSpaceCheckBytes, as no estimate of a snapshot's size before it is written
  // holds for every book.
  SnapshotSink(int fd, bool direct, std::uint64_t pace_bytes, std::uint64_t reserve)
      : fd_(fd), direct_(direct), pace_(pace_bytes), reserve_(reserve) {
    if (direct_) buffer_.reset(aligned_buffer(kDirectPiece));
  }
  // Whether a put failed because the free space fell to the reserve.
  bool out_of_space() const { return out_of_space_; }
  bool put(std::string_view piece) {
    if (!space_left()) return false;
    if (!direct_) {
      if (!write_all(fd_, piece.data(), piece.size())) return false;
      written_ += piece.size();
      return pace();
    }
    if (!buffer_) {
      errno = ENOMEM;
      return false;
    }
    while (!piece.empty()) {
      const std::size_t n = std::min(kDirectPiece - filled_, piece.size());
      std::memcpy(buffer_.get() + filled_, piece.data(), n);
      filled_ += n;
      piece.remove_prefix(n);
      if (filled_ == kDirectPiece && !write_buffer(kDirectPiece)) return false;
    }
    return true;
  }
  // The last, partial piece: padded to a block, written, and the file cut to its length.
  bool finish() {
    if (!direct_ || filled_ == 0) return true;
    const std::uint64_t length = written_ + filled_;
    const std::size_t padded = static_cast<std::size_t>(round_up(filled_));
    std::memset(buffer_.get() + filled_, 0, padded - filled_);
    return write_buffer(padded) && ::ftruncate(fd_, static_cast<off_t>(length)) == 0;
  }

 private:
  bool write_buffer(std::size_t size) {
    for (std::size_t done = 0; done < size;) {
      ssize_t w = ::pwrite(fd_, buffer_.get() + done, size - done, static_cast<off_t>(written_ + done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      if (static_cast<std::size_t>(w) % kDirectAlign != 0) {  // a short write off the block grid
        errno = EIO;
        return false;
      }
      done += static_cast<std::size_t>(w);
    }
    written_ += size;
    filled_ = 0;
    return true;
  }
  bool space_left() {
    const std::uint64_t total = written_ + filled_;
    if (reserve_ == 0 || total - space_checked_at_ < kSpaceCheckBytes) return true;
    space_checked_at_ = total;
    struct statvfs vfs {};
    if (::fstatvfs(fd_, &vfs) != 0) return true;  // unknown: the write itself will say
    if (static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize >= reserve_) return true;
    out_of_space_ = true;
    errno = ENOSPC;
    return false;
  }
  // False (errno set) for a write-back that failed: waiting for it reports the error to this
  // descriptor, so the fsync at the end would not report it again.
  bool pace() {
    if (pace_ == 0 || written_ - written_back_ < pace_) return true;
    const int flags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
    if (::sync_file_range(fd_, static_cast<off_t>(written_back_), static_cast<off_t>(written_ - written_back_), flags) != 0) {
      if (errno != EINVAL && errno != ENOSYS && errno != ESPIPE && errno != EOPNOTSUPP) return false;
      pace_ = 0;  // refused by the filesystem: unpaced from here on
    }
    written_back_ = written_;
    return true;
  }
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  int fd_;
  bool direct_;
  std::uint64_t pace_;
  std::uint64_t reserve_ = 0;
  std::uint64_t space_checked_at_ = 0;
  bool out_of_space_ = false;
  std::uint64_t written_ = 0, written_back_ = 0;
  std::unique_ptr<char, Free> buffer_;
  std::size_t filled_ = 0;
};

}  // namespace

FileStore::FileStore(FileStoreOptions options) : options_(std::move(options)) {}

FileStore::~FileStore() {
  if (direct_fd_ >= 0) {
    stop_preallocating();
    // A clean stop leaves no zeroed blocks after the last record.
    struct stat st {};
    if (::fstat(direct_fd_, &st) == 0 && static_cast<std::uint64_t>(st.st_size) > end_offset_ &&
        ::ftruncate(direct_fd_, static_cast<off_t>(end_offset_)) == 0)
      (void)::fsync(direct_fd_);
    ::close(direct_fd_);
  }
  if (journal_fd_ >= 0) ::close(journal_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
  if (dir_lock_fd_ >= 0) ::close(dir_lock_fd_);
}

std::string FileStore::journal_path() const { return (fs::path(options_.data_dir) / "journal.jsonl").string(); }
std::string FileStore::snapshot_path() const { return (fs::path(options_.data_dir) / "snapshot.json").string(); }
std::string FileStore::clean_stop_path() const { return (fs::path(options_.data_dir) / "clean-stop.json").string(); }
std::string FileStore::sync_failed_path() const { return (fs::path(options_.data_dir) / kJournalSyncFailedMark).string(); }

std::string FileStore::describe() const { return "json files in " + options_.data_dir + modes(); }

std::string FileStore::describe_public() const { return "json files" + modes(); }

std::string FileStore::modes() const {
  return std::string(options_.fsync ? "" : " (fsync OFF: not durable)") + (direct_fd_ >= 0 ? " (journal: direct I/O)" : "");
}

std::optional<std::string> FileStore::lock_directory() {
  if (lock_fd_ >= 0) return std::nullopt;  // held already
  if (auto err = create_directories_durably(options_.data_dir)) return "cannot create data directory " + options_.data_dir + ": " + *err;
  const std::string in_use = "data directory " + options_.data_dir +
                             " is in use by another lpops process (a node serving it, or lpops replay reading it)";
  // The directory itself is locked first: LOCK is a file an operator may delete as stale, and
  // a lock on a deleted file keeps no second node out.
  dir_lock_fd_ = ::open(options_.data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_lock_fd_ < 0) return errno_text("cannot open data directory " + options_.data_dir);
  // A lock not taken leaves no descriptor behind (a later call would take it for held).
  auto release = [this] {
    for (int* fd : {&lock_fd_, &dir_lock_fd_})
      if (*fd >= 0) {
        ::close(*fd);
        *fd = -1;
      }
  };
  if (::flock(dir_lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const std::string why = errno == EWOULDBLOCK ? in_use : errno_text("cannot lock " + options_.data_dir);
    release();
    return why;
  }
  std::string lock_path = (fs::path(options_.data_dir) / "LOCK").string();
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    const std::string why = errno_text("cannot open " + lock_path);
    release();
    return why;
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    release();
    return in_use;
  }
  return std::nullopt;
}

bool FileStore::load_snapshot(RecoveryReport& report, std::uint64_t& offset, std::uint64_t& seq, Digest32& hash,
                              LoadedSnapshot& out) {
  // None written yet is the only silent case: a snapshot that is there but cannot be read
  // (permissions, an I/O error, a directory in its place) is said, not taken for "none".
  std::error_code status_ec;
  const auto status = fs::status(snapshot_path(), status_ec);
  if (status.type() == fs::file_type::not_found) return false;
  if (status_ec || status.type() != fs::file_type::regular) {
    report.warnings.push_back("snapshot.json is not a readable file" +
                              (status_ec ? ": " + status_ec.message() : std::string()) + "; replaying the whole journal");
    return false;
  }
  std::string& text = out.text;
  try {
    std::ifstream in(snapshot_path(), std::ios::binary);
    if (!in) {
      report.warnings.push_back(errno_text("snapshot.json cannot be opened") + "; replaying the whole journal");
      return false;
    }
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) throw std::runtime_error("I/O error");
  } catch (const std::exception& e) {
    report.warnings.push_back(std::string("snapshot.json cannot be read (") + e.what() + "); replaying the whole journal");
    return false;
  }
  // The workloads (most of a large book) are kept as their texts, each read on its own later:
  // the rest of the file is parsed here with their array left empty. Each piece is parsed
  // whole later, so together they are read as strictly as the file in one piece.
  boost::system::error_code ec;
  static constexpr std::string_view kWorkloadsPath[] = {"book", "workloads"};
  auto carved = raw_array_at(text, kWorkloadsPath);
  boost::json::value v;
  if (carved && carved->empty_element) {
    ec = boost::json::error::syntax;
  } else if (carved) {
    std::string rest;
    rest.reserve(carved->open + 1 + (text.size() - carved->close));
    rest.append(text, 0, carved->open + 1);
    rest.append(text, carved->close);
    v = parse_json(rest, ec);
    out.workloads = std::move(carved->elements);
  } else {
    v = parse_json(text, ec);
  }
  if (ec || !v.is_object()) {
    report.warnings.push_back("snapshot.json is unreadable; replaying the whole journal");
    return false;
  }
  auto& o = v.get_object();
  const std::string format = get_string(o, "format");
  if (format != kSnapshotFormat && format != kSnapshotFormatV2) {
    report.warnings.push_back("snapshot.json has another format than " + std::string(kSnapshotFormat) + "; replaying the whole journal");
    return false;
  }
  const auto book_at = text.find(kBookKey);
  const bool v3 = format == kSnapshotFormat;
  const auto hash_at = text.rfind(v3 ? kSnapshotHashKey : kBookHashKey);
  Digest32 stored_hash{};
  bool checks = book_at != std::string::npos && hash_at != std::string::npos && hash_at >= book_at + kBookKey.size() &&
                hex_decode(get_string(o, v3 ? "sha256" : "book_sha256"), stored_hash.data(), stored_hash.size());
  // v3: every byte before `,"sha256":"`; v2: the book's bytes (between `,"book":` and
  // `,"book_sha256":"`).
  if (checks)
    checks = sha256(v3 ? std::string_view(text).substr(0, hash_at)
                       : std::string_view(text).substr(book_at + kBookKey.size(), hash_at - book_at - kBookKey.size())) ==
             stored_hash;
  if (!checks) {
    report.warnings.push_back("snapshot.json fails its checksum (damaged on disk); replaying the whole journal");
    return false;
  }
  auto s = get_opt_int(o, "seq");
  auto off = get_opt_int(o, "journal_offset");
  auto h = get_opt_string(o, "last_hash");
  auto book = o.find("book");
  if (!s || !off || !h || *s < 0 || *off < 0 ||
      !hex_decode(*h, hash.data(), hash.size()) || book == o.end() || !book->value().is_object()) {
    report.warnings.push_back("snapshot.json is malformed; replaying the whole journal");
    return false;
  }
  seq = static_cast<std::uint64_t>(*s);
  offset = static_cast<std::uint64_t>(*off);
  out.book = std::move(book->value().get_object());
  return true;
}

namespace {

// Start-up's refusals when snapshot.json (which passed its checksum, so it proves records
// 1..taken_at durable) does not match the journal.
std::string snapshot_beyond_journal(std::uint64_t journal_records, std::uint64_t journal_bytes, std::uint64_t taken_at,
                                    std::uint64_t taken_at_byte) {
  return "journal.jsonl ends at record " + std::to_string(journal_records) + " (byte " + std::to_string(journal_bytes) +
         ": its end, or zeros there) but snapshot.json was taken at record " + std::to_string(taken_at) + " (byte " +
         std::to_string(taken_at_byte) + "): records that were durable are missing or unreadable; refusing to start. Restore "
         "journal.jsonl from a backup. (With snapshot.json moved aside the node starts on the records the journal "
         "holds, which drops those the snapshot proves durable: only for a journal known to be cut on purpose.)";
}

std::string snapshot_of_another_journal(std::uint64_t taken_at) {
  return "journal.jsonl record " + std::to_string(taken_at) + " is not the one snapshot.json was taken at: the journal "
         "was rewritten or damaged before that point, or the snapshot comes from another data directory (refusing to "
         "start). Restore journal.jsonl from a backup, or, if the snapshot is the stranger, move snapshot.json aside: "
         "start-up then checks every record and names any damage";
}

}  // namespace

std::optional<std::string> FileStore::index_prefix(std::uint64_t end_offset, std::uint64_t expected_records,
                                                   const Digest32& expected_hash) {
  std::uint64_t seq = 0;
  std::string last_line;
  const auto scanned = for_each_line(journal_fd_, 0, [&](std::string_view line, std::uint64_t at) {
    if (at >= end_offset) return false;
    index_.put(++seq, {at, static_cast<std::uint32_t>(line.size())});
    if (at + line.size() + 1 == end_offset) last_line.assign(line);
    return true;
  });
  if (!scanned) return errno_text("cannot read " + journal_path() + " (refusing to start)");
  const std::uint64_t stop = *scanned;
  // snapshot.json passed its checksum, so it proves records 1..expected_records were durable:
  // a journal that lacks them, or holds other ones, lost or changed acknowledged work.
  if (stop < end_offset || seq < expected_records) return snapshot_beyond_journal(seq, stop, expected_records, end_offset);
  bool same = stop == end_offset && seq == expected_records;
  if (same && seq > 0) {
    auto r = parse_record(last_line);
    same = r && r->seq == seq && r->hash == expected_hash;
  }
  if (!same) return snapshot_of_another_journal(expected_records);
  return std::nullopt;
}

Result<RecoveryReport> FileStore::recover(const SnapshotVisitor& on_snapshot, const RecordVisitor& visit) {
  // Read-only inspection beside a running node (it holds the LOCK): what follows the last
  // whole record may be a write in progress, not damage, so the scan ends there. Otherwise
  // a shared lock keeps a node from starting (and cutting the tail) while it runs.
  bool writer_running = false;
  std::vector<std::string> read_only_notes;
  if (options_.read_only) {
    const std::string lock_path = (fs::path(options_.data_dir) / "LOCK").string();
    auto share = [&](int fd, int& keep) {
      if (fd < 0) return;
      if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
        keep = fd;
      } else {
        writer_running = writer_running || errno == EWOULDBLOCK;
        ::close(fd);
      }
    };
    share(::open(options_.data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC), dir_lock_fd_);
    // A node that holds the directory may not hold LOCK yet (it takes it next): a share of it
    // taken now would make that node refuse to start.
    if (!writer_running) share(::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC), lock_fd_);
    journal_fd_ = ::open(journal_path().c_str(), O_RDONLY | O_CLOEXEC);
    if (journal_fd_ < 0) return Error{errno_text("cannot open " + journal_path())};
    if (::access(sync_failed_path().c_str(), F_OK) == 0 && !writer_running) {
      std::ifstream in(sync_failed_path());
      std::uint64_t from = 0;
      in >> from;
      read_only_notes.push_back("a write or flush of the journal failed in the last run (" + sync_failed_path() +
                                "): what it wrote after byte " + std::to_string(from) +
                                " may not be on the disk; a node's next start writes it again");
    }
  } else {
    if (auto err = lock_directory()) return Error{*err};
    // A snapshot (or clean-stop mark) whose write a crash cut short (never renamed into
    // place): of no use, removed.
    std::error_code ignored;
    fs::remove(snapshot_path() + ".tmp", ignored);
    fs::remove(clean_stop_path() + ".tmp", ignored);
    // A journal that is a symlink to nothing (a disk not mounted yet) is never created through
    // the link: a new empty journal there would be a ledger on the wrong disk.
    {
      std::error_code link_ec;
      if (fs::symlink_status(journal_path(), link_ec).type() == fs::file_type::symlink &&
          fs::status(journal_path(), link_ec).type() == fs::file_type::not_found)
        return Error{journal_path() + " is a symbolic link to " + fs::read_symlink(journal_path(), link_ec).string() +
                     ", which does not exist (a disk not mounted yet?); refusing to start"};
    }
    journal_fd_ = ::open(journal_path().c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (journal_fd_ < 0) return Error{errno_text("cannot open " + journal_path())};
    // After a failed write or flush in the run before, the bytes past its last good flush are
    // written again and flushed before anything is read: a read could otherwise take pages the
    // kernel kept as clean, never written, for records on the disk. (Records a failed
    // write-back had already lost read as the disk has them: a torn tail, never acknowledged.)
    auto rewritten = rewrite_after_failed_flush(journal_path(), sync_failed_path());
    if (!rewritten) return Error{rewritten.error() + " (the journal's last write or flush failed in the run before; refusing to start)"};
    rewritten_bytes_ += *rewritten;  // kept for a second recovery of this start (its report says it too)
    // The journal's name (new, or created by an earlier run that then crashed) made durable
    // before any record in it is acknowledged.
    if (options_.fsync && !fsync_directory(options_.data_dir)) return Error{errno_text("cannot fsync " + options_.data_dir)};
  }

  record_failed_to_apply_ = false;
  RecoveryReport report;
  report.rewritten_bytes = rewritten_bytes_;
  for (auto& note : read_only_notes) report.warnings.push_back(std::move(note));
  std::uint64_t offset = 0, seq = 0;
  Digest32 hash{};
  auto snapshot = std::make_unique<LoadedSnapshot>();
  if (!options_.read_only && options_.use_snapshot && load_snapshot(report, offset, seq, hash, *snapshot)) {
    if (auto fatal = index_prefix(offset, seq, hash)) return Error{*fatal};
    std::optional<std::string> err = on_snapshot(SnapshotBook{snapshot->book, snapshot->workloads}, seq);
    snapshot.reset();  // the file's text, as large as the file, is not needed past here
    if (err) {
      report.warnings.push_back(*err + "; replaying the whole journal");
      offset = 0;
      seq = 0;
      hash = Digest32{};
    } else {
      report.snapshot_seq = seq;
      snapshot_used_ = true;
    }
  }
  // Inspection does not start from snapshot.json, but checks what it proves, as start-up
  // does: the journal holds the record it was taken at, ending where it says. (Beside a
  // running node the journal read may end before a snapshot written meanwhile; not checked.)
  struct Proof {
    std::uint64_t seq = 0, end = 0;
    Digest32 hash{};
    std::optional<std::uint64_t> found_end = std::nullopt;
    Digest32 found_hash{};
  };
  std::optional<Proof> proof;
  if (options_.read_only && options_.use_snapshot && !writer_running) {
    Proof p;
    auto loaded = std::make_unique<LoadedSnapshot>();
    if (load_snapshot(report, p.end, p.seq, p.hash, *loaded) && p.seq > 0) proof = p;
  }
  // Where the last clean stop left the journal (clean-stop.json), if that is the last thing
  // that happened to it.
  std::optional<Proof> stopped_at;
  clean_stop_on_disk_ = false;
  if (!writer_running) {
    std::ifstream in(clean_stop_path(), std::ios::binary);
    if (in) {
      clean_stop_on_disk_ = true;
      std::stringstream text;
      text << in.rdbuf();
      boost::system::error_code ec;
      const auto doc = parse_json(text.str(), ec);
      const auto* o = !ec ? doc.if_object() : nullptr;
      const auto records = o ? get_opt_int(*o, "journal_records") : std::nullopt;
      const auto bytes = o ? get_opt_int(*o, "journal_bytes") : std::nullopt;
      const auto last_hash = o ? get_opt_string(*o, "last_hash") : std::nullopt;
      Proof p;
      if (records && bytes && last_hash && *records >= 0 && *bytes >= 0 && hex_decode(*last_hash, p.hash.data(), p.hash.size())) {
        p.seq = static_cast<std::uint64_t>(*records);
        p.end = static_cast<std::uint64_t>(*bytes);
        if (p.seq > 0) stopped_at = p;
      } else {
        report.warnings.push_back("clean-stop.json is malformed; the journal's tail is checked as after a crash");
      }
    }
  }
  // A start from a snapshot taken at (or after) the clean stop's last record scans nothing up
  // to it: that record is read where the snapshot's check of the prefix indexed it.
  if (stopped_at && seq > 0 && stopped_at->seq <= seq) {
    index_.publish(seq);
    if (const auto span = index_.get(stopped_at->seq))
      if (const auto line = read(stopped_at->seq))
        if (auto r = parse_record(*line); r && r->seq == stopped_at->seq) {
          stopped_at->found_end = span->offset + span->length + 1;
          stopped_at->found_hash = r->hash;
        }
  }

  // Verify and visit everything after the snapshot.
  std::optional<std::string> failure;       // why the first bad line is bad
  std::uint64_t failure_offset = 0;
  std::optional<std::string> visit_error;
  bool valid_after_failure = false;
  std::uint64_t nul_at = std::numeric_limits<std::uint64_t>::max();
  const auto scanned = for_each_line(journal_fd_, offset, [&](std::string_view line, std::uint64_t at) {
    auto r = parse_record(line);
    if (failure) {  // only looking for intact records past the damage
      if (r) valid_after_failure = true;
      return !valid_after_failure;
    }
    if (!r) {
      failure = r.error();
    } else if (r->seq != seq + 1 || r->prev != hash) {
      // A whole record (its own hash holds) that does not follow: records before it were
      // lost or it was moved; a torn write cannot make one. Never cut, even as the last line.
      failure = "record seq " + std::to_string(r->seq) + " does not follow seq " + std::to_string(seq);
      valid_after_failure = true;
      failure_offset = at;
      return false;
    } else if (auto err = visit(*r)) {
      visit_error = "record seq " + std::to_string(r->seq) + ": " + *err;
      return false;
    }
    for (auto* p : {&proof, &stopped_at})
      if (*p && r && r->seq == (*p)->seq) {
        (*p)->found_end = at + line.size() + 1;
        (*p)->found_hash = r->hash;
      }
    if (failure) {
      failure_offset = at;
      return true;
    }
    seq = r->seq;
    hash = r->hash;
    index_.put(seq, {at, static_cast<std::uint32_t>(line.size())});
    ++report.replayed_records;
    return true;
  }, &nul_at);
  if (visit_error) {
    record_failed_to_apply_ = true;
    return Error{*visit_error};
  }
  if (!scanned) return Error{errno_text("cannot read " + journal_path() + " (refusing to start)")};
  const std::uint64_t end = *scanned;
  // Beside a running node, only what follows the last whole line (zeros written ahead, a line
  // still being written) can be its write in progress: a bad whole line is damage as always.
  if (writer_running && !failure) {
    report.writer_running = true;
    report.warnings.push_back("a running node holds " + options_.data_dir + "/LOCK and is writing the journal: read up to seq " +
                              std::to_string(seq) + "; what it wrote meanwhile is not included and the tail was not "
                              "checked (stop the node to check the whole file)");
    end_offset_ = end;
    last_seq_ = seq;
    index_.publish(seq);
    report.last_seq = seq;
    report.last_hash = hash;
    return report;
  }

  // A damaged record with intact ones after it is named as such below (the journal goes on
  // past it: it does not end there).
  if (proof && !(failure && valid_after_failure)) {
    if (!proof->found_end) return Error{snapshot_beyond_journal(seq, failure ? failure_offset : end, proof->seq, proof->end)};
    if (*proof->found_end != proof->end || proof->found_hash != proof->hash) return Error{snapshot_of_another_journal(proof->seq)};
  }
  struct stat st {};
  if (::fstat(journal_fd_, &st) != 0) return Error{errno_text("cannot stat " + journal_path())};
  const std::uint64_t file_size = static_cast<std::uint64_t>(st.st_size);
  // Where the bytes worth keeping or reporting end: the file's end, or, when zeroed blocks
  // follow the records (a crash in direct mode), the last non-NUL byte after them: a write
  // torn by the crash can leave some of its blocks on disk but not the ones before.
  std::uint64_t data_end = file_size;
  report.unclean_stop = nul_at < file_size && !writer_running;
  if (nul_at < file_size && !writer_running) {
    auto last = end_of_data(journal_fd_, nul_at, file_size);
    if (!last) return Error{errno_text("cannot read " + journal_path())};
    data_end = std::max(*last, nul_at);
    const bool within_a_write = *last <= nul_at + kTornWriteSpan;
    // Zeros with intact records after them: a crash tears only the last write, and loses its
    // blocks from some point on; the zeros the node writes ahead lie only past its records.
    // A stretch of zeros among records (a sector that reads back as zeros) would hide
    // acknowledged records behind it, so start-up refuses rather than cut them. Looked for in
    // the bytes a write could span and well past them (a damaged block is a few KiB).
    bool read_failed = false;
    const std::uint64_t look_to = std::min<std::uint64_t>(data_end, nul_at + 4 * kTornWriteSpan);
    if (auto at = intact_record_in(journal_fd_, nul_at, look_to, seq, read_failed)) {
      const std::string where = "journal " + journal_path() + " has zeros from byte " + std::to_string(nul_at) + " (after seq " +
                                std::to_string(seq) + ") with intact records after them, the first at byte " +
                                std::to_string(*at) + " (data up to byte " + std::to_string(data_end - 1) + ")";
      const std::string restore = "; refusing to start. Restore journal.jsonl from a backup";
      // Records past the zeros that the audit log describes, or that a clean stop counted,
      // were acknowledged (and no crash tore a write since a clean stop): no cut.
      if (stopped_at && stopped_at->seq > seq)
        return Error{where + ", and the node stopped cleanly with record " + std::to_string(stopped_at->seq) +
                     " (clean-stop.json): records after the zeros were durable, and no crash came between to tear a "
                     "write" + restore + "; do not cut it at the zeros."};
      if (options_.acknowledged_through && *options_.acknowledged_through > seq)
        return Error{where + ", and the audit log describes records up to " + std::to_string(*options_.acknowledged_through) +
                     ": records after the zeros were acknowledged" + restore + "; do not cut it at the zeros."};
      if (!within_a_write)
        return Error{where + ": damage among its records (a stretch that reads back as zeros), farther from the end than "
                             "one write reaches, so not a torn write" + restore +
                     "; do not cut it at the zeros: the records after them would be lost."};
      return Error{where + ": damage among its records (a stretch that reads back as zeros), or the last write torn out "
                           "of order by a crash (all of it lies within one write of the end); the records after the "
                           "zeros may have been acknowledged, so nothing is cut" + restore +
                   ". Only if the last write is known to have been torn (none of its records acknowledged), or this is a "
                   "copy taken while the node ran that caught a write in flight (records past the zeros were written "
                   "after the copy began), cut the journal at byte " + std::to_string(end) + "."};
    }
    if (read_failed) return Error{errno_text("cannot read " + journal_path())};
    if (!within_a_write)
      return Error{"journal " + journal_path() + " has data at byte " + std::to_string(*last - 1) + ", " +
                   std::to_string(*last - 1 - nul_at) + " bytes past its end (the NUL at byte " + std::to_string(nul_at) +
                   ", after seq " + std::to_string(seq) + "), and no intact record there: more than a torn write can "
                   "leave; refusing to start. Restore journal.jsonl from a backup."};
  }
  std::uint64_t keep = data_end;
  if (failure) {
    if (valid_after_failure)
      return Error{"journal " + journal_path() + " is corrupt at byte " + std::to_string(failure_offset) +
                   " (after seq " + std::to_string(seq) + ": " + *failure +
                   ") and an intact record is there or after it (acknowledged records were lost or altered); refusing to "
                   "start. Restore journal.jsonl from a backup; do not cut it there (the intact records after it were "
                   "acknowledged)."};
    keep = failure_offset;
    report.cut_reason = "corrupt record after seq " + std::to_string(seq) + ": " + *failure;
  } else if (end < data_end) {
    keep = end;
    report.cut_reason = "torn last line after seq " + std::to_string(seq);
  }
  // A journal that does not reach where the last clean stop left it was not torn by a crash:
  // refused, nothing cut. (Damage that is refused anyway, zeros or a bad record with intact
  // records after them, was named above.)
  if (stopped_at && !stopped_at->found_end)
    return Error{"journal.jsonl " +
                 (failure ? "is damaged at byte " + std::to_string(failure_offset) + " (after seq " + std::to_string(seq) + ": " +
                                *failure + ")"
                          : "ends at record " + std::to_string(seq) + " (byte " + std::to_string(end) + ")") +
                 ", but the node stopped cleanly with record " + std::to_string(stopped_at->seq) + " at byte " +
                 std::to_string(stopped_at->end) + " (clean-stop.json): records that were durable are damaged or missing, "
                 "and no crash came between to tear a write, so nothing is cut; refusing to start. Restore journal.jsonl "
                 "from a backup (only if an older journal was put in place on purpose, move clean-stop.json aside)."};
  if (stopped_at && (*stopped_at->found_end != stopped_at->end || stopped_at->found_hash != stopped_at->hash))
    return Error{"journal.jsonl record " + std::to_string(stopped_at->seq) + " is not the one the node stopped cleanly at "
                 "(clean-stop.json): the journal was rewritten or replaced since; refusing to start. Restore journal.jsonl "
                 "from a backup (only if another journal was put in place on purpose, move clean-stop.json aside)."};

  // Damage that hides records the audit log describes: they were acknowledged, so nothing is
  // cut (the start-up would refuse after the cut anyway, with the bytes only in the cut copy).
  if (keep < data_end && options_.acknowledged_through && *options_.acknowledged_through > seq)
    return Error{"journal " + journal_path() + " ends in bad bytes at byte " + std::to_string(keep) + " (after seq " +
                 std::to_string(seq) + ": " + report.cut_reason + "), but the audit log describes records up to " +
                 std::to_string(*options_.acknowledged_through) + ": records there were acknowledged, so nothing is cut; "
                 "refusing to start. Restore journal.jsonl from a backup."};
  if (keep < data_end) {
    std::string head(static_cast<std::size_t>(std::min<std::uint64_t>(data_end - keep, 4096)), '\0');
    const ssize_t n = ::pread(journal_fd_, head.data(), head.size(), static_cast<off_t>(keep));
    if (n > 0) report.cut_reason += describe_cut(std::string_view(head.data(), static_cast<std::size_t>(n)));
  }
  if (keep < data_end) {
    report.cut_bytes = data_end - keep;
    if (options_.read_only) {
      report.warnings.push_back("not cutting " + std::to_string(report.cut_bytes) + " bad tail bytes: reading changes nothing (a node "
                                "starting on the directory cuts them)");
    } else {
      // The cut bytes are kept beside the journal: a record damaged on disk may be worth
      // repairing by hand, and the audit log (checked next) may show it was acknowledged.
      // A name not taken yet (a start-up retried within the same second cuts again).
      const std::string base = journal_path() + ".cut-" + std::to_string(::time(nullptr)) + "-" + std::to_string(keep);
      std::string saved = base;
      int fd = -1;
      for (int attempt = 1; attempt <= 100; ++attempt) {
        fd = ::open(saved.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST) break;
        saved = base + "." + std::to_string(attempt);
      }
      if (fd < 0) return Error{errno_text("cannot create " + saved)};
      // Copied in pieces: one read of a large tail could come back short.
      bool kept = true;
      std::vector<char> piece(kReadChunkBytes);
      for (std::uint64_t at = keep; kept && at < data_end;) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), data_end - at));
        const ssize_t n = ::pread(journal_fd_, piece.data(), want, static_cast<off_t>(at));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          const std::string why = n == 0 ? "cannot read the journal tail: it ended early" : errno_text("cannot read the journal tail");
          ::close(fd);
          return Error{why};
        }
        kept = write_all(fd, piece.data(), static_cast<std::size_t>(n));
        at += static_cast<std::uint64_t>(n);
      }
      kept = kept && ::fsync(fd) == 0;
      if (fd >= 0) ::close(fd);
      if (!kept || !fsync_directory(options_.data_dir)) {
        // Nothing is cut when the copy fails; a partial copy is not left beside the journal
        // (a supervisor restarting the node on a full disk would pile them up).
        const std::string why = errno_text("cannot save the journal tail to " + saved);
        ::unlink(saved.c_str());
        return Error{why};
      }
      report.cut_saved_to = saved;
    }
  }
  // The cut tail and any zeroed blocks go (read-only: the content simply ends there).
  // A flush that fails here leaves the mark too: the next start (a supervisor's, in the same
  // boot) would read the pages of the failed write-back, kept as clean, for records on the
  // disk. Past the snapshot's end, which was flushed before the snapshot was taken, every byte
  // is written again then.
  if (!options_.read_only && keep < file_size &&
      (::ftruncate(journal_fd_, static_cast<off_t>(keep)) != 0 || ::fsync(journal_fd_) != 0))
    return Error{failed_write(errno_text("cannot cut the journal tail"), offset)};
  // What was read back counts as durable from here on (a repeated id is answered as done, the
  // audit log is caught up to it and signed): records a crash left written but not flushed
  // are flushed first.
  if (!options_.read_only && keep >= file_size && ::fdatasync(journal_fd_) != 0)
    return Error{failed_write(errno_text("cannot sync " + journal_path()), offset)};
  end_offset_ = keep;
  synced_end_ = keep;
  last_seq_ = seq;
  index_.publish(seq);
  if (!options_.read_only && options_.fsync && options_.direct_io) open_direct(report);
  report.last_seq = seq;
  report.last_hash = hash;
  return report;
}

void FileStore::open_direct(RecoveryReport& report) {
  const int fd = ::open(journal_path().c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
  if (fd < 0) {
    report.warnings.push_back(errno_text("journal direct I/O unavailable (buffered appends instead)"));
    return;
  }
  // The partial last block: every direct write starts at a block boundary, so it writes
  // these bytes again in front of the new records.
  stage_capacity_ = 1u << 20;
  stage_.reset(aligned_buffer(stage_capacity_));
  const std::uint64_t block_start = round_down(end_offset_);
  const std::size_t head = static_cast<std::size_t>(end_offset_ - block_start);
  if (!stage_ || (head > 0 && ::pread(journal_fd_, stage_.get(), head, static_cast<off_t>(block_start)) !=
                                  static_cast<ssize_t>(head))) {
    report.warnings.push_back(errno_text("journal direct I/O: cannot read the last block (buffered appends instead)"));
    ::close(fd);
    return;
  }
  direct_fd_ = fd;
  allocated_ = end_offset_;
  prealloc_wanted_ = end_offset_ + options_.preallocate_bytes;
  preallocator_ = std::thread([this] { preallocate_loop(); });
}

std::uint64_t FileStore::preallocated_bytes() {
  std::lock_guard lock(prealloc_mutex_);
  return direct_fd_ >= 0 ? allocated_ : 0;
}

void FileStore::stop_preallocating() {
  {
    std::lock_guard lock(prealloc_mutex_);
    prealloc_stop_ = true;
  }
  prealloc_cv_.notify_all();
  if (preallocator_.joinable()) preallocator_.join();
}

// The background thread: writes zeroed blocks past allocated_ and syncs them (the file's
// size and extents, once per options_.preallocate_bytes), then moves allocated_ past them.
void FileStore::preallocate_loop() {
  std::unique_ptr<char, AlignedFree> zeros(aligned_buffer(kZeroChunkBytes));
  if (zeros) std::memset(zeros.get(), 0, kZeroChunkBytes);
  std::unique_lock lock(prealloc_mutex_);
  for (;;) {
    prealloc_cv_.wait(lock, [&] { return prealloc_stop_ || prealloc_wanted_ > allocated_; });
    if (prealloc_stop_) return;
    const std::uint64_t from = round_up(allocated_);
    const std::uint64_t to = round_up(prealloc_wanted_);
    prealloc_busy_ = true;
    lock.unlock();
    std::string error = zeros ? "" : "out of memory";
    for (std::uint64_t at = from; error.empty() && at < to;) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kZeroChunkBytes, to - at));
      ssize_t w = ::pwrite(direct_fd_, zeros.get(), n, static_cast<off_t>(at));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) error = errno_text("journal preallocation write failed");
      // A short write ending off the block grid goes on from its last whole block (a direct
      // write must start on one).
      else if (const std::uint64_t next = (at + static_cast<std::uint64_t>(w)) / kDirectAlign * kDirectAlign; next > at) at = next;
      else error = "journal preallocation write failed: the device took less than one block";
    }
    if (error.empty() && ::fdatasync(direct_fd_) != 0) error = errno_text("journal preallocation fdatasync failed");
    lock.lock();
    prealloc_busy_ = false;
    if (error.empty()) {
      allocated_ = std::max(allocated_, to);
    } else {
      // The appends extend the file themselves from now on (slower commits, nothing lost).
      // The zeros written before the failure are given back (still busy, so no append is
      // past allocated_): on a full disk they would hold the last free space that the audit
      // log, the snapshots and the appends themselves need.
      (void)::ftruncate(direct_fd_, static_cast<off_t>(allocated_));  // every append ends within allocated_
      prealloc_error_ = error;
      prealloc_wanted_ = allocated_;
    }
    prealloc_cv_.notify_all();
  }
}

std::optional<std::string> FileStore::append_direct(const std::vector<const FramedRecord*>& records) {
  // Groups of at most kDirectWriteBytes, each written and synced before the next.
  std::size_t first = 0;
  while (first < records.size()) {
    std::size_t count = 0, bytes = 0;
    while (first + count < records.size() &&
           (count == 0 || bytes + records[first + count]->line.size() <= kDirectWriteBytes))
      bytes += records[first + count++]->line.size();
    if (auto err = write_direct(records.data() + first, count)) return err;
    first += count;
  }
  return std::nullopt;
}

std::optional<std::string> FileStore::write_direct(const FramedRecord* const* records, std::size_t count) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) total += records[i]->line.size();
  const std::uint64_t block_start = round_down(end_offset_);
  const std::size_t head = static_cast<std::size_t>(end_offset_ - block_start);
  const std::size_t used = head + total;
  const std::size_t padded = static_cast<std::size_t>(round_up(used));
  const std::uint64_t write_end = block_start + padded;
  {
    std::unique_lock lock(prealloc_mutex_);
    if (write_end > allocated_) {
      // Past the zeroed blocks (the preallocation fell behind or failed): this write grows
      // the file itself, after any zeroing in progress (which must not overwrite it).
      prealloc_cv_.wait(lock, [&] { return !prealloc_busy_; });
      allocated_ = std::max(allocated_, write_end);
    }
    const std::uint64_t ahead = std::max<std::uint64_t>(options_.preallocate_bytes, kDirectAlign);
    if (allocated_ - write_end < ahead / 2 && prealloc_error_.empty() && prealloc_wanted_ <= allocated_) {
      prealloc_wanted_ = allocated_ + ahead;
      prealloc_cv_.notify_all();
    }
  }
  if (padded > stage_capacity_) {
    const std::size_t capacity = std::max<std::size_t>(padded + padded / 2, stage_capacity_ * 2);
    std::unique_ptr<char, AlignedFree> bigger(aligned_buffer(capacity));
    if (!bigger) return std::string("journal write buffer: out of memory");
    std::memcpy(bigger.get(), stage_.get(), head);
    stage_ = std::move(bigger);
    stage_capacity_ = capacity;
  }
  char* out = stage_.get();
  std::size_t pos = head;
  std::uint64_t at = end_offset_;
  for (std::size_t i = 0; i < count; ++i) {
    const auto& line = records[i]->line;
    index_.put(++last_seq_, {at, static_cast<std::uint32_t>(line.size() - 1)});
    at += line.size();
    std::memcpy(out + pos, line.data(), line.size());
    pos += line.size();
  }
  std::memset(out + used, 0, padded - used);
  for (std::size_t done = 0; done < padded;) {
    ssize_t w = ::pwrite(direct_fd_, out + done, padded - done, static_cast<off_t>(block_start + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      return errno_text("cannot write " + journal_path() + " (records " + std::to_string(last_seq_ - count + 1) + "-" +
                        std::to_string(last_seq_) + ")");
    // A short write that ends off the block grid is written again from its last whole block:
    // a direct write must start on it (the same bytes go there again).
    const std::size_t next = (done + static_cast<std::size_t>(w)) / kDirectAlign * kDirectAlign;
    if (next <= done)
      return "cannot write " + journal_path() + ": the device took less than one block of the write (records " +
             std::to_string(last_seq_ - count + 1) + "-" + std::to_string(last_seq_) + ")";
    done = next;
  }
  if (::fdatasync(direct_fd_) != 0) return errno_text("cannot fdatasync " + journal_path());
  // The new partial last block moves to the front of the buffer for the next write.
  const std::size_t tail = used % kDirectAlign;
  if (tail > 0 && used > tail) std::memmove(out, out + (used - tail), tail);
  end_offset_ = at;
  synced_end_ = at;
  index_.publish(last_seq_);
  return std::nullopt;
}

std::optional<std::string> FileStore::append(const std::vector<const FramedRecord*>& records) {
  if (records.empty()) return std::nullopt;
  if (options_.read_only) return std::string("the store is open read-only");
  if (stopped_) return std::string("the journal was closed by a clean stop");
  // The last clean stop's mark goes before the journal changes (durably: a crash after this
  // write must not find it).
  if (clean_stop_on_disk_) {
    if (::unlink(clean_stop_path().c_str()) != 0 && errno != ENOENT) return errno_text("cannot remove " + clean_stop_path());
    if (!fsync_directory(options_.data_dir)) return errno_text("cannot fsync " + options_.data_dir);
    clean_stop_on_disk_ = false;
  }
  if (auto err = direct_fd_ >= 0 ? append_direct(records) : append_buffered(records))
    return failed_write(std::move(*err), synced_end_.load());
  return std::nullopt;
}

std::string FileStore::failed_write(std::string why, std::uint64_t synced) {
  flush_failed_ = true;
  why += ": what was written after byte " + std::to_string(synced) +
         " may not be on the disk, and a later flush would not say so; the next start writes those bytes again";
  if (auto err = mark_failed_flush(sync_failed_path(), synced))
    why += "; and " + *err + ": before starting the node again, run `sync` and check the disk";
  return why;
}

std::optional<std::string> FileStore::append_buffered(const std::vector<const FramedRecord*>& records) {
  std::string batch;
  std::size_t total = 0;
  for (const auto* r : records) total += r->line.size();
  batch.reserve(total);
  std::uint64_t at = end_offset_;
  for (const auto* r : records) {
    index_.put(++last_seq_, {at, static_cast<std::uint32_t>(r->line.size() - 1)});
    at += r->line.size();
    batch += r->line;
  }
  if (!write_all(journal_fd_, batch.data(), batch.size()))
    return errno_text("cannot write " + journal_path() + " (records " + std::to_string(last_seq_ - records.size() + 1) + "-" +
                      std::to_string(last_seq_) + ")");
  if (options_.fsync && ::fdatasync(journal_fd_) != 0) return errno_text("cannot fdatasync " + journal_path());
  end_offset_ = at;
  if (options_.fsync) synced_end_ = at;
  index_.publish(last_seq_);
  return std::nullopt;
}

void FileStore::replay_whole_journal_next() {
  options_.use_snapshot = false;
  snapshot_used_ = false;
  if (journal_fd_ >= 0) ::close(journal_fd_);
  journal_fd_ = -1;
}

std::optional<std::string> FileStore::mark_clean_stop() {
  if (options_.read_only) return std::string("the store is open read-only");
  if (stopped_) return std::nullopt;
  // Direct mode: the zeroed blocks written ahead go first, so the file ends at its last record.
  if (direct_fd_ >= 0) {
    stop_preallocating();
    struct stat st {};
    if (::fstat(direct_fd_, &st) != 0) return errno_text("cannot stat " + journal_path());
    if (static_cast<std::uint64_t>(st.st_size) > end_offset_ &&
        (::ftruncate(direct_fd_, static_cast<off_t>(end_offset_)) != 0 || ::fsync(direct_fd_) != 0))
      return errno_text("cannot cut the zeroed blocks after the journal's last record");
  }
  // Synced whatever PAYMENTS_JOURNAL_FSYNC says: the mark must never outlive records it counts.
  if (::fdatasync(direct_fd_ >= 0 ? direct_fd_ : journal_fd_) != 0)
    return failed_write(errno_text("cannot fdatasync " + journal_path()), synced_end_.load());
  synced_end_ = end_offset_;
  Digest32 hash{};
  if (last_seq_ > 0) {
    auto line = read(last_seq_);
    if (!line) return "journal record " + std::to_string(last_seq_) + " cannot be read";
    auto record = parse_record(*line);
    if (!record) return "journal record " + std::to_string(last_seq_) + " does not verify: " + record.error();
    hash = record->hash;
  }
  stopped_ = true;
  const std::string text = "{\"format\":\"lpops-clean-stop-v1\",\"journal_records\":" + std::to_string(last_seq_) +
                           ",\"journal_bytes\":" + std::to_string(end_offset_) + ",\"last_hash\":\"" + hex_lower(hash) + "\"}\n";
  const std::string tmp = clean_stop_path() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_text("cannot create " + tmp);
  const bool ok = write_all(fd, text.data(), text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), clean_stop_path().c_str()) != 0) {
    const std::string why = errno_text("cannot write " + clean_stop_path());
    ::unlink(tmp.c_str());
    return why;
  }
  if (!fsync_directory(options_.data_dir)) return errno_text("cannot fsync " + options_.data_dir);
  clean_stop_on_disk_ = true;
  return std::nullopt;
}

std::optional<std::string> FileStore::write_snapshot(std::uint64_t seq, const BookText& book) {
  std::uint64_t offset = 0;
  Digest32 hash{};
  if (seq > 0) {
    auto span = index_.get(seq);
    auto line = read(seq);
    if (!span || !line) return std::string("snapshot seq is not durable");
    auto record = parse_record(*line);
    if (!record) return "record " + std::to_string(seq) + " does not verify: " + record.error();
    hash = record->hash;
    offset = span->offset + span->length + 1;
  }
  // With fsync off the journal is never flushed on its own, so the snapshot (which start-up
  // takes as proof that records 1..seq were durable) could reach the disk ahead of them: after
  // a power loss the node would then refuse to start. The journal is flushed first.
  // A failure leaves the mark (the next start writes the bytes past the last good flush
  // again): once reported here, the error would not be reported to the clean stop's flush.
  if (!options_.fsync && ::fdatasync(journal_fd_) != 0)
    return failed_write(errno_text("cannot fdatasync " + journal_path()), synced_end_.load());
  std::string head = "{\"format\":\"" + std::string(kSnapshotFormat) + "\",\"seq\":" + std::to_string(seq) +
                     ",\"journal_offset\":" + std::to_string(offset) + ",\"last_hash\":\"" + hex_lower(hash) +
                     "\",\"book\":";
  std::lock_guard lock(snapshot_mutex_);
  std::string tmp = snapshot_path() + ".tmp";
  if (struct statvfs vfs {}; ::statvfs(options_.data_dir.c_str(), &vfs) == 0) {
    struct stat last {};
    const std::uint64_t last_size = ::stat(snapshot_path().c_str(), &last) == 0 ? static_cast<std::uint64_t>(last.st_size) : 0;
    const std::uint64_t free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    const std::uint64_t reserve = options_.snapshot_free_space_reserve;
    // The book may double between snapshots (the next is due after as many records as it
    // held at the last, and each record may add an item), and so may its snapshot.
    const std::uint64_t need = 2 * last_size + reserve;
    if (free_bytes < need || need < reserve)
      return "not enough free space for a snapshot: " + std::to_string(free_bytes >> 20) + " MiB free, the last snapshot took " +
             std::to_string(last_size >> 20) + " MiB, and " + std::to_string(reserve >> 20) +
             " MiB are kept for the journal and the audit log; skipped";
  }
  // Where the journal writes directly, so does the snapshot (below); else through the page
  // cache, paced.
  bool direct = direct_fd_ >= 0;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (direct ? O_DIRECT : 0), 0644);
  if (fd < 0 && direct) {
    direct = false;
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
  if (fd < 0) return errno_text("cannot create " + tmp);
  SnapshotSink sink(fd, direct, options_.fsync ? options_.snapshot_writeback_bytes : 0, options_.snapshot_free_space_reserve);
  // One checksum over every byte before it: the header (seq, journal offset, last hash) and
  // the book.
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  bool ok = sha && EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(sha.get(), head.data(), head.size()) == 1 && sink.put(head) &&
            book([&sha, &sink](std::string_view piece) {
              return EVP_DigestUpdate(sha.get(), piece.data(), piece.size()) == 1 && sink.put(piece);
            });
  Digest32 snapshot_hash{};
  ok = ok && EVP_DigestFinal_ex(sha.get(), snapshot_hash.data(), nullptr) == 1;
  const std::string tail = std::string(kSnapshotHashKey) + hex_lower(snapshot_hash) + "\"}\n";
  ok = ok && sink.put(tail) && sink.finish() && (!options_.fsync || ::fsync(fd) == 0);
  ::close(fd);
  // A snapshot that failed is removed at once: on a full disk its bytes are the space the
  // journal and the audit log need next (the journal still holds everything it had).
  auto discard = [&tmp](std::string why) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    return errno_text(why);
  };
  if (!ok && sink.out_of_space())
    return discard("free space fell below the " + std::to_string(options_.snapshot_free_space_reserve >> 20) +
                   " MiB kept for the journal and the audit log while writing " + tmp + "; skipped");
  if (!ok) return discard("cannot write " + tmp);
  if (::rename(tmp.c_str(), snapshot_path().c_str()) != 0) return discard("cannot replace " + snapshot_path() + " with " + tmp);
  if (options_.fsync && !fsync_directory(options_.data_dir)) return errno_text("cannot fsync " + options_.data_dir);
  return std::nullopt;
}

std::optional<std::string> FileStore::check_prefix(std::uint64_t up_to, const std::atomic<bool>& stop) const {
  std::uint64_t seq = 0;
  Digest32 prev{};
  std::optional<std::string> damage;
  const auto scanned = for_each_line(journal_fd_, 0, [&](std::string_view line, std::uint64_t at) {
    if (seq >= up_to || stop.load(std::memory_order_relaxed)) return false;
    auto r = parse_record(line);
    if (!r) damage = r.error();
    else if (r->seq != seq + 1 || r->prev != prev) damage = "record seq " + std::to_string(r->seq) + " does not follow seq " + std::to_string(seq);
    if (damage) {
      damage = "journal.jsonl is damaged at byte " + std::to_string(at) + " (after seq " + std::to_string(seq) + "): " + *damage;
      return false;
    }
    seq = r->seq;
    prev = r->hash;
    return true;
  });
  if (!scanned) return errno_text("cannot read " + journal_path());
  if (!damage && seq < up_to && !stop.load())
    damage = "journal.jsonl ends at record " + std::to_string(seq) + ", before record " + std::to_string(up_to);
  return damage;
}

std::optional<std::string> FileStore::read(std::uint64_t seq) const {
  auto span = index_.get(seq);
  if (!span) return std::nullopt;
  std::string line(span->length, '\0');
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::pread(journal_fd_, line.data() + done, line.size() - done, static_cast<off_t>(span->offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    done += static_cast<std::size_t>(n);
  }
  return line;
}

}  // namespace lpops::storage
