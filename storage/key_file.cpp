#include "storage/key_file.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "storage/durable_fs.hpp"

namespace lpops::storage {
namespace {

// 0x and 64 hex digits, with any whitespace around them (a trailing newline, CRLF, an indent
// from an editor).
Result<chain::PrivateKey> parse_key_text(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  const auto end = text.find_last_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return Error{"the file is empty"};
  return chain::PrivateKey::from_hex(text.substr(begin, end - begin + 1));
}

// The key's text in a buffer of its own, wiped when it goes: read with read(2) rather than a
// stream (whose buffer would be freed with the key's bytes in it), written without temporaries.
struct KeyText {
  std::array<char, 4096> bytes{};  // a key file is ~70 bytes; more is not a key file
  std::size_t size = 0;
  ~KeyText() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  std::string_view view() const { return {bytes.data(), size}; }
};

}  // namespace

Result<chain::PrivateKey> read_key_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Error{"cannot read " + path + " (no such file)"};
  if (!std::filesystem::is_regular_file(path, ec)) return Error{path + " is not a regular file"};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{"cannot read " + path + ": " + std::strerror(errno)};
  KeyText text;
  while (text.size < text.bytes.size()) {
    const ssize_t got = ::read(fd, text.bytes.data() + text.size, text.bytes.size() - text.size);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int read_errno = errno;
      ::close(fd);
      return Error{"cannot read " + path + ": " + std::strerror(read_errno)};
    }
    if (got == 0) break;
    text.size += static_cast<std::size_t>(got);
  }
  ::close(fd);
  auto key = parse_key_text(text.view());
  if (!key) return Error{path + ": " + key.error()};
  return key;
}

Result<NewKey> create_key_file(const std::string& path) {
  std::array<std::uint8_t, 32> bytes{};
  Result<chain::PrivateKey> key = Error{"no key yet"};
  for (int attempt = 0; attempt < 8 && !key; ++attempt) {
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return Error{"the system random generator failed"};
    key = chain::PrivateKey::from_bytes(bytes);
  }
  if (!key) return Error{key.error()};
  KeyText text;
  static constexpr char kDigits[] = "0123456789abcdef";
  text.bytes[text.size++] = '0';
  text.bytes[text.size++] = 'x';
  for (const std::uint8_t b : bytes) {
    text.bytes[text.size++] = kDigits[b >> 4];
    text.bytes[text.size++] = kDigits[b & 0x0f];
  }
  text.bytes[text.size++] = '\n';
  OPENSSL_cleanse(bytes.data(), bytes.size());
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  ::unlink(tmp.c_str());  // a leftover of an earlier crash of a process with this pid
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error{"cannot create " + path + " (its temporary file in that directory: " + std::strerror(errno) + ")"};
  }
  // The key and its name durable: a key lost in a power cut would be replaced by a new one.
  const ssize_t wrote = ::write(fd, text.bytes.data(), text.size);
  const int write_errno = errno;
  bool ok = wrote == static_cast<ssize_t>(text.size) && ::fsync(fd) == 0;
  const int sync_errno = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return Error{"cannot write " + path + " (its temporary file: " + std::strerror(wrote < 0 ? write_errno : sync_errno) + ")"};
  }
  ok = ::link(tmp.c_str(), path.c_str()) == 0;  // fails if the name is taken: nothing replaced
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (!ok && link_errno == EEXIST) {
    auto existing = read_key_file(path);
    if (!existing) return Error{existing.error()};
    return NewKey{*existing, false};
  }
  if (!ok) return Error{"cannot create " + path + ": " + std::strerror(link_errno)};
  if (!fsync_parent_directory(path)) return Error{"cannot sync the directory of " + path};
  return NewKey{*key, true};
}

Result<chain::PrivateKey> load_or_create_key(const std::string& path, bool* created) {
  if (created) *created = false;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return read_key_file(path);
  auto made = create_key_file(path);
  if (!made) return Error{made.error()};
  if (created) *created = made->created;
  return made->key;
}

}  // namespace lpops::storage
