#!/usr/bin/env node
// Mock LLM upstream for x420's tests: speaks just enough of the OpenAI and Anthropic HTTP APIs
// for the proxy to forward to it, echoes the user's text back (so tests can check that
// placeholders are restored in replies, streaming ones included), and records every request it
// receives (so tests can check what left the proxy: redacted bodies, which upstream secret).
//
// No npm dependencies: only node's built-in modules, so it runs on Debian's nodejs (v18+) as is.
// See README.md beside this file for the full contract.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');
const { performance } = require('perf_hooks');
const zlib = require('zlib');

const USAGE = `usage: node server.js [--port N] [--host 127.0.0.1] [--record FILE]
                      [--max-seconds N] [--chunk-size N] [--tls-cert F --tls-key F]
Prints "listening <port>" on stdout once ready; see README.md.`;

const MAX_BODY_BYTES = 32 * 1024 * 1024; // a test never needs more; keeps memory bounded
const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'proxy-authorization'];
const EMBEDDING = [0.0625, -0.125, 0.25, -0.5]; // exact in float32, so base64 round-trips exactly
const BYTE_SPLIT_MAX = 64 * 1024; // x-mock-byte-split: bytes sent one per write; the rest per event
const DEEP_MAX = 1000000; // x-mock-deep: 2 MB of brackets, far past any parser's depth limit

// ---------------------------------------------------------------------------------------------
// Command line

function die(message, code = 2) {
  process.stderr.write(`mock upstream: ${message}\n`);
  process.exit(code);
}

function intArg(name, value, min, max) {
  if (!/^\d+$/.test(value)) die(`${name} wants an integer, got '${value}'`);
  const n = Number(value);
  if (n < min || n > max) die(`${name} must be between ${min} and ${max}`);
  return n;
}

function parseArgs(argv) {
  const opts = {
    port: 0, host: '127.0.0.1', record: null, maxSeconds: 600, chunkSize: 7,
    tlsCert: null, tlsKey: null,
  };
  const spec = {
    '--port': (v) => { opts.port = intArg('--port', v, 0, 65535); },
    '--host': (v) => { opts.host = v; },
    '--record': (v) => { opts.record = v; },
    '--max-seconds': (v) => {
      const n = Number(v);
      if (!(n > 0) || !Number.isFinite(n)) die(`--max-seconds wants a positive number, got '${v}'`);
      opts.maxSeconds = n;
    },
    '--chunk-size': (v) => { opts.chunkSize = intArg('--chunk-size', v, 1, 1 << 20); },
    '--tls-cert': (v) => { opts.tlsCert = v; },
    '--tls-key': (v) => { opts.tlsKey = v; },
  };
  for (let i = 0; i < argv.length; i++) {
    let name = argv[i];
    let value;
    if (name === '-h' || name === '--help') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    }
    const eq = name.indexOf('=');
    if (name.startsWith('--') && eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (!spec[name]) die(`unknown option '${name}'\n${USAGE}`);
    if (value === undefined) {
      if (i + 1 >= argv.length) die(`${name} needs a value`);
      value = argv[++i];
    }
    spec[name](value);
  }
  if (!isLoopback(opts.host)) {
    // A test double must never be reachable from outside the machine: it echoes whatever it gets.
    die(`refusing to bind '${opts.host}': only loopback addresses (127.0.0.0/8, ::1, localhost)`);
  }
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) die('--tls-cert and --tls-key go together');
  return opts;
}

function isLoopback(host) {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1') return true;
  return net.isIPv4(h) && h.startsWith('127.');
}

// ---------------------------------------------------------------------------------------------
// The record file: one JSON line per request, written synchronously before the reply starts, so
// a test that has its reply can read the line at once.

let recordFd = null;

function record(obj) {
  if (recordFd !== null) fs.writeSync(recordFd, JSON.stringify(obj) + '\n');
}

function sha256(s) {
  return crypto.createHash('sha256').update(s, 'utf8').digest('hex');
}

// Headers as received, minus credentials; those only as sha256 hex, so a test can tell which
// upstream secret arrived without the mock writing any secret to disk.
function recordedHeaders(headers) {
  const safe = {};
  const auth = {};
  for (const [name, value] of Object.entries(headers)) {
    if (CREDENTIAL_HEADERS.includes(name)) auth[name] = sha256(String(value));
    else safe[name] = value;
  }
  const primary = auth['authorization'] || auth['x-api-key'] || null;
  return { safe, auth, primary };
}

