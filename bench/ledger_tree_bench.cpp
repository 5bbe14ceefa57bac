// The ledger tree behind GET …/ledger-entry and …/ledger-proof, over N registered
// orchestrators: the time to build it (the first request, or one after a new id), to bring
// it up to date after 1 or 100 credits (what a request after a credit costs the ledger
// actor: a scan of the accounts and the changed paths), and one proof from it. Prints a
// markdown table.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "actors/ledger.hpp"
#include "domain/orchestrator.hpp"

namespace {

using namespace lpops;
using clock_type = std::chrono::steady_clock;
constexpr UnixMicros kNow = 1'767'225'600'000'000;

Book book_of(std::size_t n) {
  Book book;
  for (std::size_t i = 0; i < n; ++i) {
    Registration r;
    r.orchestrator_id = "orchestrator-" + std::to_string(i);
    char address[43];
    std::snprintf(address, sizeof address, "0x%040zx", i + 1);
    r.address = address;
    auto record = new_orchestrator_record(r, kNow);
    merge_registration(record, r, "127.0.0.1", true, kNow);
    book.upsert_orchestrator(std::move(record), kNow);
  }
  return book;
}

void credit(Book& book, std::size_t n, std::size_t count, std::size_t& serial) {
  for (std::size_t k = 0; k < count; ++k, ++serial) {
    AdjustmentRequest a;
    a.orchestrator_id = "orchestrator-" + std::to_string((serial * 7919) % n);
    a.amount = SignedWei{false, Wei(1'000'000'007ull)};
    a.generated_id = std::to_string(serial);
    book.adjust(a, kNow);
  }
}

template <class Fn>
double best_ms(int rounds, Fn&& fn) {
  double best = 1e18;
  for (int r = 0; r < rounds; ++r) {
    const auto start = clock_type::now();
    fn();
    best = std::min(best, std::chrono::duration<double, std::milli>(clock_type::now() - start).count());
  }
  return best;
}

}  // namespace

int main() {
  std::printf("| orchestrators | build (ms) | update after 1 credit (ms) | after 100 credits (ms) | proof (µs) |\n|---|---|---|---|---|\n");
  for (std::size_t n : {100u, 1'000u, 10'000u, 100'000u}) {
    Book book = book_of(n);
    std::size_t serial = 0;
    const double build = best_ms(5, [&] {
      actors::LedgerTreeCache fresh;
      actors::refresh_ledger_tree(book, fresh);
    });
    actors::LedgerTreeCache cache;
    actors::refresh_ledger_tree(book, cache);
    double one = 1e18, hundred = 1e18;
    for (int r = 0; r < 5; ++r) {
      credit(book, n, 1, serial);
      one = std::min(one, best_ms(1, [&] { actors::refresh_ledger_tree(book, cache); }));
      credit(book, n, 100, serial);
      hundred = std::min(hundred, best_ms(1, [&] { actors::refresh_ledger_tree(book, cache); }));
    }
    const auto& tree = actors::refresh_ledger_tree(book, cache);
    volatile std::size_t sink = 0;
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < 10'000; ++i) {
      auto index = tree.index_of("orchestrator-" + std::to_string((i * 31) % n));
      sink = sink + tree.proof(*index).size();
    }
    const double proof_us = std::chrono::duration<double, std::micro>(clock_type::now() - start).count() / 10'000;
    std::printf("| %zu | %.2f | %.3f | %.3f | %.2f |\n", n, build, one, hundred, proof_us);
  }
}
