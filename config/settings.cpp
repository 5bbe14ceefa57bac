#include "config/settings.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <arpa/inet.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <functional>

#include "domain/display_url.hpp"
#include "domain/json_parse.hpp"
#include "domain/python_text.hpp"

namespace lpops::config {
namespace {

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// `~` or `~/…` at the start of a path is the home directory ($HOME), as Python's expanduser().
std::string expand_home(const std::string& path) {
  if (path.empty() || path[0] != '~' || (path.size() > 1 && path[1] != '/')) return path;
  const char* home = std::getenv("HOME");
  if (!home || !*home) {
    // As expanduser(): the password database's home without $HOME.
    const passwd* user = ::getpwuid(::getuid());
    home = user && user->pw_dir && *user->pw_dir ? user->pw_dir : nullptr;
  }
  return home ? std::string(home) + path.substr(1) : path;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_address(const std::string& s) {
  if (s.size() != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
  return std::all_of(s.begin() + 2, s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

// A URL as an error message may show it: any user:password part replaced.
// A URL a setting gave as an error shows it: its scheme and authority, user:password masked,
// and "/…" for a path, query or fragment (providers put API keys there), even when the URL
// does not parse.
std::string shown_url(const std::string& url) {
  const auto scheme = url.find("://");
  const auto start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (const auto at = authority.rfind('@'); at != std::string::npos) authority = "***@" + authority.substr(at + 1);
  return url.substr(0, start) + authority + (end == std::string::npos ? "" : "/…");
}

// An http:// or https:// URL with a host and a valid port, parsed as the RPC client parses it.
bool is_http_url(const std::string& s) {
  auto parsed = boost::urls::parse_uri(s);
  if (!parsed || parsed->encoded_host().empty()) return false;
  const std::string scheme = lower(std::string(parsed->scheme()));  // case-insensitive (RFC 3986)
  if (scheme != "http" && scheme != "https") return false;
  if (!parsed->has_port()) return true;
  const std::string port(parsed->port());  // digits only, by the URI grammar
  return !port.empty() && port.size() <= 5 && std::stoul(port) >= 1 && std::stoul(port) <= 65535;
}

// Something to listen on: an IPv4 or IPv6 address, or a host name (RFC 1123 labels of letters,
// digits, '-' and, as resolvers take it, '_'; the last not all digits, so "999.1.1.1" is no name).
bool is_listen_host(std::string_view h) {
  const std::string text(h);
  in6_addr buffer{};
  if (::inet_pton(AF_INET, text.c_str(), &buffer) == 1 || ::inet_pton(AF_INET6, text.c_str(), &buffer) == 1) return true;
  if (h.ends_with('.')) h.remove_suffix(1);
  if (h.empty() || h.size() > 253) return false;
  bool last_all_digits = false;
  std::size_t start = 0;
  while (start <= h.size()) {
    const std::size_t dot = std::min(h.find('.', start), h.size());
    const std::string_view label = h.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    last_all_digits = std::all_of(label.begin(), label.end(), [](unsigned char c) { return std::isdigit(c); });
    start = dot + 1;
  }
  return !last_all_digits;
}

// The order n of secp256k1: a private key is in [1, n - 1].
constexpr std::string_view kSecp256k1Order = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

class Reader {
 public:
  explicit Reader(const Environment& env) : env_(env) {}

  // A variable's value; one that is not UTF-8 (a .env file saved in Latin-1, say) is refused,
  // as the reference's loader refuses the file, and reads as unset.
  std::optional<std::string> get(const char* name) {
    auto v = env_.get(name);
    if (v && !is_utf8(*v)) {
      fail(name, "UTF-8 text", "<" + std::to_string(v->size()) + " bytes that are not UTF-8>");
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::string> raw(const char* name) {
    auto v = get(name);
    if (!v) return std::nullopt;
    std::string t = trim(*v);
    if (t.empty()) return std::nullopt;
    return t;
  }
  // A typed setting: unset is nullopt (the default stays), but set to an empty or blank
  // value is a value, which then fails its check (as the reference's pydantic settings
  // refuse "" for a number or a boolean); an empty variable does not quietly mean "default".
  std::optional<std::string> typed(const char* name) {
    auto v = get(name);
    if (!v) return std::nullopt;
    return trim(*v);
  }
  void fail(const char* name, const std::string& expected, const std::string& got) {
    std::string error = std::string(name) + " must be " + expected + " (got \"" + got + "\"" +
                        (env_.from_file(name) ? ", from " + env_.file() : std::string()) + ")";
    // A variable read twice (its value, then whether it is set) is said once.
    if (std::find(errors_.begin(), errors_.end(), error) == errors_.end()) errors_.push_back(std::move(error));
  }

  void text(const char* name, std::string& out, bool non_empty = false) {
    auto v = get(name);
    if (!v) return;
    if (non_empty && trim(*v).empty()) return fail(name, "a non-empty string", *v);
    if (!trim(*v).empty()) out = trim(*v);
  }
  void optional_text(const char* name, std::optional<std::string>& out) {
    if (auto v = raw(name)) out = *v;
  }
  // A token: unset is no token, but set to nothing (or spaces) is a mistake, not "unset":
  // for the admin token that would open every admin route without a word.
  void token(const char* name, std::optional<std::string>& out) {
    auto v = get(name);
    if (!v) return;
    // Blank as Python's str.strip() sees it (U+00A0, U+3000 ... too), as the reference strips.
    const std::string t(python_strip(*v));
    if (t.empty()) return fail(name, "a non-blank token (unset it to have none)", "<blank>");
    out = t;
  }
  // As pydantic's lax integers: surrounding spaces, a sign, "8081.0".
  // `what`: the accepted range in words, where the bounds alone would mislead.
  template <class Int>
  void integer(const char* name, Int& out, long long min, long long max, const char* what = nullptr) {
    auto v = typed(name);
    if (!v) return;
    int side = 0;
    const auto n = lax_int(*v, side);
    if (!n || *n < min || *n > max)
      return fail(name, what ? std::string(what) : "an integer from " + std::to_string(min) + " to " + std::to_string(max), *v);
    out = static_cast<Int>(*n);
  }
  // A decimal number (pydantic's lax float: spaces, a sign, an exponent) within [min, max].
  void number(const char* name, double& out, double min, double max) {
    auto v = typed(name);
    if (!v) return;
    const auto d = lax_float(*v);
    if (!d || !std::isfinite(*d) || *d < min || *d > max) {
      std::ostringstream range;
      range << "a number from " << min << " to " << max;
      return fail(name, range.str(), *v);
    }
    out = *d;
  }
  void number(const char* name, std::optional<double>& out, double min, double max) {
    if (!typed(name)) return;
    double d = 0;
    const std::size_t before = errors_.size();
    number(name, d, min, max);
    if (errors_.size() == before) out = d;
  }
  void boolean(const char* name, bool& out) {
    auto v = typed(name);
    if (!v) return;
    std::string s = lower(*v);
    if (s == "1" || s == "true" || s == "yes" || s == "on" || s == "t" || s == "y") out = true;
    else if (s == "0" || s == "false" || s == "no" || s == "off" || s == "f" || s == "n") out = false;
    else fail(name, "a boolean (true/false, 1/0, yes/no, on/off, t/f, y/n)", *v);
  }
  void wei(const char* name, Wei& out) {
    auto v = typed(name);
    if (!v) return;
    auto w = v->empty() ? Result<Wei>(Error{"empty"}) : parse_wei(*v);
    if (!w || *w == 0) return fail(name, "a positive integer amount of wei", *v);
    out = *w;
  }
  void rate(const char* name, Rate& out) {
    auto v = typed(name);
    if (!v) return;
    auto r = Rate::parse_eth_per_minute(*v);
    if (!r) {
      // The parser's reason, without its "rate" subject: "must not be negative", "has more
      // than 36 decimal places".
      std::string why = r.error();
      if (why.starts_with("rate ")) why.erase(0, 5);
      return fail(name, "a decimal ETH-per-minute rate such as 0.000005353596, at least 0 (this one " + why + ")", *v);
    }
    out = *r;
  }
  void one_of(const char* name, std::string& out, std::initializer_list<const char*> allowed) {
    auto v = typed(name);
    if (!v) return;
    std::string s = lower(*v);
    std::string list;
    for (const char* a : allowed) {
      if (s == a) {
        out = s;
        return;
      }
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    fail(name, "one of " + list, *v);
  }
  // Comma- or whitespace-separated, or a JSON array of strings. A list of secrets (tokens)
  // is never shown in an error.
  std::optional<std::vector<std::string>> list(const char* name, bool secret = false) {
    auto v = raw(name);
    if (!v) return std::nullopt;
    const std::string shown = secret ? "<" + std::to_string(v->size()) + " characters, not shown>" : *v;
    std::vector<std::string> items;
    if (v->front() == '[') {
      boost::system::error_code ec;
      auto doc = parse_json(*v, ec);
      if (ec || !doc.is_array()) {
        fail(name, "a comma-separated list or a JSON array of strings", shown);
        return std::nullopt;
      }
      for (const auto& item : doc.get_array()) {
        if (!item.is_string()) {
          fail(name, "a JSON array of strings", shown);
          return std::nullopt;
        }
        std::string s(python_strip(item.get_string()));
        if (!s.empty()) items.push_back(s);
      }
      return items;
    }
    std::string current;
    for (char c : *v + ",") {
      if (c == ',' || c == ' ' || c == '\t' || c == '\n') {
        if (const std::string item(python_strip(current)); !item.empty()) items.push_back(item);
        current.clear();
      } else {
        current += c;
      }
    }
    return items;
  }
  // With `clear_host_bits`, a block with bits set after its prefix is the block they fall in
  // (Python's ip_network(strict=False)), with a warning; without, it is refused.
  void networks(const char* name, std::vector<IpNetwork>& out, bool clear_host_bits = false) {
    auto items = list(name);
    if (!items) return;
    std::vector<IpNetwork> parsed;
    for (const auto& item : *items) {
      bool cleared = false;
      auto n = IpNetwork::parse(item, clear_host_bits, &cleared);
      if (!n) return fail(name, "a list of IP addresses or CIDR blocks (" + n.error() + ")", item);
      if (cleared)
        warnings_.push_back(std::string(name) + ": " + item + " has bits set after its prefix; read as " + n->text() +
                            ", the block it falls in (as the reference reads it)");
      parsed.push_back(*n);
    }
    out = std::move(parsed);
  }
  // A file path: `~` or `~/…` at its start is the home directory (as Python's expanduser()).
  void path(const char* name, std::optional<std::string>& out) {
    auto v = raw(name);
    if (!v) return;
    out = expand_home(*v);
  }
  // An http:// or https:// URL with a host (checked now, not when first used).
  void url(const char* name, std::string& out) {
    auto v = raw(name);
    if (!v) return;
    if (!is_http_url(*v)) return fail(name, "an http:// or https:// URL with a host", shown_url(*v));
    out = *v;
  }
  void url(const char* name, std::optional<std::string>& out) {
    std::string value;
    url(name, value);
    if (!value.empty()) out = value;
  }
  // A URL path prefix as a proxy mounts the API: "" or "/…" without a trailing slash.
  void path_prefix(const char* name, std::string& out) {
    auto v = raw(name);
    if (!v) return;
    const bool ok = v->front() == '/' &&
                    std::all_of(v->begin(), v->end(), [](unsigned char c) { return c > 0x20 && c < 0x7f && c != '?' && c != '#'; });
    if (!ok) return fail(name, "empty or a path such as /payments (no query or spaces)", *v);
    // A trailing slash names the same mount point ("/payments/" is "/payments", "/" is none).
    std::string prefix = *v;
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    out = prefix;
  }
  void private_key(const char* name, std::optional<std::string>& out) {
    auto v = raw(name);
    if (!v) return;
    std::string_view hex(*v);
    if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
    const std::string shown = "<" + std::to_string(v->size()) + " characters, not shown>";
    if (hex.size() != 64 || !std::all_of(hex.begin(), hex.end(), [](unsigned char c) { return std::isxdigit(c); }))
      return fail(name, "a secp256k1 private key of 64 hex digits (0x optional)", shown);
    const std::string digits = lower(std::string(hex));
    if (digits == std::string(64, '0') || digits >= kSecp256k1Order)
      return fail(name, "a secp256k1 private key of 64 hex digits (0x optional), not 0 and below the curve order", shown);
    out = *v;
  }
  // `as_given`: kept as written (a registration's address is stored so), else lower-cased.
  void address(const char* name, std::optional<std::string>& out, bool as_given = false) {
    auto v = raw(name);
    if (!v) return;
    if (!is_address(*v)) return fail(name, "an address of 0x and 40 hex digits", *v);
    out = as_given ? *v : lower(*v);
  }

  // A host, optionally with a port; written as a URL (https://edge.example/), its host and
  // port, as the reference compares them.
  void host(const char* name, std::optional<std::string>& out) {
    auto v = raw(name);
    if (!v || trim(*v).empty()) return;
    const std::string trimmed(trim(*v));
    std::string_view text = trimmed;
    for (std::string_view scheme : {"http://", "https://"})
      if (text.size() > scheme.size() && lower(std::string(text.substr(0, scheme.size()))) == scheme) {
        text.remove_prefix(scheme.size());
        text = text.substr(0, text.find_first_of("/?#"));
        break;
      }
    auto h = host_for_surface(text);
    // Shown without any user:password it carries (shown_url).
    if (!h) return fail(name, "a host name or IP address, optionally with a port (or an http(s):// URL of one)", shown_url(trimmed));
    out = *h;
  }

  const std::vector<std::string>& errors() const { return errors_; }
  std::vector<std::string>& warnings() { return warnings_; }

 private:
  const Environment& env_;
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
};

}  // namespace

Result<Settings> load_settings(const Environment& env) {
  Settings s;
  Reader r(env);
  r.text("PAYMENTS_API_HOST", s.api_host, true);
  if (!is_listen_host(s.api_host)) r.fail("PAYMENTS_API_HOST", "an IP address or a host name", s.api_host);
  r.integer("PAYMENTS_API_PORT", s.api_port, 1, 65535);
  r.path_prefix("PAYMENTS_API_ROOT_PATH", s.root_path);
  // At most what one journal record can hold (net/body.hpp, kMaxStoredBodyBytes).
  r.integer("PAYMENTS_MAX_BODY_BYTES", s.max_body_bytes, 1024, 3ll << 20);
  r.integer("PAYMENTS_MAX_BUFFERED_BODY_BYTES", s.max_buffered_body_bytes, 3ll << 20, 1ll << 40);
  r.integer("PAYMENTS_MAX_SENDING_BODY_BYTES", s.max_sending_body_bytes, 1ll << 20, 1ll << 40);
  r.integer("PAYMENTS_MAX_QUEUED_READS", s.max_queued_reads, 1, 1'000'000);
  r.integer("PAYMENTS_HTTP_THREADS", s.http_threads, 1, 64);
  r.integer("PAYMENTS_HTTP_TIMEOUT_SECONDS", s.http_timeout_seconds, 1, 3600);
  r.integer("PAYMENTS_HTTP_MAX_CONNECTIONS_PER_CLIENT", s.max_connections_per_client, 0, 1'000'000);
  r.integer("PAYMENTS_SHUTDOWN_DRAIN_SECONDS", s.shutdown_drain_seconds, 0, 600);
  r.integer("PAYMENTS_SHUTDOWN_GRACE_SECONDS", s.shutdown_grace_seconds, 0, 300);
  r.boolean("PAYMENTS_ENABLE_DOCS", s.enable_docs);
  r.boolean("PAYMENTS_ENFORCE_SPLIT_SURFACES", s.enforce_split_surfaces);
  r.host("PAYMENTS_PUBLIC_EDGE_HOST", s.public_edge_host);
  r.host("PAYMENTS_PUBLIC_OPS_HOST", s.public_ops_host);
  if (s.enforce_split_surfaces) {
    // Enforcement that names one host, or the same host twice, would separate nothing while
    // looking on.
    if (!s.public_edge_host || !s.public_ops_host)
      r.fail("PAYMENTS_ENFORCE_SPLIT_SURFACES",
             "false unless PAYMENTS_PUBLIC_EDGE_HOST and PAYMENTS_PUBLIC_OPS_HOST are both set", "true");
    else if (*s.public_edge_host == *s.public_ops_host)
      r.fail("PAYMENTS_PUBLIC_OPS_HOST", "another host than PAYMENTS_PUBLIC_EDGE_HOST (" + *s.public_edge_host +
             ") when PAYMENTS_ENFORCE_SPLIT_SURFACES is true", *s.public_ops_host);
  }

  r.token("PAYMENTS_API_ADMIN_TOKEN", s.admin_token);
  if (auto v = r.list("PAYMENTS_VIEWER_TOKENS", /*secret=*/true)) {
    // A list of blanks would leave the view routes open while looking configured (the
    // reference read `[" "]` as a list that closes them): refused, as a blank admin token is.
    if (v->empty()) r.fail("PAYMENTS_VIEWER_TOKENS", "at least one non-blank token (unset it to have none)", "<no token>");
    else s.viewer_tokens = *v;
  }
  r.token("PAYMENTS_SESSION_REPORTER_TOKEN", s.session_reporter_token);
  r.networks("PAYMENTS_TRUSTED_PROXY_CIDRS", s.trusted_proxy_cidrs, /*clear_host_bits=*/true);
  r.networks("PAYMENTS_MANAGER_IP_ALLOWLIST", s.manager_ip_allowlist);

  r.text("PAYMENTS_DATA_DIR", s.data_dir, true);
  r.boolean("PAYMENTS_JOURNAL_FSYNC", s.journal_fsync);
  r.boolean("PAYMENTS_JOURNAL_DIRECT_IO", s.journal_direct_io);
  r.integer("PAYMENTS_SNAPSHOT_EVERY_RECORDS", s.snapshot_every_records, 100, 1'000'000'000);
  r.integer("PAYMENTS_JOURNAL_MAX_BATCH", s.journal_max_batch_records, 1, 65536);
  r.integer("PAYMENTS_ACTOR_THREADS", s.actor_threads, 1, 64);

  r.rate("PAYMENTS_WORKLOAD_TIME_CREDIT_ETH_PER_MINUTE", s.workload_time_rate);
  r.rate("PAYMENTS_SESSION_CREDIT_ETH_PER_MINUTE", s.session_rate);
  r.rate("PAYMENTS_POWER_CREDIT_ETH_PER_MINUTE", s.power_rate);
  if (auto v = r.raw("PAYMENTS_CREDIT_UNIT")) s.credit_unit = python_lower(*v);  // str.lower(), as the reference
  r.one_of("PAYMENTS_PAYOUT_STRATEGY", s.payout_strategy, {"eth_transfer", "livepeer_ticket"});
  // The reference's start-up check: tickets need the TicketBroker they are redeemed at.
  r.address("PAYMENTS_LIVEPEER_TICKET_BROKER_ADDRESS", s.livepeer_ticket_broker_address);
  if (s.payout_strategy == "livepeer_ticket" && !r.raw("PAYMENTS_LIVEPEER_TICKET_BROKER_ADDRESS"))
    r.fail("PAYMENTS_PAYOUT_STRATEGY", "eth_transfer unless PAYMENTS_LIVEPEER_TICKET_BROKER_ADDRESS is set (the TicketBroker tickets are redeemed at)",
           "livepeer_ticket");
  r.optional_text("PAYMENTS_TEST_RUN_ID", s.test_run_id);

  if (auto items = r.list("PAYMENTS_ADDRESS_DENYLIST")) {
    for (const auto& a : *items) {
      if (!is_address(a)) {
        r.fail("PAYMENTS_ADDRESS_DENYLIST", "a list of addresses of 0x and 40 hex digits", a);
        break;
      }
      s.address_denylist.push_back(lower(a));
    }
  }
  // 0 is accepted and means the default, 120 s, as the reference reads both (`int(ttl or 120)`).
  r.integer("PAYMENTS_FORWARDER_HEALTH_TTL_SECONDS", s.forwarder_health_ttl_seconds, 0, 86400 * 365);
  r.integer("PAYMENTS_SESSION_IDLE_TIMEOUT_SECONDS", s.session_idle_timeout_seconds, 0, 86400 * 365);
  if (s.forwarder_health_ttl_seconds == 0) s.forwarder_health_ttl_seconds = 120;
  if (s.session_idle_timeout_seconds == 0) s.session_idle_timeout_seconds = 120;
  r.integer("PAYMENTS_REGISTRATION_PER_MINUTE", s.registration_per_minute, 1, 1'000'000);
  r.integer("PAYMENTS_REGISTRATION_BURST", s.registration_burst, 1, 1'000'000);
  r.integer("PAYMENTS_PUBLIC_RATE_BURST", s.public_rate_burst, 1, 1'000'000);
  r.integer("PAYMENTS_PUBLIC_RATE_PER_MINUTE", s.public_rate_per_minute, 1, 1'000'000);
  r.boolean("PAYMENTS_SINGLE_ORCHESTRATOR_MODE", s.single_orchestrator_mode);
  r.optional_text("ORCHESTRATOR_ID", s.orchestrator_id);
  r.address("ORCHESTRATOR_ADDRESS", s.orchestrator_address, /*as_given=*/true);  // registered as written, as the reference does
  // Read (and checked) only for the single orchestrator's registration, as the reference uses
  // them; the timeout in a registration's range.
  if (s.single_orchestrator_mode) {
    r.url("ORCHESTRATOR_HEALTH_URL", s.orchestrator_health_url);
    r.number("ORCHESTRATOR_HEALTH_TIMEOUT", s.orchestrator_health_timeout, 0.1, 60);
  }
  r.number("PAYMENTS_DEFAULT_MIN_SERVICE_UPTIME", s.default_min_service_uptime, 0, 100);
  if (auto v = r.list("MONITORED_SERVICES")) s.monitored_services = *v;
  if (s.single_orchestrator_mode && (!s.orchestrator_id || !s.orchestrator_address))
    r.fail("PAYMENTS_SINGLE_ORCHESTRATOR_MODE", "false unless ORCHESTRATOR_ID and ORCHESTRATOR_ADDRESS are set",
           std::string("true, but ") + (s.orchestrator_id ? "ORCHESTRATOR_ADDRESS is" : s.orchestrator_address ? "ORCHESTRATOR_ID is" : "both are") +
               " unset or invalid");
  if (auto v = r.raw("PAYMENTS_BOOTSTRAP_ORCHESTRATORS")) {
    boost::system::error_code ec;
    auto doc = parse_json(*v, ec);
    if (ec || !(doc.is_array() || doc.is_object()))
      r.fail("PAYMENTS_BOOTSTRAP_ORCHESTRATORS", "a JSON list, object or id -> object map", v->substr(0, 80));
    else
      s.bootstrap_orchestrators = *v;
  }
  r.path("PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH", s.bootstrap_orchestrators_path);
  r.boolean("PAYMENTS_BOOTSTRAP_SKIP_RANK_VALIDATION", s.bootstrap_skip_rank_validation);
  r.url("PAYMENTS_EDGE_CONFIG_URL", s.edge_config_url);
  r.token("PAYMENTS_EDGE_CONFIG_TOKEN", s.edge_config_token);
  r.address("PAYMENTS_ORCHESTRATOR_CREDENTIAL_CONTRACT_ADDRESS", s.credential_contract_address);
  if (s.credential_contract_address) s.credential_contract_address_as_given = r.raw("PAYMENTS_ORCHESTRATOR_CREDENTIAL_CONTRACT_ADDRESS");
  // As the reference reads it: 0 is the default (its `or 300`). A token request may sign an
  // expires_at at most this far ahead; a nonce lives at least 30 s (its store's floor). A
  // negative TTL, with which the reference refuses every token request, is refused here.
  r.integer("PAYMENTS_ORCHESTRATOR_CREDENTIAL_NONCE_TTL_SECONDS", s.credential_nonce_ttl_seconds, 0, 86400,
            "a whole number of seconds from 0 to 86400 (0 is the default, 300)");
  if (s.credential_nonce_ttl_seconds == 0) s.credential_nonce_ttl_seconds = 300;
  // 0 means the default, as in the reference; a negative TTL (tokens that never expire) is refused.
  r.integer("PAYMENTS_ORCHESTRATOR_CREDENTIAL_TOKEN_TTL_SECONDS", s.credential_token_ttl_seconds, 0, 86400 * 365);
  if (s.credential_token_ttl_seconds == 0) s.credential_token_ttl_seconds = 900;
  r.integer("PAYMENTS_ORCHESTRATOR_CREDENTIAL_MAX_NONCES", s.credential_max_nonces, 1, 10'000'000);
  r.integer("PAYMENTS_ORCHESTRATOR_CREDENTIAL_TOKENS_PER_ORCHESTRATOR", s.credential_tokens_per_orchestrator, 1, 1000);
  r.integer("PAYMENTS_ORCHESTRATOR_CREDENTIAL_RPC_TIMEOUT_SECONDS", s.credential_rpc_timeout_seconds, 1, 300);

  r.address("TOP_CONTRACT_ADDRESS", s.top_contract_address);
  r.integer("TOP_CACHE_TTL_SECONDS", s.top_cache_ttl_seconds, 1, 86400 * 365);
  if (auto v = env.get("ETH_RPC_URL"); v && trim(*v).empty()) r.fail("ETH_RPC_URL", "a non-empty string", *v);
  r.url("ETH_RPC_URL", s.eth_rpc_url);
  r.boolean("PAYMENTS_RANK_CHECK", s.rank_check);
  if (auto v = env.get("PAYMENTS_RANK_SUBGRAPH_URL")) {
    if (trim(*v).empty()) s.rank_subgraph_url.reset();  // left out
    else r.url("PAYMENTS_RANK_SUBGRAPH_URL", s.rank_subgraph_url);
  }
  if (auto v = r.list("PAYMENTS_RANK_EXPLORER_URLS")) {
    s.rank_explorer_urls.clear();
    for (const auto& u : *v) {
      if (!is_http_url(u)) r.fail("PAYMENTS_RANK_EXPLORER_URLS", "a list of http:// or https:// URLs", shown_url(u));
      else s.rank_explorer_urls.push_back(u);
    }
  } else if (auto empty = env.get("PAYMENTS_RANK_EXPLORER_URLS"); empty && trim(*empty).empty()) {
    s.rank_explorer_urls.clear();
  }
  r.integer("ETH_CHAIN_ID", s.eth_chain_id, 1, 1ll << 52);
  r.wei("PAYMENTS_MAX_FEE_PER_GAS_WEI", s.max_fee_per_gas_wei);
  r.wei("PAYMENTS_MAX_PRIORITY_FEE_PER_GAS_WEI", s.max_priority_fee_per_gas_wei);
  r.path("PAYMENTS_AUDIT_KEY_PATH", s.audit_key_path);
  r.private_key("PAYMENT_PRIVATE_KEY", s.payment_private_key);
  r.path("PAYMENT_KEYSTORE_PATH", s.payment_keystore_path);
  // The password as written, spaces and all (the reference uses it so, as `lpops address` does).
  if (auto v = r.get("PAYMENT_KEYSTORE_PASSWORD"); v && !v->empty()) s.payment_keystore_password = *v;
  r.integer("PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", s.audit_checkpoint_every_entries, 1, 1'000'000'000);
  r.integer("PAYMENTS_AUDIT_CHECKPOINT_INTERVAL_SECONDS", s.audit_checkpoint_interval_seconds, 1, 86400);
  r.boolean("PAYMENTS_AUDIT_SIGN_ENTRIES", s.audit_sign_entries);
  r.boolean("PAYMENTS_ALLOW_CORE_DUMPS", s.allow_core_dumps);
  r.address("CHECKPOINT_CONTRACT_ADDRESS", s.checkpoint_contract_address);
  if (r.raw("CHECKPOINT_CHAIN_ID")) {  // empty is unset: the reference's compose file's default
    long chain_id = 0;
    const std::size_t errors = r.errors().size();
    r.integer("CHECKPOINT_CHAIN_ID", chain_id, 1, 1ll << 52);
    if (r.errors().size() == errors && chain_id > 0) s.checkpoint_chain_id = chain_id;
  }
  // The reference's payment loop: this node sends no payments by itself (docs/api.md, Payouts).
  if (auto v = r.get("PAYMENT_DRY_RUN")) {
    const std::string words = lower(std::string(trim(*v)));
    if (words == "false" || words == "0" || words == "no" || words == "off" || words == "f" || words == "n")
      r.warnings().push_back(
          "PAYMENT_DRY_RUN is false, but this node sends no payments by itself: balances are paid by reserving them "
          "(POST /api/payouts), paying, then posting the transaction's hash (docs/api.md, Payouts); "
          "PAYMENT_INTERVAL_SECONDS, PAYMENT_PAYOUT_THRESHOLD_ETH and PAYMENT_INCREMENT_ETH are not read");
  }
  r.one_of("PAYMENTS_LOG_LEVEL", s.log_level, {"trace", "debug", "info", "warn", "error", "off"});
  // Read by `lpops import` (where a TEE core's sealed state lies), not by the node: no warning
  // that nothing reads it.
  (void)env.get("PAYMENTS_TEE_CORE_STATE_PATH");

  if (!r.errors().empty()) {
    std::string all;
    for (const auto& e : r.errors()) all += (all.empty() ? "" : "\n") + e;
    return Error{all};
  }
  // Names no setting reads: the node's own prefix, and the reference's other settings (its
  // payment loop, its checkpoint witness, its rank contract's ABI, its health service).
  for (const char* prefix : {"PAYMENTS_", "PAYMENT_", "CHECKPOINT_", "TOP_CONTRACT_", "MIN_SERVICE_UPTIME",
                             "ORCHESTRATOR_HEALTH_PORT"})
    for (auto& name : env.unasked(prefix)) s.unused.push_back(std::move(name));
  std::sort(s.unused.begin(), s.unused.end());
  s.warnings = std::move(r.warnings());
  s.settings_file = env.file();
  return s;
}

std::string describe_rank_check(const Settings& s) {
  if (!s.rank_check) return "disabled: PAYMENTS_RANK_CHECK is false, any address may register";
  if (!s.rank_check_enabled())
    return "disabled: no source (TOP_CONTRACT_ADDRESS is unset, PAYMENTS_RANK_SUBGRAPH_URL and PAYMENTS_RANK_EXPLORER_URLS "
           "are empty), any address may register";
  std::string sources;
  auto add = [&](const std::string& what) { sources += (sources.empty() ? "" : ", then ") + what; };
  if (s.top_contract_address) add("the transcoder pool of BondingManager " + *s.top_contract_address + " via " + display_url(s.eth_rpc_url));
  if (s.rank_subgraph_url) add("the subgraph " + display_url(*s.rank_subgraph_url));
  if (!s.rank_explorer_urls.empty()) {
    std::string list;
    for (const auto& u : s.rank_explorer_urls) list += (list.empty() ? "" : " or ") + display_url(u);
    add("the explorer API " + list);
  }
  return "enabled: registration needs the address among the top 100 of " + sources + "; cached " +
         std::to_string(s.top_cache_ttl_seconds) + " s";
}

std::optional<std::string> host_for_surface(std::string_view text) {
  std::string host;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    // An IPv6 literal, as RFC 3986 writes it in a host.
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view inside = text.substr(1, close - 1);
    if (inside.find(':') == std::string_view::npos) return std::nullopt;
    const auto canonical = canonical_ip_text(inside);
    if (!canonical) return std::nullopt;
    host = "[" + *canonical + "]";
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    host = lower(std::string(text.substr(0, colon)));
    rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
    while (!host.empty() && host.back() == '.') host.pop_back();
    if (host.empty() || host.size() > 253) return std::nullopt;
    if (!std::all_of(host.begin(), host.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_'; }))
      return std::nullopt;
  }
  // An optional port: ':' and up to 5 digits (RFC 3986 allows an empty one).
  if (!rest.empty()) {
    if (rest.front() != ':' || rest.size() > 6 ||
        !std::all_of(rest.begin() + 1, rest.end(), [](unsigned char c) { return std::isdigit(c); }))
      return std::nullopt;
  }
  return host;
}

std::vector<std::pair<std::string, std::string>> Settings::describe() const {
  auto secret = [](const std::optional<std::string>& v) { return std::string(v ? "(set)" : "(unset)"); };
  auto join = [](const std::vector<IpNetwork>& v) {
    std::string out;
    for (const auto& n : v) out += (out.empty() ? "" : ",") + n.text();
    return out;
  };
  return {
      {"PAYMENTS_API_HOST", api_host},
      {"PAYMENTS_API_PORT", std::to_string(api_port)},
      {"PAYMENTS_DATA_DIR", data_dir},
      {"PAYMENTS_API_ADMIN_TOKEN", secret(admin_token)},
      {"PAYMENTS_VIEWER_TOKENS", std::to_string(viewer_tokens.size()) + " token(s)"},
      {"PAYMENTS_SESSION_REPORTER_TOKEN", secret(session_reporter_token)},
      {"PAYMENTS_TRUSTED_PROXY_CIDRS", join(trusted_proxy_cidrs)},
      {"PAYMENTS_MANAGER_IP_ALLOWLIST", join(manager_ip_allowlist)},
      {"PAYMENTS_ENFORCE_SPLIT_SURFACES",
       enforce_split_surfaces ? "true (edge " + public_edge_host.value_or("") + ", ops " + public_ops_host.value_or("") + ")"
                              : "false"},
      {"PAYMENTS_WORKLOAD_TIME_CREDIT_ETH_PER_MINUTE", workload_time_rate.text()},
      {"PAYMENTS_SESSION_CREDIT_ETH_PER_MINUTE", session_rate.text()},
      {"PAYMENTS_POWER_CREDIT_ETH_PER_MINUTE", power_rate.text()},
      {"PAYMENTS_CREDIT_UNIT", credit_unit},
      {"PAYMENTS_PAYOUT_STRATEGY", payout_strategy},
      {"PAYMENTS_LIVEPEER_TICKET_BROKER_ADDRESS", livepeer_ticket_broker_address.value_or("(unset)")},
      {"PAYMENTS_ADDRESS_DENYLIST", std::to_string(address_denylist.size()) + " address(es)"},
      {"PAYMENTS_FORWARDER_HEALTH_TTL_SECONDS", std::to_string(forwarder_health_ttl_seconds)},
      {"PAYMENTS_REGISTRATION_PER_MINUTE", std::to_string(registration_per_minute)},
      {"PAYMENTS_REGISTRATION_BURST", std::to_string(registration_burst)},
      {"PAYMENTS_JOURNAL_FSYNC", journal_fsync ? "true" : "false"},
      {"PAYMENTS_JOURNAL_DIRECT_IO", journal_direct_io ? "true" : "false"},
      {"PAYMENTS_AUDIT_SIGN_ENTRIES", audit_sign_entries ? "true" : "false"},
      {"PAYMENTS_ALLOW_CORE_DUMPS", allow_core_dumps ? "true" : "false"},
      {"PAYMENTS_SNAPSHOT_EVERY_RECORDS", std::to_string(snapshot_every_records)},
      {"PAYMENTS_HTTP_THREADS", std::to_string(http_threads)},
      {"PAYMENTS_HTTP_TIMEOUT_SECONDS", std::to_string(http_timeout_seconds)},
      {"PAYMENTS_HTTP_MAX_CONNECTIONS_PER_CLIENT", max_connections_per_client ? std::to_string(max_connections_per_client) : "auto"},
      {"PAYMENTS_ACTOR_THREADS", std::to_string(actor_threads)},
      {"PAYMENTS_MAX_BODY_BYTES", std::to_string(max_body_bytes)},
      {"PAYMENTS_MAX_BUFFERED_BODY_BYTES", std::to_string(max_buffered_body_bytes)},
      {"PAYMENTS_MAX_SENDING_BODY_BYTES", std::to_string(max_sending_body_bytes)},
      {"PAYMENTS_MAX_QUEUED_READS", std::to_string(max_queued_reads)},
      {"PAYMENTS_RANK_CHECK", rank_check ? "true" : "false"},
      {"TOP_CONTRACT_ADDRESS", top_contract_address.value_or("(unset)")},
      {"PAYMENTS_BOOTSTRAP_SKIP_RANK_VALIDATION", bootstrap_skip_rank_validation ? "true" : "false"},
      {"PAYMENTS_SINGLE_ORCHESTRATOR_MODE",
       single_orchestrator_mode ? "true (" + orchestrator_id.value_or("") + " " + orchestrator_address.value_or("") + ")" : "false"},
      {"ETH_RPC_URL", display_url(eth_rpc_url)},
      {"ETH_CHAIN_ID", std::to_string(eth_chain_id)},
      {"CHECKPOINT_CONTRACT_ADDRESS", checkpoint_contract_address.value_or("(unset: the zero address)")},
      {"CHECKPOINT_CHAIN_ID", checkpoint_chain_id ? std::to_string(*checkpoint_chain_id) : "(unset: ETH_CHAIN_ID)"},
      {"PAYMENTS_MAX_FEE_PER_GAS_WEI", format_wei(max_fee_per_gas_wei)},
      {"PAYMENTS_MAX_PRIORITY_FEE_PER_GAS_WEI", format_wei(max_priority_fee_per_gas_wei)},
      {"PAYMENTS_AUDIT_CHECKPOINT_EVERY_ENTRIES", std::to_string(audit_checkpoint_every_entries)},
      {"PAYMENTS_AUDIT_CHECKPOINT_INTERVAL_SECONDS", std::to_string(audit_checkpoint_interval_seconds)},
      {"PAYMENTS_SHUTDOWN_DRAIN_SECONDS", std::to_string(shutdown_drain_seconds)},
      {"PAYMENTS_SHUTDOWN_GRACE_SECONDS", std::to_string(shutdown_grace_seconds)},
      {"PAYMENTS_PUBLIC_RATE_BURST", std::to_string(public_rate_burst)},
      {"PAYMENTS_PUBLIC_RATE_PER_MINUTE", std::to_string(public_rate_per_minute)},
      {"PAYMENTS_API_ROOT_PATH", root_path},
      {"PAYMENTS_LOG_LEVEL", log_level},
  };
}

}  // namespace lpops::config
