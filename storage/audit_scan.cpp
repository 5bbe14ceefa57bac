#include "storage/audit_scan.hpp"

#include <array>
#include <cstring>

#include <boost/json.hpp>

#include "chain/audit_format.hpp"
#include "domain/canonical_json.hpp"

namespace lpops::storage {
namespace {

// True when any byte of w is < 0x20, > 0x7e, '"' or '\\' (all bytes are then looked at one by one).
inline bool has_special(std::uint64_t w) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
  const std::uint64_t above_tilde = ((w & ~highs) + ones * (0x80 - 0x7f)) | w;  // high bit set: byte >= 0x7f
  const std::uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
  const std::uint64_t quote = (q - ones) & ~q & highs;
  const std::uint64_t backslash = (b - ones) & ~b & highs;
  return (below_space | (above_tilde & highs) | quote | backslash) != 0;
}

// Byte-wise key order (canonical JSON sorts by code point; these keys are ASCII). Keys are
// short: a plain loop beats a library call.
inline bool key_less(std::string_view a, std::string_view b) {
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  return a.size() < b.size();
}

inline bool same(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

struct Member {
  std::string_view key;
  const char* begin;  // the key's opening quote
  const char* value;  // the value's first byte
  const char* end;    // one past the value
};

// Direct members of one object, in order (canonical objects are small; more declines).
struct Members {
  std::array<Member, 32> items;
  std::size_t size = 0;
};

constexpr int kMaxDepth = 16;  // well inside the general parser's limit

class Scanner {
 public:
  Scanner(const char* p, const char* end) : p_(p), end_(end) {}
  const char* pos() const { return p_; }
  bool at_end() const { return p_ == end_; }

  // A plain string: printable ASCII without quotes or backslashes (canonical form is then
  // the bytes themselves).
  bool string(std::string_view& out) {
    if (p_ == end_ || *p_ != '"') return false;
    const char* start = ++p_;
    // Eight bytes at a time while none is special (SWAR), then byte by byte.
    while (end_ - p_ >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p_, 8);
      if (has_special(w)) break;
      p_ += 8;
    }
    while (p_ != end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out = std::string_view(start, static_cast<std::size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c < 0x20 || c > 0x7e || c == '\\') return false;
      ++p_;
    }
    return false;
  }

  // An integer as canonical JSON writes an int64: no sign on zero, no leading zeros, at
  // most 18 digits (always in range).
  bool integer(std::int64_t* out) {
    const bool negative = p_ != end_ && *p_ == '-';
    if (negative) ++p_;
    const char* start = p_;
    std::int64_t v = 0;
    // Digits past the 18th are counted, not added: the number is refused, and adding them
    // could overflow.
    for (; p_ != end_ && *p_ >= '0' && *p_ <= '9'; ++p_)
      if (p_ - start < 18) v = v * 10 + (*p_ - '0');
    const auto digits = p_ - start;
    if (digits == 0 || digits > 18 || (digits > 1 && *start == '0') || (negative && v == 0)) return false;
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    if (out) *out = negative ? -v : v;
    return true;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  bool value(int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '"': {
        std::string_view ignored;
        return string(ignored);
      }
      case '{': return object(depth + 1, nullptr);
      case '[': return array(depth + 1);
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return integer(nullptr);
    }
  }

  // An object; with `members`, its direct members are recorded, and with `nested` too, the
  // members of its "audit_entry" object (one pass over a wrapper line).
  bool object(int depth, Members* members, Members* nested = nullptr) {
    if (depth > kMaxDepth) return false;
    ++p_;  // '{'
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    std::string_view previous;
    bool first = true;
    for (;;) {
      const char* begin = p_;
      std::string_view key;
      if (!string(key)) return false;
      if (!first && !key_less(previous, key)) return false;  // sorted, no duplicates
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      const char* value_start = p_;
      if (p_ == end_) return false;
      if (*p_ == '"') {  // the common case, inline
        std::string_view ignored;
        if (!string(ignored)) return false;
      } else if (nested && *p_ == '{' && key == "audit_entry") {
        if (!object(depth + 1, nested)) return false;
      } else if (!value(depth)) {
        return false;
      }
      if (members) {
        if (members->size == members->items.size()) return false;
        members->items[members->size++] = Member{key, begin, value_start, p_};
      }
      previous = key;
      first = false;
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      return false;
    }
  }

  bool array(int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;  // '['
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      if (!value(depth)) return false;
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

 private:
  const char* p_;
  const char* end_;
};

// Lower-case hex digit values; -1 for anything else.
constexpr std::array<std::int8_t, 256> kHexValue = [] {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
  return t;
}();
inline int hex_digit(char c) { return kHexValue[static_cast<unsigned char>(c)]; }

// "0x" + 64 lower-case hex digits, the only form this node writes.
bool hash_member(const Member* m, chain::Hash256& out) {
  if (!m) return false;
  const std::string_view text(m->value, static_cast<std::size_t>(m->end - m->value));
  if (text.size() != 68 || text.substr(0, 3) != "\"0x" || text.back() != '"') return false;
  int bad = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const int hi = hex_digit(text[3 + 2 * i]), lo = hex_digit(text[4 + 2 * i]);
    bad |= hi | lo;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return bad >= 0;
}

bool string_member(const Member* m, std::string_view& out) {
  if (!m || *m->value != '"') return false;
  out = std::string_view(m->value + 1, static_cast<std::size_t>(m->end - m->value - 2));
  return true;
}

bool int_member(const Member* m, std::int64_t& out) {
  if (!m) return false;
  Scanner s(m->value, m->end);
  return s.integer(&out) && s.at_end();
}

constexpr std::string_view kWrapperSchema = "payments-host:tee-core-transparency-log:v1";

}  // namespace

namespace {

// audit_source_for without a copy: a literal, or `reason` itself.
std::string_view audit_source_view(std::string_view kind, std::string_view reason) {
  if (kind == "policy") return "policy";
  if (kind == "adjustment") return "ledger_adjustment";
  if (kind == "payout_reserve") return "payout_reserve";
  if (kind == "payout_void") return "payout_void";
  if (kind == "payout_debit") return "payout_confirm";
  if (kind == "credit") return reason.empty() ? std::string_view("credit") : reason;
  return {};
}

}  // namespace

std::string audit_source_for(std::string_view kind, std::string_view reason) {
  return std::string(audit_source_view(kind, reason));
}

bool written_form(const boost::json::value& doc, std::string_view line) {
  std::string canonical = canonical_json(doc);
  if (canonical == line) return true;
  return make_ascii_json(canonical) && canonical == line;
}

std::optional<std::string> wrapper_problem(const boost::json::object& wrapper) {
  const auto* entry = wrapper.if_contains("audit_entry");
  if (!entry || !entry->is_object()) return "audit_entry is not an object";
  auto text = [&](const boost::json::object& o, const char* key) -> std::optional<std::string_view> {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_string()) return std::nullopt;
    return std::string_view(v->get_string());
  };
  const bool ours = wrapper.contains("journal_seq");
  for (const auto& member : wrapper) {
    const std::string_view k = member.key();
    if (k != "audit_entry" && k != "received_at" && k != "schema" && k != "source" && !(ours && k == "journal_seq"))
      return "the wrapper has a member " + std::string(k) + " that no writer puts there";
  }
  if (wrapper.size() != (ours ? 5u : 4u)) return "the wrapper lacks one of received_at, schema and source";
  const auto schema = text(wrapper, "schema");
  if (!schema || *schema != kWrapperSchema) return "the wrapper's schema is not " + std::string(kWrapperSchema);
  const auto received = text(wrapper, "received_at");
  const auto source = text(wrapper, "source");
  if (!received || !source) return "the wrapper's received_at and source must be strings";
  if (!ours) return std::nullopt;
  const auto& journal_seq = wrapper.at("journal_seq");
  if (!journal_seq.is_int64() || journal_seq.get_int64() < 1) return "journal_seq is not a positive integer";
  const auto& e = entry->get_object();
  if (text(e, "timestamp") != received) return "received_at is not the entry's timestamp";
  const auto kind = text(e, "kind");
  const auto reason = text(e, "reason");
  const std::string expected = audit_source_for(kind.value_or(""), reason.value_or(""));
  if (expected.empty()) return "kind " + std::string(kind.value_or("(none)")) + " is not one this node writes";
  if (*source != expected) return "source " + std::string(*source) + " is not " + expected + ", which the entry's kind and reason give";
  return std::nullopt;
}