// ---------------------------------------------------------------------------------------------
// Text helpers shared by the routes

const nowSec = () => Math.floor(Date.now() / 1000);

// Token counts are a documented formula, not a tokenizer, so tests can compute them.
function tokens(s) {
  return Math.max(1, Math.ceil(Buffer.byteLength(s, 'utf8') / 4));
}

// Splits by code points, not UTF-16 units, so no chunk holds half a surrogate pair.
function pieces(s, size) {
  const cps = Array.from(s);
  const out = [];
  for (let i = 0; i < cps.length; i += size) out.push(cps.slice(i, i + size).join(''));
  return out;
}

// The text of one message's content: a string, or an array of parts whose text ones count
// (OpenAI "text", Responses "input_text", Anthropic "text" and the content of "tool_result").
function contentText(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts = [];
  for (const part of content) {
    if (!part || typeof part !== 'object') continue;
    if ((part.type === 'text' || part.type === 'input_text') && typeof part.text === 'string') {
      texts.push(part.text);
    } else if (part.type === 'tool_result') {
      texts.push(contentText(part.content));
    }
  }
  return texts.join('\n');
}

function lastUserText(messages) {
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m && m.role === 'user') return contentText(m.content);
  }
  return '';
}

function responsesInputText(input) {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  for (let i = input.length - 1; i >= 0; i--) {
    const item = input[i];
    if (item && item.role === 'user' && (item.type === undefined || item.type === 'message')) {
      return contentText(item.content);
    }
  }
  return '';
}

// /v1/completions and /v1/embeddings take a string or an array of them (or token ids).
function stringList(value) {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length && value.every((v) => typeof v === 'string')) return value;
  if (value === undefined || value === null) return [''];
  if (Array.isArray(value) && value.length && value.every(Array.isArray)) {
    return value.map((v) => JSON.stringify(v));
  }
  return [JSON.stringify(value)];
}

// A tool call is made when the caller offered tools and asked for one with the word CALLTOOL.
function toolName(tools, text) {
  if (!Array.isArray(tools) || tools.length === 0 || !text.includes('CALLTOOL')) return null;
  const t = tools[0] || {};
  return (t.function && t.function.name) || t.name || 'mock_tool';
}

function usageFor(ctx, promptText, completionText) {
  if (ctx.usageOverride) return ctx.usageOverride;
  return { prompt: tokens(promptText), completion: tokens(completionText) };
}

// ---------------------------------------------------------------------------------------------
// Replies: {status, headers, chunks: [string], sse}. Built whole, then written by send(), which
// is where delays and stalls apply, so every route gets the test controls for free.

function jsonReply(status, obj, headers = {}) {
  return {
    status, sse: false, chunks: [JSON.stringify(obj)],
    headers: Object.assign({ 'content-type': 'application/json' }, headers),
  };
}

function sseReply(events) {
  return {
    status: 200, sse: true, chunks: events,
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
  };
}

const sseData = (obj) => `data: ${JSON.stringify(obj)}\n\n`;
const sseEvent = (name, obj) => `event: ${name}\ndata: ${JSON.stringify(obj)}\n\n`;

function openaiErrorType(status) {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_exceeded';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function anthropicErrorType(status) {
  return {
    400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error',
    404: 'not_found_error', 413: 'request_too_large', 429: 'rate_limit_error',
    529: 'overloaded_error',
  }[status] || (status >= 500 ? 'api_error' : 'invalid_request_error');
}

function errorReply(shape, status, message) {
  const headers = status === 429 || status === 503 || status === 529 ? { 'retry-after': '1' } : {};
  if (shape === 'anthropic') {
    return jsonReply(status, { type: 'error', error: { type: anthropicErrorType(status), message } }, headers);
  }
  return jsonReply(status, {
    error: { message, type: openaiErrorType(status), param: null, code: null },
  }, headers);
}

// ---------------------------------------------------------------------------------------------
// OpenAI routes

