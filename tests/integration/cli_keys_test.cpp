#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <boost/json.hpp>

#include "domain/version.hpp"
#include "tests/support/anvil_process.hpp"
#include "tests/support/fake_http_server.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace lpops::testing {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// Every subcommand answers --help (status 0) with its usage; a first word that names no
// subcommand is said to be one (status 2); `lpops help` is the top-level help.
TEST(Cli, EverySubcommandHasHelpAndAnUnknownOneIsNamed) {
  for (const char* sub : {"serve", "replay", "backup", "verify", "keygen", "address", "fees", "import"}) {
    auto r = run_command({lpops_binary(), sub, "--help"});
    EXPECT_EQ(r.exit_code, 0) << sub << ": " << r.output;
    EXPECT_NE(r.output.find(std::string("Usage: lpops ") + sub), std::string::npos) << r.output;
  }
  auto top = run_command({lpops_binary(), "help"});
  EXPECT_EQ(top.exit_code, 0) << top.output;
  for (const char* sub : {"serve", "replay", "backup", "verify", "keygen", "address", "fees", "import"})
    EXPECT_NE(top.output.find(sub), std::string::npos) << sub << " missing from: " << top.output;
  auto unknown = run_command({lpops_binary(), "serv"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("unknown command serv"), std::string::npos) << unknown.output;
  EXPECT_EQ(run_command({lpops_binary()}).exit_code, 2);
  auto nothing = run_command({lpops_binary(), "address"});
  EXPECT_EQ(nothing.exit_code, 2) << nothing.output;
  EXPECT_NE(nothing.output.find("give --key-file or --keystore"), std::string::npos) << nothing.output;
  // `lpops help serve` is serve's help; an option before any command is named as such.
  auto serve_help = run_command({lpops_binary(), "help", "serve"});
  EXPECT_EQ(serve_help.exit_code, 0) << serve_help.output;
  EXPECT_NE(serve_help.output.find("Usage: lpops serve"), std::string::npos) << serve_help.output;
  // verify --json answers a usage error in JSON too.
  auto json_usage = run_command({lpops_binary(), "verify", "--json", "--bogus"});
  EXPECT_EQ(json_usage.exit_code, 2) << json_usage.output;
  EXPECT_NE(json_usage.output.find(R"({"status":"error","reason":)"), std::string::npos) << json_usage.output;
  // ... its own usage checks included (neither --log nor --url).
  auto json_neither = run_command({lpops_binary(), "verify", "--json"});
  EXPECT_EQ(json_neither.exit_code, 2) << json_neither.output;
  EXPECT_NE(json_neither.output.find(R"({"status":"error","reason":"give exactly one of --log and --url"})"), std::string::npos)
      << json_neither.output;
  // A mixed-case address that fails its checksum is said to be one (a typo), not "not an address".
  auto typo = run_command({lpops_binary(), "verify", "--log", "x.jsonl", "--audit-address", "0x2C7536E3605D9C16a7a3D7b1898e529396a65c23"});
  EXPECT_EQ(typo.exit_code, 2) << typo.output;
  EXPECT_NE(typo.output.find("in mixed case but not its EIP-55 checksum"), std::string::npos) << typo.output;
  auto help_bogus = run_command({lpops_binary(), "help", "bogus"});
  EXPECT_EQ(help_bogus.exit_code, 2) << help_bogus.output;
  EXPECT_NE(help_bogus.output.find("unknown command bogus"), std::string::npos) << help_bogus.output;
  auto bogus = run_command({lpops_binary(), "--bogus"});
  EXPECT_EQ(bogus.exit_code, 2) << bogus.output;
  EXPECT_NE(bogus.output.find("--bogus is no option of lpops itself"), std::string::npos) << bogus.output;
  // Empty paths are usage errors; options of --url alone are refused without it.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"keygen", "--key-file", ""}, {"replay", "--env-file", ""}, {"fees", "--env-file", ""}, {"serve", "--host", ""},
           {"verify", "--log", "x.jsonl", "--timeout", "5"}}) {
    std::vector<std::string> argv{lpops_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_command(argv);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1] << ": " << r.output;
  }
  // A number option given no number says so, and one out of range says the range.
  auto not_number = run_command({lpops_binary(), "serve", "--port", "abc"});
  EXPECT_EQ(not_number.exit_code, 2) << not_number.output;
  EXPECT_NE(not_number.output.find("--port: must be a whole number (got \"abc\")"), std::string::npos) << not_number.output;
  auto too_far = run_command({lpops_binary(), "serve", "--port", "70000"});
  EXPECT_EQ(too_far.exit_code, 2) << too_far.output;
  EXPECT_NE(too_far.output.find("--port: must be from 0 to 65535 (got 70000)"), std::string::npos) << too_far.output;
}

