// Drives `x420 serve` with the official npm SDKs (`openai`, `@anthropic-ai/sdk`), the way an IDE
// tool would: base URL and API key from OPENAI_BASE_URL / OPENAI_API_KEY and ANTHROPIC_BASE_URL /
// ANTHROPIC_API_KEY. Used by sdk_test.sh.
//
//   SDK_NPM_DIR=<npm --prefix dir> PROMPT=<text> TOOL_PROMPT=<text> \
//     node sdk_client.mjs SCENARIO[+HEADER=VALUE...]...
//
// Runs the scenarios one after the other and prints one JSON line per scenario, in order:
// {"scenario":…,"ok":true,…results} or, when the SDK raised, {"scenario":…,"ok":false,
// "error":{class,status,is_*,type,message}}. A +HEADER=VALUE suffix sends that header with the
// scenario's requests (the SDKs' per-request `headers` option), e.g. openai-chat+x-mock-status=500.
// Exit code 0 whatever the SDKs did (the bash test asserts on the JSON); 2 for bad usage or when
// an SDK cannot be loaded.
import { createRequire } from 'node:module';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

function die(message) {
  process.stderr.write(`sdk_client: ${message}\n`);
  process.exit(2);
}

const npmDir = process.env.SDK_NPM_DIR;
if (!npmDir) die('set SDK_NPM_DIR to the npm --prefix directory holding node_modules');

// Loads a package installed under SDK_NPM_DIR. ESM ignores NODE_PATH, so the package's ESM entry
// is found from its package.json "exports" (or "module") and imported by file URL; when there is
// none, require() through createRequire (the SDKs ship CommonJS builds too).
async function loadPackage(name) {
  const pkgDir = join(npmDir, 'node_modules', ...name.split('/'));
  const pkgJson = join(pkgDir, 'package.json');
  if (!existsSync(pkgJson)) die(`${name} is not installed under ${npmDir}`);
  const pkg = JSON.parse(readFileSync(pkgJson, 'utf8'));
  const pick = (e) => {
    if (typeof e === 'string') return e;
    if (!e || typeof e !== 'object') return undefined;
    for (const cond of ['import', 'node', 'default']) {
      const r = pick(e[cond]);
      if (r) return r;
    }
    return undefined;
  };
  const root = pkg.exports && (typeof pkg.exports === 'string' ? pkg.exports : pkg.exports['.']);
  const entry = pick(root) ?? pkg.module;
  let mod;
  if (entry && existsSync(join(pkgDir, entry))) {
    mod = await import(pathToFileURL(join(pkgDir, entry)).href);
  } else {
    mod = createRequire(pkgJson)(pkgDir);
  }
  const cls = name === 'openai' ? 'OpenAI' : 'Anthropic';
  return { version: pkg.version, Client: mod[cls] ?? mod.default?.[cls] ?? mod.default ?? mod };
}

// Each SDK is loaded on first use only: loading one costs a few hundred milliseconds.
const sdks = {};
async function sdk(name) {
  sdks[name] ??= await loadPackage(name);
  return sdks[name];
}

const prompt = process.env.PROMPT ?? '';
const toolPrompt = process.env.TOOL_PROMPT ?? prompt;
const timeout = Number(process.env.SDK_TIMEOUT_MS ?? 15000);
const openaiModel = process.env.OPENAI_MODEL ?? 'gpt-4o-mini';
const embeddingModel = process.env.EMBEDDING_MODEL ?? 'text-embedding-3-small';
const anthropicModel = process.env.ANTHROPIC_MODEL ?? 'claude-mock-1';

// Base URL and key from the environment, like a tool would. No retries, so an error is reported
// at once and the same request is never sent twice.
const openai = async () => new (await sdk('openai')).Client({ maxRetries: 0, timeout });
const anthropic = async () => new (await sdk('@anthropic-ai/sdk')).Client({ maxRetries: 0, timeout });

const toolParameters = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] };
const chatTool = {
  type: 'function',
  function: { name: 'run_command', description: 'Run a shell command', parameters: toolParameters },
};
const user = (content) => [{ role: 'user', content }];
const messageText = (blocks) => blocks.filter((b) => b.type === 'text').map((b) => b.text).join('');
// The text of a Responses API response, from its output items (the SDK's `output_text`
// convenience property is not set on a streamed response's finalResponse()).
const responseText = (r) =>
  r.output.filter((o) => o.type === 'message')
    .flatMap((o) => o.content).filter((c) => c.type === 'output_text').map((c) => c.text).join('');