function chatCompletions(ctx) {
  const b = ctx.body;
  const text = lastUserText(b.messages);
  const model = b.model || 'mock-model';
  const id = `chatcmpl-mock-${ctx.id}`;
  const callId = `call_mock_${ctx.id}`;
  const created = nowSec();
  const tool = toolName(b.tools, text);
  const args = tool ? JSON.stringify({ text }) : null;
  const u = usageFor(ctx, text, tool ? args : text);
  const usage = { prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.prompt + u.completion };
  const finish = tool ? 'tool_calls' : 'stop';

  if (b.stream !== true) {
    const message = tool
      ? { role: 'assistant', content: null,
          tool_calls: [{ id: callId, type: 'function', function: { name: tool, arguments: args } }] }
      : { role: 'assistant', content: text };
    return jsonReply(200, {
      id, object: 'chat.completion', created, model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage,
    });
  }

  // Like OpenAI: with include_usage every chunk carries "usage": null and one last chunk with
  // no choices carries the numbers.
  const includeUsage = Boolean(b.stream_options && b.stream_options.include_usage === true);
  const chunk = (delta, finishReason = null) => sseData(Object.assign(
    { id, object: 'chat.completion.chunk', created, model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] },
    includeUsage ? { usage: null } : {}));
  const deltas = [];
  if (tool) {
    deltas.push({ role: 'assistant', content: null,
      tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: tool, arguments: '' } }] });
    for (const p of pieces(args, ctx.chunkSize)) deltas.push({ tool_calls: [{ index: 0, function: { arguments: p } }] });
  } else {
    deltas.push({ role: 'assistant', content: '' });
    for (const p of pieces(text, ctx.chunkSize)) deltas.push({ content: p });
  }
  // The finish chunk follows the last piece at once. Some providers put finish_reason in the
  // chunk with the last piece instead, so a proxy must not wait for an empty delta to flush.
  if (!ctx.finishInLastDelta) deltas.push({});
  const events = deltas.map((d, i) => chunk(d, i === deltas.length - 1 ? finish : null));
  if (includeUsage) {
    events.push(sseData({ id, object: 'chat.completion.chunk', created, model, choices: [], usage }));
  }
  events.push('data: [DONE]\n\n');
  return sseReply(events);
}

function completions(ctx) {
  const b = ctx.body;
  const prompts = stringList(b.prompt);
  const model = b.model || 'mock-model';
  const id = `cmpl-mock-${ctx.id}`;
  const created = nowSec();
  const all = prompts.join('');
  const u = usageFor(ctx, all, all);
  const usage = { prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.prompt + u.completion };

  if (b.stream !== true) {
    return jsonReply(200, {
      id, object: 'text_completion', created, model,
      choices: prompts.map((p, i) => ({ text: p, index: i, logprobs: null, finish_reason: 'stop' })),
      usage,
    });
  }
  const includeUsage = Boolean(b.stream_options && b.stream_options.include_usage === true);
  const chunk = (text, index, finishReason = null) => sseData(Object.assign(
    { id, object: 'text_completion', created, model,
      choices: [{ text, index, logprobs: null, finish_reason: finishReason }] },
    includeUsage ? { usage: null } : {}));
  const events = [];
  prompts.forEach((p, i) => {
    for (const piece of pieces(p, ctx.chunkSize)) events.push(chunk(piece, i));
    events.push(chunk('', i, 'stop'));
  });
  if (includeUsage) events.push(sseData({ id, object: 'text_completion', created, model, choices: [], usage }));
  events.push('data: [DONE]\n\n');
  return sseReply(events);
}

function embeddings(ctx) {
  const b = ctx.body;
  const inputs = stringList(b.input);
  const u = usageFor(ctx, inputs.join(''), '');
  // The openai SDKs ask for base64 by default and decode it: little-endian float32.
  const base64 = b.encoding_format === 'base64';
  const vector = base64 ? Buffer.from(new Float32Array(EMBEDDING).buffer).toString('base64') : EMBEDDING;
  return jsonReply(200, {
    object: 'list',
    data: inputs.map((_, i) => ({ object: 'embedding', index: i, embedding: vector })),
    model: b.model || 'mock-embedding',
    usage: { prompt_tokens: u.prompt, total_tokens: u.prompt },
  });
}

