// `lpops import`: brings a reference deployment's data directory (registry.json,
// workloads.json, balances.json) into a running node through its /api/import routes, and
// payouts.json's pending payouts as reservations (/api/payouts) when asked to.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>
#include <unordered_set>
#include <variant>

#include <boost/json.hpp>

#include "app/http_get.hpp"
#include "app/node.hpp"
#include "config/environment.hpp"
#include "domain/clock.hpp"
#include "domain/digest.hpp"
#include "domain/json_parse.hpp"
#include "domain/money.hpp"
#include "domain/reference_import.hpp"
#include "net/body.hpp"

namespace lpops::app {
namespace {

namespace json = boost::json;
namespace ri = reference_import;

// A request's body stays well under the node's default PAYMENTS_MAX_BODY_BYTES (1 MiB); with a
// smaller setting, a slice the node refuses as too large goes again in halves.
constexpr std::size_t kMaxRequestBytes = 256 * 1024;

// What tells one version of a file from another, without reading it again.
struct FileStamp {
  dev_t device;
  ino_t inode;
  off_t size;
  std::int64_t mtime_ns;
  bool operator==(const FileStamp&) const = default;
};

// The file's stamp; none when it is not there (or cannot be looked at).
std::optional<FileStamp> stamp_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileStamp{st.st_dev, st.st_ino, st.st_size,
                   static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

struct SourceFile {
  const char* name;   // in the reference's data directory
  const char* route;  // /api/import/<route>
  std::unordered_map<std::string, std::string> entries;  // id -> the entry as compact JSON
  // Entries holding a number no JSON text carries (their check refuses them), as read.
  std::unordered_map<std::string, json::value> non_finite;
  std::vector<std::string> order;  // the keys in the order they are sent
  std::unordered_map<std::string, UnixMicros> submitted_at = {};  // workloads.json: each workload's time
  // An entry as the node reads it (its text parsed again: one entry at a time in memory).
  json::value entry(const std::string& key) const {
    if (const auto it = non_finite.find(key); it != non_finite.end()) return it->second;
    return parse_json(entries.at(key));
  }
  bool present = false;
  std::filesystem::path path = {};  // where it was read (set by the caller; else <from>/<name>)
  // The file as it was read (its inode, size and modification time): a livepeer-ops still
  // writing it (it replaces its files by renaming) shows as a change before anything is sent.
  std::optional<FileStamp> stamp_read = {};
};

// Python's json.dump writes NaN, Infinity and -Infinity (a float the reference received in
// a health report, say), which are no JSON: each such token outside a string becomes null.
std::string without_python_non_finite(std::string_view text, std::size_t& replaced) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[i + 1];
        i += 2;
        continue;
      }
      if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') in_string = true;
    bool matched = false;
    for (std::string_view token : {"-Infinity", "Infinity", "NaN"})
      if (text.substr(i, token.size()) == token) {
        out += "null";
        i += token.size();
        ++replaced;
        matched = true;
        break;
      }
    if (!matched) {
      out += c;
      ++i;
    }
  }
  return out;
}

// Python's json.dump escapes a string holding a lone UTF-16 surrogate (text a client sent as
// "\ud800", which Python takes) as that escape, which no JSON reader takes for Unicode text.
// Each such escape inside a string becomes \ufffd, the replacement character; a high and a
// low surrogate in a row are a pair, and stay.
// `in_keys` counts the object keys (ids, field names) that held one: two such keys could read as
// one after it, so the caller refuses them rather than merge their entries.
std::string without_lone_surrogates(std::string_view text, std::size_t& replaced, std::size_t& in_keys) {
  auto unit_at = [&](std::size_t at) -> int {  // the code unit of a \uXXXX at `at`, else -1
    if (at + 6 > text.size() || text[at] != '\\' || text[at + 1] != 'u') return -1;
    int v = 0;
    for (std::size_t k = at + 2; k < at + 6; ++k) {
      const char h = text[k];
      const int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  };
  std::string out;
  out.reserve(text.size());
  bool in_string = false, replaced_here = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (!in_string) {
      in_string = c == '"';
      replaced_here = false;
      out += c;
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = false;
      out += c;
      ++i;
      if (replaced_here) {  // a key when a colon follows
        std::size_t j = i;
        while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) ++j;
        if (j < text.size() && text[j] == ':') ++in_keys;
      }
      continue;
    }
    if (c != '\\' || i + 1 >= text.size()) {
      out += c;
      ++i;
      continue;
    }
    const int unit = unit_at(i);
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const int low = unit_at(i + 6);
      if (low >= 0xDC00 && low <= 0xDFFF) {  // a pair
        out.append(text.substr(i, 12));
        i += 12;
        continue;
      }
    }
    if (unit >= 0xD800 && unit <= 0xDFFF) {
      out += "\\ufffd";
      ++replaced;
      replaced_here = true;
      i += 6;
      continue;
    }
    out.append(text.substr(i, 2));  // any other escape, whole
    i += 2;
  }
  return out;
}

