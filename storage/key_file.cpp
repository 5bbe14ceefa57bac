#include "storage/key_file.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "domain/digest.hpp"
#include "storage/durable_fs.hpp"

namespace lpops::storage {
namespace {

// 0x and 64 hex digits, with any whitespace around them (a trailing newline, CRLF, an indent
// from an editor). The text is wiped once parsed.
Result<chain::PrivateKey> parse_key_text(std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  const auto end = text.find_last_not_of(" \t\r\n");
  auto key = begin == std::string::npos ? Result<chain::PrivateKey>(Error{"the file is empty"})
                                        : chain::PrivateKey::from_hex(std::string_view(text).substr(begin, end - begin + 1));
  OPENSSL_cleanse(text.data(), text.size());
  return key;
}

}  // namespace

Result<chain::PrivateKey> read_key_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Error{"cannot read " + path + " (no such file)"};
  if (!std::filesystem::is_regular_file(path, ec)) return Error{path + " is not a regular file"};
  std::ifstream in(path);
  if (!in) return Error{"cannot read " + path + ": " + std::strerror(errno)};
  std::string text(4096, '\0');  // a key file is ~70 bytes; more is not a key file
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  auto key = parse_key_text(text);
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
  std::string text = "0x" + hex_lower(bytes.data(), bytes.size()) + "\n";
  OPENSSL_cleanse(bytes.data(), bytes.size());
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  ::unlink(tmp.c_str());  // a leftover of an earlier crash of a process with this pid
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    OPENSSL_cleanse(text.data(), text.size());
    return Error{"cannot create " + path + " (its temporary file in that directory: " + std::strerror(errno) + ")"};
  }
  // The key and its name durable: a key lost in a power cut would be replaced by a new one.
  const ssize_t wrote = ::write(fd, text.data(), text.size());
  const int write_errno = errno;
  bool ok = wrote == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int sync_errno = errno;
  ::close(fd);
  OPENSSL_cleanse(text.data(), text.size());
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