function responses(ctx) {
  const b = ctx.body;
  const text = responsesInputText(b.input);
  const model = b.model || 'mock-model';
  const respId = `resp_mock_${ctx.id}`;
  const itemId = `msg_mock_${ctx.id}`;
  const created = nowSec();
  const tool = toolName(b.tools, text);
  const args = tool ? JSON.stringify({ text }) : null;
  const u = usageFor(ctx, text, tool ? args : text);
  const usage = {
    input_tokens: u.prompt, input_tokens_details: { cached_tokens: 0 },
    output_tokens: u.completion, output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.prompt + u.completion,
  };
  const response = (status, output, withUsage) => ({
    id: respId, object: 'response', created_at: created, status, model, output,
    error: null, incomplete_details: null, instructions: b.instructions === undefined ? null : b.instructions,
    usage: withUsage ? usage : null,
  });
  const fcId = `fc_mock_${ctx.id}`;
  const callId = `call_mock_${ctx.id}`;
  const item = tool
    ? { type: 'function_call', id: fcId, call_id: callId, name: tool, arguments: args, status: 'completed' }
    : { type: 'message', id: itemId, status: 'completed', role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [] }] };

  if (b.stream !== true) return jsonReply(200, response('completed', [item], true));

  // The real event sequence, each with its type and a sequence_number; no [DONE] in this API.
  let seq = 0;
  const ev = (type, obj) => sseEvent(type, Object.assign({ type, sequence_number: seq++ }, obj));
  const events = [
    ev('response.created', { response: response('in_progress', [], false) }),
    ev('response.in_progress', { response: response('in_progress', [], false) }),
  ];
  if (tool) {
    events.push(ev('response.output_item.added',
      { output_index: 0, item: Object.assign({}, item, { arguments: '', status: 'in_progress' }) }));
    for (const p of pieces(args, ctx.chunkSize)) {
      events.push(ev('response.function_call_arguments.delta', { item_id: fcId, output_index: 0, delta: p }));
    }
    events.push(ev('response.function_call_arguments.done', { item_id: fcId, output_index: 0, arguments: args }));
  } else {
    const where = { item_id: itemId, output_index: 0, content_index: 0 };
    events.push(ev('response.output_item.added', { output_index: 0,
      item: { type: 'message', id: itemId, status: 'in_progress', role: 'assistant', content: [] } }));
    events.push(ev('response.content_part.added',
      Object.assign({}, where, { part: { type: 'output_text', text: '', annotations: [] } })));
    for (const p of pieces(text, ctx.chunkSize)) {
      events.push(ev('response.output_text.delta', Object.assign({}, where, { delta: p })));
    }
    events.push(ev('response.output_text.done', Object.assign({}, where, { text })));
    events.push(ev('response.content_part.done',
      Object.assign({}, where, { part: { type: 'output_text', text, annotations: [] } })));
  }
  events.push(ev('response.output_item.done', { output_index: 0, item }));
  events.push(ev('response.completed', { response: response('completed', [item], true) }));
  return sseReply(events);
}

const MODELS = [
  { id: 'mock-gpt', display: 'Mock GPT' },
  { id: 'mock-claude', display: 'Mock Claude' },
  { id: 'mock-embedding', display: 'Mock Embedding' },
];

// One path, two shapes: Anthropic clients send anthropic-version, OpenAI ones don't.
function models(ctx) {
  if (ctx.headers['anthropic-version'] !== undefined) {
    const data = MODELS.map((m) => ({
      type: 'model', id: m.id, display_name: m.display, created_at: '2025-01-01T00:00:00Z',
    }));
    return jsonReply(200, { data, has_more: false, first_id: data[0].id, last_id: data[data.length - 1].id });
  }
  return jsonReply(200, {
    object: 'list',
    data: MODELS.map((m) => ({ id: m.id, object: 'model', created: 1735689600, owned_by: 'mock' })),
  });
}

// ---------------------------------------------------------------------------------------------
// Anthropic routes

