#pragma once
// Contracts for the anvil tests: compiled from tests/anvil/*.sol with solc (npm), deployed
// and called with transactions signed by our own chain code.
#include <string>

#include "chain/abi.hpp"
#include "chain/address.hpp"
#include "chain/keys.hpp"

namespace lpops::testing {

// Deploys `contract` of tests/anvil/<file> with ABI-encoded constructor arguments, from
// anvil's funded account; a failure is a test failure and a zero address.
chain::Address deploy_contract(const std::string& url, const std::string& file, const std::string& contract,
                               const chain::abi::Bytes& constructor_args = {});
// Sends a transaction with `data` to `to` from `key` and waits (bounded) for its receipt;
// whether it succeeded.
bool send_transaction(const std::string& url, const chain::PrivateKey& key, const chain::Address& to,
                      const chain::abi::Bytes& data);

}  // namespace lpops::testing
