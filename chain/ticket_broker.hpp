#pragma once
// Livepeer probabilistic micropayments (protocol contracts/pm): the ticket, its hash and
// EIP-191 signature, the win check, the TicketBroker calls we send, and the events we
// read back from receipts.
#include <array>
#include <optional>
#include <vector>

#include "chain/abi.hpp"
#include "chain/address.hpp"
#include "chain/keccak.hpp"
#include "chain/keys.hpp"
#include "chain/signature.hpp"
#include "domain/money.hpp"

namespace lpops::chain::livepeer {

struct Ticket {
  Address recipient{};
  Address sender{};
  Wei face_value = 0;
  Wei win_prob = 0;
  Wei sender_nonce = 0;
  Hash256 recipient_rand_hash{};
  abi::Bytes aux_data;  // uint256 creationRound ‖ bytes32 creationRoundBlockHash (64 bytes)

  // keccak256(abi.encodePacked(recipient, sender, faceValue, winProb, senderNonce,
  // recipientRandHash, auxData)): 232 bytes hashed when auxData has its 64.
  Hash256 hash() const;
};

inline const Wei& always_wins() {
  static const Wei max = ~Wei(0);
  return max;
}

// keccak256(uint256 recipientRand), what a ticket commits to.
Hash256 recipient_rand_hash(const Wei& recipient_rand);
// uint256(creationRound) ‖ blockHash.
abi::Bytes aux_data(const Wei& creation_round, const Hash256& block_hash);

// The ticket hash signed as an EIP-191 personal message (low-s, v in {27, 28}).
Signature sign_ticket(const PrivateKey& key, const Ticket& ticket);
// The contract's check: uint256(keccak256(sig ‖ uint256 recipientRand)) < winProb.
bool is_winning(const Ticket& ticket, const Signature& signature, const Wei& recipient_rand);

struct SignedTicket {
  Ticket ticket;
  Signature signature;
  Wei recipient_rand = 0;
};

const abi::Function& redeem_winning_ticket();       // redeemWinningTicket((...),bytes,uint256)
const abi::Function& batch_redeem_winning_tickets();  // batchRedeemWinningTickets((...)[],bytes[],uint256[])
const abi::Function& fund_deposit();                // fundDeposit() payable
const abi::Function& get_sender_info();             // getSenderInfo(address)
const abi::Function& controller();                  // TicketBroker.controller()
const abi::Function& get_contract();                // Controller.getContract(bytes32)
const abi::Function& current_round();               // RoundsManager.currentRound()
const abi::Function& current_round_initialized();   // RoundsManager.currentRoundInitialized()
const abi::Function& block_hash_for_round();        // RoundsManager.blockHashForRound(uint256)
const abi::Function& is_registered_transcoder();    // BondingManager.isRegisteredTranscoder(address)
const abi::Function& get_first_transcoder_in_pool();  // BondingManager.getFirstTranscoderInPool()
const abi::Function& get_next_transcoder_in_pool();   // BondingManager.getNextTranscoderInPool(address)

abi::Bytes redeem_calldata(const SignedTicket& t);
Result<abi::Bytes> batch_redeem_calldata(const std::vector<SignedTicket>& tickets);
abi::Bytes fund_deposit_calldata();
abi::Bytes get_sender_info_calldata(const Address& sender);

struct SenderInfo {
  Wei deposit = 0;
  Wei withdraw_round = 0;
  Wei funds_remaining = 0;
  Wei claimed_in_current_round = 0;
};
Result<SenderInfo> decode_sender_info(const abi::Bytes& returned);

// Events, decoded from a receipt's logs.
const abi::Event& winning_ticket_redeemed_event();
const abi::Event& winning_ticket_transfer_event();
const abi::Event& deposit_funded_event();

struct WinningTicketRedeemed {
  Address sender{}, recipient{};
  Wei face_value = 0, win_prob = 0, sender_nonce = 0, recipient_rand = 0;
  abi::Bytes aux_data;
};
struct WinningTicketTransfer {
  Address sender{}, recipient{};
  Wei amount = 0;
};
struct DepositFunded {
  Address sender{};
  Wei amount = 0;
};
Result<WinningTicketRedeemed> decode_winning_ticket_redeemed(const std::vector<Hash256>& topics, const abi::Bytes& data);
Result<WinningTicketTransfer> decode_winning_ticket_transfer(const std::vector<Hash256>& topics, const abi::Bytes& data);
Result<DepositFunded> decode_deposit_funded(const std::vector<Hash256>& topics, const abi::Bytes& data);

}  // namespace lpops::chain::livepeer