function messages(ctx) {
  const b = ctx.body;
  const text = lastUserText(b.messages);
  const model = b.model || 'mock-model';
  const id = `msg_mock_${ctx.id}`;
  const tool = toolName(b.tools, text);
  const input = { text };
  const args = tool ? JSON.stringify(input) : null;
  const u = usageFor(ctx, text, tool ? args : text);
  const stopReason = tool ? 'tool_use' : 'end_turn';
  const toolUseId = `toolu_mock_${ctx.id}`;

  if (b.stream !== true) {
    const content = tool ? [{ type: 'tool_use', id: toolUseId, name: tool, input }] : [{ type: 'text', text }];
    return jsonReply(200, {
      id, type: 'message', role: 'assistant', model, content,
      stop_reason: stopReason, stop_sequence: null,
      usage: { input_tokens: u.prompt, output_tokens: u.completion },
    });
  }

  // As the real API: input tokens come in message_start, output tokens in message_delta, and a
  // ping may come anywhere, so a proxy must take usage from both and pass unknown events on.
  const events = [
    sseEvent('message_start', { type: 'message_start', message: {
      id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null,
      usage: { input_tokens: u.prompt, output_tokens: 1 } } }),
    sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: tool
      ? { type: 'tool_use', id: toolUseId, name: tool, input: {} }
      : { type: 'text', text: '' } }),
    sseEvent('ping', { type: 'ping' }),
  ];
  for (const p of pieces(tool ? args : text, ctx.chunkSize)) {
    events.push(sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: tool
      ? { type: 'input_json_delta', partial_json: p }
      : { type: 'text_delta', text: p } }));
  }
  events.push(sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }));
  events.push(sseEvent('message_delta', { type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: u.completion } }));
  events.push(sseEvent('message_stop', { type: 'message_stop' }));
  return sseReply(events);
}

function countTokens(ctx) {
  const u = usageFor(ctx, lastUserText(ctx.body.messages), '');
  return jsonReply(200, { input_tokens: u.prompt });
}

// ---------------------------------------------------------------------------------------------
// Routing. `text` gives the prompt text an x-mock-status error echoes, per route.

const ROUTES = {
  '/v1/chat/completions': { method: 'POST', shape: 'openai', handle: chatCompletions,
    text: (b) => lastUserText(b.messages) },
  '/v1/completions': { method: 'POST', shape: 'openai', handle: completions,
    text: (b) => stringList(b.prompt).join('\n') },
  '/v1/embeddings': { method: 'POST', shape: 'openai', handle: embeddings,
    text: (b) => stringList(b.input).join('\n') },
  '/v1/responses': { method: 'POST', shape: 'openai', handle: responses,
    text: (b) => responsesInputText(b.input) },
  '/v1/models': { method: 'GET', shape: 'openai', handle: models, text: () => '' },
  '/v1/messages': { method: 'POST', shape: 'anthropic', handle: messages,
    text: (b) => lastUserText(b.messages) },
  '/v1/messages/count_tokens': { method: 'POST', shape: 'anthropic', handle: countTokens,
    text: (b) => lastUserText(b.messages) },
};

function shapeOf(path, headers) {
  if (path.startsWith('/v1/messages') || headers['anthropic-version'] !== undefined) return 'anthropic';
  return 'openai';
}

// The x-mock-* request headers; malformed values are ignored rather than guessed at.
function controls(headers, opts) {
  const int = (name) => {
    const v = headers[name];
    return typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : null;
  };
  const flag = (name) => ['1', 'true', 'yes'].includes(String(headers[name] || '').trim().toLowerCase());
  const status = int('x-mock-status');
  const usage = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(headers['x-mock-usage'] || '');
  const chunkSize = int('x-mock-chunk-size');
  const deep = int('x-mock-deep');
  const eol = { lf: '\n', crlf: '\r\n', cr: '\r' }[String(headers['x-mock-line-ends'] || '').trim().toLowerCase()];
  return {
    status: status !== null && status >= 200 && status <= 599 ? status : null,
    delayMs: int('x-mock-delay-ms') || 0,
    stallAfter: int('x-mock-stall-after-bytes'),
    drop: flag('x-mock-drop'),
    chunkDelayMs: int('x-mock-chunk-delay-ms') || 0,
    chunkSize: chunkSize && chunkSize > 0 ? chunkSize : opts.chunkSize,
    usageOverride: usage ? { prompt: Number(usage[1]), completion: Number(usage[2]) } : null,
    timestamps: flag('x-mock-timestamps'),
    keepalive: flag('x-mock-keepalive'),
    eol: eol || '\n',
    closeAfter: int('x-mock-close-after-events'),
    byteSplit: flag('x-mock-byte-split'),
    gzip: flag('x-mock-gzip'),
    deep: deep !== null && deep >= 1 && deep <= DEEP_MAX ? deep : 0,
    odd: flag('x-mock-odd'),
    finishInLastDelta: flag('x-mock-finish-in-last-delta'),
  };
}

