#pragma once
// Every setting of a node, read from the environment with the reference's variable names.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/environment.hpp"
#include "config/ip_network.hpp"
#include "domain/rate.hpp"
#include "domain/result.hpp"

namespace lpops::config {

struct Settings {
  // HTTP
  std::string api_host = "0.0.0.0";
  int api_port = 8081;
  std::string root_path;
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_buffered_body_bytes = 256u << 20;  // all request bodies being read or answered at once
  std::size_t max_sending_body_bytes = 1u << 30;     // large answers being written at once
  std::size_t max_queued_reads = 64;  // reads waiting for the reader's thread (listings, summaries, ledger events)
  int http_threads = 2;
  int http_timeout_seconds = 30;  // an idle keep-alive connection, a request or response stalled this long
  long max_connections_per_client = 0;  // 0: an eighth of the connection cap, at least 16
  int shutdown_drain_seconds = 10;
  // After a stop signal, /readyz answers 503 "draining" while requests are still taken for this
  // long, so that a load balancer stops sending before the listener closes.
  int shutdown_grace_seconds = 0;
  bool enable_docs = true;

  // Split surfaces: with enforcement on, the edge host answers no ops route and the ops host
  // no edge route (403). Host names as host_for_surface gives them.
  bool enforce_split_surfaces = false;
  std::optional<std::string> public_edge_host;
  std::optional<std::string> public_ops_host;

  // Auth and client addresses
  std::optional<std::string> admin_token;
  std::vector<std::string> viewer_tokens;
  std::optional<std::string> session_reporter_token;
  std::vector<IpNetwork> trusted_proxy_cidrs;
  std::vector<IpNetwork> manager_ip_allowlist;

  // Storage and actors
  std::string data_dir = "./data";
  bool journal_fsync = true;
  bool journal_direct_io = true;
  long snapshot_every_records = 100'000;
  long journal_max_batch_records = 4096;
  int actor_threads = 2;

  // Metering
  Rate workload_time_rate = Rate::parse_eth_per_minute("0.000005353596").value();
  Rate session_rate;
  Rate power_rate;
  std::string credit_unit = "eth";
  std::string payout_strategy = "eth_transfer";
  std::optional<std::string> livepeer_ticket_broker_address;  // lower-cased; required for livepeer_ticket
  std::optional<std::string> test_run_id;

  // Registry
  std::vector<std::string> address_denylist;  // lower-cased
  long forwarder_health_ttl_seconds = 120;
  long session_idle_timeout_seconds = 120;
  long registration_per_minute = 5;
  long registration_burst = 5;
  long public_rate_burst = 20;
  long public_rate_per_minute = 120;
  // Single-orchestrator mode (the reference's self-registration): ORCHESTRATOR_ID with
  // ORCHESTRATOR_ADDRESS registered at every start, before the bootstrap entries, without the
  // rank check; its health URL and timeout, MONITORED_SERVICES and
  // PAYMENTS_DEFAULT_MIN_SERVICE_UPTIME go into the record as the reference puts them.
  bool single_orchestrator_mode = false;
  std::optional<std::string> orchestrator_id;
  std::optional<std::string> orchestrator_address;
  std::optional<std::string> orchestrator_health_url;
  std::optional<double> orchestrator_health_timeout;
  double default_min_service_uptime = 80.0;
  std::vector<std::string> monitored_services = {"vtuber-unreal-game", "vtuber-unreal-signaling", "vtuber-turn-server"};
  std::optional<std::string> bootstrap_orchestrators;       // JSON text
  std::optional<std::string> bootstrap_orchestrators_path;  // relative to data_dir
  bool bootstrap_skip_rank_validation = true;
  std::optional<std::string> edge_config_url, edge_config_token;

  // Orchestrator credentials (POST /api/orchestrators/{id}/credential/*): off while the
  // contract address is unset.
  std::optional<std::string> credential_contract_address;           // lower-cased
  std::optional<std::string> credential_contract_address_as_given;  // echoed in nonce answers, as the reference does
  // How far ahead a token request's expires_at may lie; nonces live max(30, this) seconds.
  long credential_nonce_ttl_seconds = 300;
  long credential_token_ttl_seconds = 900;
  long credential_max_nonces = 10'000;       // nonces of valid signatures, held or spent until they expire
  long credential_tokens_per_orchestrator = 16;  // live tokens; issuing one more drops the oldest
  long credential_rpc_timeout_seconds = 10;

  // Chain
  std::optional<std::string> top_contract_address;
  long top_cache_ttl_seconds = 300;
  std::string eth_rpc_url = "http://localhost:8545";
  // The registration rank check: the BondingManager at TOP_CONTRACT_ADDRESS when set, then the
  // subgraph, then the explorer APIs (the reference's sources and order, its URLs by default;
  // an empty setting leaves its source out). Off: any address may register.
  bool rank_check = true;
  std::optional<std::string> rank_subgraph_url = "https://api.thegraph.com/subgraphs/name/livepeer/livepeer";
  std::vector<std::string> rank_explorer_urls = {"https://explorer.livepeer.org/api/orchestrators",
                                                 "https://api.livepeer.org/orchestrator"};
  bool rank_check_enabled() const {
    return rank_check && (top_contract_address || rank_subgraph_url || !rank_explorer_urls.empty());
  }
  long eth_chain_id = 42161;
  // Fee caps of every transaction lpops sends (EIP-1559 max fee / tip, or the legacy gas price).
  Wei max_fee_per_gas_wei = Wei(500) * 1'000'000'000;
  Wei max_priority_fee_per_gas_wei = Wei(5) * 1'000'000'000;

  // Transparency log
  std::optional<std::string> audit_key_path;           // default <data_dir>/audit.key
  std::optional<std::string> payment_private_key;      // the audit key is derived from it when set
  std::optional<std::string> payment_keystore_path;    // or from this V3 keystore
  std::optional<std::string> payment_keystore_password;
  long audit_checkpoint_every_entries = 1000;
  long audit_checkpoint_interval_seconds = 60;
  bool audit_sign_entries = false;  // also sign each entry (signer, signature) as the reference does
  // Core dumps hold the keys in memory: off (and the process not dumpable) unless allowed.
  bool allow_core_dumps = false;
  std::optional<std::string> checkpoint_contract_address;  // bound into checkpoint messages
  std::optional<long> checkpoint_chain_id;                  // likewise; unset: eth_chain_id

  std::string log_level = "info";

  // PAYMENTS_* names set (in the environment or the .env file) that no setting reads:
  // misspelt, or the reference's settings that do not apply here (its file paths, features
  // lpops does not have). Start-up warns about them.
  std::vector<std::string> unused;
  // What start-up warns about in settings that were read: a value taken in another form than
  // written (a CIDR block with host bits set), a reference setting this node does not act on.
  std::vector<std::string> warnings;
  // The settings file they were read from besides the environment (empty: none).
  std::string settings_file;

  // Each variable with its effective value; secrets appear as "(set)" / "(unset)".
  std::vector<std::pair<std::string, std::string>> describe() const;
};

// A Host header or host setting as the split surfaces compare it: lower case, without a port
// or a trailing dot ("Edge.Example.com.:443" is "edge.example.com", "[::1]:80" is "[::1]");
// nullopt when it is no host name or address literal.
std::optional<std::string> host_for_surface(std::string_view text);

// The rank check as start-up and /readyz describe it: its sources in order, or why it is off.
std::string describe_rank_check(const Settings& s);

// Reads and validates every setting; the error lists every bad variable, one per line.
Result<Settings> load_settings(const Environment& env);

}  // namespace lpops::config
