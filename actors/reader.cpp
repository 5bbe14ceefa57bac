#include "actors/reader.hpp"
#include "actors/fatal.hpp"

#include "domain/ledger_entry.hpp"
#include "storage/record_format.hpp"

#include <spdlog/spdlog.h>

namespace lpops::actors {

caf::behavior reader_actor(caf::stateful_actor<ReaderState>* self, std::shared_ptr<storage::RecordStore> store,
                           std::shared_ptr<Metrics> metrics) {
  stop_process_on_exception(self, "reader");
  self->state.store = std::move(store);
  self->state.actor_metrics = track_actor(self, metrics, "reader");
  self->state.metrics = std::move(metrics);
  return {
      [=](ReadLedgerEvents& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        boost::json::array events;
        const std::uint64_t durable = self->state.store->durable_seq();
        for (auto seq : m.seqs) {
          // Records not yet durable are not listed: they have not been acknowledged. A
          // durable one that cannot be read is damage, never skipped in silence.
          if (seq > durable) continue;
          auto line = self->state.store->read(seq);
          auto record = line ? storage::parse_record(*line) : Result<storage::ParsedRecord>(Error{"cannot be read"});
          if (!record) {
            spdlog::critical("journal record {}: {}", seq, record.error());
            m.reply(500, detail_body("Journal record " + std::to_string(seq) + " is damaged; the operator has been told"));
            return;
          }
          auto it = record->effect.find("entry");
          if (it == record->effect.end() || !it->value().is_object()) continue;
          auto entry = LedgerEntry::from_json(it->value().get_object());
          if (!entry) {  // never a list with a gap
            spdlog::critical("journal record {}: its ledger entry does not read: {}", seq, entry.error());
            m.reply(500, detail_body("Journal record " + std::to_string(seq) + " is damaged; the operator has been told"));
            return;
          }
          events.push_back(entry->to_event_view());
        }
        m.reply(200, boost::json::serialize(boost::json::object{{"events", std::move(events)}}));
      },
      [=](RenderAnswer& m) {
        HandlerTimer timer(*self->state.actor_metrics, self);
        std::pair<int, std::string> answer;
        try {
          answer = m.render();
        } catch (const std::exception& e) {
          spdlog::error("reader: writing an answer failed: {}", e.what());
          answer = {500, detail_body("Internal error while writing the answer")};
        }
        m.reply(answer.first, std::move(answer.second));
      },
  };
}

}  // namespace lpops::actors