// Decides the reply for one complete request; no I/O here.
function reply(state, ctl, method, path, headers, rawBody) {
  const route = ROUTES[path];
  const shape = route ? route.shape : shapeOf(path, headers);
  let body = {};
  let parseError = null;
  if (method === 'POST') {
    try {
      body = JSON.parse(rawBody);
      if (!body || typeof body !== 'object' || Array.isArray(body)) parseError = 'body is not a JSON object';
    } catch (e) {
      parseError = `body is not valid JSON: ${e.message}`;
    }
    if (parseError) body = {};
  }

  // Before validation, like a provider that fails whatever it is sent: the message echoes the
  // prompt, as real providers' errors do, so the proxy's redaction of error bodies is tested.
  if (ctl.status !== null && ctl.status >= 400) {
    const echo = route ? route.text(body) : '';
    return errorReply(shape, ctl.status, `mock upstream error ${ctl.status}: ${echo}`);
  }
  if (!route) return errorReply(shape, 404, `mock upstream: no route for ${method} ${path}`);
  if (method !== route.method) return errorReply(shape, 405, `mock upstream: ${path} wants ${route.method}`);
  if (parseError) return errorReply(shape, 400, `mock upstream: ${parseError}`);
  const r = route.handle({ id: state.id, body, headers, chunkSize: ctl.chunkSize, usageOverride: ctl.usageOverride,
    finishInLastDelta: ctl.finishInLastDelta });
  if (ctl.status !== null) r.status = ctl.status; // a 2xx override keeps the normal body
  return r;
}

// ---------------------------------------------------------------------------------------------
// Provider quirks: controls that change the bytes of a reply rather than what it says, so the
// proxy's stream handling meets what real upstreams send.

// Events of shapes a client does not expect, which a proxy must pass on without choking: wrong
// types, non-objects, non-JSON, an event with no data, and the SSE fields id and retry.
const ODD_EVENTS = [
  'data: {"type": 7}\n\n',
  'data: {"choices": "nope"}\n\n',
  'data: {"choices": [1, null, "x"]}\n\n',
  'data: {"type":"content_block_delta","index":"zero","delta":5}\n\n',
  'data: [1,2,3]\n\n',
  'data: "just a string"\n\n',
  'data: not json at all\n\n',
  'event: mystery\n\n',
  'id: mock-odd-1\nretry: 3000\ndata: {"type":"mock_odd"}\n\n',
];
const PING = ': ping\n\n';

// N nested arrays as text: JSON.stringify of a value that deep would overflow the stack.
const deepJson = (n) => '['.repeat(n) + ']'.repeat(n);

// Adds a member to the text of a JSON object without parsing it (it may be the deep one).
function addMember(objText, name, valueText) {
  const member = `${JSON.stringify(name)}:${valueText}`;
  return /^\{\s*\}$/.test(objText) ? `{${member}}` : `${objText.slice(0, -1)},${member}}`;
}

// Sub-millisecond wall clock, comparable with Date.now() in another process on this machine.
const sentMs = () => (performance.timeOrigin + performance.now()).toFixed(3);

// Stamps every JSON-object data line of one event with the time it is being written, so a client
// can measure per-event latency through the proxy. Other data ([DONE], odd events) stays as is.
function stamp(text) {
  if (!text.includes('data: {')) return text;
  const at = sentMs();
  return text.split('\n').map((line) => (line.startsWith('data: {') && line.endsWith('}')
    ? `data: ${addMember(line.slice(6), 'x_mock_sent_ms', at)}` : line)).join('\n');
}

// The SSE reply as the writes it becomes: [{text, event, gapMs}]. The extra events come first
// (deep, then odd), pings go before each event, and x-mock-close-after-events cuts the list.
// The chunk delay separates events; a ping sits halfway, as a keep-alive does in a slow stream.
function sseItems(events, ctl) {
  let all = [];
  if (ctl.deep) all.push(`data: {"type":"deep","x":${deepJson(ctl.deep)}}\n\n`);
  if (ctl.odd) all = all.concat(ODD_EVENTS);
  all = all.concat(events);
  if (ctl.closeAfter !== null) all = all.slice(0, ctl.closeAfter);
  const items = [];
  all.forEach((text, i) => {
    const gap = i === 0 ? 0 : ctl.chunkDelayMs;
    if (ctl.keepalive) items.push({ text: PING, event: false, gapMs: Math.floor(gap / 2) });
    items.push({ text, event: true, gapMs: ctl.keepalive ? gap - Math.floor(gap / 2) : gap });
  });
  return items;
}

