-- wrk script: POST /api/workloads/time with a unique workload id per request, spread over
-- LPOPS_BENCH_ORCHESTRATORS orchestrators (bench-0 .. bench-N-1).
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  orchestrators = tonumber(os.getenv("LPOPS_BENCH_ORCHESTRATORS") or "10")
  run = os.getenv("LPOPS_BENCH_RUN") or tostring(os.time())
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"workload_id":"%s-%d-%d","orchestrator_id":"bench-%d","artifact_hash":"sha256:%d","duration_ms":%d}',
    run, thread_index, counter, (counter * 7 + thread_index) % orchestrators, counter, 1000 + counter % 60000)
  return wrk.format("POST", "/api/workloads/time", {["Content-Type"] = "application/json"}, body)
end
