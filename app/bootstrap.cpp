#include "app/bootstrap.hpp"

#include <signal.h>

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <future>
#include <set>

#include "actors/messages.hpp"
#include "domain/json_parse.hpp"
#include "domain/python_text.hpp"
#include "net/api.hpp"

namespace lpops::app {
namespace {

// SIGTERM, SIGINT or SIGHUP waiting (serve blocks them and takes them with sigwait once started).
bool stop_signal_pending() {
  sigset_t pending;
  sigemptyset(&pending);
  return sigpending(&pending) == 0 && (sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1 ||
                                       sigismember(&pending, SIGHUP) == 1);
}

namespace json = boost::json;

// A value as a warning shows it: its JSON, cut after 60 characters.
std::string shown(const json::value& v) {
  std::string text = json::serialize(v);
  if (text.size() > 60) text = text.substr(0, 60) + "…";
  return text;
}

// One entry of a bootstrap source, and how a message names it ("entry 3", "entry \"orch-1\"").
struct SourceEntry {
  std::string label;
  json::object fields;
};

// The entries of a bootstrap source: a list, one object, or an id -> object map. A list item
// or map value that is no object is skipped with a warning naming it, and counted.
std::vector<SourceEntry> entries_of(const json::value& v, const std::string& source, std::size_t& skipped) {
  std::vector<SourceEntry> out;
  if (v.is_array()) {
    std::size_t n = 0;
    for (const auto& e : v.get_array()) {
      ++n;
      if (e.is_object()) {
        out.push_back({"entry " + std::to_string(n), e.get_object()});
      } else {
        spdlog::warn("bootstrap: skipping entry {} of {}: not a JSON object ({})", n, source, shown(e));
        ++skipped;
      }
    }
  } else if (v.is_object()) {
    const auto& o = v.get_object();
    // One entry when it has both keys, as the reference tells them apart; else an id → entry map.
    if (o.contains("orchestrator_id") && o.contains("address")) {
      out.push_back({"its entry", o});
    } else {
      for (const auto& kv : o) {
        const std::string label = "entry " + shown(json::value(kv.key()));
        if (!kv.value().is_object()) {
          spdlog::warn("bootstrap: skipping {} of {}: not a JSON object ({})", label, source, shown(kv.value()));
          ++skipped;
          continue;
        }
        json::object e = kv.value().get_object();
        if (!e.contains("orchestrator_id")) e["orchestrator_id"] = kv.key();
        out.push_back({label, std::move(e)});
      }
    }
  }
  return out;
}

// A registration's validation errors in words: "address: Value error, …; contact_email: …".
std::string errors_in_words(const std::string& detail_json) {
  boost::system::error_code ec;
  const auto doc = parse_json(detail_json, ec);
  const auto* detail = !ec && doc.is_object() ? doc.as_object().if_contains("detail") : nullptr;
  if (!detail) return detail_json;
  if (detail->is_string()) return std::string(detail->get_string());
  if (!detail->is_array()) return detail_json;
  std::string out;
  for (const auto& e : detail->get_array()) {
    if (!e.is_object()) continue;
    std::string where;
    if (const auto* loc = e.as_object().if_contains("loc"); loc && loc->is_array())
      for (std::size_t i = 1; i < loc->get_array().size(); ++i) {
        const auto& part = loc->get_array()[i];
        where += (where.empty() ? "" : ".") + (part.is_string() ? std::string(part.get_string()) : json::serialize(part));
      }
    const auto* msg = e.as_object().if_contains("msg");
    out += (out.empty() ? "" : "; ") + (where.empty() ? std::string() : where + ": ") +
           (msg && msg->is_string() ? std::string(msg->get_string()) : json::serialize(e));
  }
  return out.empty() ? detail_json : out;
}

}  // namespace

std::vector<BootstrapEntry> prepare_bootstrap(const config::Settings& settings) {
  struct Source {
    std::string name;
    std::string text;  // JSON
    bool single = false;  // the single-orchestrator mode's own entry
  };
  std::vector<Source> sources;
  if (settings.single_orchestrator_mode) {
    // As the reference registers itself: the health URL and timeout when set, the monitored
    // services and the default minimum uptime, no rank check.
    // (The health URL and the services are added after the checks below: the reference
    // registers them as its settings hold them, without the API's bounds.)
    json::object self{{"orchestrator_id", *settings.orchestrator_id}, {"address", *settings.orchestrator_address}};
    if (settings.orchestrator_health_timeout) self["health_timeout"] = *settings.orchestrator_health_timeout;
    self["min_service_uptime"] = settings.default_min_service_uptime;
    sources.push_back({"PAYMENTS_SINGLE_ORCHESTRATOR_MODE", json::serialize(self), true});
  }
  if (settings.bootstrap_orchestrators) sources.push_back({"PAYMENTS_BOOTSTRAP_ORCHESTRATORS", *settings.bootstrap_orchestrators});
  {
    // As the reference: orchestrators.json in the data directory unless the setting names
    // another file (relative to the data directory). The default file may be absent.
    const bool named = settings.bootstrap_orchestrators_path.has_value();
    std::filesystem::path p = settings.bootstrap_orchestrators_path.value_or("orchestrators.json");
    if (p.is_relative()) p = std::filesystem::path(settings.data_dir) / p;
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec))
      throw std::runtime_error("PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH: " + p.string() + " is a directory, not a file");
    errno = 0;
    std::ifstream in(p);
    const int open_errno = errno;
    if (in) {
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      sources.push_back({"PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH (" + p.string() + ")", std::move(text)});
    } else if (open_errno != ENOENT || std::filesystem::symlink_status(p, ec).type() != std::filesystem::file_type::not_found) {
      // There but not readable (its permissions, a dangling link), or not known to be absent
      // (a directory on the way that cannot be searched): as a file that does not parse, this
      // stops start-up; only a file that is not there at all is skipped.
      throw std::runtime_error("PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH: " + p.string() + " cannot be opened" +
                               (open_errno ? ": " + std::string(std::strerror(open_errno)) : std::string()));
    } else if (named) {
      spdlog::warn("bootstrap: {} not found; skipped", p.string());
    }
  }
  std::vector<BootstrapEntry> out;
  std::set<std::string> ids, addresses;
  std::size_t skipped = 0;
  for (const auto& [name, text, single] : sources) {
    boost::system::error_code ec;
    auto doc = parse_json(text, ec);
    // A file that does not parse stops start-up, as the same text in the variable does: a
    // node serving without the orchestrators it was told to register would look healthy.
    std::string why = "another JSON value";
    if (ec) {
      const auto place = json_error_place(text, ec);
      why = place.reason + " at line " + std::to_string(place.line) + " column " + std::to_string(place.column);
    }
    if (ec || !(doc.is_array() || doc.is_object()))
      throw std::runtime_error(name + ": not a JSON list, object or id -> object map (" + why + ")");
    for (const auto& [label, entry] : entries_of(doc, name, skipped)) {
      net::Validation v;
      net::BodyReader body(json::serialize(entry), v);
      Registration r = net::read_registration(body, v);
      if (single) {
        if (settings.orchestrator_health_url) r.health_url = *settings.orchestrator_health_url;
        std::vector<std::string> services;
        for (const auto& m : settings.monitored_services)
          if (const auto name = python_strip(m); !name.empty()) services.emplace_back(name);
        if (!services.empty()) r.monitored_services = std::move(services);
      }
      if (!v.ok()) {
        // The node's own registration in single mode must not be skipped in silence.
        if (single) throw std::runtime_error(name + ": ORCHESTRATOR_ID and its settings do not make a valid registration: " +
                                             v.response().body);
        spdlog::warn("bootstrap: skipping {} of {}: {}", label, name, errors_in_words(v.response().body));
        ++skipped;
        continue;
      }
      // Ids and addresses compared case-insensitively, as the reference skips duplicates
      // (among the bootstrap entries; the single mode's registration is one of its own).
      // An entry skipped claims neither: a later entry may still use its id or its address.
      if (!single) {
        const std::string id = python_lower(r.orchestrator_id), address = lower_ascii(r.address);
        const bool id_taken = ids.count(id) > 0, address_taken = addresses.count(address) > 0;
        if (id_taken || address_taken) {
          spdlog::warn("bootstrap: skipping {} of {}: {} is named by an earlier entry", label, name,
                       id_taken ? "orchestrator " + r.orchestrator_id : "address " + r.address);
          ++skipped;
          continue;
        }
        ids.insert(id);
        addresses.insert(address);
      }
      out.push_back({std::move(r), single});
    }
  }
  if (skipped > 0)
    spdlog::warn("bootstrap: {} of {} entries skipped (each named above); the other {} are registered", skipped,
                 skipped + out.size(), out.size());
  return out;
}