// What send() writes: units [{render() -> Buffer, gapMs}], rendered only when their turn comes
// so the timestamps are those of the write; `events` is how many SSE events they hold.
function plan(r, ctl) {
  let units;
  let events = 0;
  if (r.sse) {
    const eol = (t) => (ctl.eol === '\n' ? t : t.replace(/\n/g, ctl.eol));
    const items = sseItems(r.chunks, ctl);
    events = items.filter((it) => it.event).length;
    units = items.map((it) => ({
      gapMs: it.gapMs, render: () => Buffer.from(eol(ctl.timestamps ? stamp(it.text) : it.text), 'utf8'),
    }));
  } else {
    units = r.chunks.map((c) => {
      const text = ctl.deep && c.startsWith('{') ? addMember(c, 'x_mock_deep', deepJson(ctl.deep)) : c;
      const buf = Buffer.from(text, 'utf8');
      return { gapMs: 0, render: () => buf };
    });
  }
  // A misbehaving upstream compresses whatever the client accepts; a stream becomes one body.
  if (ctl.gzip) {
    const buf = zlib.gzipSync(Buffer.concat(units.map((u) => u.render())));
    units = [{ gapMs: 0, render: () => buf }];
  }
  return { units, events, abort: r.sse && ctl.closeAfter !== null };
}

// Writes the units in order, each in its own res.write: node corks a response until the next
// tick, so a gap (timer or setImmediate) between writes is what makes them separate segments.
// With x-mock-byte-split the first BYTE_SPLIT_MAX bytes go one per write, which splits events
// at every byte yet keeps a long stream within seconds.
function writeUnits(res, state, units, ctl, done) {
  let i = 0;
  let cur = null; // {buf, off}: the unit being written
  let waited = false;
  let perByte = ctl.byteSplit ? BYTE_SPLIT_MAX : 0;
  const out = (b) => {
    res.write(b);
    state.bytesSent += b.length;
  };
  const next = () => {
    if (state.closed) return;
    for (;;) {
      if (!cur) {
        if (i === units.length) return done();
        if (units[i].gapMs > 0 && !waited) {
          waited = true;
          state.timer = setTimeout(next, units[i].gapMs);
          return;
        }
        waited = false;
        cur = { buf: units[i].render(), off: 0 };
      }
      if (perByte > 0 && cur.off < cur.buf.length) {
        out(cur.buf.subarray(cur.off, cur.off + 1));
        perByte--;
        if (++cur.off === cur.buf.length) {
          cur = null;
          i++;
        }
        state.immediate = setImmediate(next);
        return;
      }
      if (cur.off < cur.buf.length) out(cur.buf.subarray(cur.off));
      cur = null;
      i++;
    }
  };
  next();
}

// x-mock-close-after-events: the connection goes once the events written so far are flushed,
// without the zero-length chunk that ends a chunked body, as when a provider's server dies.
function closeMidStream(res, state, events) {
  state.dropped = true; // our own close: no client_closed line
  record({ event: 'mid_stream_close', id: state.id, events_sent: events, path: state.path,
    bytes_sent: state.bytesSent, at: new Date().toISOString() });
  const sock = res.socket;
  res.flushHeaders(); // the status line goes out even after 0 events
  sock.once('finish', () => sock.destroy());
  sock.end(); // ends after the pending writes, so none of them is lost
}

