#pragma once
// The journal line: one effect framed with its sequence number and a hash link.
//
//   {"seq":N,"prev":"<hex sha256 of record N-1>","effect":{...},"hash":"<hex sha256>"}\n
//
// hash = sha256 of the line up to (not including) `,"hash"` followed by `}`; prev of
// record 1 is 64 zeros. A torn or edited line fails its hash; a dropped, reordered or
// duplicated line breaks the seq/prev links.
#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/digest.hpp"
#include "domain/result.hpp"

namespace lpops::storage {

inline constexpr std::size_t kMaxRecordBytes = 8u << 20;

struct FramedRecord {
  std::string line;   // ends with '\n'
  Digest32 hash{};
};

FramedRecord frame_record(std::uint64_t seq, const Digest32& prev, const boost::json::object& effect);
// The same, for an effect already serialised (one JSON object).
FramedRecord frame_record(std::uint64_t seq, const Digest32& prev, std::string_view effect_json);

struct ParsedRecord {
  std::uint64_t seq = 0;
  Digest32 prev{};
  Digest32 hash{};
  boost::json::object effect;
};

// Parses one line (without its '\n') and checks its own hash; links are the caller's.
Result<ParsedRecord> parse_record(std::string_view line);

}  // namespace lpops::storage
