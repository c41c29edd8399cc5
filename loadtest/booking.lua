-- wrk script for the hot-event benchmark: POST one-ticket bookings, cycling through the
-- attendees' tokens, and count the answers by status.
--   wrk -t2 -c64 -d10s -s loadtest/booking.lua http://127.0.0.1:8000 -- TOKENS_FILE EVENT TICKET

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  for line in io.lines(args[1]) do
    table.insert(tokens, line)
  end
  body = string.format('{"event_id": %d, "items": [{"ticket_type_id": %d, "quantity": 1}]}',
                       tonumber(args[2]), tonumber(args[3]))
  next_token = math.random(#tokens)
  created, rejected, failed = 0, 0, 0
end

function request()
  next_token = next_token % #tokens + 1
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[next_token],
    ["Content-Type"] = "application/json",
  }
  return wrk.format("POST", "/api/bookings/", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status == 400 then
    rejected = rejected + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local c, r, f = 0, 0, 0
  for _, thread in ipairs(threads) do
    c = c + thread:get("created")
    r = r + thread:get("rejected")
    f = f + thread:get("failed")
  end
  io.write(string.format(
    "STAMPEDE {\"created\": %d, \"rejected\": %d, \"failed\": %d, \"socket_errors\": %d, " ..
    "\"p50_ms\": %.3f, \"p95_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, \"seconds\": %.3f}\n",
    c, r, f,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.duration / 1e6))
end
