#pragma once
// Orchestrator registry records: registration merge rules, health, eligibility and the
// API view. Records are JSON objects whose key order is the reference's field order.
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/clock.hpp"
#include "domain/money.hpp"

namespace lpops {

inline constexpr std::size_t kMaxOrchestratorIdChars = 128;
// A health push's `data`, as JSON text: each push is journaled with its orchestrator's record.
inline constexpr std::size_t kMaxHealthDataBytes = 64 * 1024;
// The id under which the ledger records its own entries (the pricing policy): no
// orchestrator may register it.
inline constexpr const char* kSystemOrchestratorId = "__system__";

struct Registration {
  std::string orchestrator_id;
  std::string address;  // as sent; compared lower-cased
  std::optional<std::string> capability, contact_email, host_public_ip, host_name, health_url;
  std::optional<bool> services_healthy;
  std::optional<double> health_timeout, min_service_uptime;
  std::optional<std::vector<std::string>> monitored_services;
};

std::string lower_ascii(std::string s);

// The reference's address pattern ^0x[a-fA-F0-9]{40}$ (a lower-case x; no checksum).
bool is_reference_address(std::string_view s);

// A new record for a first registration (before merge_registration).
boost::json::object new_orchestrator_record(const Registration& r, UnixMicros now);

// Merges a registration: text fields only change to non-empty values, counters and
// contact times advance, eligibility is recomputed.
void merge_registration(boost::json::object& record, const Registration& r, const std::string& peer_ip,
                        bool is_top, UnixMicros now);

// Marks a record denylisted (and so ineligible). `contact`: the time of the registration
// attempt that found it denylisted, which touches last_seen; none when the flag is set at
// start-up (the orchestrator did not make contact then).
void mark_denylisted(boost::json::object& record, std::optional<UnixMicros> contact);

// Stores a forwarder health push; a push reporting services up also records contact.
void apply_health_push(boost::json::object& record, const std::string& source, const boost::json::object& data,
                       UnixMicros now);

struct EligibilityContext {
  UnixMicros now = 0;
  std::int64_t health_ttl_seconds = 120;
};

// Not denylisted, no active cooldown, in the top set, and not reported down by a fresh
// forwarder health push (a push older than the TTL counts as no report).
bool is_eligible(const boost::json::object& record, const EligibilityContext& ctx);

struct ViewContext {
  UnixMicros now = 0;
  std::int64_t health_ttl_seconds = 120;
  std::string credit_unit = "eth";
  bool redact_ips = false;
};

boost::json::object orchestrator_view(const boost::json::object& record, const SignedWei& balance,
                                      const ViewContext& ctx);

}  // namespace lpops
