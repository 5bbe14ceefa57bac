// `lpops keygen` and `lpops address`: key files for the payout and audit keys.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "app/node.hpp"
#include "chain/keys.hpp"
#include "chain/keystore.hpp"
#include "domain/digest.hpp"
#include "storage/durable_fs.hpp"

namespace lpops::app {

namespace {

// A key file: 0x and 64 hex digits, with any whitespace around it (a trailing newline, CRLF,
// an indent from an editor). The text is wiped once parsed.
Result<chain::PrivateKey> parse_key_text(std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  const auto end = text.find_last_not_of(" \t\r\n");
  auto key = begin == std::string::npos ? Result<chain::PrivateKey>(Error{"the file is empty"})
                                        : chain::PrivateKey::from_hex(std::string_view(text).substr(begin, end - begin + 1));
  OPENSSL_cleanse(text.data(), text.size());
  return key;
}

// The key in the file at `path`.
Result<chain::PrivateKey> read_key_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Error{"cannot read " + path + " (no such file)"};
  if (!std::filesystem::is_regular_file(path, ec)) return Error{path + " is not a regular file"};
  std::ifstream in(path);
  if (!in) return Error{"cannot read " + path};
  std::string text(4096, '\0');  // a key file is ~70 bytes; more is not a key file
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  auto key = parse_key_text(text);
  if (!key) return Error{path + ": " + key.error()};
  return key;
}

}  // namespace

Result<chain::PrivateKey> load_or_create_key(const std::string& path, bool* created) {
  if (created) *created = false;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return read_key_file(path);
  std::array<std::uint8_t, 32> bytes{};
  Result<chain::PrivateKey> key = Error{"no key yet"};
  for (int attempt = 0; attempt < 8 && !key; ++attempt) {
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return Error{"the system random generator failed"};
    key = chain::PrivateKey::from_bytes(bytes);
  }
  std::string text = "0x" + hex_lower(bytes.data(), bytes.size()) + "\n";
  OPENSSL_cleanse(bytes.data(), bytes.size());
  // Written whole under a temporary name, then linked to its own: a crash or a full disk
  // part-way leaves no key file at all (the next start makes one), never an empty or partial
  // one that would stop every later start. link() fails if the name exists, so a key another
  // process created meanwhile is never replaced.
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  ::unlink(tmp.c_str());  // a leftover of this pid's earlier crash
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    OPENSSL_cleanse(text.data(), text.size());
    return Error{"cannot create " + tmp + ": " + std::strerror(errno)};
  }
  // The key and its name durable: a key lost in a power cut would be replaced by a new one.
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int write_errno = errno;
  ::close(fd);
  OPENSSL_cleanse(text.data(), text.size());
  if (!ok) {
    ::unlink(tmp.c_str());
    return Error{"cannot write " + tmp + ": " + std::strerror(write_errno)};
  }
  ok = ::link(tmp.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (!ok && link_errno == EEXIST) return read_key_file(path);  // made by another process meanwhile
  if (!ok) return Error{"cannot create " + path + ": " + std::strerror(link_errno)};
  if (!storage::fsync_parent_directory(path)) return Error{"cannot write " + path};
  if (created) *created = true;
  return key;
}

int keygen(const KeygenOptions& o) {
  std::array<std::uint8_t, 32> bytes{};
  Result<chain::PrivateKey> key = Error{"no key yet"};
  for (int attempt = 0; attempt < 8 && !key; ++attempt) {  // a random 32 bytes is out of range with p ~ 2^-128
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      std::fprintf(stderr, "lpops keygen: the system random generator failed\n");
      return 1;
    }
    key = chain::PrivateKey::from_bytes(bytes);
  }
  std::string text = "0x" + hex_lower(bytes.data(), bytes.size()) + "\n";
  OPENSSL_cleanse(bytes.data(), bytes.size());
  // O_EXCL: never overwrite an existing key; 0600: only the owner may read it.
  int fd = ::open(o.key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::fprintf(stderr, "lpops keygen: cannot create %s (%s); an existing key file is never overwritten\n",
                 o.key_file.c_str(), std::strerror(errno));
    OPENSSL_cleanse(text.data(), text.size());
    return 2;
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  OPENSSL_cleanse(text.data(), text.size());
  ok = ok && storage::fsync_parent_directory(o.key_file);
  if (!ok) {
    std::fprintf(stderr, "lpops keygen: cannot write %s\n", o.key_file.c_str());
    return 1;
  }
  std::printf("%s\n", chain::to_checksummed(key->address()).c_str());
  return 0;
}

namespace {

int keystore_address(const AddressOptions& o) {
  std::ifstream in(o.keystore);
  if (!in) {
    std::fprintf(stderr, "lpops address: cannot read %s\n", o.keystore.c_str());
    return 2;
  }
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string password;
  if (!o.password_file.empty()) {
    std::ifstream pw(o.password_file);
    if (!pw) {
      std::fprintf(stderr, "lpops address: cannot read %s\n", o.password_file.c_str());
      return 2;
    }
    std::getline(pw, password);
    while (!password.empty() && (password.back() == '\r' || password.back() == '\n')) password.pop_back();
  } else if (const char* env = std::getenv("PAYMENT_KEYSTORE_PASSWORD")) {
    password = env;
  } else {
    std::fprintf(stderr, "lpops address: no password: set PAYMENT_KEYSTORE_PASSWORD or pass --password-file\n");
    return 2;
  }
  auto key = chain::decrypt_keystore(json, password);
  OPENSSL_cleanse(password.data(), password.size());
  if (!key) {
    std::fprintf(stderr, "lpops address: %s: %s\n", o.keystore.c_str(), key.error().c_str());
    return 2;
  }
  std::printf("%s\n", chain::to_checksummed(key->address()).c_str());
  return 0;
}

}  // namespace

int address(const AddressOptions& o) {
  if (!o.keystore.empty()) return keystore_address(o);
  auto key = read_key_file(o.key_file);
  if (!key) {
    std::fprintf(stderr, "lpops address: %s\n", key.error().c_str());
    return 2;
  }
  std::printf("%s\n", chain::to_checksummed(key->address()).c_str());
  return 0;
}

}  // namespace lpops::app
