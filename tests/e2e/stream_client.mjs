// A streaming HTTP client for the end-to-end tests: POSTs one request and reports what a user's
// tool would see, event by event, with the time each event arrived. Node's built-ins only.
//
//   node stream_client.mjs URL BODY_FILE [HEADER: VALUE ...]
//
// Prints one JSON document: {"status", "headers", "complete", "raw", "events": [{"data",
// "at_ms", "latency_ms"}]}. at_ms counts from the request; latency_ms is arrival minus the
// mock upstream's x_mock_sent_ms stamp (x-mock-timestamps: 1), when the event has one. SSE is
// split by the standard's rules (LF, CRLF or CR line ends), so a proxy may use any of them.
import http from 'node:http';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

const [url, bodyFile, ...headerArgs] = process.argv.slice(2);
const headers = { 'content-type': 'application/json' };
for (const h of headerArgs) {
  const at = h.indexOf(':');
  headers[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim();
}
const body = fs.readFileSync(bodyFile);
const now = () => performance.timeOrigin + performance.now();
const started = now();
const events = [];
let raw = '';
let pending = '';

// Line ends become LF as they arrive. A CR that ends a read counts at once (it may end an
// event); a LF that starts the next read is then its CRLF's second half.
let skipLF = false;
function normalize(chunk) {
  if (skipLF && chunk.startsWith('\n')) chunk = chunk.slice(1);
  skipLF = chunk.endsWith('\r');
  return chunk.replace(/\r\n?/g, '\n');
}

function takeEvents(final) {
  for (;;) {
    let cut = pending.indexOf('\n\n');
    if (cut >= 0) cut += 2;
    else if (final && pending.length) cut = pending.length;
    else break;
    const lines = pending.slice(0, cut).split('\n');
    pending = pending.slice(cut);
    const dataLines = lines.filter((l) => l.startsWith('data:'));
    if (!dataLines.length) continue;
    const data = dataLines.map((l) => l.slice(l.startsWith('data: ') ? 6 : 5)).join('\n');
    const at = now();
    const e = { data, at_ms: at - started };
    try {
      const doc = JSON.parse(data);
      if (doc && typeof doc.x_mock_sent_ms === 'number') e.latency_ms = at - doc.x_mock_sent_ms;
    } catch { /* not JSON: [DONE] or an odd event */ }
    events.push(e);
  }
}

const req = http.request(url, { method: 'POST', headers }, (res) => {
  res.setEncoding('utf8');
  res.on('data', (chunk) => {
    raw += chunk;
    pending += normalize(chunk);
    takeEvents(false);
  });
  const done = (complete) => {
    takeEvents(true);
    // Exit once written: a large report on a pipe would be cut short by an exit right away.
    process.stdout.write(JSON.stringify({ status: res.statusCode, headers: res.headers, complete, raw, events }) + '\n',
      () => process.exit(0));
  };
  res.on('end', () => done(true));
  res.on('aborted', () => done(false));
  res.on('error', () => done(false));
});
req.on('error', (e) => {
  process.stdout.write(JSON.stringify({ status: 0, error: e.message, events: [] }) + '\n');
  process.exit(0);
});
req.setTimeout(30000, () => req.destroy(new Error('timeout')));
req.end(body);
