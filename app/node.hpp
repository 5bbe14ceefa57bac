#pragma once
// Wiring of one node: storage recovery, the actor system, the HTTP server.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/keys.hpp"
#include "config/settings.hpp"

namespace lpops::app {

// The settings of the environment and the .env file (or `env_file`), as every subcommand
// reads them; nothing (after printing why, prefixed with `command`) when they are invalid.
// Settings named in `given_on_command_line` are taken as unset (the command line sets them),
// so a bad value of one in the environment or .env file does not stop the command.
std::optional<config::Settings> load_command_settings(const std::optional<std::string>& env_file, const char* command,
                                                     std::initializer_list<std::string_view> given_on_command_line = {});

struct ServeOptions {
  std::optional<std::string> env_file;
  std::optional<std::string> data_dir;  // overrides PAYMENTS_DATA_DIR
  std::optional<std::string> host;      // overrides PAYMENTS_API_HOST
  std::optional<int> port;              // overrides PAYMENTS_API_PORT (0 = ephemeral)
  std::optional<std::string> port_file; // write the bound port here once serving
};

int serve(const ServeOptions& options);

struct ReplayOptions {
  std::optional<std::string> data_dir;  // default: PAYMENTS_DATA_DIR (environment, then .env), as serve
  std::optional<std::string> env_file;
  bool json = false;
};

// Rebuilds the book from the journal alone (ignoring snapshots) and prints balances.
int replay(const ReplayOptions& options);
// What a data directory's other files say its journal lost: the audit log describing records
// past `journal_records`, or a signed checkpoint of more entries than the journal's records
// make (`audit_entries`). Nothing when they agree.
std::optional<std::string> records_missing_from_journal(const std::string& data_dir, std::uint64_t journal_records,
                                                        std::uint64_t audit_entries);

struct BackupOptions {
  std::optional<std::string> data_dir;  // default: PAYMENTS_DATA_DIR (environment, then .env), as serve
  std::optional<std::string> env_file;
  std::string to;                       // a new (or empty) directory
  bool json = false;
};
// Copies a data directory, its node running or not, into a new directory that starts as a node
// of its own (the files in the order that keeps each covered by the next, whole lines only),
// then checks the copy as lpops replay would; the copy is made beside --to and renamed to it
// once it checks out. Exit 0 done, 1 a file or directory that cannot be read, written or made,
// or a copy that does not check out, 2 usage.
int backup(const BackupOptions& options);

struct KeygenOptions {
  std::string key_file;
};
// Writes a new secp256k1 key (hex, mode 0600, never over an existing file); prints its address.
int keygen(const KeygenOptions& options);
// Reads a hex key file, or creates one (mode 0600) when it does not exist.
Result<chain::PrivateKey> load_or_create_key(const std::string& path, bool* created);

struct AddressOptions {
  std::string key_file;
  std::string keystore;       // a V3 keystore instead of a hex key file
  std::string password_file;  // else PAYMENT_KEYSTORE_PASSWORD
};
// Prints the EIP-55 address of a hex key file or of a V3 keystore.
int address(const AddressOptions& options);

struct FeesOptions {
  std::optional<std::string> env_file;
  unsigned timeout_seconds = 10;  // per attempt: the address, a connection, an answer
};
// Prints the fees a transaction sent now would pay (ETH_RPC_URL, configured caps); 1 when the
// node cannot be asked or the price is above a cap.
int fees(const FeesOptions& options);

struct VerifyOptions {
  std::string log_file;          // an audit.jsonl (offline)
  std::string checkpoints_file;  // default: checkpoints.jsonl next to the log
  std::string url;               // a live node instead of a file
  // The expected signers of checkpoints, in the order they signed (a key used again is listed
  // again): each checkpoint is signed by one of them, never by one listed only before the
  // previous checkpoint's.
  std::vector<std::string> audit_addresses;
  std::uint64_t chain_id = 0;  // 0: any; else every checkpoint is signed for this chain id
  std::string contract;        // empty: any; else every checkpoint is signed for this contract
  std::string event_id;          // prove this event's inclusion
  bool event_id_given = false;   // --event-id was on the command line (an empty one is a usage error)
  std::string since_file;        // a saved checkpoint the log must extend
  bool skip_log = false;         // --url: checkpoint, proofs and consistency only
  bool allow_unsigned = false;   // --log: pass a log that no checkpoint or entry signature covers
  bool json = false;
  unsigned threads = 0;          // 0: every core (at most 8)
  unsigned timeout_seconds = 30;  // --url: per connect, request and answer
  // For another command checking its own files: what a SIGBUS while the log is mapped says
  // (then status 1) in place of verify's "cut shorter" (status 2).
  std::string sigbus_message;
};
// Verifies the transparency log; exit code 0 ok, 1 failed verification, 2 usage or I/O.
int verify(const VerifyOptions& options);
// The offline check of `verify --log LOG --checkpoints CHECKPOINTS --allow-unsigned`, quietly:
// every entry's hash, chain and balance, every checkpoint's signature against the log. Its
// status (0, 1 a check failed, 2 a file unread) and, when not 0, why.
std::pair<int, std::string> check_audit_files(const std::string& log, const std::string& checkpoints);

struct ImportOptions {
  std::string from_dir;           // the reference's data directory
  std::string url;                // the node, e.g. http://127.0.0.1:8081
  std::optional<std::string> env_file;
  std::string admin_token_file;   // else PAYMENTS_API_ADMIN_TOKEN
  std::size_t per_request = 500;  // entries per request
  unsigned timeout_seconds = 60;
  bool dry_run = false;           // read and check the files only
  bool check_only = false;        // also check them with the node; import nothing
  // payouts.json's records (sent, not confirmed, still in the balances): refused unless "reserve",
  // which reserves each here as a pending payout.
  std::string pending_payouts;
  bool ignore_tee_core_state = false;  // import although tee_core_state.b64 is there
};
// Imports registry.json, workloads.json and balances.json of a reference deployment into a
// running node; exit code 0 done, 1 failed (entries that cannot be read, conflicts, a node
// that refused or could not be reached), 2 usage, settings or a file that cannot be read.
int import_reference(const ImportOptions& options);

}  // namespace lpops::app