TEST(CliKeys, KeygenWritesAPrivateFileAndAddressReadsIt) {
  TempDir dir;
  const std::string key_file = dir.str() + "/payout.key";
  auto gen = run_command({lpops_binary(), "keygen", "--key-file", key_file});
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const std::string printed = trim(gen.output);
  EXPECT_EQ(printed.size(), 42u);
  struct stat st {};
  ASSERT_EQ(::stat(key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto addr = run_command({lpops_binary(), "address", "--key-file", key_file});
  ASSERT_EQ(addr.exit_code, 0) << addr.output;
  EXPECT_EQ(trim(addr.output), printed);
  // Never overwrites an existing key.
  auto again = run_command({lpops_binary(), "keygen", "--key-file", key_file});
  EXPECT_EQ(again.exit_code, 2);
  // A symbolic link takes the name too, dangling or not: nothing is written through it.
  const std::string dangling = dir.str() + "/dangling.key";
  std::filesystem::create_symlink(dir.str() + "/missing/k", dangling);
  auto through_link = run_command({lpops_binary(), "keygen", "--key-file", dangling});
  EXPECT_EQ(through_link.exit_code, 2) << through_link.output;
  EXPECT_NE(through_link.output.find("exists; an existing key file is never overwritten"), std::string::npos) << through_link.output;
  auto a_directory = run_command({lpops_binary(), "keygen", "--key-file", dir.str()});
  EXPECT_EQ(a_directory.exit_code, 2);
  EXPECT_NE(a_directory.output.find(dir.str() + " is a directory"), std::string::npos) << a_directory.output;
  // A directory that does not exist: the key file is named, not a temporary file of its own.
  const std::string nowhere = dir.str() + "/no-such-dir/payout.key";
  auto lost = run_command({lpops_binary(), "keygen", "--key-file", nowhere});
  EXPECT_EQ(lost.exit_code, 1) << lost.output;
  EXPECT_NE(lost.output.find("cannot create " + nowhere), std::string::npos) << lost.output;
  EXPECT_EQ(lost.output.find(".tmp-"), std::string::npos) << lost.output;
}

TEST(CliKeys, AddressOfTheSharedVectorKey) {
  TempDir dir;
  const std::string key_file = dir.str() + "/k";
  std::ofstream(key_file) << "0x1111111111111111111111111111111111111111111111111111111111111111\n";
  auto addr = run_command({lpops_binary(), "address", "--key-file", key_file});
  ASSERT_EQ(addr.exit_code, 0) << addr.output;
  EXPECT_EQ(trim(addr.output), "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A");
  // Whitespace around the key (an indent, CRLF, blank lines) is not part of it.
  std::ofstream(key_file) << "\n  0x1111111111111111111111111111111111111111111111111111111111111111\t\r\n\n";
  auto spaced = run_command({lpops_binary(), "address", "--key-file", key_file});
  ASSERT_EQ(spaced.exit_code, 0) << spaced.output;
  EXPECT_EQ(trim(spaced.output), "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A");
  std::ofstream(key_file) << "0x1111111111111111111111111111111111111111111111111111111111111111 extra\n";
  EXPECT_EQ(run_command({lpops_binary(), "address", "--key-file", key_file}).exit_code, 2);
  std::ofstream(key_file) << "";
  EXPECT_EQ(run_command({lpops_binary(), "address", "--key-file", key_file}).exit_code, 2);
  std::ofstream(key_file) << "not a key\n";
  EXPECT_EQ(run_command({lpops_binary(), "address", "--key-file", key_file}).exit_code, 2);
  EXPECT_EQ(run_command({lpops_binary(), "address", "--key-file", dir.str() + "/missing"}).exit_code, 2);
}

TEST(Cli, VersionIsPrinted) {
  auto r = run_command({lpops_binary(), "--version"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(trim(r.output), std::string("lpops ") + kVersion);
}

// `lpops fees` against a node without EIP-1559 (no fee history, no base fee): the legacy gas
// price, under the cap; a node it cannot reach is a failure (1), an ETH_RPC_URL it cannot use
// a usage error (2).
TEST(Cli, FeesOfALegacyNodeAndOfNoNode) {
  FakeHttpServer legacy([](const FakeHttpServer::Request& r) -> std::pair<int, std::string> {
    boost::system::error_code ec;
    const auto call = boost::json::parse(r.body, ec);
    if (ec || !call.is_object()) return {400, "{}"};
    const auto& method = call.at("method").as_string();
    boost::json::object reply{{"jsonrpc", "2.0"}, {"id", call.at("id")}};
    if (method == "eth_gasPrice") reply["result"] = "0x3b9aca00";  // 1 gwei
    else reply["error"] = boost::json::object{{"code", -32601}, {"message", "the method does not exist"}};
    return {200, boost::json::serialize(reply)};
  });
  auto quote = run_command_split({lpops_binary(), "fees", "--env-file", "/dev/null"}, {{"ETH_RPC_URL", legacy.url()}});
  ASSERT_EQ(quote.exit_code, 0) << quote.out << quote.err;
  const auto doc = boost::json::parse(quote.out);
  EXPECT_EQ(doc.at("type"), boost::json::value("legacy")) << quote.out;
  EXPECT_EQ(doc.at("gas_price_wei"), boost::json::value("1000000000")) << quote.out;
  EXPECT_FALSE(doc.as_object().contains("max_fee_per_gas_wei")) << quote.out;
  auto capped = run_command({lpops_binary(), "fees", "--env-file", "/dev/null"},
                            {{"ETH_RPC_URL", legacy.url()}, {"PAYMENTS_MAX_FEE_PER_GAS_WEI", "999999999"}});
  EXPECT_EQ(capped.exit_code, 1) << capped.output;
  EXPECT_NE(capped.output.find("gas price 1000000000 wei is above the cap of 999999999 wei"), std::string::npos) << capped.output;
  // Settings from a file.
  TempDir dir;
  std::ofstream(dir.str() + "/fees.env") << "ETH_RPC_URL=" << legacy.url() << "\n";
  auto from_file = run_command({lpops_binary(), "fees", "--env-file", dir.str() + "/fees.env"});
  EXPECT_EQ(from_file.exit_code, 0) << from_file.output;
  EXPECT_NE(from_file.output.find("\"gas_price_wei\":\"1000000000\""), std::string::npos) << from_file.output;

  const std::string closed = "http://127.0.0.1:" + std::to_string(free_loopback_port());
  auto unreachable = run_command({lpops_binary(), "fees", "--env-file", "/dev/null"}, {{"ETH_RPC_URL", closed}},
                                 std::chrono::seconds(120));
  EXPECT_EQ(unreachable.exit_code, 1) << unreachable.output;
  // A refusal from the node names it (its ETH_RPC_URL, secrets hidden).
  FakeHttpServer refusing([](const FakeHttpServer::Request&) -> std::pair<int, std::string> { return {401, "Unauthorized"}; });
  auto refused = run_command({lpops_binary(), "fees", "--env-file", "/dev/null"}, {{"ETH_RPC_URL", refusing.url() + "/v2/SECRETKEY"}});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("ETH_RPC_URL http://127.0.0.1:"), std::string::npos) << refused.output;
  EXPECT_EQ(refused.output.find("SECRETKEY"), std::string::npos) << refused.output;
  auto unusable = run_command({lpops_binary(), "fees", "--env-file", "/dev/null"}, {{"ETH_RPC_URL", "ftp://127.0.0.1:1"}});
  EXPECT_EQ(unusable.exit_code, 2) << unusable.output;
  EXPECT_NE(unusable.output.find("ETH_RPC_URL"), std::string::npos) << unusable.output;
}

TEST(CliKeys, AddressOfAKeystore) {
  TempDir dir;
  const std::string keystore = dir.str() + "/keystore.json", password = dir.str() + "/password";
  // The PBKDF2 vector of the Web3 Secret Storage definition.
  std::ofstream(keystore) << R"({"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"6087dab2f9fdbbfaddc31a909735c1e6"},)"
                             R"("ciphertext":"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46","kdf":"pbkdf2",)"
                             R"("kdfparams":{"c":262144,"dklen":32,"prf":"hmac-sha256","salt":"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"},)"
                             R"("mac":"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"},"id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3})";
  std::ofstream(password) << "testpassword\n";
  auto from_file = run_command({lpops_binary(), "address", "--keystore", keystore, "--password-file", password});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.output;
  EXPECT_EQ(trim(from_file.output), "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b");
  // The first line is the password, its CR LF end dropped; what follows is not read as part of it.
  const std::string crlf = dir.str() + "/password-crlf";
  std::ofstream(crlf) << "testpassword\r\nsecond line\n";
  auto from_crlf = run_command({lpops_binary(), "address", "--keystore", keystore, "--password-file", crlf});
  ASSERT_EQ(from_crlf.exit_code, 0) << from_crlf.output;
  EXPECT_EQ(trim(from_crlf.output), "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b");
  // A file of more than 64 KiB without a line end is no password file.
  const std::string long_password = dir.str() + "/password-long";
  std::ofstream(long_password) << std::string(64 * 1024 + 1, 'p');
  auto from_long = run_command({lpops_binary(), "address", "--keystore", keystore, "--password-file", long_password});
  EXPECT_EQ(from_long.exit_code, 2) << from_long.output;
  EXPECT_NE(from_long.output.find("is over 64 KiB: no password file is that large"), std::string::npos) << from_long.output;
  auto from_env = run_command({lpops_binary(), "address", "--keystore", keystore}, {{"PAYMENT_KEYSTORE_PASSWORD", "testpassword"}});
  ASSERT_EQ(from_env.exit_code, 0) << from_env.output;
  EXPECT_EQ(trim(from_env.output), "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b");
  // Read as serve reads settings: the name in any case (and ./.env).
  auto lower = run_command({lpops_binary(), "address", "--keystore", keystore}, {{"payment_keystore_password", "testpassword"}});
  EXPECT_EQ(lower.exit_code, 0) << lower.output;
  // A ./.env that does not read is named, not taken for a missing password.
  const std::string env_dir = std::filesystem::path(keystore).parent_path().string() + "/envdir";
  std::filesystem::create_directories(env_dir);
  std::ofstream(env_dir + "/.env") << "PAYMENT_KEYSTORE_PASSWORD=\"testpassword\n";
  auto broken_env = run_command({"/bin/sh", "-c", "cd '" + env_dir + "' && exec '" + lpops_binary() + "' address --keystore '" + keystore + "'"});
  EXPECT_EQ(broken_env.exit_code, 2) << broken_env.output;
  EXPECT_NE(broken_env.output.find("unterminated quote"), std::string::npos) << broken_env.output;
  EXPECT_EQ(broken_env.output.find("no password"), std::string::npos) << broken_env.output;
  std::ofstream(env_dir + "/.env", std::ios::trunc) << "PAYMENT_KEYSTORE_PASSWORD=\"testpassword\"\n";
  auto from_dot_env = run_command({"/bin/sh", "-c", "cd '" + env_dir + "' && exec '" + lpops_binary() + "' address --keystore '" + keystore + "'"});
  EXPECT_EQ(from_dot_env.exit_code, 0) << from_dot_env.output;
  EXPECT_EQ(trim(from_dot_env.output), "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b");
  auto wrong = run_command({lpops_binary(), "address", "--keystore", keystore}, {{"PAYMENT_KEYSTORE_PASSWORD", "nope"}});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.output.find("MAC mismatch"), std::string::npos) << wrong.output;
  EXPECT_NE(run_command({lpops_binary(), "address"}).exit_code, 0);  // one of --key-file / --keystore is required
  EXPECT_NE(run_command({lpops_binary(), "address", "--key-file", keystore, "--keystore", keystore}).exit_code, 0);
  // A keystore path that is no regular file (a device that never ends, a directory) is refused
  // before anything of it is read; so is a file larger than any keystore.
  for (const std::string& path : {std::string("/dev/zero"), dir.str()}) {
    auto odd = run_command({lpops_binary(), "address", "--keystore", path}, {{"PAYMENT_KEYSTORE_PASSWORD", "testpassword"}});
    EXPECT_EQ(odd.exit_code, 2) << odd.output;
    EXPECT_TRUE(odd.output.find("cannot read " + path + ": not a regular file") != std::string::npos ||
                odd.output.find(path + " is a directory, not a file") != std::string::npos)
        << odd.output;
  }
  const std::string huge = dir.str() + "/huge.json";
  std::ofstream(huge) << std::string((1u << 20) + 1, ' ');
  auto too_large = run_command({lpops_binary(), "address", "--keystore", huge}, {{"PAYMENT_KEYSTORE_PASSWORD", "testpassword"}});
  EXPECT_EQ(too_large.exit_code, 2) << too_large.output;
  EXPECT_NE(too_large.output.find("keystore file is larger than 1 MiB"), std::string::npos) << too_large.output;
  // Mistakes with the files, each said as what it is.
  auto dir_password = run_command({lpops_binary(), "address", "--keystore", keystore, "--password-file", dir.str()});
  EXPECT_EQ(dir_password.exit_code, 2) << dir_password.output;
  EXPECT_NE(dir_password.output.find(dir.str() + " is a directory, not a file"), std::string::npos) << dir_password.output;
  const std::string empty = dir.str() + "/empty-password";
  std::ofstream(empty).close();
  auto empty_password = run_command({lpops_binary(), "address", "--keystore", keystore, "--password-file", empty});
  EXPECT_EQ(empty_password.exit_code, 2) << empty_password.output;
  EXPECT_NE(empty_password.output.find("MAC mismatch: wrong password or corrupt file (the password from " + empty + " is empty)"), std::string::npos)
      << empty_password.output;
  auto no_keystore = run_command({lpops_binary(), "address", "--keystore", dir.str() + "/none.json", "--password-file", password});
  EXPECT_EQ(no_keystore.exit_code, 2) << no_keystore.output;
  EXPECT_NE(no_keystore.output.find("cannot read " + dir.str() + "/none.json: No such file or directory"), std::string::npos)
      << no_keystore.output;
  auto no_password_file = run_command({lpops_binary(), "address", "--keystore", keystore, "--password-file", dir.str() + "/none"});
  EXPECT_EQ(no_password_file.exit_code, 2) << no_password_file.output;
  EXPECT_NE(no_password_file.output.find("cannot read " + dir.str() + "/none"), std::string::npos) << no_password_file.output;
  // A password file needs a keystore, and a name.
  EXPECT_EQ(run_command({lpops_binary(), "address", "--password-file", password}).exit_code, 2);
  EXPECT_EQ(run_command({lpops_binary(), "address", "--keystore", keystore, "--password-file", ""}).exit_code, 2);
}

}  // namespace
}  // namespace lpops::testing
