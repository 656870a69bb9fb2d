// Searches what the mock upstream recorded for secrets, everywhere a provider could read them:
// the raw record line, path, query, header names and values, the body's bytes, every string of
// the body decoded (keys too) at every level of JSON inside JSON strings, and every base64
// payload (plain or in a data: URL) decoded.
//
//   node leak_check.mjs RECORD.jsonl SECRET...   prints one line per leak; exit 1 when there is one
import { readFileSync } from 'node:fs';

const [record, ...secrets] = process.argv.slice(2);
if (!record || secrets.length === 0) {
  console.error('usage: leak_check.mjs RECORD.jsonl SECRET...');
  process.exit(2);
}

function decodedBase64(s) {
  const payload = s.startsWith('data:') && s.includes(';base64,') ? s.slice(s.indexOf(';base64,') + 8) : s;
  const compact = payload.replace(/[\r\n ]/g, '');
  if (compact.length < 8 || !/^[A-Za-z0-9+/_-]+=*$/.test(compact)) return null;
  return Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1');
}

// Every text a reader of `value` could get at, each with where it was found.
function texts(value, where, out, depth = 0) {
  if (typeof value === 'string') {
    out.push([where, value]);
    const b = decodedBase64(value);
    if (b !== null) out.push([where + ' (base64)', b]);
    if (depth < 6 && /^\s*[[{]/.test(value)) {
      try { texts(JSON.parse(value), where + ' (JSON)', out, depth + 1); } catch { /* text */ }
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => texts(v, `${where}[${i}]`, out, depth));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push([`${where}.${k} (key)`, k]);
      texts(v, `${where}.${k}`, out, depth);
    }
  }
}

let leaks = 0;
for (const line of readFileSync(record, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const r = JSON.parse(line);
  if (r.method === undefined) continue;  // an event line (client_closed …), not a request
  const found = [['record line', line], ['path', r.path ?? ''], ['query', r.query ?? ''],
                 ['body bytes', r.body ?? '']];
  try { found.push(['query (decoded)', decodeURIComponent(r.query ?? '')]); } catch { /* kept raw */ }
  for (const [name, value] of Object.entries(r.headers ?? {})) found.push([`header ${name}`, `${name}: ${value}`]);
  try { texts(JSON.parse(r.body ?? ''), 'body', found); } catch { /* not JSON: the bytes were searched */ }
  // What a model would read: invisible characters, colour codes and percent-encoding undone.
  const readable = (t) => {
    let r = t.replace(/[\u00AD\u200B-\u200F\u2060-\u2064\uFEFF]/g, '').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    try { r = decodeURIComponent(r); } catch { /* kept */ }
    return r;
  };
  for (const [where, text] of found)
    for (const secret of secrets)
      if (text.includes(secret) || readable(text).includes(secret)) {
        // Never the secret itself: its first four characters and where it was.
        console.log(`request ${r.id} ${r.method} ${r.path}: ${secret.slice(0, 4)}… in ${where}`);
        leaks += 1;
      }
}
process.exit(leaks ? 1 : 0);