namespace {

// The members a line's checks look at, found in one pass (by length first, then bytes).
struct EntrySlots {
  const Member *balance_wei = nullptr, *delta_wei = nullptr, *entry_hash = nullptr, *event_id = nullptr, *kind = nullptr,
               *orchestrator_id = nullptr, *prev_hash = nullptr, *reason = nullptr, *schema = nullptr, *seq = nullptr,
               *signature = nullptr, *signer = nullptr, *timestamp = nullptr;
  explicit EntrySlots(const Members& m) {
    for (std::size_t i = 0; i < m.size; ++i) {
      const Member* x = &m.items[i];
      const std::string_view k = x->key;
      switch (k.size()) {
        case 3: if (same(k, "seq")) seq = x; break;
        case 4: if (same(k, "kind")) kind = x; break;
        case 6:
          if (same(k, "reason")) reason = x;
          else if (same(k, "schema")) schema = x;
          else if (same(k, "signer")) signer = x;
          break;
        case 8: if (same(k, "event_id")) event_id = x; break;
        case 9:
          if (same(k, "delta_wei")) delta_wei = x;
          else if (same(k, "prev_hash")) prev_hash = x;
          else if (same(k, "signature")) signature = x;
          else if (same(k, "timestamp")) timestamp = x;
          break;
        case 10: if (same(k, "entry_hash")) entry_hash = x; break;
        case 11: if (same(k, "balance_wei")) balance_wei = x; break;
        case 15: if (same(k, "orchestrator_id")) orchestrator_id = x; break;
        default: break;
      }
    }
  }
};

struct WrapperSlots {
  const Member *audit_entry = nullptr, *journal_seq = nullptr, *received_at = nullptr, *schema = nullptr, *source = nullptr;
  explicit WrapperSlots(const Members& m) {
    for (std::size_t i = 0; i < m.size; ++i) {
      const Member* x = &m.items[i];
      const std::string_view k = x->key;
      if (same(k, "audit_entry")) audit_entry = x;
      else if (same(k, "journal_seq")) journal_seq = x;
      else if (same(k, "received_at")) received_at = x;
      else if (same(k, "schema")) schema = x;
      else if (same(k, "source")) source = x;
    }
  }
};

}  // namespace