// Writes a reply with the test controls: delay before the first byte, an optional pause between
// chunks, a stall after N body bytes that never ends the response, or a close mid-stream.
function send(res, state, r, ctl) {
  const p = plan(r, ctl);
  const headers = Object.assign({ 'x-mock-request-id': String(state.id) }, r.headers);
  if (ctl.gzip) headers['content-encoding'] = 'gzip';
  if (!r.sse) headers['content-length'] = String(p.units.reduce((n, u) => n + u.render().length, 0));

  const start = () => {
    if (state.closed) return;
    // Each event must reach the proxy as soon as it is written, not when Nagle lets it go.
    if (r.sse && res.socket) res.socket.setNoDelay(true);
    res.writeHead(r.status, headers);
    if (ctl.stallAfter !== null) {
      let budget = ctl.stallAfter;
      for (const b of p.units.map((u) => u.render())) {
        if (budget === 0) break;
        const part = b.length > budget ? b.subarray(0, budget) : b;
        res.write(part);
        state.bytesSent += part.length;
        budget -= part.length;
      }
      // Headers go out even when N is 0; then nothing more until the client goes away.
      res.flushHeaders();
      return;
    }
    writeUnits(res, state, p.units, ctl, () => {
      if (p.abort) closeMidStream(res, state, p.events);
      else res.end();
    });
  };
  if (ctl.delayMs > 0) state.timer = setTimeout(start, ctl.delayMs);
  else start();
}

function handle(opts, nextId) {
  return (req, res) => {
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    const query = q < 0 ? '' : req.url.slice(q + 1);
    const state = { id: nextId(), path, closed: false, dropped: false, timer: null, immediate: null, bytesSent: 0 };

    // 'close' on the response also fires when the client goes away first; then the response
    // has not finished, and the second log line tells the test that the disconnect reached us.
    res.on('close', () => {
      state.closed = true;
      clearTimeout(state.timer);
      clearImmediate(state.immediate);
      if (!res.writableFinished && !state.dropped) {
        record({ event: 'client_closed', client_closed: true, id: state.id, path,
          bytes_sent: state.bytesSent, at: new Date().toISOString() });
      }
    });

    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const { safe, auth, primary } = recordedHeaders(req.headers);
      record({
        id: state.id, method: req.method, path, query, headers: safe,
        // the client's port: the same one on two requests means a reused connection
        conn: req.socket.remotePort,
        auth_sha256: primary, auth, body: rawBody, received_at: new Date().toISOString(),
      });
      if (state.closed) return;
      const ctl = controls(req.headers, opts);
      if (ctl.drop) {
        // No status line, no headers: the proxy sees a connection reset / empty reply.
        state.dropped = true;
        const drop = () => req.socket.destroy();
        if (ctl.delayMs > 0) state.timer = setTimeout(drop, ctl.delayMs);
        else drop();
        return;
      }
      if (size > MAX_BODY_BYTES) {
        send(res, state, errorReply(shapeOf(path, req.headers), 413, 'mock upstream: body too large'), ctl);
        return;
      }
      send(res, state, reply(state, ctl, req.method, path, req.headers, rawBody), ctl);
    });
  };
}

// ---------------------------------------------------------------------------------------------

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.record) {
    try {
      recordFd = fs.openSync(opts.record, 'a', 0o600);
    } catch (e) {
      die(`cannot open --record file: ${e.message}`);
    }
  }

  let counter = 0;
  const handler = handle(opts, () => ++counter);
  let server;
  if (opts.tlsCert) {
    let tls;
    try {
      tls = { cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) };
    } catch (e) {
      die(`cannot read TLS files: ${e.message}`);
    }
    server = https.createServer(tls, handler);
  } else {
    server = http.createServer(handler);
  }

  const shutdown = (why) => {
    // Stalled streams would keep close() waiting forever; the record is written synchronously,
    // so there is nothing to flush and the process can simply go.
    if (why) process.stderr.write(`mock upstream: ${why}, exiting\n`);
    if (typeof server.closeAllConnections === 'function') server.closeAllConnections();
    server.close();
    if (recordFd !== null) fs.closeSync(recordFd);
    process.exit(0);
  };
  process.on('SIGTERM', () => shutdown(null));
  process.on('SIGINT', () => shutdown(null));
  // A crashed test never leaves the mock running for long.
  setTimeout(() => shutdown(`--max-seconds ${opts.maxSeconds} reached`),
    Math.min(opts.maxSeconds * 1000, 2 ** 31 - 1));

  server.on('error', (e) => die(`cannot listen on ${opts.host}:${opts.port}: ${e.message}`, 1));
  process.stdout.on('error', () => {}); // a reader that took its one line and left is fine
  server.listen(opts.port, opts.host, () => {
    process.stdout.write(`listening ${server.address().port}\n`);
  });
}

main();