// Line and column of a byte offset, for messages about a file.
std::string position(std::string_view text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Reads `dir/name`: absent is fine (nothing to import from it); anything but a JSON object
// is an error. Numbers are read as the node reads them (parse_json).
std::optional<std::string> read_source(const std::filesystem::path& dir, SourceFile& f, std::vector<std::string>& notes) {
  if (f.path.empty()) f.path = dir / f.name;
  const auto& path = f.path;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) return std::string(f.name) + ": cannot be looked at (" + ec.message() + ")";
    return std::nullopt;
  }
  if (std::filesystem::is_directory(path, ec)) return std::string(f.name) + ": is a directory";
  f.stamp_read = stamp_of(path);  // before it is read: a change while it is read shows too
  if (!f.stamp_read) return std::string(f.name) + ": cannot be looked at (" + std::strerror(errno) + ")";
  std::ifstream in(path, std::ios::binary);
  std::string raw;
  if (in) {
    in.seekg(0, std::ios::end);
    raw.resize(static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0)));
    in.seekg(0);
    in.read(raw.data(), static_cast<std::streamsize>(raw.size()));
  }
  if (!in) return std::string(f.name) + ": cannot be read";
  std::size_t replaced = 0;
  // Copied only when it holds such a token (outside strings or not: a cheap first look).
  std::string text;
  if (raw.find("NaN") != std::string::npos || raw.find("Infinity") != std::string::npos) {
    text = without_python_non_finite(raw, replaced);
    std::string().swap(raw);  // one copy of the file at a time
  } else {
    text = std::move(raw);
  }
  if (replaced) notes.push_back(std::string(f.name) + ": " + std::to_string(replaced) + " NaN or Infinity (Python's, no JSON) read as null");
  if (text.find("\\ud") != std::string::npos || text.find("\\uD") != std::string::npos) {
    std::size_t lone = 0, in_keys = 0;
    std::string fixed = without_lone_surrogates(text, lone, in_keys);
    if (in_keys)
      return std::string(f.name) + ": " + std::to_string(in_keys) +
             " keys (ids or field names) hold a lone UTF-16 surrogate escape (text that is no Unicode, as Python writes "
             "it): no such id can be kept, and two of them could read as one; rename them in the file first";
    if (lone) {
      text = std::move(fixed);
      notes.push_back(std::string(f.name) + ": " + std::to_string(lone) +
                      " lone UTF-16 surrogates (escapes Python writes for text that is no Unicode) read as U+FFFD");
    }
  }
  json::parse_options opts = stored_json_options();
  std::size_t big_integers = 0;
  auto too_big = [&] {
    return std::string(f.name) + ": " + std::to_string(big_integers) +
           " integers past 64 bits inside its entries, which the node does not store (write them as strings)";
  };
  // Entry by entry, each kept as compact JSON (the file is never one tree in memory); a text
  // the splitter does not take whole is parsed whole, for the error or the same reading.
  if (auto members = ri::split_object(text, opts, big_integers)) {
    if (big_integers) {
      // Which entries hold them: the first few, by id.
      std::string which;
      std::size_t named = 0;
      for (const auto& m : *members)
        if (m.big_integers && named++ < 5) which += std::string(named > 1 ? ", " : "") + json::serialize(json::value(m.key));
      if (named > 5) which += ", ... (" + std::to_string(named) + " entries)";
      return too_big() + ": " + which;
    }
    f.entries.reserve(members->size());
    for (auto& m : *members) {
      f.order.push_back(m.key);
      if (m.non_finite) f.non_finite.emplace(m.key, std::move(*m.non_finite));
      f.entries.emplace(std::move(m.key), std::move(m.json));
    }
    f.present = true;
    return std::nullopt;
  }
  big_integers = 0;
  boost::system::error_code jec;
  JsonNumberNotes numbers;
  json::value v = parse_json(text, jec, opts, &numbers);
  big_integers = numbers.nested_big_integers;
  if (jec) {
    // Where: the standard parser stops at the same place.
    json::stream_parser where({}, opts);
    boost::system::error_code at_ec;
    const std::size_t at = where.write_some(text.data(), text.size(), at_ec);
    return std::string(f.name) + ": not JSON (" + jec.message() + (at_ec ? " at " + position(text, at) : std::string()) + ")";
  }
  if (!v.is_object()) return std::string(f.name) + ": must be a JSON object keyed by id";
  if (big_integers) return too_big();
  for (const auto& kv : v.get_object()) {
    f.order.emplace_back(kv.key());
    f.entries[std::string(kv.key())] = json::serialize(kv.value());
    if (first_non_finite(kv.value())) f.non_finite[std::string(kv.key())] = kv.value();
  }
  f.present = true;
  return std::nullopt;
}

