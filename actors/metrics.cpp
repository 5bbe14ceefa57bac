#include "actors/metrics.hpp"

#include <prometheus/text_serializer.h>

#include "domain/version.hpp"

namespace lpops::actors {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()), latency_registry_(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  actor_messages_ = &BuildCounter().Name("lpops_actor_messages_total").Help("Messages handled, by actor kind").Register(*registry_);
  actor_seconds_ = &BuildCounter().Name("lpops_actor_handler_seconds_total").Help("Time spent in message handlers, by actor kind").Register(*registry_);
  actor_mailbox_ = &BuildGauge().Name("lpops_actor_mailbox_depth").Help("Mailbox depth, by actor kind: the sum over its live actors of the depth each sampled last (every 64 messages; 0 once it finds its mailbox empty)").Register(*registry_);
  actor_live_ = &BuildGauge().Name("lpops_actors").Help("Live actors, by kind").Register(*registry_);
  http_requests_ = &BuildCounter().Name("lpops_http_requests_total").Help("HTTP requests, by route and status").Register(*registry_);
  http_seconds_ = &BuildHistogram().Name("lpops_http_request_seconds").Help("HTTP request latency, by route and status").Register(*latency_registry_);
  auto& batch = BuildHistogram().Name("lpops_journal_batch_records").Help("Records per journal group commit").Register(*registry_);
  journal_batch_records_ = &batch.Add({}, Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096});
  auto& fsync = BuildHistogram().Name("lpops_journal_fsync_seconds").Help("Journal group commit latency per batch: the write, and its fdatasync unless PAYMENTS_JOURNAL_FSYNC is false").Register(*registry_);
  journal_fsync_seconds_ = &fsync.Add({}, Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.5, 1, 2.5, 10});
  journal_records_ = &BuildCounter().Name("lpops_journal_records_total").Help("Journal records written").Register(*registry_).Add({});
  journal_queued_records_ = &BuildGauge()
                                 .Name("lpops_journal_queued_records")
                                 .Help("Records framed and queued for the journal's next group commit, when one last began")
                                 .Register(*registry_)
                                 .Add({});
  journal_bytes_ = &BuildCounter().Name("lpops_journal_bytes_total").Help("Journal bytes written").Register(*registry_).Add({});
  auto& snapshots = BuildCounter().Name("lpops_snapshots_total").Help("Snapshots begun, by outcome (written or failed)").Register(*registry_);
  snapshots_written_ = &snapshots.Add({{"outcome", "written"}});
  snapshots_failed_ = &snapshots.Add({{"outcome", "failed"}});
  snapshot_last_written_ = &BuildGauge()
                                .Name("lpops_snapshot_last_written_timestamp_seconds")
                                .Help("Unix time the last snapshot was written (0: none since the start)")
                                .Register(*registry_)
                                .Add({});
  snapshot_seconds_ = &BuildGauge().Name("lpops_snapshot_seconds").Help("How long the last snapshot written took").Register(*registry_).Add({});
  audit_entries_ = &BuildGauge().Name("lpops_audit_entries").Help("Entries in the audit log").Register(*registry_).Add({});
  audit_signed_entries_ = &BuildGauge()
                               .Name("lpops_audit_signed_entries")
                               .Help("Audit log entries covered by the newest signed checkpoint")
                               .Register(*registry_)
                               .Add({});
  http_open_connections_ = &BuildGauge().Name("lpops_http_open_connections").Help("Open HTTP connections").Register(*registry_).Add({});
  http_in_flight_ = &BuildGauge()
                         .Name("lpops_http_requests_in_flight")
                         .Help("HTTP requests being read or answered (the /metrics request included)")
                         .Register(*registry_)
                         .Add({});
  chain_rpc_calls_ = &BuildCounter()
                         .Name("lpops_chain_rpc_calls_total")
                         .Help("Chain JSON-RPC calls, by method and outcome (ok, transport, timeout, http, rpc, protocol, cap), after retries")
                         .Register(*registry_);
  storage_errors_ = &BuildCounter()
                         .Name("lpops_storage_errors_total")
                         .Help("Failed writes or syncs of files the node goes on without, by file (snapshot, audit_log, checkpoints)")
                         .Register(*registry_);
  for (const char* file : {"snapshot", "audit_log", "checkpoints"}) storage_errors(file);
  BuildGauge().Name("lpops_build_info").Help("The node's version").Register(*registry_).Add({{"version", kVersion}}).Set(1);
}

ActorMetrics& Metrics::actor(const std::string& kind) {
  std::lock_guard lock(mutex_);
  auto it = actors_.find(kind);
  if (it != actors_.end()) return it->second;
  ActorMetrics m{&actor_messages_->Add({{"actor", kind}}), &actor_seconds_->Add({{"actor", kind}}),
                 &actor_mailbox_->Add({{"actor", kind}}), &actor_live_->Add({{"actor", kind}})};
  return actors_.emplace(kind, m).first->second;
}

std::pair<prometheus::Counter*, prometheus::Histogram*> Metrics::http_series(const std::string& route, int status,
                                                                            bool with_latency) {
  std::lock_guard lock(mutex_);
  auto& s = routes_[route][status];
  if (!s.requests) s.requests = &http_requests_->Add({{"route", route}, {"status", std::to_string(status)}});
  if (!s.seconds && with_latency)
    s.seconds = &http_seconds_->Add({{"route", route}, {"status", std::to_string(status)}},
                                    prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                                            0.25, 1, 2.5, 10, 30});
  return {s.requests, s.seconds};
}

void Metrics::count_chain_rpc(const std::string& method, const std::string& outcome) {
  prometheus::Counter* c;
  {
    std::lock_guard lock(mutex_);
    auto& slot = chain_rpc_series_[{method, outcome}];
    if (!slot) slot = &chain_rpc_calls_->Add({{"method", method}, {"outcome", outcome}});
    c = slot;
  }
  c->Increment();
}

prometheus::Counter& Metrics::storage_errors(const std::string& file) {
  std::lock_guard lock(mutex_);
  auto& slot = storage_error_series_[file];
  if (!slot) slot = &storage_errors_->Add({{"file", file}});
  return *slot;
}

void Metrics::observe_http(const std::string& route, int status, double seconds) {
  auto [counter, histogram] = http_series(route, status);
  counter->Increment();  // before the histogram: see latency_registry_
  histogram->Observe(seconds);
}

// No latency series for these: none is known, and an empty histogram beside the counter
// would read as answers that took no time.
void Metrics::count_http(const std::string& route, int status) { http_series(route, status, false).first->Increment(); }

std::string Metrics::render() const {
  prometheus::TextSerializer serializer;
  std::string text = serializer.Serialize(latency_registry_->Collect());  // first: see latency_registry_
  return text + serializer.Serialize(registry_->Collect());
}

}  // namespace lpops::actors
