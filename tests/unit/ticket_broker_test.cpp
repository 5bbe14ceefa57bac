#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>

#include "chain/hex.hpp"
#include "chain/ticket_broker.hpp"

namespace lpops::chain::livepeer {
namespace {

boost::json::value vectors() {
  std::ifstream in(std::string(LPOPS_VECTORS_DIR) + "/chain.json");
  return boost::json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
}

std::string str(const boost::json::value& v) { return std::string(v.as_string()); }

SignedTicket shared_ticket(const boost::json::value& doc) {
  const auto& t = doc.at("ticket");
  SignedTicket s;
  s.ticket.recipient = parse_address(str(t.at("recipient"))).value();
  s.ticket.sender = parse_address(str(t.at("sender"))).value();
  s.ticket.face_value = parse_wei(str(t.at("face_value"))).value();
  s.ticket.win_prob = parse_wei(str(t.at("win_prob"))).value();
  s.ticket.sender_nonce = parse_wei(str(t.at("sender_nonce"))).value();
  s.recipient_rand = parse_wei(str(t.at("recipient_rand"))).value();
  s.ticket.recipient_rand_hash = recipient_rand_hash(s.recipient_rand);
  s.ticket.aux_data = from_hex(str(t.at("aux_data"))).value();
  auto key = PrivateKey::from_hex(str(doc.at("key").at("private_key"))).value();
  s.signature = sign_ticket(key, s.ticket);
  return s;
}

TEST(TicketBroker, ReproducesTheSharedTicketVectors) {
  const auto doc = vectors();
  const auto& t = doc.at("ticket");
  const SignedTicket s = shared_ticket(doc);
  EXPECT_EQ(to_hex(s.ticket.recipient_rand_hash), str(t.at("recipient_rand_hash")));
  EXPECT_EQ(to_hex(s.ticket.hash()), str(t.at("ticket_hash")));
  EXPECT_EQ(s.signature.to_hex(), str(t.at("signature")));
  EXPECT_TRUE(is_winning(s.ticket, s.signature, s.recipient_rand));  // winProb = 2^256 - 1

  const auto redeem = redeem_calldata(s);
  EXPECT_EQ(redeem.size(), t.at("redeem_calldata_len").as_int64());
  EXPECT_EQ(to_hex(keccak256(redeem.data(), redeem.size())), str(t.at("redeem_calldata_keccak")));
  const auto batch = batch_redeem_calldata({s}).value();
  EXPECT_EQ(batch.size(), t.at("batch_calldata_len").as_int64());
  EXPECT_EQ(to_hex(keccak256(batch.data(), batch.size())), str(t.at("batch_calldata_keccak")));

  const auto& sel = t.at("selectors");
  EXPECT_EQ(to_hex(redeem_winning_ticket().selector()), str(sel.at("redeemWinningTicket")));
  EXPECT_EQ(to_hex(batch_redeem_winning_tickets().selector()), str(sel.at("batchRedeemWinningTickets")));
  EXPECT_EQ(to_hex(fund_deposit_calldata()), str(sel.at("fundDeposit")));
  EXPECT_EQ(to_hex(get_sender_info().selector()), str(sel.at("getSenderInfo")));
}

TEST(TicketBroker, ReferenceSelectorsAndTopics) {
  EXPECT_EQ(to_hex(controller().selector()), "0xf77c4791");
  EXPECT_EQ(to_hex(get_contract().selector()), "0xe16c7d98");
  EXPECT_EQ(to_hex(current_round_initialized().selector()), "0x219bc76c");
  EXPECT_EQ(to_hex(current_round().selector()), "0x8a19c8bc");
  EXPECT_EQ(to_hex(block_hash_for_round().selector()), "0x3aa4add4");
  EXPECT_EQ(to_hex(is_registered_transcoder().selector()), "0x68ba170c");
  EXPECT_EQ(to_hex(keccak256("RoundsManager")), "0xe8438ea868df48e3fc21f2f087b993c9b1837dc0f6135064161ce7d7a1701fe8");
  EXPECT_EQ(to_hex(winning_ticket_redeemed_event().topic()),
            "0xc389eb51ed006dbf2528507f010efdf5225ea596e1e1741d74f550dab1925ee7");
  EXPECT_EQ(to_hex(winning_ticket_transfer_event().topic()),
            "0x8b87351a208c06e3ceee59d80725fd77a23b4129e1b51ca231fc89b40712649c");
  EXPECT_EQ(to_hex(deposit_funded_event().topic()), "0x5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f");
}

TEST(TicketBroker, WinCheckIsStrictlyBelowWinProb) {
  const auto doc = vectors();
  SignedTicket s = shared_ticket(doc);
  const auto rsv = s.signature.to_rsv();
  const abi::Value rand = abi::Value::uint(s.recipient_rand);
  Keccak256 h;
  h.update(rsv.data(), rsv.size());
  h.update(rand.word.data(), rand.word.size());
  const Hash256 d = h.final();
  Wei x;
  mp::import_bits(x, d.begin(), d.end(), 8);
  s.ticket.win_prob = x;  // equal does not win
  EXPECT_FALSE(is_winning(s.ticket, s.signature, s.recipient_rand));
  s.ticket.win_prob = x + 1;
  EXPECT_TRUE(is_winning(s.ticket, s.signature, s.recipient_rand));
}

TEST(TicketBroker, DecodesSenderInfoAndEvents) {
  abi::Bytes returned = abi::encode(abi::parse_types("uint256,uint256,uint256,uint256").value(),
                                    {abi::Value::uint(5), abi::Value::uint(0), abi::Value::uint(7), abi::Value::uint(1)})
                            .value();
  auto info = decode_sender_info(returned).value();
  EXPECT_EQ(info.deposit, 5);
  EXPECT_EQ(info.funds_remaining, 7);
  EXPECT_FALSE(decode_sender_info(abi::Bytes(100, 0)).ok());

  Hash256 sender{}, recipient{};
  sender[31] = 0x11;
  recipient[31] = 0x22;
  auto data = abi::encode({abi::Type::parse("uint256").value()}, {abi::Value::uint(99)}).value();
  auto transfer = decode_winning_ticket_transfer({winning_ticket_transfer_event().topic(), sender, recipient}, data).value();
  EXPECT_EQ(transfer.amount, 99);
  EXPECT_EQ(transfer.recipient[19], 0x22);
  EXPECT_FALSE(decode_deposit_funded({winning_ticket_transfer_event().topic(), sender}, data).ok());
  auto funded = decode_deposit_funded({deposit_funded_event().topic(), sender}, data).value();
  EXPECT_EQ(funded.amount, 99);

  // WinningTicketRedeemed: the ticket's nonce and rand come back to match the redemption.
  const auto doc = vectors();
  const SignedTicket t = shared_ticket(doc);
  const auto redeemed_data =
      abi::encode(abi::parse_types("uint256,uint256,uint256,uint256,bytes").value(),
                  {abi::Value::uint(t.ticket.face_value), abi::Value::uint(t.ticket.win_prob), abi::Value::uint(t.ticket.sender_nonce),
                   abi::Value::uint(t.recipient_rand), abi::Value::bytes_of(t.ticket.aux_data)})
          .value();
  Hash256 sender_topic{}, recipient_topic{};
  std::copy(t.ticket.sender.begin(), t.ticket.sender.end(), sender_topic.begin() + 12);
  std::copy(t.ticket.recipient.begin(), t.ticket.recipient.end(), recipient_topic.begin() + 12);
  auto redeemed =
      decode_winning_ticket_redeemed({winning_ticket_redeemed_event().topic(), sender_topic, recipient_topic}, redeemed_data).value();
  EXPECT_EQ(redeemed.sender, t.ticket.sender);
  EXPECT_EQ(redeemed.recipient, t.ticket.recipient);
  EXPECT_EQ(redeemed.sender_nonce, t.ticket.sender_nonce);
  EXPECT_EQ(redeemed.recipient_rand, t.recipient_rand);
  EXPECT_EQ(redeemed.aux_data, t.ticket.aux_data);
  EXPECT_FALSE(decode_winning_ticket_redeemed({winning_ticket_redeemed_event().topic(), sender_topic}, redeemed_data).ok());
  EXPECT_FALSE(decode_winning_ticket_redeemed({winning_ticket_redeemed_event().topic(), sender_topic, recipient_topic},
                                              abi::Bytes(redeemed_data.begin(), redeemed_data.end() - 40))
                   .ok());
}

}  // namespace
}  // namespace lpops::chain::livepeer
