#include "actors/ledger.hpp"
#include "actors/fatal.hpp"

#include <spdlog/spdlog.h>


namespace lpops::actors {
namespace {

using Self = caf::stateful_actor<LedgerState>;

// Frames the effect (if any) into the journal; the reply goes out once it is durable. A
// command that changed nothing still waits for everything before it to be durable, so
// that nothing it reports can be lost.
void finish(Self* self, Decision decision, const Reply& reply) {
  auto& st = self->state;
  if (decision.failure) {
    reply_failure(reply, *decision.failure);
    return;
  }
  auto ack = [reply, body = boost::json::serialize(decision.response)] { reply(200, body); };
  if (!decision.effect) {
    st.journal->barrier(std::move(ack));
    return;
  }
  st.journal->append(st.book->last_seq(), std::move(*decision.effect), std::move(ack));
}

}  // namespace

std::string random_hex_id(std::mt19937_64& rng) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(32, '0');
  std::uint64_t a = rng(), b = rng();
  for (int i = 0; i < 16; ++i) {
    out[i] = kDigits[(a >> (i * 4)) & 0xf];
    out[16 + i] = kDigits[(b >> (i * 4)) & 0xf];
  }
  return out;
}

std::string detail_body(const std::string& detail) {
  return boost::json::serialize(boost::json::object{{"detail", detail}});
}

caf::behavior ledger_actor(Self* self, std::shared_ptr<Book> book, JournalSetup journal,
                           std::shared_ptr<Metrics> metrics, LedgerOptions options) {
  stop_process_on_exception(self, "ledger");
  auto& st = self->state;
  st.book = std::make_unique<Book>(std::move(*book));
  st.options = std::move(options);
  st.actor_metrics = &metrics->actor("ledger");
  st.actor_metrics->live->Increment();
  self->attach_functor([owner = metrics, m = st.actor_metrics] { m->live->Decrement(); });  // runs after the state is gone
  st.journal = std::make_unique<Journal>(self, std::move(journal));
  caf::message_handler commands{
      [=](CreateWorkload& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        finish(self, self->state.book->create_workload(m.draft, now_micros()), m.reply);
      },
      [=](CreateTimeWorkload& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        finish(self, s.book->create_time_workload(m.draft, m.duration_ms, m.status, s.options.workload_time_rate, now_micros()),
               m.reply);
      },
      [=](PatchWorkload& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        finish(self, self->state.book->patch_workload(m.workload_id, m.patch, now_micros()), m.reply);
      },
      [=](Adjust& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        if (!m.request.idempotency_key) {
          // 128 random bits; drawn again in the (never yet seen) case that the id is taken.
          do m.request.generated_id = random_hex_id(s.rng);
          while (s.book->adjustment_id_taken(m.request.generated_id));
        }
        finish(self, s.book->adjust(m.request, now_micros()), m.reply);
      },
      [=](UpsertOrchestrator& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        auto& s = self->state;
        std::string id = std::string(m.record.at("orchestrator_id").as_string());
        auto effect = s.book->upsert_orchestrator(std::move(m.record), now_micros());
        std::string body = m.respond(s.book->balance(id));
        auto reply = m.reply;
        s.journal->append(s.book->last_seq(), std::move(effect), [reply, body = std::move(body)] { reply(200, body); });
      },
      [=](RecordPolicy& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        finish(self, self->state.book->record_policy(m.policy_hash, m.policy, now_micros()), m.reply);
      },
      [=](Query& q) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        // A query only reads the book, so a failing one leaves nothing half done: it is
        // answered with a 500 and the node goes on (commands stop the process instead).
        std::pair<int, std::string> answer;
        try {
          answer = q.answer(*self->state.book);
        } catch (const std::exception& e) {
          spdlog::error("ledger: a read-only query failed: {}", e.what());
          answer = {500, detail_body("Internal error while reading the ledger")};
        }
        q.reply(answer.first, std::move(answer.second));
      },
  };
  return commands.or_else(journal_handlers(self));
}

}  // namespace lpops::actors
