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
#include "config/environment.hpp"
#include "domain/python_text.hpp"
#include "chain/keys.hpp"
#include "chain/keystore.hpp"
#include "domain/digest.hpp"
#include "storage/key_file.hpp"

namespace lpops::app {

Result<chain::PrivateKey> load_or_create_key(const std::string& path, bool* created) {
  return storage::load_or_create_key(path, created);
}

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
    std::ifstream pw(o.password_file);
    if (!pw) {
      std::fprintf(stderr, "lpops address: cannot read %s: %s\n", o.password_file.c_str(), std::strerror(errno));
      return 2;
    }
    std::getline(pw, password);
    if (pw.bad()) {
      std::fprintf(stderr, "lpops address: cannot read %s\n", o.password_file.c_str());
      return 2;
    }
    while (!password.empty() && (password.back() == '\r' || password.back() == '\n')) password.pop_back();
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
      OPENSSL_cleanse(given->data(), given->size());
      std::fprintf(stderr, "lpops address: PAYMENT_KEYSTORE_PASSWORD must be UTF-8 text\n");
      return 2;
    }
    password = *given;
    OPENSSL_cleanse(given->data(), given->size());
  }
  const bool empty_password = password.empty();
  auto key = chain::decrypt_keystore(json, password);
  OPENSSL_cleanse(password.data(), password.size());
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
