#include "actors/registry.hpp"

#include <future>

#include "actors/fatal.hpp"

#include "actors/orchestrator.hpp"
#include "config/ip_network.hpp"
#include "domain/json_fields.hpp"

#include <spdlog/spdlog.h>

namespace lpops::actors {
namespace {

using Self = caf::stateful_actor<RegistryState>;

caf::actor spawn_orchestrator(Self* self, const std::string& id, const std::string& address, json::object record) {
  auto& st = self->state;
  const bool denylisted = get_bool(record, "denylisted");
  auto actor = self->spawn(orchestrator_actor, std::move(record), st.ledger, st.metrics, st.options.health_ttl_seconds);
  st.orchestrators[id] = RegistryState::Entry{actor, address, denylisted};
  st.by_address[address] = id;
  return actor;
}

// Steps after the rank check (`rank_skipped`: none was made): one address per orchestrator,
// then the orchestrator actor.
void finish_register(Self* self, Register& m, bool rank_skipped) {
  auto& st = self->state;
  const Registration& r = m.registration;
  const std::string address = lower_ascii(r.address);
  const UnixMicros now = now_micros();
  auto existing = st.orchestrators.find(r.orchestrator_id);
  // Each refusal tells of another registration, answered once that one is durable.
  if (auto owner = st.by_address.find(address); owner != st.by_address.end() && owner->second != r.orchestrator_id) {
    self->send(st.orchestrators.at(owner->second).actor,
               AnswerWhenDurable{409, detail_body("Address already registered to a different orchestrator"), m.reply});
    if (m.forwarded) m.forwarded();
    return;
  }
  if (existing != st.orchestrators.end() && existing->second.address != address) {
    self->send(existing->second.actor,
               AnswerWhenDurable{409, detail_body("Existing orchestrator attempted to change address; this is not allowed"), m.reply});
    if (m.forwarded) m.forwarded();
    return;
  }
  const bool created = existing == st.orchestrators.end();
  caf::actor target = created ? spawn_orchestrator(self, r.orchestrator_id, address, new_orchestrator_record(r, now))
                              : existing->second.actor;
  // A skipped rank check keeps an existing record's flag; a new record is in the top set (the
  // reference's bootstrap passes no is_top_100 of an entry's own, so its default, true).
  const std::optional<bool> is_top = !rank_skipped || created ? std::optional<bool>(true) : std::nullopt;
  self->send(target, ApplyRegistration{r, m.peer_ip, is_top, false, created, m.reply, now, std::move(m.forwarded)});
}

void handle_register(Self* self, Register& m) {
  auto& st = self->state;
  const Registration& r = m.registration;
  const UnixMicros now = now_micros();
  // Both keys must pass the per-minute window, then the burst window (on the monotonic clock,
  // as the reference's time.monotonic(): a wall-clock step neither blocks nor frees them).
  const std::int64_t tick = monotonic_micros();
  // A client is its address, or for IPv6 its /64 (one host commonly holds a whole /64: its
  // addresses are one client, as they are for the connection caps).
  for (const std::string& key : {"id:" + r.orchestrator_id, "ip:" + config::client_group(m.peer_ip)}) {
    if (m.bootstrap) break;
    if (!st.per_minute->allow(key, tick) || !st.burst->allow(key, tick)) {
      m.reply(429, detail_body("Too many registration attempts; slow down"));
      return;
    }
  }
  const std::string address = lower_ascii(r.address);
  auto existing = st.orchestrators.find(r.orchestrator_id);
  if (st.options.address_denylist.count(address)) {
    // The reference's registry.log line `register_denied`, as a log line (rate limits bound them).
    spdlog::warn("registration of orchestrator {} refused: address {} is on PAYMENTS_ADDRESS_DENYLIST (client {})",
                 r.orchestrator_id, address, m.bootstrap ? "bootstrap" : m.peer_ip);
    if (existing != st.orchestrators.end() && existing->second.address == address) {
      existing->second.denylisted = true;  // the orchestrator marks its record so
      self->send(existing->second.actor,
                 ApplyRegistration{r, m.peer_ip, std::nullopt, true, false, m.reply, now, std::move(m.forwarded)});
    } else {
      m.reply(403, detail_body("Address is denylisted and cannot register"));
    }
    return;
  }
  const bool skipped = m.skip_rank || (m.bootstrap && st.options.bootstrap_skips_rank_check);
  if (st.rank && !skipped) {
    self->send(st.rank, RankCheck{address, caf::actor_cast<caf::actor>(self), std::move(m)});
    return;
  }
  finish_register(self, m, skipped);
}

// Records from the reference's registry.json: checked whole against the directory (one
// address per orchestrator, an id keeps its address), then stored as they are. A record
// already here under the same address is left as it is (the import run again, or the
// orchestrator registered since). The answer waits until the ledger holds the new records.
// A check alone answers what the import would, with "checked": true, and stores nothing.
void import_orchestrators(Self* self, ImportOrchestrators& m) {
  auto& st = self->state;
  boost::json::array conflicts;
  std::unordered_map<std::string, std::string> batch_addresses;  // lower-cased address -> id
  std::vector<std::size_t> fresh;
  std::size_t existing = 0;
  for (std::size_t i = 0; i < m.records.size(); ++i) {
    const auto& rec = m.records[i];
    const std::string id = get_string(rec, "orchestrator_id");
    const std::string address = lower_ascii(get_string(rec, "address"));
    auto conflict = [&](std::string why) { conflicts.push_back(json::object{{"id", id}, {"detail", std::move(why)}}); };
    auto here = st.orchestrators.find(id);
    if (here != st.orchestrators.end()) {
      if (here->second.address != address) conflict("registered here with address " + here->second.address);
      // The reference never clears the flag: a record it denylisted must not stay eligible here.
      else if (get_bool(rec, "denylisted") && !here->second.denylisted)
        conflict("denylisted in the file, not here: add " + address +
                 " to PAYMENTS_ADDRESS_DENYLIST (the node flags it when it starts), then import again");
      else ++existing;
      continue;
    }
    if (auto owner = st.by_address.find(address); owner != st.by_address.end()) {
      conflict("address " + address + " is registered here to orchestrator " + owner->second);
      continue;
    }
    if (auto [other, added] = batch_addresses.emplace(address, id); !added) {
      conflict("address " + address + " is also the address of " + other->second + " in the same request");
      continue;
    }
    fresh.push_back(i);
  }
  if (!conflicts.empty()) {
    const std::size_t n = conflicts.size();
    m.reply(409, json::serialize(json::object{
                     {"detail", std::to_string(n) + " of the records conflict with the registry; nothing was imported"},
                     {"conflicts", std::move(conflicts)}}));
    return;
  }
  json::array denylisted;
  for (std::size_t i : fresh) {
    auto& rec = m.records[i];
    const std::string id = get_string(rec, "orchestrator_id");
    const std::string address = lower_ascii(get_string(rec, "address"));
    if (m.check) {
      if (st.options.address_denylist.count(address) && !get_bool(rec, "denylisted")) denylisted.push_back(json::string(id));
      continue;
    }
    if (st.options.address_denylist.count(address) && !get_bool(rec, "denylisted")) {
      mark_denylisted(rec, std::nullopt);  // as at start-up: flagged, no contact made
      denylisted.push_back(json::string(id));
      spdlog::warn("import: orchestrator {}: its address {} is on PAYMENTS_ADDRESS_DENYLIST; flagged denylisted", id, address);
    }
    self->send(st.ledger, UpsertOrchestrator{rec, [](const SignedWei&) { return std::string{}; }, [](int, std::string) {}});
    spawn_orchestrator(self, id, address, std::move(rec));
  }
  // Sent after the records, so answered once they are durable (the ledger answers a query
  // only when everything before it is).
  json::object answer{{"imported", fresh.size()}, {"existing", existing}, {"denylisted", std::move(denylisted)}};
  if (!m.ignored_fields.empty()) {
    json::array names;
    for (auto& f : m.ignored_fields) names.push_back(json::string(f));
    answer["ignored_fields"] = std::move(names);
  }
  if (m.check) {
    answer["checked"] = true;
    m.reply(200, json::serialize(answer));
    return;
  }
  std::string body = json::serialize(answer);
  self->send(st.ledger, Query{[body = std::move(body)](const Book&) { return std::pair{200, body}; }, std::move(m.reply)});
}

}  // namespace

std::optional<std::string> flag_denylisted_at_start(std::vector<json::object>& records, const std::set<std::string>& denylist,
                                                    const caf::actor& ledger) {
  std::vector<std::pair<std::string, std::future<std::pair<int, std::string>>>> stored;
  for (auto& rec : records) {
    const std::string address = lower_ascii(get_string(rec, "address"));
    if (!denylist.count(address) || get_bool(rec, "denylisted")) continue;
    mark_denylisted(rec, std::nullopt);  // no contact was made: last_seen stays
    auto done = std::make_shared<std::promise<std::pair<int, std::string>>>();
    stored.emplace_back(get_string(rec, "orchestrator_id"), done->get_future());
    caf::anon_send(ledger, UpsertOrchestrator{rec, [](const SignedWei&) { return std::string{}; },
                                              [done](int status, std::string body) { done->set_value({status, std::move(body)}); }});
    spdlog::warn("orchestrator {}: its address {} is on PAYMENTS_ADDRESS_DENYLIST; flagged denylisted", stored.back().first,
                 address);
  }
  for (auto& [id, result] : stored) {
    auto [status, body] = result.get();  // the ledger answers every write, after it is durable
    if (status >= 300) return "orchestrator " + id + ": the denylist flag was not stored: " + body;
  }
  return std::nullopt;
}

caf::behavior registry_actor(Self* self, std::vector<json::object> records, caf::actor ledger,
                             std::shared_ptr<Metrics> metrics, RegistryOptions options, caf::actor rank) {
  stop_process_on_exception(self, "registry");
  auto& st = self->state;
  st.rank = std::move(rank);
  st.ledger = std::move(ledger);
  st.metrics = std::move(metrics);
  st.actor_metrics = &st.metrics->actor("registry");
  st.actor_metrics->live->Increment();
  self->attach_functor([owner = st.metrics, m = st.actor_metrics] { m->live->Decrement(); });  // runs after the state is gone
  st.per_minute = std::make_unique<SlidingWindow>(options.registrations_per_minute, 60);
  st.burst = std::make_unique<SlidingWindow>(options.registration_burst, 10);
  st.options = std::move(options);
  // (Records whose address joined the denylist were flagged at start-up, before any of this:
  // flag_denylisted_at_start.)
  for (auto& rec : records) {
    std::string id = get_string(rec, "orchestrator_id");
    std::string address = lower_ascii(get_string(rec, "address"));
    spawn_orchestrator(self, id, address, std::move(rec));
  }
  return {
      [=](Register& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        handle_register(self, m);
      },
      [=](RankChecked& checked) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        switch (checked.answer) {
          case RankChecked::Answer::Unavailable:
            checked.request.reply(503, detail_body("Unable to validate orchestrator rank at this time"));
            return;
          case RankChecked::Answer::NotTop:
            checked.request.reply(403, detail_body("Address is not part of the current top orchestrators"));
            return;
          case RankChecked::Answer::Top:
            finish_register(self, checked.request, false);
            return;
        }
      },
      [=](ImportOrchestrators& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        import_orchestrators(self, m);
      },
      [=](HealthPush& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto it = self->state.orchestrators.find(m.orchestrator_id);
        if (it == self->state.orchestrators.end()) {
          m.reply(404, detail_body("Unknown orchestrator"));
          return;
        }
        self->send(it->second.actor, std::move(m));
      },
  };
}

}  // namespace lpops::actors
