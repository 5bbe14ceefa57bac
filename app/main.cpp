// lpops: the Livepeer operations backend. Subcommands wire the layers together.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <charconv>
#include <limits>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "app/node.hpp"
#include "domain/version.hpp"

namespace {

// An exception nothing catches (an unreadable file where a file was expected, and the like):
// a clear message and status 2 instead of an abort. It runs where the exception was thrown,
// before any unwinding, so running actors cannot hold the process up on the way out.
[[noreturn]] void uncaught() {
  std::string what = "unknown error";
  if (auto e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      what = x.what();
    } catch (...) {
    }
  }
  std::fprintf(stderr, "lpops: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::set_terminate(uncaught);
  CLI::App cli{"lpops: Livepeer operations backend (registry, metering, exact credits ledger)"};
  cli.name("lpops");
  cli.require_subcommand(1);
  cli.set_version_flag("--version", std::string("lpops ") + lpops::kVersion);

  // A path option given empty would mean the working directory (or nothing), never what was meant.
  const CLI::Validator not_empty([](std::string& v) { return v.empty() ? std::string("must not be empty") : std::string(); },
                                 "NOT EMPTY", "not empty");
  // A whole number within [lo, hi]; text that is no number is said as such ("not in range"
  // would send the reader looking for the wrong mistake).
  auto whole_number = [](long lo, long hi) {
    const std::string range = std::to_string(lo) + " to " + std::to_string(hi);
    return CLI::Validator(
        [lo, hi, range](std::string& v) -> std::string {
          long n = 0;
          const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
          if (ec != std::errc() || end != v.data() + v.size()) return "must be a whole number (got \"" + v + "\")";
          if (n < lo || n > hi) return "must be from " + range + " (got " + v + ")";
          return {};
        },
        "INT in [" + std::to_string(lo) + " - " + std::to_string(hi) + "]");
  };
  lpops::app::ServeOptions serve;
  auto* serve_cmd = cli.add_subcommand("serve", "Run a node: HTTP API on the embedded JSON-file store");
  serve_cmd->add_option("--env-file", serve.env_file, "Read settings from this file (default: ./.env when present)")->check(not_empty);
  serve_cmd->add_option("--data-dir", serve.data_dir, "Data directory (overrides PAYMENTS_DATA_DIR)")->check(not_empty);
  serve_cmd->add_option("--host", serve.host, "Listen address (overrides PAYMENTS_API_HOST)")->check(not_empty);
  serve_cmd->add_option("--port", serve.port, "Listen port, 0 for any free port (overrides PAYMENTS_API_PORT)")
      ->check(whole_number(0, 65535));
  serve_cmd->add_option("--port-file", serve.port_file, "Write the bound port to this file once serving (removed at a clean stop)")
      ->check(not_empty);

  lpops::app::ReplayOptions replay;
  auto* replay_cmd = cli.add_subcommand("replay", "Rebuild balances from the journal alone and print them");
  replay_cmd->add_option("--data-dir", replay.data_dir, "Data directory (default: PAYMENTS_DATA_DIR, else ./data, as serve)")
      ->check(not_empty);
  replay_cmd->add_option("--env-file", replay.env_file,
                         "Read the settings from this file (default: ./.env when present), as serve does, for its "
                         "PAYMENTS_DATA_DIR; not read when --data-dir is given")
      ->check(not_empty);
  replay_cmd->add_flag("--json", replay.json, "Print JSON instead of a table");

  lpops::app::BackupOptions backup;
  auto* backup_cmd = cli.add_subcommand(
      "backup", "Copy a data directory, its node running or not, into a new directory that starts as a node, and check the copy");
  backup_cmd->add_option("--to", backup.to, "The new (or empty) directory to write the backup into (what an interrupted backup left there is removed)")->required()->check(not_empty);
  backup_cmd->add_option("--data-dir", backup.data_dir, "Data directory (default: PAYMENTS_DATA_DIR, else ./data, as serve)")
      ->check(not_empty);
  backup_cmd->add_option("--env-file", backup.env_file,
                         "Read the settings from this file (default: ./.env when present), as serve does, for its "
                         "PAYMENTS_DATA_DIR and PAYMENTS_AUDIT_KEY_PATH; not read when --data-dir is given")
      ->check(not_empty);
  backup_cmd->add_flag("--json", backup.json, "Print the outcome as JSON");

  lpops::app::KeygenOptions keygen;
  auto* keygen_cmd = cli.add_subcommand("keygen", "Create a new secp256k1 key file and print its address");
  keygen_cmd->add_option("--key-file", keygen.key_file, "Where to write the key (hex, mode 0600; never overwritten)")
      ->required()
      ->check(not_empty);

  lpops::app::AddressOptions address;
  auto* address_cmd = cli.add_subcommand("address", "Print the address of a hex key file or a V3 keystore");
  auto* key_file_opt = address_cmd->add_option("--key-file", address.key_file, "The key file (0x + 64 hex digits)")->check(not_empty);
  auto* keystore_opt = address_cmd->add_option("--keystore", address.keystore,
                                               "A V3 keystore (as PAYMENT_KEYSTORE_PATH); the password comes from "
                                               "--password-file or PAYMENT_KEYSTORE_PASSWORD (environment or ./.env)")
                         ->check(not_empty);
  address_cmd->add_option("--password-file", address.password_file, "File holding the keystore password (first line)")
      ->needs(keystore_opt)
      ->check(not_empty);
  key_file_opt->excludes(keystore_opt);

  lpops::app::VerifyOptions verify;
  auto* verify_cmd = cli.add_subcommand(
      "verify", "Verify the transparency log (a file or a live node): entries, chain, Merkle root, signed checkpoints");
  verify_cmd->add_option("--log", verify.log_file, "An audit.jsonl file to verify offline")->check(not_empty);
  verify_cmd->add_option("--checkpoints", verify.checkpoints_file, "Signed checkpoints (default: checkpoints.jsonl beside --log)")
      ->check(not_empty);
  auto* verify_url = verify_cmd->add_option("--url", verify.url, "A live node, e.g. http://127.0.0.1:8081")->check(not_empty);
  verify_cmd->add_option("--audit-address", verify.audit_addresses,
                         "The audit address every checkpoint must be signed by; repeat it for the keys of a rotation, in the "
                         "order they signed (oldest first; a key used again listed again): each checkpoint signed by one of "
                         "them, never by a key listed only before the previous checkpoint's")
      ->take_all();
  verify_cmd->add_option("--chain-id", verify.chain_id,
                         "The chain id every checkpoint must be signed for (the node's ETH_CHAIN_ID); with --url, the "
                         "checkpoints are asked for it")
      ->check(whole_number(1, std::numeric_limits<long>::max()));
  verify_cmd->add_option("--contract", verify.contract,
                         "The contract address every checkpoint must be signed for (the node's CHECKPOINT_CONTRACT_ADDRESS); "
                         "with --url, the checkpoints are asked for it")
      ->check(not_empty);
  auto* event_id_opt =
      verify_cmd->add_option("--event-id", verify.event_id, "Also prove this event's inclusion, e.g. workload_time:job-1")
          ->check(not_empty);
  verify_cmd->add_option("--since", verify.since_file, "A previously saved checkpoint (JSON) the log must extend")
      ->check(not_empty);
  verify_cmd->add_flag("--skip-log", verify.skip_log, "With --url: do not download the log; check checkpoint, proofs, consistency");
  verify_cmd->add_flag("--allow-unsigned", verify.allow_unsigned,
                       "Pass entries no signature vouches for (a log no signed checkpoint covers, or unsigned entries after signed "
                       "ones); their structure alone is checked and they are reported as unvouched");
  verify_cmd->add_flag("--json", verify.json, "Print the outcome as JSON");
  verify_cmd->add_option("--timeout", verify.timeout_seconds, "With --url: seconds to wait for the node's address, a connection or an answer (default 30)")
      ->check(whole_number(1u, 3600u))
      ->needs(verify_url);
  verify_cmd->add_option("--threads", verify.threads, "Threads checking entries (default: every core, at most 8)")
      ->check(whole_number(1u, 64u));

  lpops::app::ImportOptions import;
  auto* import_cmd = cli.add_subcommand(
      "import", "Import a reference (livepeer-ops) data directory into a running node: registry.json, workloads.json, "
                "balances.json (and payouts.json's pending payouts, with --pending-payouts reserve)");
  import_cmd->add_option("--from", import.from_dir, "The reference's data directory (where balances.json is)")
      ->required()
      ->check(not_empty);
  auto* import_url = import_cmd->add_option("--url", import.url, "The node, e.g. http://127.0.0.1:8081")->check(not_empty);
  import_cmd->add_option("--env-file", import.env_file, "Read settings from this file (default: ./.env when present)")
      ->check(not_empty);
  import_cmd->add_option("--admin-token-file", import.admin_token_file,
                         "File holding the node's admin token (first line); default PAYMENTS_API_ADMIN_TOKEN")
      ->check(not_empty);
  import_cmd->add_option("--per-request", import.per_request, "Entries per request (default 500)")->check(whole_number(1, 1000));
  import_cmd->add_option("--timeout", import.timeout_seconds,
                         "Seconds to wait for the node's address, a connection or an answer, and for a node still starting (default 60)")
      ->check(whole_number(1u, 3600u));
  auto* dry_run = import_cmd->add_flag("--dry-run", import.dry_run, "Read and check the files; send nothing");
  import_url->excludes(dry_run);
  auto* check_only = import_cmd->add_flag("--check", import.check_only,
                                          "Check the files, then every entry with the node (--url); import nothing");
  check_only->excludes(dry_run);
  import_cmd->add_option("--pending-payouts", import.pending_payouts,
                         "reserve: reserve each payout payouts.json holds (sent by livepeer-ops, not confirmed there, still "
                         "in its balances) as a pending payout here, to post once confirmed or void if it failed. Without "
                         "it, such payouts refuse the import")
      ->check(CLI::IsMember({"reserve"}));
  import_cmd->add_flag("--ignore-tee-core-state", import.ignore_tee_core_state,
                       "Import although the directory holds tee_core_state.b64, or PAYMENTS_TEE_CORE_STATE_PATH names a file that exists (only for a deployment that never ran with "
                       "PAYMENTS_TEE_CORE_AUTHORITY=true, whose balances.json holds every credit)");

  lpops::app::FeesOptions fees;
  auto* fees_cmd = cli.add_subcommand(
      "fees", "Print the fees a transaction sent now would pay (ETH_RPC_URL; PAYMENTS_MAX_*_PER_GAS_WEI caps)");
  fees_cmd->add_option("--env-file", fees.env_file, "Read settings from this file (default: ./.env when present)")
      ->check(not_empty);
  fees_cmd->add_option("--timeout", fees.timeout_seconds,
                       "Seconds to wait for the RPC node's address, a connection or an answer, per attempt; three attempts "
                       "(default 10)")
      ->check(whole_number(1u, 300u));

  // A first word that names no subcommand is said as such ("A subcommand is required" would
  // send the reader looking for the wrong mistake).
  if (argc > 1 && std::string_view(argv[1]) == "help") {
    // `lpops help serve`: that command's help.
    if (argc > 2) {
      for (const auto* sub : cli.get_subcommands({}))
        if (sub->get_name() == argv[2]) {
          std::fputs(sub->help("lpops").c_str(), stdout);
          return 0;
        }
      std::fprintf(stderr, "lpops: unknown command %s (run lpops --help for the commands)\n", argv[2]);
      return 2;
    }
    std::fputs(cli.help().c_str(), stdout);
    return 0;
  }
  if (argc > 1 && argv[1][0] == '-' && std::string_view(argv[1]) != "--help" && std::string_view(argv[1]) != "-h" &&
      std::string_view(argv[1]) != "--version") {
    std::fprintf(stderr, "lpops: %s is no option of lpops itself; options follow a command (run lpops --help for the "
                         "commands)\n", argv[1]);
    return 2;
  }
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const auto* sub : cli.get_subcommands({})) known = known || sub->get_name() == argv[1];
    if (!known) {
      std::fprintf(stderr, "lpops: unknown command %s (run lpops --help for the commands)\n", argv[1]);
      return 2;
    }
  }
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as documented.
    const int code = cli.exit(e) == 0 ? 0 : 2;
    // `verify --json` answers in JSON on standard output whatever the outcome, a usage error too.
    if (code != 0 && argc > 1 && std::string_view(argv[1]) == "verify")
      for (int i = 2; i < argc; ++i)
        if (std::string_view(argv[i]) == "--json") {
          std::printf("%s\n", boost::json::serialize(boost::json::object{{"status", "error"}, {"reason", e.what()}}).c_str());
          break;
        }
    return code;
  }
  if (*fees_cmd) return lpops::app::fees(fees);
  if (*import_cmd) {
    if (!import.dry_run && import.url.empty()) {
      std::fprintf(stderr, "lpops import: --url (the node) is required unless --dry-run\n");
      return 2;
    }
    return lpops::app::import_reference(import);
  }
  if (*verify_cmd) {
    verify.event_id_given = event_id_opt->count() > 0;
    return lpops::app::verify(verify);
  }
  if (*keygen_cmd) return lpops::app::keygen(keygen);
  if (*address_cmd) return lpops::app::address(address);
  if (*serve_cmd) return lpops::app::serve(serve);
  if (*replay_cmd) return lpops::app::replay(replay);
  if (*backup_cmd) return lpops::app::backup(backup);
  return 2;
}