// Every entry read as the node will read it, before anything is sent: problems are listed
// and nothing is imported. Workloads are put in submission order (the node takes them
// oldest first). `named` gets the orchestrator ids workloads and balances name that
// registry.json does not hold (they must be registered on the node already). `previews`
// gets what the node would say of entries it takes as changed (fields dropped, amounts cut to
// whole wei), for --dry-run.
struct CheckedEntries {
  std::vector<std::string> problems;  // a line each, every problem of every entry
  std::size_t bad_entries = 0;        // the entries they belong to
};
CheckedEntries check_entries(SourceFile& registry, SourceFile& workloads, SourceFile& balances,
                             std::set<std::string>& named, std::vector<std::string>& cut_to_zero,
                             std::vector<std::string>& previews) {
  std::set<std::string> dropped_fields;
  auto cut = [&](const SourceFile& f, const std::string& id, const ri::Amount& a) {
    previews.push_back(std::string(f.name) + ": cut to whole wei: " + id + ": " + a.given + " ETH imported as " +
                       format_eth(a.value) + " ETH");
  };
  CheckedEntries out;
  std::set<std::pair<std::string_view, std::string>> bad;
  auto note = [&](const SourceFile& f, const std::string& key, const ri::Problem& p) {
    out.problems.push_back(std::string(f.name) + " \"" + key + "\": " + (p.field.empty() ? "" : p.field + " ") + p.message);
    bad.emplace(f.name, key);
  };
  auto note_all = [&](const SourceFile& f, const std::string& key, const ri::Problems& problems) {
    for (const auto& p : problems) note(f, key, p);
  };
  std::map<std::string, std::string> by_address;  // lower-cased address -> the first id with it
  for (const auto& key : registry.order) {
    auto read = ri::read_registry_entry(key, registry.entry(key));
    if (auto* problems = std::get_if<ri::Problems>(&read)) {
      note_all(registry, key, *problems);
      continue;
    }
    const auto& entry = std::get<ri::RegistryEntry>(read);
    dropped_fields.insert(entry.ignored_fields.begin(), entry.ignored_fields.end());
    if (auto [it, added] = by_address.emplace(entry.address, key); !added)
      note(registry, key, {"address", entry.address + " is also the address of \"" + it->second + "\" (one address per orchestrator)"});
  }
  std::vector<std::pair<UnixMicros, std::string>> by_time;
  for (const auto& key : workloads.order) {
    auto read = ri::read_workload_entry(key, workloads.entry(key));
    if (auto* problems = std::get_if<ri::Problems>(&read)) {
      note_all(workloads, key, *problems);
      continue;
    }
    const auto& entry = std::get<ri::WorkloadEntry>(read);
    const Workload& w = entry.workload;
    if (entry.amount.rounded) cut(workloads, key, entry.amount);
    by_time.emplace_back(w.submitted_at, key);
    workloads.submitted_at[key] = w.submitted_at;
    if (!registry.entries.contains(w.orchestrator_id)) named.insert(w.orchestrator_id);
  }
  std::stable_sort(by_time.begin(), by_time.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  workloads.order.clear();
  for (auto& [t, key] : by_time) workloads.order.push_back(std::move(key));
  for (const auto& key : balances.order) {
    auto read = ri::read_balance_entry(key, balances.entry(key));
    if (auto* problems = std::get_if<ri::Problems>(&read)) {
      note_all(balances, key, *problems);
      continue;
    }
    const auto& amount = std::get<ri::BalanceEntry>(read).amount;
    if (amount.value.is_zero()) {
      if (amount.rounded) cut_to_zero.push_back("balances.json \"" + key + "\": " + amount.given + " ETH is less than 1 wei: not imported");
    } else {
      if (amount.rounded) cut(balances, key, amount);
      if (!registry.entries.contains(key)) named.insert(key);
    }
  }
  for (const auto& field : dropped_fields) previews.push_back("registry.json: field not kept: " + field);
  // No node takes a request larger than 3 MiB (PAYMENTS_MAX_BODY_BYTES at most).
  for (SourceFile* f : {&registry, &workloads, &balances})
    for (const auto& key : f->order)
      if (const std::size_t size = f->entries.at(key).size() + key.size() + 8; size > net::kMaxStoredBodyBytes)
        note(*f, key, {"", "is " + std::to_string(size) + " bytes as JSON, more than any node takes in one request (3 MiB)"});
  out.bad_entries = bad.size();
  return out;
}

// What an HTTP status the import routes answer usually means, as a line to print after it;
// empty when there is nothing to add.
std::string refusal_advice(int status) {
  if (status == 404)
    return "  (the node answers 404 on its import routes while it has no PAYMENTS_API_ADMIN_TOKEN set, or --url names no lpops "
           "node)\n";
  if (status == 401 || status == 403)
    return "  (the admin token was refused: give the node's PAYMENTS_API_ADMIN_TOKEN, with --admin-token-file or in the "
           "environment or .env)\n";
  return {};
}

// A node that is still recovering answers 503 "Starting" (with Retry-After), one too busy for
// a listing 503 with Retry-After too, and one not yet listening refuses the connection: asked
// again every second, up to `wait_seconds`.
template <class Ask>
auto waiting_while_starting(Ask ask, unsigned wait_seconds) {
  auto answer = ask();
  bool said_starting = false, said_refused = false, said_busy = false;
  for (unsigned waited = 0; waited < wait_seconds; ++waited) {
    const bool starting = answer && answer->first == 503 && answer->second.find("Starting") != std::string::npos;
    const bool refused = !answer && answer.error().find("refused") != std::string::npos;
    // A listing the node is too busy to take now (its reads queued, or large answers held).
    const bool busy = answer && answer->first == 503 &&
                      (answer->second.find("Too many reads are queued") != std::string::npos ||
                       answer->second.find("Too many large answers") != std::string::npos);
    if (!starting && !refused && !busy) break;
    if (busy && !said_busy) {
      std::fprintf(stderr, "lpops import: the node is busy (503: %s); asking again\n", answer->second.substr(0, 200).c_str());
      said_busy = true;
    }
    if (starting && !said_starting) {
      std::fprintf(stderr, "lpops import: the node is starting (recovering its ledger); waiting for it\n");
      said_starting = true;
    }
    if (refused && !said_refused) {
      std::fprintf(stderr, "lpops import: nothing listens there yet (%s); waiting up to %u s for the node\n",
                   answer.error().c_str(), wait_seconds);
      said_refused = true;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    answer = ask();
  }
  return answer;
}

// One of the node's admin listings: GET `target` with the admin token, the array under
// `member`; an error text (with advice for a refused token) when it cannot be read.
Result<json::array> node_listing(HttpGetter& http, const std::string& token, const std::string& target, const char* member,
                                 unsigned wait_seconds) {
  auto answer = waiting_while_starting([&] { return http.get_with_headers(target, {{"X-Admin-Token", token}}); }, wait_seconds);
  if (!answer) return Error{answer.error()};
  boost::system::error_code ec;
  json::value body = json::parse(answer->second, ec);
  if (answer->first != 200 || ec || !body.is_object() || !body.get_object().contains(member) ||
      !body.get_object().at(member).is_array()) {
    std::string advice = refusal_advice(answer->first);
    if (!advice.empty()) advice = "\n" + advice.substr(0, advice.size() - 1);
    const std::string path = http.path_of(target.substr(0, target.find('?')));
    return Error{"GET " + path + " answered " + std::to_string(answer->first) + ": " + answer->second.substr(0, 200) + advice};
  }
  return std::move(body.get_object().at(member).get_array());
}

// The string each entry of a listing has under `key`.
std::set<std::string> ids_in(const json::array& listing, const char* key) {
  std::set<std::string> ids;
  for (const auto& entry : listing)
    if (const auto* id = entry.is_object() ? entry.get_object().if_contains(key) : nullptr; id && id->is_string())
      ids.emplace(id->get_string());
  return ids;
}

std::string detail_text(const json::value& answer) {
  const auto* d = answer.is_object() ? answer.get_object().if_contains("detail") : nullptr;
  if (!d) return json::serialize(answer);
  if (d->is_string()) return std::string(d->get_string());
  if (!d->is_array()) return json::serialize(*d);
  std::string out;
  for (const auto& e : d->get_array()) {
    if (!e.is_object()) continue;
    std::string loc;
    if (const auto* l = e.get_object().if_contains("loc"); l && l->is_array())
      for (const auto& part : l->get_array()) loc += (loc.empty() ? "" : ".") + (part.is_string() ? std::string(part.get_string()) : json::serialize(part));
    const auto* msg = e.get_object().if_contains("msg");
    out += "\n  " + loc + ": " + (msg && msg->is_string() ? std::string(msg->get_string()) : std::string("invalid"));
  }
  return out;
}

// The end of the slice that starts at `from`: at most `per_request` entries and
// kMaxRequestBytes (at least one entry).
std::size_t slice_end(const SourceFile& f, std::size_t from, std::size_t per_request) {
  std::size_t end = from, bytes = 2;
  while (end < f.order.size() && end - from < per_request) {
    const std::size_t size = f.entries.at(f.order[end]).size() + f.order[end].size() + 8;
    if (end > from && bytes + size > kMaxRequestBytes) break;
    bytes += size;
    ++end;
  }
  return end;
}

constexpr std::size_t kMaxNoteLines = 100;  // summary lines of one kind; the rest are counted

struct Totals {
  std::size_t imported = 0, existing = 0, zero = 0;
  std::set<std::string> denylisted;  // registry.json ids the node takes denylisted (PAYMENTS_ADDRESS_DENYLIST)
  // Lines for the summary, each once, at most kMaxNoteLines of a kind (a million workloads cut
  // to whole wei are counted, not listed): the kind, the lines kept, and how many more.
  struct Kind {
    std::string what;
    std::vector<std::string> lines;
    std::size_t more = 0;
  };
  std::vector<Kind> kinds;
  std::unordered_set<std::size_t> seen;  // hashes of the lines noted (a slice sent again repeats some)
  void note(const std::string& what, std::string line) {
    if (!seen.insert(std::hash<std::string>{}(what + line)).second) return;
    auto kind = std::find_if(kinds.begin(), kinds.end(), [&](const Kind& k) { return k.what == what; });
    if (kind == kinds.end()) kind = kinds.insert(kinds.end(), Kind{what, {}, 0});
    if (kind->lines.size() < kMaxNoteLines) kind->lines.push_back(what + line);
    else ++kind->more;
  }
  void print() const {
    for (const auto& k : kinds) {
      for (const auto& line : k.lines) std::printf("  %s\n", line.c_str());
      if (k.more) std::printf("  %s... and %zu more\n", k.what.c_str(), k.more);
    }
  }
};

void add_names(Totals& t, const json::object& answer, const char* key, const std::string& what) {
  const auto* list = answer.if_contains(key);
  if (!list || !list->is_array()) return;
  for (const auto& item : list->get_array()) {
    if (item.is_string()) t.note(what, std::string(item.get_string()));
    else if (item.is_object()) {
      const auto& o = item.get_object();
      auto text = [&](const char* k) { return o.contains(k) && o.at(k).is_string() ? std::string(o.at(k).get_string()) : std::string(); };
      t.note(what, text("id") + ": " + text("given") + " ETH imported as " + text("imported_eth") + " ETH");
    }
  }
}

// What the node answered for one slice: 200 with its body, or a refusal already printed (a
// check's conflicts are returned instead, for the caller to print).
struct SliceOutcome {
  bool ok = false;
  bool too_large = false;  // 413: the slice is to be sent in smaller pieces
  json::object answer;
  bool unknown = false;    // no answer: the node may have applied the slice, or part of it
  int answer_status = 0;   // the node's HTTP status (0: no answer)
  json::array conflicts = {};  // a check's 409: {id, detail} of each entry that conflicts
  bool imported_instead = false;  // a check the node took as an import (a version without the check)
};

// A slice of `f` posted to the node, to import it or (`check`) to ask what importing it would do.
SliceOutcome send_slice(HttpGetter& http, const std::string& token, const SourceFile& f, std::size_t from, std::size_t to,
                        unsigned wait_seconds, bool check) {
  // The slice as one JSON object, written from the entries' texts.
  std::string text = "{";
  for (std::size_t i = from; i < to; ++i) {
    if (i > from) text += ',';
    text += json::serialize(json::value(f.order[i]));
    text += ':';
    text += f.entries.at(f.order[i]);
  }
  text += '}';
  http.forget_posts();  // from here, any attempt that wrote the slice may have delivered it
  auto answer = waiting_while_starting(
      [&] {
        return http.post_json(std::string("/api/import/") + f.route + (check ? "?check=true" : ""), text,
                              {{"X-Admin-Token", token}});
      },
      wait_seconds);
  if (!answer) {
    std::fprintf(stderr, "lpops import: %s: %s\n", f.name, answer.error().c_str());
    // Unknown if any attempt wrote the slice (a node killed while applying it keeps what was
    // durable, and refuses the attempts after); else no connection was made for it: nothing
    // of it reached the node.
    return {false, false, {}, http.post_may_have_arrived()};
  }
  if (answer->first == 413 && to - from > 1) return {false, true, {}};
  boost::system::error_code ec;
  json::value body = json::parse(answer->second, ec);
  if (answer->first == 200 && !ec && body.is_object()) {
    // A node without the check would have imported the slice: said, and stopped there.
    if (check && !body.get_object().contains("checked")) {
      std::fprintf(stderr, "lpops import: %s: the node imported entries %zu-%zu instead of checking them (a version without "
                           "the import check); they stay imported. Import with an lpops of the node's version.\n",
                   f.name, from + 1, to);
      SliceOutcome instead;
      instead.imported_instead = true;
      return instead;
    }
    return {true, false, std::move(body.get_object())};
  }
  if (check && answer->first == 409 && !ec && body.is_object())
    if (const auto* c = body.get_object().if_contains("conflicts"); c && c->is_array()) {
      SliceOutcome refused;
      refused.answer_status = 409;
      refused.conflicts = c->get_array();
      return refused;
    }
  if (answer->first == 200 && !check) {
    // Applied, with an answer that does not read (a proxy rewrote it?): the counts are lost,
    // the import is not.
    std::fprintf(stderr, "lpops import: %s: the node answered 200 (entries %zu-%zu applied) with a body that is no "
                         "import answer: %s\n", f.name, from + 1, to, answer->second.substr(0, 200).c_str());
    SliceOutcome applied;
    applied.answer_status = 200;
    applied.unknown = true;
    return applied;
  }
  std::fprintf(stderr, "lpops import: %s: the node answered %d: %s\n", f.name, answer->first,
               ec || !body.is_object() ? answer->second.c_str() : detail_text(body).c_str());
  if (answer->first == 413)
    std::fprintf(stderr, "  entry \"%s\" alone is larger than the node takes (PAYMENTS_MAX_BODY_BYTES, at most 3 MiB)\n",
                 f.order[from].c_str());
  std::fputs(refusal_advice(answer->first).c_str(), stderr);
  if (!ec && body.is_object())
    if (const auto* c = body.get_object().if_contains("conflicts"); c && c->is_array())
      for (const auto& item : c->get_array())
        if (item.is_object() && item.get_object().contains("id") && item.get_object().contains("detail"))
          std::fprintf(stderr, "  %s: %s\n", json::serialize(item.get_object().at("id")).c_str(),
                       item.get_object().at("detail").is_string() ? item.get_object().at("detail").get_string().c_str() : "");
  SliceOutcome refused;
  refused.answer_status = answer->first;
  // An earlier attempt written without an answer (the node stopped while applying it, and
  // answered 503 Starting until the wait ran out) may have imported part of the slice.
  refused.unknown = http.post_went_unanswered();
  return refused;
}

// Adds a slice's answer to the totals.
void count_answer(Totals& t, const SourceFile& f, const json::object& o) {
  auto count = [&](const char* k) { return o.contains(k) && o.at(k).is_number() ? o.at(k).to_number<std::size_t>() : 0; };
  t.imported += count("imported");
  t.existing += count("existing");
  t.zero += count("zero");
  add_names(t, o, "rounded", std::string(f.name) + ": cut to whole wei: ");
  add_names(t, o, "denylisted", "registry.json: on PAYMENTS_ADDRESS_DENYLIST, imported denylisted: ");
  if (const auto* list = o.if_contains("denylisted"); list && list->is_array())
    for (const auto& item : list->get_array())
      if (item.is_string()) t.denylisted.insert(std::string(item.get_string()));
  add_names(t, o, "ignored_fields", "registry.json: field not kept: ");
  add_names(t, o, "kept_as_here", "workloads.json: already here, kept as it is here (the file's copy differs): ");
}

constexpr std::size_t kMaxConflictLines = 100;  // conflicts printed by the check, of every file

// Progress lines of one file: at most one a second, and always the last (a file of a million
// workloads goes in 2,000 slices; a line for each would bury what else the command says).
class Progress {
 public:
  bool due(bool last) {
    const auto now = std::chrono::steady_clock::now();
    if (!last && now - printed_ < std::chrono::seconds(1)) return false;
    printed_ = now;
    return true;
  }

 private:
  std::chrono::steady_clock::time_point printed_ = std::chrono::steady_clock::now();
};

// The slice of `f` from `from` (at most `per_request` entries and kMaxRequestBytes) sent; one
// the node finds too large goes again in halves. `end` is where the slice sent last ended.
SliceOutcome send_fitting_slice(HttpGetter& http, const std::string& token, const SourceFile& f, std::size_t from,
                                std::size_t& end, std::size_t per_request, unsigned wait_seconds, bool check) {
  end = slice_end(f, from, per_request);
  auto outcome = send_slice(http, token, f, from, end, wait_seconds, check);
  while (outcome.too_large) {
    end = from + (end - from) / 2;
    outcome = send_slice(http, token, f, from, end, wait_seconds, check);
  }
  return outcome;
}

// Asks the node, slice by slice, what importing `f` would do; nothing is imported. Every
// conflict is counted in `conflicts` (the first kMaxConflictLines printed). False when a
// slice could not be checked (why is printed).
bool check_file(HttpGetter& http, const std::string& token, const SourceFile& f, std::size_t per_request, unsigned wait_seconds,
                Totals& t, std::size_t& conflicts) {
  std::size_t checked = 0;
  Progress progress;
  while (checked < f.order.size()) {
    std::size_t end = 0;
    auto outcome = send_fitting_slice(http, token, f, checked, end, per_request, wait_seconds, true);
    if (outcome.ok) {
      count_answer(t, f, outcome.answer);
    } else if (outcome.answer_status == 409 && !outcome.conflicts.empty()) {
      for (const auto& item : outcome.conflicts) {
        if (conflicts++ >= kMaxConflictLines || !item.is_object()) continue;
        const auto& o = item.get_object();
        const auto* id = o.if_contains("id");
        const auto* why = o.if_contains("detail");
        std::fprintf(stderr, "lpops import: %s %s: %s\n", f.name, id ? json::serialize(*id).c_str() : "?",
                     why && why->is_string() ? why->get_string().c_str() : "conflicts");
      }
    } else {
      if (!outcome.imported_instead)
        std::fprintf(stderr, "lpops import: stopped while checking %s entries %zu-%zu with the node; nothing was imported\n",
                     f.name, checked + 1, end);
      return false;
    }
    checked = end;
    if (progress.due(checked == f.order.size())) std::fprintf(stderr, "%s: %zu/%zu checked\n", f.name, checked, f.order.size());
  }
  return true;
}

// Sends one file in slices (send_fitting_slice); false after printing why the node refused one.
bool send_file(HttpGetter& http, const std::string& token, const SourceFile& f, std::size_t per_request, unsigned wait_seconds,
               Totals& t) {
  std::size_t sent = 0;
  Progress progress;
  while (sent < f.order.size()) {
    std::size_t end = 0;
    auto outcome = send_fitting_slice(http, token, f, sent, end, per_request, wait_seconds, false);
    if (!outcome.ok) {
      if (outcome.unknown && outcome.answer_status == 200)
        std::fprintf(stderr, "lpops import: stopped; the node applied %s entries %zu-%zu but its answer did not read, and "
                             "%zu entries after them were not sent. Run the import again: it skips what is already there "
                             "and imports the rest.\n",
                     f.name, sent + 1, end, f.order.size() - end);
      else if (outcome.unknown)
        std::fprintf(stderr, "lpops import: stopped; the node gave no answer for %s entries %zu-%zu, which it may have "
                             "imported in part or whole (a node stopped mid-request keeps what it made durable), and "
                             "%zu entries after them were not sent. Run the import again: it skips what is already there "
                             "and imports the rest.\n",
                     f.name, sent + 1, end, f.order.size() - end);
      else
        std::fprintf(stderr, "lpops import: stopped; %zu of %zu %s entries were not imported (%s). Once the cause is fixed, "
                             "running the import again skips what is already there.\n",
                     f.order.size() - sent, f.order.size(), f.name,
                     outcome.answer_status ? "the slice refused changed nothing" : "the node could not be reached: nothing was sent");
      return false;
    }
    sent = end;
    count_answer(t, f, outcome.answer);
    if (progress.due(sent == f.order.size())) {
      std::fflush(stdout);
      std::fprintf(stderr, "%s: %zu/%zu sent (%zu new, %zu already there)\n", f.name, sent, f.order.size(), t.imported, t.existing);
    }
  }
  return true;
}

// A payout livepeer-ops sent and has not seen confirmed, as a reservation here. Its amount is
// what livepeer-ops would debit once confirmed, max(balance - paid, 0): the payout's amount, or
// the balance when that is less. (With no balance above zero livepeer-ops waits for one, and
// takes the payout from credits still to come: check_pending refuses such a payout.)
struct Reservation {
  ri::PendingPayoutEntry payout;
  Wei amount;
  std::string payout_id;
  std::string body;  // POST /api/payouts
};

// At most `max` bytes of UTF-8 text, cut before a character rather than inside one (a lone
// lead byte would make the reservation's body no JSON the node takes, at every run).
std::string utf8_head(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  while (max > 0 && (static_cast<unsigned char>(text[max]) & 0xC0) == 0x80) --max;
  return std::string(text.substr(0, max));
}

Reservation reservation_of(const ri::PendingPayoutEntry& p, const std::optional<SignedWei>& file_balance) {
  Reservation r{p, p.amount.value.magnitude, {}, {}};
  if (file_balance && !file_balance->negative) r.amount = std::min(r.amount, file_balance->magnitude);
  // One id per (transaction, orchestrator): a batch paid several orchestrators in one.
  r.payout_id = "livepeer-ops-" + p.tx_hash.substr(2) + "-" + hex_lower(sha256(p.orchestrator_id)).substr(0, 16);
  std::string notes = "livepeer-ops payouts.json: " + format_eth(p.amount.value) + " ETH sent in " + p.tx_hash +
                      (p.strategy.empty() ? "" : " (" + utf8_head(p.strategy, 64) + (p.batch ? ", batch" : "") + ")") +
                      (p.submitted_at.empty() ? "" : " at " + utf8_head(p.submitted_at, 64)) +
                      ", not confirmed there; post it once confirmed, void it if it failed";
  r.body = json::serialize(json::object{{"payout_id", r.payout_id},
                                        {"orchestrator_id", p.orchestrator_id},
                                        {"amount_eth", format_eth(r.amount)},
                                        {"recipient", p.recipient},
                                        {"notes", notes}});
  return r;
}

std::string reservation_line(const Reservation& r) {
  std::string line = "payouts.json \"" + r.payout.orchestrator_id + "\": " + format_eth(r.payout.amount.value) + " ETH to " +
                     r.payout.recipient + " in " + r.payout.tx_hash;
  if (r.amount != r.payout.amount.value.magnitude && !r.amount.is_zero())
    line += " (reserved: " + format_eth(r.amount) + " ETH, its balance)";
  return line;
}

// What keeps a pending payout from being reserved here, found before anything is sent (empty:
// nothing): a payout livepeer-ops would take from credits still to come, one to an orchestrator
// denylisted in registry.json (no payout is reserved for it), one to the zero address.
std::string pending_problem(const Reservation& r, bool nothing_above_zero, bool denylisted) {
  if (denylisted)
    return "its orchestrator is denylisted in registry.json, so it cannot be reserved here: settle it in livepeer-ops first "
           "(or remove it from payouts.json once its transaction is known to have failed, or its amount taken off the "
           "balance)";
  if (r.payout.recipient == "0x" + std::string(40, '0')) return "its recipient is the zero address";
  if (nothing_above_zero)
    return "balances.json holds nothing above zero for it: livepeer-ops would take it from credits still to come, which "
           "this node cannot; let livepeer-ops settle it first";
  return {};
}

// Reserves each pending payout (after the balances): every one is tried; false after printing
// why the node refused any. A reservation repeated with the same id and request answers as the
// first did, so the import run again reserves what is missing.
bool reserve_pending(HttpGetter& http, const std::string& token, const std::vector<Reservation>& all, unsigned wait_seconds) {
  std::size_t reserved = 0, refused = 0;
  for (const auto& r : all) {
    auto answer = waiting_while_starting(
        [&] { return http.post_json("/api/payouts", r.body, {{"X-Admin-Token", token}}); }, wait_seconds);
    if (!answer || answer->first != 200) {
      std::string why;
      if (!answer) {
        why = answer.error();
      } else {
        boost::system::error_code ec;
        const json::value body = json::parse(answer->second, ec);
        why = "POST " + http.path_of("/api/payouts") + " answered " + std::to_string(answer->first) + ": " +
              (ec ? answer->second.substr(0, 200) : detail_text(body));
        if (const std::string advice = refusal_advice(answer->first); !advice.empty()) why += "\n" + advice.substr(0, advice.size() - 1);
      }
      std::fprintf(stderr, "lpops import: %s not reserved: %s\n", reservation_line(r).c_str(), why.c_str());
      ++refused;
      continue;
    }
    ++reserved;
  }
  if (refused) {
    std::fprintf(stderr, "lpops import: %zu of %zu pending payouts were not reserved, though the rest of the directory is "
                         "imported: until they are, their amounts can be paid again here. Once the cause is fixed, run the "
                         "import again (it skips what is already there).\n", refused, all.size());
    return false;
  }
  std::printf("payouts.json: %zu pending payouts reserved here (or already by an earlier import): post each once its "
              "transaction is confirmed, void it if it failed\n", reserved);
  for (const auto& r : all) std::printf("  %s: %s\n", r.payout_id.c_str(), reservation_line(r).c_str());
  return true;
}

}  // namespace

int import_reference(const ImportOptions& o) {
  const std::filesystem::path dir(o.from_dir);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::fprintf(stderr, "lpops import: --from %s is not a directory\n", o.from_dir.c_str());
    return 2;
  }
  // Settings and the token first, so that a mistyped --env-file or token file is said before
  // the files are read (a dry run reads settings only when --env-file names a file).
  std::string token;
  if (o.dry_run) {
    if (o.env_file && !load_command_settings(o.env_file, "lpops import")) return 2;
  } else if (auto settings = load_command_settings(o.env_file, "lpops import"); !settings) {
    return 2;
  } else if (!o.admin_token_file.empty()) {
    std::error_code dir_ec;
    if (std::filesystem::is_directory(o.admin_token_file, dir_ec)) {
      std::fprintf(stderr, "lpops import: --admin-token-file %s is a directory\n", o.admin_token_file.c_str());
      return 2;
    }
    std::ifstream in(o.admin_token_file);
    if (!in) {
      std::fprintf(stderr, "lpops import: --admin-token-file %s cannot be read\n", o.admin_token_file.c_str());
      return 2;
    }
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) {
      std::fprintf(stderr, "lpops import: --admin-token-file %s is empty (the token goes on its first line)\n",
                   o.admin_token_file.c_str());
      return 2;
    }
  } else if (settings->admin_token) {
    token = *settings->admin_token;
  }
  if (!o.dry_run && token.empty()) {
    std::fprintf(stderr, "lpops import: the node's admin token is needed: PAYMENTS_API_ADMIN_TOKEN (environment or .env) "
                         "or --admin-token-file\n");
    return 2;
  }
  // The URL too, before the files are read: a mistyped one is said at once, not after a
  // large directory has been read and checked.
  std::unique_ptr<HttpGetter> http;
  if (!o.dry_run) {
    auto made = HttpGetter::create(o.url, std::chrono::seconds(o.timeout_seconds));
    if (!made) {
      std::fprintf(stderr, "lpops import: %s\n", made.error().c_str());
      return 2;
    }
    http = std::move(*made);
  }
  SourceFile registry{"registry.json", "registry", {}, {}, {}};
  SourceFile workloads{"workloads.json", "workloads", {}, {}, {}};
  SourceFile balances{"balances.json", "balances", {}, {}, {}};
  SourceFile payouts{"payouts.json", "payouts", {}, {}, {}};
  std::vector<std::string> read_notes;
  // workloads.json and payouts.json where the deployment's PAYMENTS_WORKLOADS_PATH and
  // PAYMENTS_PAYOUTS_PATH put them (this command's environment or .env, as the deployment had
  // them; a relative path within --from), else in --from. An unfound payouts.json would let
  // the node pay again what livepeer-ops sent and has not seen confirmed: every file not found
  // is said, with where it was looked for.
  const auto env = config::Environment::load(o.env_file);
  if (!env) {
    std::fprintf(stderr, "lpops import: %s\n", env.error().c_str());
    return 2;
  }
  std::error_code from_ec;
  const auto from_real = std::filesystem::weakly_canonical(dir, from_ec);
  for (auto [f, setting] : {std::pair{&workloads, "PAYMENTS_WORKLOADS_PATH"}, std::pair{&payouts, "PAYMENTS_PAYOUTS_PATH"}}) {
    const auto configured = env->get(setting);
    if (!configured || configured->empty()) continue;
    const std::filesystem::path p(*configured);
    const auto place = p.is_absolute() ? p : dir / p;
    std::error_code place_ec;
    if (std::filesystem::exists(place, place_ec)) {
      // One directory's files, read together: balances.json from a copy and payouts.json from
      // the live directory could hold a payout the copy's balance still holds, confirmed since.
      const auto real = std::filesystem::weakly_canonical(place, place_ec);
      const auto inside = std::mismatch(from_real.begin(), from_real.end(), real.begin(), real.end()).first == from_real.end();
      if (from_ec || place_ec || !inside) {
        std::fprintf(stderr, "lpops import: %s (%s) is outside --from (%s): give --from the directory that holds the "
                             "deployment's files, or unset %s for this command; nothing was read\n",
                     setting, configured->c_str(), dir.c_str(), setting);
        return 2;
      }
      f->path = place;
    } else if (p.is_absolute() && std::filesystem::exists(dir / f->name, place_ec)) {
      // The deployment's own path (/app/data/... in its container): --from stands for it.
      read_notes.push_back(std::string(setting) + " (" + *configured + ") is not on this machine; " + f->name + " is read from " +
                           dir.string());
    } else if (p.is_absolute()) {
      // Set, yet found neither there nor in --from: the file the deployment wrote is elsewhere.
      std::fprintf(stderr, "lpops import: %s (%s) is not on this machine, and %s holds no %s: copy the deployment's "
                           "file into it, or, if livepeer-ops never wrote one, unset %s for this command; nothing was read\n",
                   setting, configured->c_str(), dir.c_str(), f->name, setting);
      return 2;
    } else {
      std::fprintf(stderr, "lpops import: %s: %s is not there; nothing was read\n", setting, place.c_str());
      return 2;
    }
  }
  for (SourceFile* f : {&registry, &workloads, &balances, &payouts}) {
    if (auto err = read_source(dir, *f, read_notes)) {
      std::fprintf(stderr, "lpops import: %s\n", err->c_str());
      return 2;
    }
    if (f->present) std::fprintf(stderr, "lpops import: %s: %zu entries read from %s\n", f->name, f->order.size(), f->path.c_str());
    else
      read_notes.push_back(std::string(f->name) + ": not found (" + f->path.string() + "): " +
                           (f == &payouts ? "no payouts sent and not seen confirmed are checked; if the deployment kept them "
                                            "elsewhere, give its PAYMENTS_PAYOUTS_PATH (--env-file)"
                                          : "nothing is imported from it"));
  }
  // A deployment that ran with PAYMENTS_TEE_CORE_AUTHORITY=true kept its credits in the TEE
  // core's sealed state, which no import can read: its balances.json lacks them.
  // Where the reference kept it: tee_core_state.b64 in its data directory, or where its
  // PAYMENTS_TEE_CORE_STATE_PATH (in this command's environment or .env, as the deployment had it) said;
  // a relative path is taken within --from.
  {
    std::vector<std::filesystem::path> places{dir / "tee_core_state.b64"};
    if (const auto configured = env->get("PAYMENTS_TEE_CORE_STATE_PATH"); configured && !configured->empty()) {
      const std::filesystem::path p(*configured);
      places.push_back(p.is_absolute() ? p : dir / p);
    }
    for (const auto& place : places) {
      std::error_code tee_ec;
      const bool sealed_state = std::filesystem::exists(place, tee_ec);
      if (tee_ec) {
        std::fprintf(stderr, "lpops import: %s: cannot be looked at (%s)\n", place.c_str(), tee_ec.message().c_str());
        return 2;
      }
      if (sealed_state && !o.ignore_tee_core_state) {
        std::fprintf(stderr, "lpops import: %s is a TEE core's sealed state. A deployment that ran with "
                             "PAYMENTS_TEE_CORE_AUTHORITY=true kept its balances there, not in balances.json, which then "
                             "lacks them; no import can read them. If that setting was never true, pass "
                             "--ignore-tee-core-state; nothing was sent\n", place.c_str());
        return 1;
      }
    }
  }
  for (const auto& n : read_notes) std::fprintf(stderr, "lpops import: %s\n", n.c_str());
  if (!registry.present && !workloads.present && !balances.present) {
    std::fprintf(stderr, "lpops import: %s holds none of registry.json, workloads.json, balances.json\n", o.from_dir.c_str());
    return 2;
  }
  std::set<std::string> named;
  std::vector<std::string> cut_to_zero, previews;
  auto checked = check_entries(registry, workloads, balances, named, cut_to_zero, previews);
  // payouts.json: payouts sent and not seen confirmed, whose amounts are still in balances.json.
  std::vector<Reservation> pending;
  std::size_t unsent = 0;
  for (const auto& key : payouts.order) {
    auto read = ri::read_pending_payout_entry(key, payouts.entry(key));
    if (auto* problems = std::get_if<ri::Problems>(&read)) {
      for (const auto& p : *problems)
        checked.problems.push_back("payouts.json \"" + key + "\": " + (p.field.empty() ? "" : p.field + " ") + p.message);
      ++checked.bad_entries;
      continue;
    }
    auto& entry = std::get<ri::PendingPayoutEntry>(read);
    if (entry.tx_hash.empty()) {
      ++unsent;  // livepeer-ops drops it unpaid
      continue;
    }
    std::optional<SignedWei> file_balance;
    if (balances.present) {
      file_balance = SignedWei{};
      if (balances.entries.contains(key))
        if (auto b = ri::read_balance_entry(key, balances.entry(key)); std::holds_alternative<ri::BalanceEntry>(b))
          file_balance = std::get<ri::BalanceEntry>(b).amount.value;
    }
    Reservation r = reservation_of(entry, file_balance);
    bool denylisted = false;
    if (registry.entries.contains(key)) {
      const json::value record = registry.entry(key);
      const auto* flag = record.is_object() ? record.get_object().if_contains("denylisted") : nullptr;
      denylisted = flag && flag->is_bool() && flag->get_bool();
    }
    const bool nothing_above_zero = file_balance && (file_balance->negative || file_balance->is_zero());
    if (const std::string why = pending_problem(r, nothing_above_zero, denylisted); !why.empty()) {
      checked.problems.push_back(reservation_line(r) + ": " + why);
      ++checked.bad_entries;
      continue;
    }
    pending.push_back(std::move(r));
    if (!registry.entries.contains(key)) named.insert(key);
  }
  if (unsent)
    std::fprintf(stderr, "lpops import: payouts.json: %zu records without a transaction (livepeer-ops drops them unpaid): not "
                         "imported\n", unsent);
  for (const auto& line : cut_to_zero) std::fprintf(stderr, "lpops import: %s\n", line.c_str());
  for (const auto& p : checked.problems) std::fprintf(stderr, "lpops import: %s\n", p.c_str());
  if (!checked.problems.empty()) {
    std::fprintf(stderr, "lpops import: %zu %s cannot be imported as %s; nothing was sent\n", checked.bad_entries,
                 checked.bad_entries == 1 ? "entry" : "entries", checked.bad_entries == 1 ? "it is" : "they are");
    return 1;
  }
  if (!pending.empty() && o.pending_payouts != "reserve") {
    for (std::size_t i = 0; i < pending.size() && i < 20; ++i)
      std::fprintf(stderr, "lpops import: %s: sent, not confirmed there\n", reservation_line(pending[i]).c_str());
    if (pending.size() > 20) std::fprintf(stderr, "lpops import: ... and %zu more\n", pending.size() - 20);
    std::fprintf(stderr, "lpops import: payouts.json holds %zu payouts livepeer-ops sent and has not seen confirmed; their "
                         "amounts are still in balances.json, so imported alone they would be paid again. Either let "
                         "livepeer-ops settle them (it debits each once confirmed and clears payouts.json), stop it and "
                         "import then, or pass --pending-payouts reserve to reserve each here, to post once its "
                         "transaction is confirmed or void if it failed; nothing was sent\n", pending.size());
    return 1;
  }
  std::printf("%s: registry.json %zu records, workloads.json %zu workloads, balances.json %zu balances%s%s\n",
              o.from_dir.c_str(), registry.order.size(), workloads.order.size(), balances.order.size(),
              pending.empty() ? "" : (", payouts.json " + std::to_string(pending.size()) + " pending payouts").c_str(),
              o.dry_run ? " (checked; --dry-run sends nothing)" : "");
  const auto print_pending = [&](const char* what) {
    if (pending.empty()) return;
    std::printf("payouts.json: %zu pending payouts %s\n", pending.size(), what);
    for (const auto& r : pending) std::printf("  %s\n", reservation_line(r).c_str());
  };
  if (o.dry_run) {
    // What the import would report of the entries it changes (a node that holds an entry
    // already keeps its own, and says nothing of it).
    for (const auto& line : previews) std::printf("%s\n", line.c_str());
    print_pending("to reserve (--pending-payouts reserve)");
    if (!named.empty())
      std::printf("%zu orchestrator ids that workloads.json or balances.json name are not in registry.json: the node "
                  "must have them registered already (the import checks before it sends anything)\n", named.size());
    return 0;
  }

  // Ids the files name beyond registry.json must be registered on the node: checked before
  // anything is sent.
  if (!named.empty()) {
    auto listing = node_listing(*http, token, "/api/orchestrators", "orchestrators", o.timeout_seconds);
    if (!listing) {
      std::fprintf(stderr, "lpops import: %s\n", listing.error().c_str());
      return 1;
    }
    const auto known = ids_in(*listing, "orchestrator_id");
    std::vector<std::string> missing;
    for (const auto& id : named)
      if (!known.contains(id)) missing.push_back(id);
    if (!missing.empty()) {
      for (std::size_t i = 0; i < missing.size() && i < 20; ++i)
        std::fprintf(stderr, "lpops import: orchestrator \"%s\" is named by workloads.json or balances.json, but neither "
                             "registry.json nor the node has it\n", missing[i].c_str());
      std::fprintf(stderr, "lpops import: %zu orchestrators unknown (register them, or add their records to registry.json); "
                           "nothing was sent\n", missing.size());
      return 1;
    }
  }
  // Every slice is checked with the node before the first is imported: a conflict with what
  // it holds (an id under another address, a workload held for another orchestrator or dated
  // before its newest, a balance imported before) refuses the import whole.
  // A node of a version without the check would import what it is asked to check: an empty
  // slice asks first (nothing to import in it).
  {
    auto probe = waiting_while_starting(
        [&] { return http->post_json("/api/import/registry?check=true", "{}", {{"X-Admin-Token", token}}); }, o.timeout_seconds);
    if (!probe) {
      std::fprintf(stderr, "lpops import: %s; nothing was imported\n", probe.error().c_str());
      return 1;
    }
    boost::system::error_code probe_ec;
    const json::value answer = json::parse(probe->second, probe_ec);
    if (probe->first != 200 || probe_ec || !answer.is_object()) {
      std::fprintf(stderr, "lpops import: POST %s answered %d: %s\n%s", http->path_of("/api/import/registry").c_str(),
                   probe->first, probe->second.substr(0, 200).c_str(), refusal_advice(probe->first).c_str());
      return 1;
    }
    if (!answer.get_object().contains("checked")) {
      std::fprintf(stderr, "lpops import: the node does not check imports (a version without ?check=true): import with an "
                           "lpops of the node's version; nothing was imported\n");
      return 1;
    }
  }
  std::size_t conflicts = 0;
  std::vector<std::pair<const SourceFile*, Totals>> preview;
  for (SourceFile* f : {&registry, &workloads, &balances}) {
    if (!f->present) continue;
    Totals t;
    if (!check_file(*http, token, *f, o.per_request, o.timeout_seconds, t, conflicts)) return 1;
    preview.emplace_back(f, std::move(t));
  }
  if (conflicts > 0) {
    if (conflicts > kMaxConflictLines)
      std::fprintf(stderr, "lpops import: ... and %zu more\n", conflicts - kMaxConflictLines);
    std::fprintf(stderr, "lpops import: %zu entries conflict with what the node holds; nothing was imported\n", conflicts);
    return 1;
  }
  // A pending payout whose orchestrator the node holds denylisted (on its
  // PAYMENTS_ADDRESS_DENYLIST, or denylisted there already) would be refused after the
  // balances were imported, at every run: found now, before anything is sent.
  if (!pending.empty()) {
    std::set<std::string> denied;
    for (const auto& [f, t] : preview)
      if (f == &registry) denied = t.denylisted;
    auto listing = node_listing(*http, token, "/api/orchestrators", "orchestrators", o.timeout_seconds);
    if (!listing) {
      std::fprintf(stderr, "lpops import: %s\n", listing.error().c_str());
      return 1;
    }
    for (const auto& item : *listing) {
      const auto* rec = item.is_object() ? &item.get_object() : nullptr;
      const auto* id = rec ? rec->if_contains("orchestrator_id") : nullptr;
      const auto* flag = rec ? rec->if_contains("denylisted") : nullptr;
      if (id && id->is_string() && flag && flag->is_bool() && flag->get_bool()) denied.insert(std::string(id->get_string()));
    }
    std::size_t refused = 0;
    for (const auto& r : pending)
      if (denied.contains(r.payout.orchestrator_id)) {
        // Reserved by an earlier run (before the orchestrator was denylisted): the node answers
        // it again as it was, so it is no reason to stop.
        const auto held = http->get_with_headers("/api/payouts/" + r.payout_id, {{"X-Admin-Token", token}});
        if (held && held->first == 200) continue;
        std::fprintf(stderr, "lpops import: %s: the node holds its orchestrator denylisted (PAYMENTS_ADDRESS_DENYLIST), so "
                             "it cannot be reserved here: settle it in livepeer-ops first\n", reservation_line(r).c_str());
        ++refused;
      }
    if (refused) {
      std::fprintf(stderr, "lpops import: %zu pending payouts cannot be reserved; nothing was imported\n", refused);
      return 1;
    }
  }
  if (o.check_only) {
    for (const auto& [f, t] : preview) {
      std::printf("%s: %zu to import, %zu already there%s\n", f->name, t.imported, t.existing,
                  t.zero ? (", " + std::to_string(t.zero) + " zero balances to skip").c_str() : "");
      t.print();
    }
    print_pending("to reserve (--pending-payouts reserve)");
    std::printf("checked with the node (--check): nothing was imported\n");
    return 0;
  }
  // The files as they were read, or nothing is sent: a livepeer-ops still running could have
  // confirmed a payout (debited balances.json, dropped the record from payouts.json) between
  // the reads, and the balance of before with no pending record would be paid again.
  for (const SourceFile* f : {&registry, &workloads, &balances, &payouts}) {
    if (stamp_of(f->path) != f->stamp_read) {
      std::fprintf(stderr, "lpops import: %s changed since it was read: is livepeer-ops still running? Stop it, then "
                           "import again; nothing was imported\n", f->path.c_str());
      return 1;
    }
  }
  // Records first (workloads name their orchestrators), then workloads, then balances.
  for (SourceFile* f : {&registry, &workloads, &balances}) {
    if (!f->present) continue;
    Totals t;
    if (!send_file(*http, token, *f, o.per_request, o.timeout_seconds, t)) return 1;
    std::printf("%s: %zu imported, %zu already there%s\n", f->name, t.imported, t.existing,
                t.zero ? (", " + std::to_string(t.zero) + " zero balances skipped").c_str() : "");
    t.print();
  }
  if (!pending.empty() && !reserve_pending(*http, token, pending, o.timeout_seconds)) return 1;
  return 0;
}

}  // namespace lpops::app
