#pragma once
// Text held in one pointer, for records a node keeps by the million (workloads): a
// std::optional<std::string> takes 40 bytes whether it holds anything or not, OptionalText
// takes 8 when absent and 8 plus a block of exactly the text's length (and a 4-byte length)
// when set; SharedText takes 8 for a text kept once for every record that has it.
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lpops {

// An optional text: absent, or set (possibly to the empty text).
class OptionalText {
 public:
  OptionalText() noexcept = default;
  OptionalText(std::nullopt_t) noexcept {}
  OptionalText(std::string_view text) { assign(text); }
  OptionalText(const std::string& text) { assign(text); }
  OptionalText(const char* text) { assign(text); }
  OptionalText(const std::optional<std::string>& text) {
    if (text) assign(*text);
  }
  OptionalText(const OptionalText& other) {
    if (other) assign(*other);
  }
  OptionalText(OptionalText&&) noexcept = default;
  OptionalText& operator=(const OptionalText& other) {
    if (this != &other) *this = other ? OptionalText(*other) : OptionalText();
    return *this;
  }
  OptionalText& operator=(OptionalText&&) noexcept = default;

  bool has_value() const noexcept { return block_ != nullptr; }
  explicit operator bool() const noexcept { return has_value(); }
  // The text; the empty view when absent.
  std::string_view operator*() const noexcept {
    if (!block_) return {};
    std::uint32_t size;
    std::memcpy(&size, block_.get(), sizeof size);
    return {block_.get() + sizeof size, size};
  }
  std::string_view value_or(std::string_view fallback) const noexcept { return block_ ? **this : fallback; }
  std::optional<std::string> to_optional() const {
    if (!block_) return std::nullopt;
    return std::string(**this);
  }

  friend bool operator==(const OptionalText& a, const OptionalText& b) noexcept {
    return a.has_value() == b.has_value() && *a == *b;
  }
  friend bool operator==(const OptionalText& a, const std::optional<std::string>& b) noexcept {
    return a.has_value() == b.has_value() && (!b || *a == *b);
  }

 private:
  void assign(std::string_view text) {
    // Texts here are bounded by their fields' limits (at most a few KiB); the length is checked anyway.
    const auto size = static_cast<std::uint32_t>(text.size());
    if (size != text.size()) throw std::length_error("text too long to keep");
    block_ = std::make_unique_for_overwrite<char[]>(sizeof size + text.size());
    std::memcpy(block_.get(), &size, sizeof size);
    if (!text.empty()) std::memcpy(block_.get() + sizeof size, text.data(), text.size());
  }
  std::unique_ptr<char[]> block_;
};

// A text many records share (a time workload's rate and credit unit, the node's settings when
// it was priced): kept once per process, each record holding a pointer to it. Shared texts
// are never released; a node sees a handful (one per rate or unit it was ever configured with
// or imported), each at most a few hundred bytes.
class SharedText {
 public:
  SharedText() noexcept = default;  // the empty text
  SharedText(std::string_view text);
  SharedText(const std::string& text) : SharedText(std::string_view(text)) {}
  SharedText(const char* text) : SharedText(std::string_view(text)) {}

  std::string_view view() const noexcept { return text_ ? std::string_view(*text_) : std::string_view(); }
  operator std::string_view() const noexcept { return view(); }
  std::string str() const { return std::string(view()); }
  bool empty() const noexcept { return view().empty(); }

  // Equal texts share one copy, so equal means the same pointer.
  friend bool operator==(const SharedText& a, const SharedText& b) noexcept { return a.text_ == b.text_; }
  friend bool operator==(const SharedText& a, std::string_view b) noexcept { return a.view() == b; }

 private:
  const std::string* text_ = nullptr;
};

}  // namespace lpops
