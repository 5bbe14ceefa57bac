#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "domain/compact_text.hpp"
#include "domain/workload.hpp"

namespace lpops {
namespace {

TEST(OptionalText, AbsentEmptyAndSetAreThreeStates) {
  OptionalText absent;
  OptionalText empty(std::string_view{});
  OptionalText set("sha256:abc");
  EXPECT_FALSE(absent.has_value());
  EXPECT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, "");
  EXPECT_EQ(*set, "sha256:abc");
  EXPECT_FALSE(absent == empty);
  EXPECT_FALSE(empty == set);
  EXPECT_EQ(absent.value_or("none"), "none");
  EXPECT_EQ(empty.value_or("none"), "");
  EXPECT_EQ(absent.to_optional(), std::nullopt);
  EXPECT_EQ(empty.to_optional(), std::optional<std::string>(""));
  EXPECT_TRUE(absent == std::optional<std::string>());
  EXPECT_TRUE(set == std::optional<std::string>("sha256:abc"));
  EXPECT_FALSE(set == std::optional<std::string>("sha256:abd"));
  EXPECT_FALSE(empty == std::optional<std::string>());
}

TEST(OptionalText, CopiesAreDeepAndMovesLeaveTheSourceAbsent) {
  std::string long_text(5000, 'x');
  long_text.push_back('\0');  // bytes after a NUL are kept: the length is stored
  long_text += "end";
  OptionalText a(long_text);
  OptionalText b = a;
  EXPECT_EQ(*b, long_text);
  EXPECT_NE((*a).data(), (*b).data());
  a = OptionalText("other");
  EXPECT_EQ(*b, long_text);
  EXPECT_EQ(*a, "other");
  OptionalText c = std::move(b);
  EXPECT_EQ(*c, long_text);
  EXPECT_FALSE(b.has_value());  // NOLINT(bugprone-use-after-move): moved-from state is documented
  c = c;                        // self-assignment keeps the text
  EXPECT_EQ(*c, long_text);
  c = std::nullopt;
  EXPECT_FALSE(c.has_value());
  c = std::optional<std::string>("back");
  EXPECT_EQ(*c, "back");
}

TEST(OptionalText, TakesOnePointerInARecord) {
  EXPECT_EQ(sizeof(OptionalText), sizeof(void*));
  EXPECT_EQ(sizeof(SharedText), sizeof(void*));
}

TEST(SharedText, EqualTextsShareOneCopyAndTheEmptyOneHoldsNothing) {
  SharedText none;
  SharedText rate("0.0001");
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.view(), "");
  EXPECT_EQ(rate.view(), "0.0001");
  EXPECT_EQ(rate.str(), std::string("0.0001"));
  EXPECT_TRUE(rate == std::string_view("0.0001"));
  EXPECT_TRUE(SharedText("") == none);
  // Made from another buffer, the same text is the same copy.
  std::string again = std::string("0.000") + "1";
  SharedText other(again);
  again = "changed";
  EXPECT_EQ(other.view().data(), rate.view().data());
  EXPECT_EQ(other.view(), "0.0001");
  EXPECT_FALSE(SharedText("0.0002") == rate);
  SharedText copy = rate;
  EXPECT_TRUE(copy == rate);
}

TEST(WorkloadStatus, HoldsTheFourStatusesAndRefusesAnyOther) {
  EXPECT_EQ(WorkloadStatus().view(), "pending");  // a new workload's
  for (std::string_view name : {"pending", "verified", "paid", "rejected"}) {
    WorkloadStatus s(name);
    EXPECT_EQ(s.view(), name);
    EXPECT_TRUE(s == name);
    EXPECT_EQ(status_credits(s), name == "verified" || name == "paid");
  }
  EXPECT_THROW(WorkloadStatus("Verified"), std::invalid_argument);
  EXPECT_THROW(WorkloadStatus(""), std::invalid_argument);
  EXPECT_TRUE(WorkloadStatus("paid") != WorkloadStatus("verified"));
  EXPECT_EQ(sizeof(WorkloadStatus), 1u);
}

TEST(Workload, FitsTheAllocatorsSmallClassWithItsControlBlock) {
  // A workload is kept by shared_ptr from make_shared: the control block and the record in
  // one block of at most 256 bytes (jemalloc's size class; the next is 320).
  EXPECT_LE(sizeof(Workload), 240u);
}

}  // namespace
}  // namespace lpops
