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
#include <string>

#include "app/node.hpp"
#include "config/environment.hpp"
#include "domain/python_text.hpp"
#include "chain/keys.hpp"
#include "chain/keystore.hpp"
#include "domain/digest.hpp"
#include "domain/wipe.hpp"
#include "storage/key_file.hpp"

namespace lpops::app {

Result<chain::PrivateKey> load_or_create_key(const std::string& path, bool* created) {
  return storage::load_or_create_key(path, created);
}

namespace {

// The first line of a password file (its line end dropped) into `password`; or why not, with
// `password` wiped. A password file over 64 KiB is no password file.
std::optional<std::string> read_password_file(const std::string& path, std::string& password) {
  constexpr std::size_t kLimit = 64 * 1024;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot read " + path + ": " + std::strerror(errno);
  password.reserve(kLimit + 1);
  password.resize(password.capacity());
  std::size_t size = 0;
  while (size < password.size()) {
    const ssize_t got = ::read(fd, password.data() + size, password.size() - size);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int read_errno = errno;
      ::close(fd);
      wipe_text(password);
      return "cannot read " + path + ": " + std::strerror(read_errno);
    }
    if (got == 0) break;
    size += static_cast<std::size_t>(got);
  }
  ::close(fd);
  const std::size_t line_end = std::string_view(password.data(), size).find('\n');
  if (line_end == std::string_view::npos && size > kLimit) {
    wipe_text(password);
    return path + " is over 64 KiB: no password file is that large";
  }
  std::size_t length = std::min(line_end, size);
  OPENSSL_cleanse(password.data() + length, password.size() - length);  // the lines after the first
  while (length > 0 && password[length - 1] == '\r') --length;
  password.resize(length);
  return std::nullopt;
}

}  // namespace

int keygen(const KeygenOptions& o) {
  std::error_code ec;
  if (std::filesystem::is_directory(o.key_file, ec)) {
    std::fprintf(stderr, "lpops keygen: %s is a directory; --key-file names the file to create\n", o.key_file.c_str());
    return 2;
  }
  // A symbolic link counts as there, dangling or not: the name is taken.
  if (std::filesystem::exists(std::filesystem::symlink_status(o.key_file, ec))) {
    std::fprintf(stderr, "lpops keygen: %s exists; an existing key file is never overwritten\n", o.key_file.c_str());
    return 2;
  }
  auto made = storage::create_key_file(o.key_file);
  if (!made) {
    std::fprintf(stderr, "lpops keygen: %s\n", made.error().c_str());
    return 1;
  }
  if (!made->created) {
    std::fprintf(stderr, "lpops keygen: %s was created meanwhile; an existing key file is never overwritten\n", o.key_file.c_str());
    return 2;
  }
  std::printf("%s\n", chain::to_checksummed(made->key.address()).c_str());
  return 0;
}

namespace {

int keystore_address(const AddressOptions& o) {
  std::error_code dir_ec;
  for (const auto* path : {&o.keystore, &o.password_file})
    if (!path->empty() && std::filesystem::is_directory(*path, dir_ec)) {
      std::fprintf(stderr, "lpops address: %s is a directory, not a file\n", path->c_str());
      return 2;
    }
  const auto read = chain::read_keystore_file(o.keystore);
  if (!read) {
    std::fprintf(stderr, "lpops address: cannot read %s: %s\n", o.keystore.c_str(), read.error().c_str());
    return 2;
  }
  const std::string& json = *read;
  std::string password;
  if (!o.password_file.empty()) {
    // Read with read(2) into a buffer that never moves (a stream's buffer, and a growing
    // string's earlier ones, would be freed with the password in them); its first line.
    if (auto failed = read_password_file(o.password_file, password)) {
      std::fprintf(stderr, "lpops address: %s\n", failed->c_str());
      return 2;
    }
  } else {
    // As serve reads it: the environment, else ./.env, the name in any case. A .env that does
    // not read is said as such, not taken for a missing password.
    auto env = config::Environment::load(std::nullopt);
    if (!env) {
      std::fprintf(stderr, "lpops address: %s\n", env.error().c_str());
      return 2;
    }
    auto given = env->get("PAYMENT_KEYSTORE_PASSWORD");
    if (!given) {
      std::fprintf(stderr, "lpops address: no password: set PAYMENT_KEYSTORE_PASSWORD or pass --password-file\n");
      return 2;
    }
    if (!is_utf8(*given)) {  // as serve refuses it
      wipe_text(*given);
      std::fprintf(stderr, "lpops address: PAYMENT_KEYSTORE_PASSWORD must be UTF-8 text\n");
      return 2;
    }
    password = *given;
    wipe_text(*given);
  }
  const bool empty_password = password.empty();
  auto key = chain::decrypt_keystore(json, password);
  wipe_text(password);
  if (!key) {
    // An empty password is a keystore's own choice, but more often a password file's mistake.
    std::fprintf(stderr, "lpops address: %s: %s%s\n", o.keystore.c_str(), key.error().c_str(),
                 empty_password && !o.password_file.empty() ? (" (the password from " + o.password_file + " is empty)").c_str() : "");
    return 2;
  }
  std::printf("%s\n", chain::to_checksummed(key->address()).c_str());
  return 0;
}

}  // namespace

int address(const AddressOptions& o) {
  if (o.keystore.empty() && o.key_file.empty()) {
    std::fprintf(stderr, "lpops address: give --key-file or --keystore (run lpops address --help)\n");
    return 2;
  }
  if (!o.keystore.empty()) return keystore_address(o);
  auto key = storage::read_key_file(o.key_file);
  if (!key) {
    std::fprintf(stderr, "lpops address: %s\n", key.error().c_str());
    return 2;
  }
  std::printf("%s\n", chain::to_checksummed(key->address()).c_str());
  return 0;
}

}  // namespace lpops::app
