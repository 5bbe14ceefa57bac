#pragma once
// Key files (the audit key, `lpops keygen`): "0x" and 64 hex digits and a newline, mode 0600.
// A key file is written whole or not at all: under a temporary name, synced, then linked to
// its own name, so a crash or a full disk part-way leaves no key file (never an empty one
// that would stop every later start), and an existing key is never replaced.
#include <string>

#include "chain/keys.hpp"
#include "domain/result.hpp"

namespace lpops::storage {

// The key in the file at `path` (whitespace around the hex is fine).
Result<chain::PrivateKey> read_key_file(const std::string& path);

// A new random key written to `path`. `existed` is set when the name was taken meanwhile
// (the key is then the one in that file, read back).
struct NewKey {
  chain::PrivateKey key;
  bool created = true;
};
Result<NewKey> create_key_file(const std::string& path);

// The key at `path`, or a new one written there when there is no file.
Result<chain::PrivateKey> load_or_create_key(const std::string& path, bool* created);

}  // namespace lpops::storage
