// Settings that name files and secrets: what start-up does with them.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "tests/integration/fixture.hpp"

namespace lpops::testing {
namespace {

class SettingsTest : public NodeTest {
 protected:
  std::string data() const { return dir_.str() + "/data"; }
  CommandResult serve(std::map<std::string, std::string> env) {
    return run_command({lpops_binary(), "serve", "--data-dir", data(), "--host", "127.0.0.1", "--port", "0"}, env,
                       std::chrono::seconds(30));
  }
};

// Each of these would otherwise start a node that looks healthy and is not what was asked:
// admin routes open to anyone, another audit key, orchestrators missing.
TEST_F(SettingsTest, MistakesInSecretsAndFilesStopStartUp) {
  std::filesystem::create_directories(data());
  auto blank = serve({{"PAYMENTS_API_ADMIN_TOKEN", "   "}});
  EXPECT_EQ(blank.exit_code, 2) << blank.output;
  EXPECT_NE(blank.output.find("PAYMENTS_API_ADMIN_TOKEN"), std::string::npos) << blank.output;

  const std::string keystore = dir_.str() + "/keystore.json";
  std::ofstream(keystore) << R"({"bogus":1})";
  auto bad_keystore = serve({{"PAYMENT_KEYSTORE_PATH", keystore}, {"PAYMENT_KEYSTORE_PASSWORD", "pw"}});
  EXPECT_EQ(bad_keystore.exit_code, 2) << bad_keystore.output;
  EXPECT_NE(bad_keystore.output.find("PAYMENT_KEYSTORE_PATH"), std::string::npos) << bad_keystore.output;
  // Said as every other bad setting is, not as a failure of the node's own.
  EXPECT_NE(bad_keystore.output.find("lpops: invalid settings:\nPAYMENT_KEYSTORE_PATH "), std::string::npos)
      << bad_keystore.output;
  EXPECT_EQ(bad_keystore.output.find("critical"), std::string::npos) << bad_keystore.output;
  EXPECT_FALSE(std::filesystem::exists(data() + "/audit.key")) << "a key of its own was created in its place";
  auto missing_keystore = serve({{"PAYMENT_KEYSTORE_PATH", dir_.str() + "/nope.json"}});
  EXPECT_EQ(missing_keystore.exit_code, 2) << missing_keystore.output;
  // Said before the port is bound and the ledger recovered, not after.
  EXPECT_EQ(missing_keystore.output.find("listening on"), std::string::npos) << missing_keystore.output;
  EXPECT_EQ(missing_keystore.output.find("recovered"), std::string::npos) << missing_keystore.output;
  auto no_password = serve({{"PAYMENT_KEYSTORE_PATH", keystore}});
  EXPECT_NE(no_password.output.find("PAYMENT_KEYSTORE_PASSWORD is not set"), std::string::npos) << no_password.output;

  const std::string broken = dir_.str() + "/orchestrators.json";
  std::ofstream(broken) << R"([{"orchestrator_id":"a","address":)";
  auto named = serve({{"PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH", broken}});
  EXPECT_EQ(named.exit_code, 2) << named.output;
  EXPECT_NE(named.output.find("PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH"), std::string::npos) << named.output;
  EXPECT_NE(named.output.find("(incomplete JSON at line 1 column 35)"), std::string::npos) << named.output;  // where it stops
  // Said before the port is bound and the ledger recovered, as the other bad settings.
  EXPECT_EQ(named.output.find("listening on"), std::string::npos) << named.output;
  EXPECT_EQ(named.output.find("recovered"), std::string::npos) << named.output;
  // So is the single-orchestrator mode's own registration that does not validate.
  auto single = serve({{"PAYMENTS_SINGLE_ORCHESTRATOR_MODE", "true"},
                       {"ORCHESTRATOR_ID", std::string(300, 'x')},
                       {"ORCHESTRATOR_ADDRESS", address_of(7)}});
  EXPECT_EQ(single.exit_code, 2) << single.output;
  EXPECT_NE(single.output.find("ORCHESTRATOR_ID"), std::string::npos) << single.output;
  EXPECT_EQ(single.output.find("listening on"), std::string::npos) << single.output;
  std::filesystem::copy_file(broken, data() + "/orchestrators.json");  // the default file
  auto by_default = serve({});
  EXPECT_EQ(by_default.exit_code, 2) << by_default.output;
  EXPECT_NE(by_default.output.find("orchestrators.json"), std::string::npos) << by_default.output;
  // A file that is there but cannot be opened (here a link to nothing) stops start-up as well,
  // named; only one not there at all is skipped.
  std::filesystem::remove(data() + "/orchestrators.json");
  const std::string dangling = dir_.str() + "/link-to-nothing.json";
  std::filesystem::create_symlink(dir_.str() + "/nothing-here.json", dangling);
  auto unopenable = serve({{"PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH", dangling}});
  EXPECT_EQ(unopenable.exit_code, 2) << unopenable.output;
  EXPECT_NE(unopenable.output.find("PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH: " + dangling + " cannot be opened: No such file or directory"),
            std::string::npos) << unopenable.output;
  EXPECT_EQ(unopenable.output.find("listening on"), std::string::npos) << unopenable.output;
  std::filesystem::create_symlink(dangling, data() + "/orchestrators.json");  // the default file, the same
  auto default_unopenable = serve({});
  EXPECT_EQ(default_unopenable.exit_code, 2) << default_unopenable.output;
  EXPECT_NE(default_unopenable.output.find("orchestrators.json cannot be opened"), std::string::npos) << default_unopenable.output;
  std::filesystem::remove(data() + "/orchestrators.json");
}

// A named bootstrap file that is not there is skipped with a warning, and the node serves; the
// default file may be absent without a word.
TEST_F(SettingsTest, AnAbsentBootstrapFileIsSkipped) {
  std::filesystem::create_directories(data());
  NodeProcess named(data(), {{"PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH", "later.json"}});
  ASSERT_TRUE(named.start()) << named.log();
  HttpClient client("127.0.0.1", named.port());
  EXPECT_EQ(client.request("GET", "/api/orchestrators").body, R"({"orchestrators":[]})");
  EXPECT_NE(named.log().find("bootstrap: " + data() + "/later.json not found; skipped"), std::string::npos) << named.log();
  ASSERT_EQ(named.terminate(), 0) << named.log();
  NodeProcess by_default(dir_.str() + "/other");  // a log of its own
  ASSERT_TRUE(by_default.start()) << by_default.log();
  EXPECT_EQ(by_default.log().find("not found"), std::string::npos) << by_default.log();
}

// A data directory or port file that cannot be used is named as such, before anything is
// written or the node reports ready; an empty path is refused outright.
TEST_F(SettingsTest, DataDirectoryAndPortFileMistakesAreSaidBeforeStarting) {
  auto empty = run_command({lpops_binary(), "serve", "--data-dir", "", "--port", "0"}, {}, std::chrono::seconds(30));
  EXPECT_EQ(empty.exit_code, 2) << empty.output;
  EXPECT_NE(empty.output.find("--data-dir"), std::string::npos) << empty.output;
  EXPECT_NE(empty.output.find("must not be empty"), std::string::npos) << empty.output;
  auto empty_replay = run_command({lpops_binary(), "replay", "--data-dir", ""}, {}, std::chrono::seconds(30));
  EXPECT_EQ(empty_replay.exit_code, 2) << empty_replay.output;

  // Under a regular file: no directory can be made there.
  std::filesystem::create_directories(dir_.str());
  std::ofstream(dir_.str() + "/a-file") << "x";
  const std::string under_file = dir_.str() + "/a-file/data";
  auto r = run_command({lpops_binary(), "serve", "--data-dir", under_file, "--host", "127.0.0.1", "--port", "0"}, {},
                       std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("data directory " + under_file + ": cannot create it"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("PAYMENTS_AUDIT_KEY_PATH"), std::string::npos) << r.output;

  // A port file whose directory does not exist: a bad command line, before the port is bound.
  auto port_file = run_command({lpops_binary(), "serve", "--data-dir", data(), "--host", "127.0.0.1", "--port", "0",
                                "--port-file", dir_.str() + "/no-such-dir/port"},
                               {}, std::chrono::seconds(30));
  EXPECT_EQ(port_file.exit_code, 2) << port_file.output;
  EXPECT_NE(port_file.output.find("--port-file"), std::string::npos) << port_file.output;
  EXPECT_EQ(port_file.output.find("listening on"), std::string::npos) << port_file.output;
  EXPECT_FALSE(std::filesystem::exists(data() + "/journal.jsonl")) << port_file.output;
}

// Bootstrap entries that are no object are skipped with a warning naming each, not in silence.
TEST_F(SettingsTest, BootstrapEntriesThatAreNoObjectAreNamed) {
  std::filesystem::create_directories(data());
  std::ofstream(data() + "/orchestrators.json")
      << R"([{"orchestrator_id":"b1","address":")" << address_of(1) << R"("}, 42, "b2", {"orchestrator_id":"b3","address":")"
      << address_of(3) << R"("}])";
  start_node();
  const std::string log = node_->log();
  EXPECT_NE(log.find("skipping entry 2 of PAYMENTS_BOOTSTRAP_ORCHESTRATORS_PATH"), std::string::npos) << log;
  EXPECT_NE(log.find("not a JSON object (42)"), std::string::npos) << log;
  EXPECT_NE(log.find("skipping entry 3 of"), std::string::npos) << log;
  EXPECT_EQ(get_json("/api/orchestrators").at("orchestrators").as_array().size(), 2u);
}

