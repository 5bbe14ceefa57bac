#pragma once
// The newest line of an append-only JSONL file (the audit log, the checkpoints), read from
// its end without reading the file.
#include <cstdint>
#include <optional>
#include <string>

namespace lpops::storage {

// The integer under `key` in the last line of the file at `path` that parses as a JSON object
// with a positive integer there; a torn last line (as a crash, or a copy of a running node's
// file, leaves) is passed over for the one before it. None when the file cannot be read, or
// its last whole line has no such integer.
std::optional<std::uint64_t> last_line_integer(const std::string& path, const char* key);

}  // namespace lpops::storage
