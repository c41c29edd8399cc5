// Holds many websocket subscribers for loadtest/bench_live.py, in Node.js: reading sockets here
// costs far less CPU than in Python, so the benchmark measures the servers, not its client.
//   node --experimental-websocket loadtest/live_subscribers.mjs EVENT_ID COUNT URL [URL ...]
// Prints "ready" once every socket has its first state; then reads the commit times (JSON
// {"k": ns, ...} on stdin, one line) and prints one JSON line with the results.
import { createInterface } from "node:readline";

const [eventId, count, ...urls] = process.argv.slice(2);
const subscribers = [];
let ready = 0;

for (let i = 0; i < Number(count); i++) {
  const sub = { seen: -1, messages: 0, arrivals: [] };
  subscribers.push(sub);
  const url = urls[i % urls.length].replace(/^http/, "ws") + `/ws/events/${eventId}`;
  const socket = new WebSocket(url);
  socket.onmessage = (message) => {
    const now = process.hrtime.bigint();
    // Only tickets_sold is needed: found in the text rather than parsing the whole state
    // (JSON.parse of every message was this client's largest cost at 10,000 sockets).
    const text = message.data;
    const sold = parseInt(text.slice(text.indexOf('"tickets_sold":') + 15), 10);
    if (sub.seen < 0) {
      sub.seen = sold;
      if (++ready === subscribers.length) console.log("ready");
      return;
    }
    sub.messages++;
    if (sold > sub.seen) {
      sub.arrivals.push([sub.seen + 1, sold, now]);
      sub.seen = sold;
    }
  };
  if (i % 200 === 199) await new Promise((resolve) => setTimeout(resolve, 20));
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const commits = JSON.parse(line); // {"k": "ns"}
  const booked = Object.keys(commits).length;
  const latencies = [];
  for (const sub of subscribers) {
    for (const [first, last, at] of sub.arrivals) {
      for (let k = first; k <= last; k++) {
        if (commits[k] !== undefined) latencies.push(Number(at - BigInt(commits[k])) / 1e6);
      }
    }
  }
  latencies.sort((a, b) => a - b);
  const pick = (q) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : null);
  console.log(JSON.stringify({
    messages: subscribers.reduce((n, s) => n + s.messages, 0),
    behind: subscribers.filter((s) => s.seen < booked).length,
    p50_ms: pick(0.5),
    p99_ms: pick(0.99),
    samples: latencies.length,
  }));
  process.exit(0);
}
