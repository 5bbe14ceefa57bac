// `lpops import`: brings a reference deployment's data directory (registry.json,
// workloads.json, balances.json) into a running node through its /api/import routes.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <variant>

#include <boost/json.hpp>

#include "app/http_get.hpp"
#include "app/node.hpp"
#include "domain/money.hpp"
#include "domain/reference_import.hpp"

namespace lpops::app {
namespace {

namespace json = boost::json;
namespace ri = reference_import;

// A request's body stays well under the node's smallest PAYMENTS_MAX_BODY_BYTES default.
constexpr std::size_t kMaxRequestBytes = 256 * 1024;

struct SourceFile {
  const char* name;   // in the reference's data directory
  const char* route;  // /api/import/<route>
  json::object entries;
  std::vector<std::string> order;  // the keys in the order they are sent
  bool present = false;
};

// Reads `dir/name`: absent is fine (nothing to import from it); anything but a JSON object
// is an error.
std::optional<std::string> read_source(const std::filesystem::path& dir, SourceFile& f) {
  const auto path = dir / f.name;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string(f.name) + ": cannot be read";
  std::stringstream text;
  text << in.rdbuf();
  json::parse_options opts;
  opts.max_depth = 64;
  boost::system::error_code jec;
  json::value v = json::parse(text.str(), jec, {}, opts);
  if (jec) return std::string(f.name) + ": not JSON (" + jec.message() + ")";
  if (!v.is_object()) return std::string(f.name) + ": must be a JSON object keyed by id";
  f.entries = std::move(v.get_object());
  f.present = true;
  for (const auto& kv : f.entries) f.order.emplace_back(kv.key());
  return std::nullopt;
}

// Every entry read as the node will read it, before anything is sent: problems are listed
// and nothing is imported. Workloads are put in submission order (the node takes them
// oldest first).
std::vector<std::string> check_entries(SourceFile& registry, SourceFile& workloads, SourceFile& balances) {
  std::vector<std::string> problems;
  auto note = [&](const SourceFile& f, const std::string& key, const ri::Problem& p) {
    problems.push_back(std::string(f.name) + " \"" + key + "\": " + (p.field.empty() ? "" : p.field + " ") + p.message);
  };
  for (const auto& key : registry.order) {
    auto read = ri::read_registry_entry(key, registry.entries.at(key));
    if (auto* p = std::get_if<ri::Problem>(&read)) note(registry, key, *p);
  }
  std::vector<std::pair<UnixMicros, std::string>> by_time;
  for (const auto& key : workloads.order) {
    auto read = ri::read_workload_entry(key, workloads.entries.at(key));
    if (auto* p = std::get_if<ri::Problem>(&read)) note(workloads, key, *p);
    else by_time.emplace_back(std::get<ri::WorkloadEntry>(read).workload.submitted_at, key);
  }
  std::stable_sort(by_time.begin(), by_time.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  workloads.order.clear();
  for (auto& [t, key] : by_time) workloads.order.push_back(std::move(key));
  for (const auto& key : balances.order) {
    auto read = ri::read_balance_entry(key, balances.entries.at(key));
    if (auto* p = std::get_if<ri::Problem>(&read)) note(balances, key, *p);
  }
  return problems;
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

struct Totals {
  std::size_t imported = 0, existing = 0, zero = 0;
  std::vector<std::string> notes;  // lines for the summary
};

void add_names(Totals& t, const json::object& answer, const char* key, const std::string& what) {
  const auto* list = answer.if_contains(key);
  if (!list || !list->is_array()) return;
  for (const auto& item : list->get_array()) {
    if (item.is_string()) t.notes.push_back(what + std::string(item.get_string()));
    else if (item.is_object()) {
      const auto& o = item.get_object();
      auto text = [&](const char* k) { return o.contains(k) && o.at(k).is_string() ? std::string(o.at(k).get_string()) : std::string(); };
      t.notes.push_back(what + text("id") + ": " + text("given") + " ETH imported as " + text("imported_eth") + " ETH");
    }
  }
}

// Sends one file in slices; false after printing why the node refused one.
bool send_file(HttpGetter& http, const std::string& token, const SourceFile& f, std::size_t per_request, Totals& t) {
  std::size_t sent = 0;
  while (sent < f.order.size()) {
    json::object slice;
    std::size_t bytes = 2;
    while (sent < f.order.size() && slice.size() < per_request) {
      const std::string& key = f.order[sent];
      const json::value& v = f.entries.at(key);
      const std::size_t size = json::serialize(v).size() + key.size() + 8;
      if (!slice.empty() && bytes + size > kMaxRequestBytes) break;
      slice[key] = v;
      bytes += size;
      ++sent;
    }
    auto answer = http.post_json(std::string("/api/import/") + f.route, json::serialize(slice), {{"X-Admin-Token", token}});
    if (!answer) {
      std::fprintf(stderr, "lpops import: %s: %s\n", f.name, answer.error().c_str());
      return false;
    }
    boost::system::error_code ec;
    json::value body = json::parse(answer->second, ec);
    if (answer->first != 200 || ec || !body.is_object()) {
      std::fprintf(stderr, "lpops import: %s: the node answered %d: %s\n", f.name, answer->first,
                   ec ? answer->second.c_str() : detail_text(body).c_str());
      if (!ec && body.is_object())
        if (const auto* c = body.get_object().if_contains("conflicts"); c && c->is_array())
          for (const auto& item : c->get_array())
            if (item.is_object())
              std::fprintf(stderr, "  %s: %s\n", json::serialize(item.get_object().at("id")).c_str(),
                           item.get_object().at("detail").is_string() ? item.get_object().at("detail").get_string().c_str() : "");
      std::fprintf(stderr, "lpops import: stopped; %zu of %zu %s entries were not sent (the slice refused is not imported). "
                           "Running the import again skips what is already there.\n",
                   f.order.size() - sent + slice.size(), f.order.size(), f.name);
      return false;
    }
    const auto& o = body.get_object();
    auto count = [&](const char* k) { return o.contains(k) && o.at(k).is_number() ? o.at(k).to_number<std::size_t>() : 0; };
    t.imported += count("imported");
    t.existing += count("existing");
    t.zero += count("zero");
    add_names(t, o, "rounded", std::string(f.name) + ": cut to whole wei: ");
    add_names(t, o, "denylisted", "registry.json: on PAYMENTS_ADDRESS_DENYLIST, imported denylisted: ");
    add_names(t, o, "ignored_fields", "registry.json: field not kept: ");
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %zu/%zu sent (%zu new, %zu already there)\n", f.name, sent, f.order.size(), t.imported, t.existing);
  }
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
  SourceFile registry{"registry.json", "registry", {}, {}};
  SourceFile workloads{"workloads.json", "workloads", {}, {}};
  SourceFile balances{"balances.json", "balances", {}, {}};
  for (SourceFile* f : {&registry, &workloads, &balances})
    if (auto err = read_source(dir, *f)) {
      std::fprintf(stderr, "lpops import: %s\n", err->c_str());
      return 2;
    }
  if (!registry.present && !workloads.present && !balances.present) {
    std::fprintf(stderr, "lpops import: %s holds none of registry.json, workloads.json, balances.json\n", o.from_dir.c_str());
    return 2;
  }
  auto problems = check_entries(registry, workloads, balances);
  for (const auto& p : problems) std::fprintf(stderr, "lpops import: %s\n", p.c_str());
  if (!problems.empty()) {
    std::fprintf(stderr, "lpops import: %zu entries cannot be imported as they are; nothing was sent\n", problems.size());
    return 1;
  }
  std::printf("%s: registry.json %zu records, workloads.json %zu workloads, balances.json %zu balances%s\n",
              o.from_dir.c_str(), registry.order.size(), workloads.order.size(), balances.order.size(),
              o.dry_run ? " (checked; --dry-run sends nothing)" : "");
  if (o.dry_run) return 0;

  auto settings = load_command_settings(o.env_file, "lpops import");
  if (!settings) return 2;
  std::string token;
  if (!o.admin_token_file.empty()) {
    std::ifstream in(o.admin_token_file);
    if (!in || !std::getline(in, token)) {
      std::fprintf(stderr, "lpops import: --admin-token-file %s cannot be read\n", o.admin_token_file.c_str());
      return 2;
    }
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  } else if (settings->admin_token) {
    token = *settings->admin_token;
  }
  if (token.empty()) {
    std::fprintf(stderr, "lpops import: the node's admin token is needed: PAYMENTS_API_ADMIN_TOKEN (environment or .env) "
                         "or --admin-token-file\n");
    return 2;
  }
  auto http = HttpGetter::create(o.url, std::chrono::seconds(o.timeout_seconds));
  if (!http) {
    std::fprintf(stderr, "lpops import: %s\n", http.error().c_str());
    return 2;
  }
  // Records first (workloads name their orchestrators), then workloads, then balances.
  for (SourceFile* f : {&registry, &workloads, &balances}) {
    if (!f->present) continue;
    Totals t;
    if (!send_file(**http, token, *f, o.per_request, t)) return 1;
    std::printf("%s: %zu imported, %zu already there%s\n", f->name, t.imported, t.existing,
                t.zero ? (", " + std::to_string(t.zero) + " zero balances skipped").c_str() : "");
    for (const auto& line : t.notes) std::printf("  %s\n", line.c_str());
  }
  return 0;
}

}  // namespace lpops::app
