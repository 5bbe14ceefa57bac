#include "storage/record_format.hpp"
#include "domain/json_parse.hpp"

namespace lpops::storage {
namespace {
constexpr std::string_view kHashKey = ",\"hash\":\"";
constexpr std::size_t kHashSuffixBytes = kHashKey.size() + 64 + 2;  // ,"hash":"<64>"}
}  // namespace

FramedRecord frame_record(std::uint64_t seq, const Digest32& prev, const boost::json::object& effect) {
  return frame_record(seq, prev, boost::json::serialize(effect));
}

FramedRecord frame_record(std::uint64_t seq, const Digest32& prev, std::string_view effect_json) {
  FramedRecord r;
  std::string& line = r.line;
  line.reserve(effect_json.size() + 200);
  line += "{\"seq\":";
  line += std::to_string(seq);
  line += ",\"prev\":\"";
  line += hex_lower(prev);
  line += "\",\"effect\":";
  line += effect_json;
  line += '}';
  r.hash = sha256(line);
  line.pop_back();
  line += kHashKey;
  line += hex_lower(r.hash);
  line += "\"}\n";
  return r;
}

Result<ParsedRecord> parse_record(std::string_view line) {
  if (line.size() < kHashSuffixBytes + 2 || line.size() > kMaxRecordBytes) return Error{"record has an impossible length"};
  std::string_view suffix = line.substr(line.size() - kHashSuffixBytes);
  if (suffix.substr(0, kHashKey.size()) != kHashKey || suffix.substr(suffix.size() - 2) != "\"}")
    return Error{"record has no hash"};
  ParsedRecord r;
  if (!hex_decode(suffix.substr(kHashKey.size(), 64), r.hash.data(), r.hash.size())) return Error{"record hash is not hex"};
  std::string body(line.substr(0, line.size() - kHashSuffixBytes));
  body += '}';
  if (sha256(body) != r.hash) return Error{"record hash does not match its content"};
  boost::system::error_code ec;
  boost::json::value v = parse_json(body, ec);
  if (ec || !v.is_object()) return Error{"record is not a JSON object"};
  auto& o = v.get_object();
  auto seq = o.find("seq");
  auto prev = o.find("prev");
  auto effect = o.find("effect");
  if (seq == o.end() || (!seq->value().is_uint64() && !seq->value().is_int64())) return Error{"record has no seq"};
  if (prev == o.end() || !prev->value().is_string() ||
      !hex_decode(prev->value().get_string(), r.prev.data(), r.prev.size()))
    return Error{"record has no prev hash"};
  if (effect == o.end() || !effect->value().is_object()) return Error{"record has no effect"};
  r.seq = seq->value().to_number<std::uint64_t>();
  r.effect = std::move(effect->value().get_object());
  return r;
}

}  // namespace lpops::storage