void run_bootstrap(std::vector<BootstrapEntry> entries, const caf::actor& registry) {
  // Sent one after another, each once the previous one's write is queued at the ledger (so
  // the book lists them in file order), and their results awaited together: their journal
  // writes still share group commits.
  std::vector<std::pair<std::string, std::future<std::pair<int, std::string>>>> pending;
  for (auto& [r, single] : entries) {
    // A stop signal (held pending until serve waits for it) ends a long bootstrap early:
    // the entries not sent yet are registered on the next start.
    if (pending.size() % 64 == 63 && stop_signal_pending()) {
      spdlog::info("bootstrap: a stop signal arrived; {} entries sent, the rest left for the next start", pending.size());
      break;
    }
    auto done = std::make_shared<std::promise<std::pair<int, std::string>>>();
    auto result = done->get_future();
    // Forwarded to the ledger, or answered without a write (whichever comes first).
    struct Step {
      std::promise<void> passed;
      std::atomic<bool> signalled{false};
    };
    auto step = std::make_shared<Step>();
    auto passed = step->passed.get_future();
    auto signal = [step] {
      if (!step->signalled.exchange(true)) step->passed.set_value();
    };
    std::string id = r.orchestrator_id;
    caf::anon_send(registry, actors::Register{std::move(r), "",
                                              [done, signal](int status, std::string body) {
                                                done->set_value({status, std::move(body)});
                                                signal();
                                              },
                                              true, single, signal});
    passed.wait();
    pending.emplace_back(std::move(id), std::move(result));
  }
  std::size_t registered = 0;
  for (auto& [id, result] : pending) {
    auto [status, body] = result.get();
    if (status == 200) ++registered;
    else spdlog::warn("bootstrap: {} refused ({}): {}", id, status, body);
  }
  if (!pending.empty()) spdlog::info("bootstrap: registered {} of {} orchestrators", registered, pending.size());
}

}  // namespace lpops::app