bool scan_canonical_line(std::string_view line, ScannedEntry& out, std::string& hash_input) {
  const char* begin = line.data();
  const char* end = begin + line.size();
  Scanner top(begin, end);
  if (line.empty() || *begin != '{') return false;
  Members outer, inner;
  if (!top.object(1, &outer, &inner) || !top.at_end()) return false;

  const WrapperSlots w(outer);
  const Members* entry_members = &outer;
  out.journal_seq = -1;
  out.entry_text = line;
  if (w.audit_entry) {
    if (*w.audit_entry->value != '{') return false;
    entry_members = &inner;
    out.entry_text = std::string_view(w.audit_entry->value, static_cast<std::size_t>(w.audit_entry->end - w.audit_entry->value));
  }
  const EntrySlots e(*entry_members);
  if (w.audit_entry) {
    // This node's wrapper exactly (wrapper_problem); anything else goes to the general check,
    // which says what is wrong.
    if (!w.journal_seq || outer.size != 5 || !int_member(w.journal_seq, out.journal_seq) || out.journal_seq < 1) return false;
    std::string_view wrapper_schema, received, source, timestamp, kind, reason;
    if (!string_member(w.schema, wrapper_schema) || wrapper_schema != kWrapperSchema) return false;
    if (!string_member(w.received_at, received) || !string_member(e.timestamp, timestamp) || received != timestamp) return false;
    if (!string_member(w.source, source) || !string_member(e.kind, kind)) return false;
    if (e.reason && !string_member(e.reason, reason)) return false;
    const std::string_view expected = audit_source_view(kind, reason);
    if (expected.empty() || source != expected) return false;
  }
  std::string_view schema;
  if (!string_member(e.schema, schema) || schema != chain::audit::kEntrySchema) return false;
  if (!hash_member(e.entry_hash, out.entry_hash) || !hash_member(e.prev_hash, out.prev_hash)) return false;
  if (!int_member(e.seq, out.seq)) return false;
  out.has_event_id = false;
  out.event_id = {};
  out.orchestrator_id = {};
  if (e.event_id) {
    if (*e.event_id->value != '"') return false;  // unusual: let the general check decide
    string_member(e.event_id, out.event_id);
    out.has_event_id = true;
  }
  // Every entry names its orchestrator; one without (or not as a string) is for the general check.
  if (!e.orchestrator_id || *e.orchestrator_id->value != '"') return false;
  string_member(e.orchestrator_id, out.orchestrator_id);
  out.delta_wei = {};
  out.balance_wei = {};
  out.kind = {};
  if (e.kind && *e.kind->value == '"') string_member(e.kind, out.kind);
  if (e.delta_wei && *e.delta_wei->value == '"') string_member(e.delta_wei, out.delta_wei);
  if (e.balance_wei && *e.balance_wei->value == '"') string_member(e.balance_wei, out.balance_wei);
  out.signer = {};
  out.signature = {};
  if (e.signer || e.signature)  // both, as non-empty strings, or the general check decides
    if (!string_member(e.signer, out.signer) || !string_member(e.signature, out.signature) || out.signer.empty() ||
        out.signature.empty())
      return false;

  // The canonical entry without entry_hash, signer and signature: the other members' bytes.
  hash_input.clear();
  hash_input.reserve(out.entry_text.size());
  hash_input += '{';
  bool first = true;
  for (std::size_t i = 0; i < entry_members->size; ++i) {
    const Member* m = &entry_members->items[i];
    if (m == e.entry_hash || m == e.signer || m == e.signature) continue;
    if (!first) hash_input += ',';
    hash_input.append(m->begin, static_cast<std::size_t>(m->end - m->begin));
    first = false;
  }
  hash_input += '}';
  return true;
}

}  // namespace lpops::storage