// A .env line the reference's loader reads but that sets no setting is skipped and said; a
// line it could not read either stops start-up.
TEST_F(SettingsTest, DotenvLinesThatSetNothingAreSaid) {
  const std::string env_file = dir_.str() + "/settings.env";
  std::filesystem::create_directories(dir_.str());
  // The lines after the skipped ones are read: the bad port of line 3 stops start-up.
  std::ofstream(env_file) << "DEBUG\nPAYMENTS-X=1\nPAYMENTS_API_PORT=abc\n";
  auto r = run_command({lpops_binary(), "serve", "--env-file", env_file, "--data-dir", data()}, {}, std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("line 1 names DEBUG without '='"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("line 2: PAYMENTS-X is no setting's name"), std::string::npos) << r.output;
  // The error says the value came from the file.
  EXPECT_NE(r.output.find("(got \"abc\", from " + std::filesystem::absolute(env_file).string() + ")"), std::string::npos)
      << r.output;
  std::ofstream(env_file) << "PAYMENTS_API_PORT=\"8082\" junk\n";
  auto junk = run_command({lpops_binary(), "serve", "--env-file", env_file, "--data-dir", data()}, {}, std::chrono::seconds(30));
  EXPECT_EQ(junk.exit_code, 2) << junk.output;
  EXPECT_NE(junk.output.find("line 1 has text after its closing quote"), std::string::npos) << junk.output;
}

// A setting the command line gives is not read from the settings: its bad value there does not
// stop start-up (which here goes on to the audit key, whose directory does not exist).
TEST_F(SettingsTest, ACommandLineOptionOverridesABadSetting) {
  const std::string env_file = dir_.str() + "/settings.env";
  std::filesystem::create_directories(dir_.str());
  std::ofstream(env_file) << "PAYMENTS_API_PORT=abc\npayments_api_host=\nPAYMENTS_DATA_DIR=\n"
                          << "PAYMENTS_AUDIT_KEY_PATH=" << dir_.str() << "/no-such-dir/audit.key\n";
  auto r = run_command({lpops_binary(), "serve", "--env-file", env_file, "--data-dir", data(), "--host", "127.0.0.1", "--port", "0"},
                       {}, std::chrono::seconds(30));
  EXPECT_EQ(r.output.find("PAYMENTS_API_PORT"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("data directory " + std::filesystem::absolute(data()).string() + ";"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("no-such-dir"), std::string::npos) << r.output;
  // Without --port the setting is read, and refused.
  auto without = run_command({lpops_binary(), "serve", "--env-file", env_file, "--data-dir", data(), "--host", "127.0.0.1"}, {},
                             std::chrono::seconds(30));
  EXPECT_EQ(without.exit_code, 2) << without.output;
  EXPECT_NE(without.output.find("PAYMENTS_API_PORT"), std::string::npos) << without.output;
}

// The reference's default bootstrap file is orchestrators.json in the data directory; its
// entries are registered, and listed, in the file's order.
TEST_F(SettingsTest, TheDefaultBootstrapFileRegistersInFileOrder) {
  std::filesystem::create_directories(data());
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) ids.push_back("o" + std::to_string((i * 7919) % 1000));  // not sorted
  json::array entries;
  int i = 0;
  for (const auto& id : ids) entries.push_back(json::object{{"orchestrator_id", id}, {"address", address_of(++i)}});
  // Duplicates are skipped, ids and addresses compared whatever their case, as the reference does.
  std::string upper_address = address_of(0xabc);
  for (std::size_t k = 2; k < upper_address.size(); ++k) upper_address[k] = static_cast<char>(std::toupper(upper_address[k]));
  entries.push_back(json::object{{"orchestrator_id", "O" + ids[0].substr(1)}, {"address", address_of(500)}});
  entries.push_back(json::object{{"orchestrator_id", "fresh"}, {"address", address_of(0xabc)}});
  entries.push_back(json::object{{"orchestrator_id", "FRESH-2"}, {"address", upper_address}});
  ids.push_back("fresh");
  std::ofstream(data() + "/orchestrators.json") << json::serialize(entries);
  start_node();
  const auto view = get_json("/api/orchestrators");
  std::vector<std::string> listed;
  for (const auto& o : view.at("orchestrators").as_array()) listed.push_back(std::string(o.at("orchestrator_id").as_string()));
  EXPECT_EQ(listed, ids);
  restart_node();  // known ones are refreshed on the next start
  EXPECT_EQ(get_json("/api/balances").at("balances").as_array().size(), ids.size());
}

// PAYMENTS_HTTP_TIMEOUT_SECONDS bounds how long a request may take to arrive: past it, 408.
TEST_F(SettingsTest, ARequestNotReceivedInTheTimeoutGets408) {
  start_node({{"PAYMENTS_HTTP_TIMEOUT_SECONDS", "1"}});
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(node_->port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string partial = "POST /api/workloads HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"a\"";
  ASSERT_EQ(::write(fd, partial.data(), partial.size()), static_cast<ssize_t>(partial.size()));
  std::string got;
  const auto begun = std::chrono::steady_clock::now();
  for (int i = 0; i < 50 && got.find("}") == std::string::npos; ++i) {  // at most 5 s
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[1024];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  EXPECT_GE(std::chrono::steady_clock::now() - begun, std::chrono::milliseconds(900));
  EXPECT_EQ(got.rfind("HTTP/1.1 408 ", 0), 0u) << got;
  EXPECT_NE(got.find("Request not received in time"), std::string::npos) << got;
  EXPECT_EQ(get_json("/api/workloads").at("workloads").as_array().size(), 0u);
}

// A relative PAYMENTS_AUDIT_KEY_PATH is under the data directory, wherever the node starts.
TEST_F(SettingsTest, ARelativeAuditKeyPathIsUnderTheDataDirectory) {
  const std::string name = "audit-key-" + std::to_string(::getpid()) + ".key";
  start_node({{"PAYMENTS_AUDIT_KEY_PATH", name}});
  EXPECT_TRUE(std::filesystem::exists(data() + "/" + name)) << node_->log();
  EXPECT_FALSE(std::filesystem::exists(name));
  std::filesystem::remove(name);
}

// The first line of the log says where the node keeps its data and where its settings came
// from (a .env file by its absolute path).
TEST_F(SettingsTest, StartUpSaysWhereItsDataAndSettingsAre) {
  const std::string env_file = dir_.str() + "/settings.env";
  // An audit key that cannot be written: start-up stops right after that first line.
  std::ofstream(env_file) << "PAYMENTS_AUDIT_KEY_PATH=" << dir_.str() << "/no-such-dir/audit.key\n";
  auto r = run_command({lpops_binary(), "serve", "--env-file", env_file, "--data-dir", data(), "--host", "127.0.0.1", "--port", "0"},
                       {}, std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("data directory " + std::filesystem::absolute(data()).string() + ";"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("settings from the environment and " + std::filesystem::absolute(env_file).string() + ";"),
            std::string::npos)
      << r.output;
}

// What start-up warns of, each said where it applies and not elsewhere: admin routes open
// (and the payout routes that move money closed) without an admin token, a session token that
// guards nothing yet, an audit key other users can read (the one the node makes is 0600).
TEST_F(SettingsTest, StartUpWarnsOfOpenRoutesIdleTokensAndAReadableKey) {
  start_node();
  EXPECT_NE(node_->log().find("PAYMENTS_API_ADMIN_TOKEN is unset: the admin routes"), std::string::npos) << node_->log();
  EXPECT_EQ(node_->log().find("the audit key"), std::string::npos) << node_->log();
  register_orchestrator("o1", address_of(1));
  ASSERT_EQ(post("/api/ledger/adjustments", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "1"}}).status, 200);
  // Money moves only with a token: reserving, posting and voiding a payout are 404 here.
  EXPECT_EQ(post("/api/payouts", json::object{{"orchestrator_id", "o1"}, {"amount_eth", "0.5"}}).status, 404);
  EXPECT_EQ(post("/api/payouts/p1/post", json::object{}).status, 404);
  EXPECT_EQ(post("/api/payouts/p1/void", json::object{}).status, 404);
  const std::string key = data() + "/audit.key";
  struct stat key_stat {};
  ASSERT_EQ(::stat(key.c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 0777, 0600u);
  ASSERT_EQ(node_->terminate(), 0);

  std::filesystem::permissions(key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                        std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  NodeProcess again(data(), {{"PAYMENTS_API_ADMIN_TOKEN", "secret"}, {"PAYMENTS_SESSION_REPORTER_TOKEN", "edge"}});
  ASSERT_TRUE(again.start()) << again.log();
  const std::string log = again.log();
  EXPECT_NE(log.find("the audit key " + key + " can be read by other users (mode 0644); `chmod 600 " + key + "`"), std::string::npos)
      << log;
  EXPECT_NE(log.find("PAYMENTS_SESSION_REPORTER_TOKEN is set, but this version serves no session routes"), std::string::npos) << log;
  EXPECT_EQ(log.find("PAYMENTS_API_ADMIN_TOKEN is unset"), std::string::npos) << log;
  // With the token the payout routes exist (a reservation without it is refused, not unknown).
  HttpClient client("127.0.0.1", again.port());
  EXPECT_EQ(client.request("POST", "/api/payouts", json::serialize(json::object{{"orchestrator_id", "o1"}, {"amount_eth", "0.5"}}))
                .status,
            401);
}

// PAYMENTS_ENABLE_DOCS=false (the reference's default) leaves /openapi.json and /docs out.
TEST_F(SettingsTest, DocsCanBeTurnedOff) {
  start_node({{"PAYMENTS_ENABLE_DOCS", "false"}});
  EXPECT_EQ(get("/openapi.json").status, 404);
  EXPECT_EQ(get("/docs").status, 404);
  EXPECT_EQ(get("/healthz").status, 200);
}

// PAYMENTS_HTTP_MAX_CONNECTIONS_PER_CLIENT: connections past it from one client get a 503 and
// a close; those within it are served, and a connection closed makes room.
TEST_F(SettingsTest, ConnectionsPerClientAreCapped) {
  start_node({{"PAYMENTS_HTTP_MAX_CONNECTIONS_PER_CLIENT", "3"}});
  // The fixture's client holds one connection: two more are within the cap.
  ASSERT_EQ(get("/healthz").status, 200);
  auto second = std::make_unique<HttpClient>("127.0.0.1", node_->port());
  HttpClient third("127.0.0.1", node_->port());
  ASSERT_EQ(second->request("GET", "/healthz").status, 200);
  ASSERT_EQ(third.request("GET", "/healthz").status, 200);
  HttpClient fourth("127.0.0.1", node_->port());
  const auto refused = fourth.request("GET", "/healthz");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.body, R"({"detail":"Too many connections from this client"})");
  second.reset();  // closes its connection
  bool served = false;
  for (int i = 0; i < 200 && !served; ++i) {
    HttpClient fifth("127.0.0.1", node_->port());
    served = fifth.request("GET", "/healthz").status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(served) << "a closed connection made no room";
}

// `lpops replay` reads the data directory serve uses (PAYMENTS_DATA_DIR), not ./data.
TEST_F(SettingsTest, ReplayReadsTheDataDirectoryOfTheSettings) {
  start_node();
  register_orchestrator("r1", address_of(1));
  ASSERT_EQ(post("/api/ledger/adjustments", json::object{{"orchestrator_id", "r1"}, {"amount_eth", "0.25"}}).status, 200);
  ASSERT_EQ(node_->terminate(), 0);
  auto replay = run_command({lpops_binary(), "replay", "--json"}, {{"PAYMENTS_DATA_DIR", data()}});
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  const auto open = replay.output.find('{');
  ASSERT_NE(open, std::string::npos) << replay.output;
  auto out = parse_json(replay.output.substr(open));
  EXPECT_EQ(out.at("balances").at("r1").at("balance_eth").as_string(), "0.25") << replay.output;

  // A journal cut at a line boundary holds a valid chain, but the audit log describes the
  // record it lost: replay says so and fails, as start-up would refuse.
  const std::string journal = data() + "/journal.jsonl";
  std::string text = read_all(journal);
  ASSERT_FALSE(text.empty());
  text.pop_back();  // the last record's newline
  text.resize(text.rfind('\n') + 1);
  std::ofstream(journal, std::ios::trunc) << text;
  auto cut = run_command({lpops_binary(), "replay", "--data-dir", data()});
  EXPECT_EQ(cut.exit_code, 1) << cut.output;
  EXPECT_NE(cut.output.find("but the node stopped cleanly with record 3"), std::string::npos) << cut.output;
  // Without the clean stop's mark (as after a crash), the audit log shows the loss.
  std::filesystem::remove(data() + "/clean-stop.json");
  cut = run_command({lpops_binary(), "replay", "--data-dir", data()});
  EXPECT_EQ(cut.exit_code, 1) << cut.output;
  EXPECT_NE(cut.output.find("the audit log describes journal records up to"), std::string::npos) << cut.output;
}

// A torn record at the journal's end (a crash in its write): replay leaves it in place, prints
// the balances before it, and fails (1) naming the bad bytes. With --data-dir, no settings are
// read: a .env that does not load (what an incident may be about) does not stop it.
TEST_F(SettingsTest, ReplayReportsATornTailAndNeedsNoSettingsWithADataDirectory) {
  start_node();
  register_orchestrator("r1", address_of(1));
  ASSERT_EQ(post("/api/ledger/adjustments", json::object{{"orchestrator_id", "r1"}, {"amount_eth", "0.25"}}).status, 200);
  ASSERT_EQ(node_->terminate(), 0);
  const std::string broken_env = dir_.str() + "/broken.env";
  std::ofstream(broken_env) << "PAYMENTS_API_PORT=\"8081\n";
  auto clean = run_command({lpops_binary(), "replay", "--data-dir", data(), "--env-file", broken_env});
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
  auto missing = run_command({lpops_binary(), "replay", "--data-dir", data(), "--env-file", dir_.str() + "/none.env"});
  EXPECT_EQ(missing.exit_code, 0) << missing.output;
  // Without --data-dir the settings are read, and a broken file is said.
  auto unread = run_command({lpops_binary(), "replay", "--env-file", broken_env});
  EXPECT_EQ(unread.exit_code, 2) << unread.output;

  // The torn record: written where the records end (the file may hold zeroed blocks after).
  const std::string journal = data() + "/journal.jsonl";
  std::string text = read_all(journal);
  const std::size_t end = text.find_last_not_of('\0') + 1;
  ASSERT_EQ(text[end - 1], '\n');
  const std::string torn = R"({"seq":99,"prev":"00)";
  {
    std::fstream f(journal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(end));
    f.write(torn.data(), static_cast<std::streamsize>(torn.size()));
  }
  std::filesystem::remove(data() + "/clean-stop.json");  // as after a crash
  const auto before = read_all(journal);
  auto r = run_command_split({lpops_binary(), "replay", "--data-dir", data(), "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("the journal has " + std::to_string(torn.size()) + " bad tail bytes"), std::string::npos) << r.err;
  const auto out = parse_json(r.out);
  EXPECT_EQ(out.at("balances").at("r1").at("balance_eth"), json::value("0.25")) << r.out;
  EXPECT_EQ(read_all(journal), before) << "replay changed the journal";
}

}  // namespace
}  // namespace lpops::testing
