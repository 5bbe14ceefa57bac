#pragma once
// keccak-256 of many independent messages at once: the 25-lane state of 8 (AVX-512) or 4
// (AVX2) messages is kept side by side in vector registers, so one pass of the permutation
// advances all of them. Used where a verifier or start-up hashes millions of log entries and
// Merkle nodes. Chooses the widest variant the CPU supports at run time; the results are
// identical to keccak256() of each message.
#include <cstddef>
#include <string_view>

#include "chain/keccak.hpp"

namespace lpops::chain {

// out[i] = keccak256(messages[i]) for i < count.
void keccak256_many(const std::string_view* messages, Hash256* out, std::size_t count);

// The same with at most `lanes` messages per pass (8, 4 or 1; capped by the CPU), so tests
// can check every variant the machine has.
void keccak256_many_at_width(int lanes, const std::string_view* messages, Hash256* out, std::size_t count);

// Merkle helpers over arrays: out[i] = keccak(0x00 ‖ entry_hashes[i]) and
// out[i] = keccak(0x01 ‖ children[2i] ‖ children[2i+1]).
void merkle_leaves(const Hash256* entry_hashes, Hash256* out, std::size_t count);
void merkle_parents(const Hash256* children, Hash256* out, std::size_t count);

// How many messages one pass hashes on this CPU (8, 4 or 1), for reports.
int keccak_many_width();

}  // namespace lpops::chain
