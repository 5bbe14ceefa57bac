#pragma once
// Process metrics, rendered at /metrics in the Prometheus text format.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace lpops::actors {

// Per actor kind: messages handled, time spent in handlers, sampled mailbox depth.
struct ActorMetrics {
  prometheus::Counter* messages;
  prometheus::Counter* handler_seconds;
  prometheus::Gauge* mailbox_depth;
  prometheus::Gauge* live;
};

class Metrics {
 public:
  Metrics();
  ActorMetrics& actor(const std::string& kind);

  prometheus::Histogram& journal_batch_records() { return *journal_batch_records_; }
  prometheus::Histogram& journal_fsync_seconds() { return *journal_fsync_seconds_; }
  prometheus::Counter& journal_records() { return *journal_records_; }
  // Records framed and waiting for a group commit, as the journal's sync actor last saw them.
  prometheus::Gauge& journal_queued_records() { return *journal_queued_records_; }
  prometheus::Counter& journal_bytes() { return *journal_bytes_; }
  // Snapshots written and failed (a failed one costs a longer replay at the next start, not
  // data), the time of the last one written and how long it took.
  prometheus::Counter& snapshots_written() { return *snapshots_written_; }
  prometheus::Counter& snapshots_failed() { return *snapshots_failed_; }
  prometheus::Gauge& snapshot_last_written() { return *snapshot_last_written_; }
  prometheus::Gauge& snapshot_seconds() { return *snapshot_seconds_; }
  // The audit log's size and the size its newest signed checkpoint covers (set when the
  // metrics are read): a gap that grows means checkpoints are not being signed.
  prometheus::Gauge& audit_entries() { return *audit_entries_; }
  prometheus::Gauge& audit_signed_entries() { return *audit_signed_entries_; }
  // The HTTP server's open connections and requests in flight (set when the metrics are read).
  prometheus::Gauge& http_open_connections() { return *http_open_connections_; }
  prometheus::Gauge& http_in_flight() { return *http_in_flight_; }
  // Chain JSON-RPC calls by method and outcome ("ok", or the error's kind), after retries.
  void count_chain_rpc(const std::string& method, const std::string& outcome);
  // Failed writes or syncs of a file the node goes on without (a snapshot, the audit log's
  // periodic sync, a checkpoint): each is logged, and retried or rebuilt later. A journal
  // failure stops the process instead.
  prometheus::Counter& storage_errors(const std::string& file);
  void observe_http(const std::string& route, int status, double seconds);
  // A response the server gave before any route was matched (no latency is known).
  void count_http(const std::string& route, int status);

  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* actor_messages_;
  prometheus::Family<prometheus::Counter>* actor_seconds_;
  prometheus::Family<prometheus::Gauge>* actor_mailbox_;
  prometheus::Family<prometheus::Gauge>* actor_live_;
  prometheus::Family<prometheus::Counter>* http_requests_;
  prometheus::Family<prometheus::Histogram>* http_seconds_;
  prometheus::Family<prometheus::Counter>* chain_rpc_calls_;
  prometheus::Family<prometheus::Counter>* storage_errors_;
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> chain_rpc_series_;
  std::map<std::string, prometheus::Counter*> storage_error_series_;
  prometheus::Histogram* journal_batch_records_;
  prometheus::Histogram* journal_fsync_seconds_;
  prometheus::Gauge* journal_queued_records_;
  prometheus::Counter* journal_records_;
  prometheus::Counter* journal_bytes_;
  prometheus::Counter* snapshots_written_;
  prometheus::Counter* snapshots_failed_;
  prometheus::Gauge* snapshot_last_written_;
  prometheus::Gauge* snapshot_seconds_;
  prometheus::Gauge* audit_entries_;
  prometheus::Gauge* audit_signed_entries_;
  prometheus::Gauge* http_open_connections_;
  prometheus::Gauge* http_in_flight_;
  std::mutex mutex_;
  std::map<std::string, ActorMetrics> actors_;
  // The latency histograms, in a registry of their own that is read before the other: a
  // request is counted before it is timed, so a scrape never shows more timed requests than
  // counted ones (one registry reads every counter before any histogram).
  std::shared_ptr<prometheus::Registry> latency_registry_;
  struct StatusSeries {
    prometheus::Counter* requests = nullptr;
    prometheus::Histogram* seconds = nullptr;
  };
  std::map<std::string, std::map<int, StatusSeries>> routes_;
  std::pair<prometheus::Counter*, prometheus::Histogram*> http_series(const std::string& route, int status,
                                                                     bool with_latency = true);
};

// The metrics of one actor of `kind`, counted live until it stops (the functor keeps the
// Metrics alive past the actor's state).
template <class Self>
ActorMetrics* track_actor(Self* self, const std::shared_ptr<Metrics>& metrics, const std::string& kind) {
  ActorMetrics* m = &metrics->actor(kind);
  m->live->Increment();
  self->attach_functor([owner = metrics, m] { m->live->Decrement(); });
  return m;
}

// What an actor holds of its own metrics: its count of handled messages and the mailbox depth
// it last added to its kind's gauge. The gauge is the sum of those over the kind's live actors
// (thousands of orchestrator actors share one series), so an actor gives its share back when
// it samples again, when it finds its mailbox empty and when it goes.
struct HandledCount {
  std::uint64_t count = 0;
  double sampled_depth = 0;
  prometheus::Gauge* gauge = nullptr;  // set by the first sample
  HandledCount() = default;
  HandledCount(const HandledCount&) = delete;
  HandledCount& operator=(const HandledCount&) = delete;
  ~HandledCount() {
    if (gauge && sampled_depth != 0) gauge->Decrement(sampled_depth);
  }
  void sample(prometheus::Gauge* g, double depth) {
    gauge = g;
    if (depth != sampled_depth) g->Increment(depth - sampled_depth);
    sampled_depth = depth;
  }
};

// Times one handler invocation and samples the mailbox every 64 messages; a depth once
// sampled is taken back when the mailbox is found empty (an idle actor shows no backlog).
template <class Self>
class HandlerTimer {
 public:
  HandlerTimer(ActorMetrics& m, Self* self) : m_(m), self_(self), start_(std::chrono::steady_clock::now()) {}
  ~HandlerTimer() {
    auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    m_.messages->Increment();
    m_.handler_seconds->Increment(elapsed);
    HandledCount& h = self_->state.handled;
    if ((++h.count & 63) == 1) h.sample(m_.mailbox_depth, static_cast<double>(self_->mailbox().size()));
    else if (h.sampled_depth != 0 && self_->mailbox().empty()) h.sample(m_.mailbox_depth, 0);
  }

 private:
  ActorMetrics& m_;
  Self* self_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace lpops::actors