function toolResult(name, args, finish) {
  let parsed = null;
  let parses = false;
  try {
    parsed = JSON.parse(args);
    parses = true;
  } catch { /* reported as parses: false */ }
  return { name: name ?? null, arguments: args ?? null, parses, parsed, finish_reason: finish ?? null };
}

const scenarios = {
  async versions() {
    return {
      openai: (await sdk('openai')).version,
      anthropic: (await sdk('@anthropic-ai/sdk')).version,
      node: process.version,
    };
  },

  async 'openai-chat'(opts) {
    const { data: r, response } = await (await openai()).chat.completions.create(
      { model: openaiModel, messages: user(prompt) }, opts).withResponse();
    return { text: r.choices[0].message.content, finish_reason: r.choices[0].finish_reason, usage: r.usage,
             redactions: response.headers.get('x420-redactions') };
  },

  async 'openai-chat-stream'(opts) {
    const stream = await (await openai()).chat.completions.create(
      { model: openaiModel, stream: true, stream_options: { include_usage: true }, messages: user(prompt) }, opts);
    let text = '';
    let chunks = 0;
    let finish = null;
    let usage = null;
    for await (const chunk of stream) {
      chunks++;
      for (const c of chunk.choices ?? []) {
        text += c.delta?.content ?? '';
        if (c.finish_reason) finish = c.finish_reason;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    return { text, chunks, finish_reason: finish, usage };
  },

  // Streaming as most tools do it, without stream_options: OpenAI then sends no usage chunk,
  // and code like `chunk.choices[0].delta` relies on every chunk having a choice.
  async 'openai-chat-stream-plain'(opts) {
    const stream = await (await openai()).chat.completions.create(
      { model: openaiModel, stream: true, messages: user(prompt) }, opts);
    let text = '';
    let chunks = 0;
    let withoutChoices = 0;
    let withUsage = 0;
    for await (const chunk of stream) {
      chunks++;
      if (!chunk.choices?.length) withoutChoices++;
      if ('usage' in chunk) withUsage++;
      text += chunk.choices?.[0]?.delta?.content ?? '';
    }
    return { text, chunks, chunks_without_choices: withoutChoices, chunks_with_usage_key: withUsage };
  },

  async 'openai-chat-tools'(opts) {
    const r = await (await openai()).chat.completions.create(
      { model: openaiModel, tools: [chatTool], messages: user(toolPrompt) }, opts);
    const call = r.choices[0].message.tool_calls?.[0];
    return toolResult(call?.function?.name, call?.function?.arguments, r.choices[0].finish_reason);
  },

  async 'openai-chat-stream-tools'(opts) {
    const stream = await (await openai()).chat.completions.create(
      { model: openaiModel, stream: true, tools: [chatTool], messages: user(toolPrompt) }, opts);
    let name = null;
    let args = '';
    let deltas = 0;
    let finish = null;
    for await (const chunk of stream) {
      for (const c of chunk.choices ?? []) {
        for (const tc of c.delta?.tool_calls ?? []) {
          if (tc.index !== 0) continue;
          if (tc.function?.name) name = tc.function.name;
          if (tc.function?.arguments) {
            args += tc.function.arguments;
            deltas++;
          }
        }
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    return { ...toolResult(name, args, finish), deltas };
  },

  async 'openai-embeddings'(opts) {
    // The SDK asks for base64 by default and decodes it to floats.
    const r = await (await openai()).embeddings.create({ model: embeddingModel, input: prompt }, opts);
    return { count: r.data.length, embedding: r.data[0].embedding, usage: r.usage };
  },

  async 'openai-responses'(opts) {
    const r = await (await openai()).responses.create({ model: openaiModel, input: prompt }, opts);
    return { text: r.output_text, status: r.status, usage: r.usage };
  },

  async 'openai-responses-stream'(opts) {
    const stream = (await openai()).responses.stream({ model: openaiModel, input: prompt }, opts);
    let text = '';
    let doneText = null;
    const types = [];
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.output_text.done') doneText = ev.text;
    }
    const final = await stream.finalResponse();
    return { text, done_text: doneText, final_text: responseText(final), events: types.length,
             completed: types.includes('response.completed'), status: final.status, usage: final.usage };
  },

  async 'openai-responses-stream-tools'(opts) {
    const tool = { type: 'function', name: 'run_command', parameters: toolParameters, strict: false };
    const stream = (await openai()).responses.stream({ model: openaiModel, input: toolPrompt, tools: [tool] }, opts);
    let name = null;
    let args = '';
    let doneArgs = null;
    for await (const ev of stream) {
      if (ev.type === 'response.output_item.added' && ev.item.type === 'function_call') name = ev.item.name;
      if (ev.type === 'response.function_call_arguments.delta') args += ev.delta;
      if (ev.type === 'response.function_call_arguments.done') doneArgs = ev.arguments;
    }
    const final = await stream.finalResponse();
    const item = final.output.find((o) => o.type === 'function_call');
    return { ...toolResult(name, args, final.status), done_arguments: doneArgs,
             final_arguments: item?.arguments ?? null };
  },

  async 'openai-models'(opts) {
    const page = await (await openai()).models.list(opts);
    return { ids: page.data.map((m) => m.id) };
  },

  async 'anthropic-messages'(opts) {
    const { data: r, response } = await (await anthropic()).messages.create(
      { model: anthropicModel, max_tokens: 1024, messages: user(prompt) }, opts).withResponse();
    return { text: messageText(r.content), stop_reason: r.stop_reason, usage: r.usage,
             redactions: response.headers.get('x420-redactions') };
  },

  async 'anthropic-messages-stream'(opts) {
    const stream = (await anthropic()).messages.stream(
      { model: anthropicModel, max_tokens: 1024, messages: user(prompt) }, opts);
    let text = '';
    let deltas = 0;
    stream.on('text', (t) => {
      text += t;
      deltas++;
    });
    const final = await stream.finalMessage();
    return { text, deltas, final_text: messageText(final.content), stop_reason: final.stop_reason,
             usage: final.usage };
  },

  async 'anthropic-messages-stream-tools'(opts) {
    const tool = { name: 'run_command', description: 'Run a shell command', input_schema: toolParameters };
    const stream = await (await anthropic()).messages.create(
      { model: anthropicModel, max_tokens: 1024, stream: true, tools: [tool], messages: user(toolPrompt) }, opts);
    let name = null;
    let args = '';
    let stop = null;
    for await (const ev of stream) {
      if (ev.type === 'content_block_start' && ev.content_block.type === 'tool_use') name = ev.content_block.name;
      if (ev.type === 'content_block_delta' && ev.delta.type === 'input_json_delta') args += ev.delta.partial_json;
      if (ev.type === 'message_delta') stop = ev.delta.stop_reason;
    }
    return toolResult(name, args, stop);
  },

  async 'anthropic-count-tokens'(opts) {
    const r = await (await anthropic()).messages.countTokens(
      { model: anthropicModel, messages: user(prompt) }, opts);
    return { input_tokens: r.input_tokens };
  },
};

function describeError(e) {
  const loaded = Object.values(sdks).map((s) => s.Client);
  const is = (cls) => loaded.some((C) => C[cls] && e instanceof C[cls]);
  return {
    class: e?.constructor?.name ?? typeof e,
    status: e?.status ?? null,
    is_api_error: is('APIError'),
    is_authentication_error: is('AuthenticationError'),
    is_internal_server_error: is('InternalServerError'),
    is_connection_error: is('APIConnectionError'),
    // OpenAI: e.error is the body's "error" object; Anthropic: e.error is the whole body.
    type: e?.error?.error?.type ?? e?.error?.type ?? e?.type ?? null,
    message: String(e?.message ?? e),
  };
}

const args = process.argv.slice(2);
if (args.length === 0) die('usage: node sdk_client.mjs SCENARIO[+HEADER=VALUE...]...');
for (const arg of args) {
  const [name, ...headerArgs] = arg.split('+');
  if (!scenarios[name]) die(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(' ')}`);
  const headers = Object.fromEntries(headerArgs.map((h) => [h.slice(0, h.indexOf('=')), h.slice(h.indexOf('=') + 1)]));
  const opts = headerArgs.length ? { headers } : {};
  let result;
  try {
    result = { scenario: arg, ok: true, ...(await scenarios[name](opts)) };
  } catch (e) {
    result = { scenario: arg, ok: false, error: describeError(e) };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}
