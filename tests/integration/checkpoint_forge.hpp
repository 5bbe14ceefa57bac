#pragma once
// A checkpoint of the empty log (seq 0), signed by `key` for the chain and contract of `like`
// (a checkpoint the node wrote): valid, and vouching for no entry.
#include <boost/json.hpp>

#include "chain/audit_format.hpp"
#include "chain/hex.hpp"
#include "chain/keys.hpp"
#include "chain/merkle.hpp"
#include "chain/signature.hpp"

namespace lpops::testing {

inline boost::json::object checkpoint_at_seq_zero(boost::json::object like, const chain::PrivateKey& key) {
  const chain::Hash256 zero{};
  const chain::Hash256 root = chain::merkle::root_of({});
  const chain::Hash256 head = chain::audit::checkpoint_head(zero, root);
  const auto message = chain::audit::checkpoint_message(key.address(), 0, head, static_cast<std::uint64_t>(like.at("chain_id").as_int64()),
                                                        chain::parse_address(like.at("contract_address").as_string()).value());
  like["seq"] = 0;
  like["audit_address"] = chain::to_lower_hex(key.address());
  like["chain_head_hash"] = chain::to_hex(zero);
  like["merkle_root"] = chain::to_hex(root);
  like["head_hash"] = chain::to_hex(head);
  like["message_hash"] = chain::to_hex(message);
  like["signature"] = chain::sign_digest(key, chain::eip191_hash32(message)).to_hex();
  return like;
}

}  // namespace lpops::testing
