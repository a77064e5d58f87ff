#!/usr/bin/env node
// A cheap streaming client for measuring the server's own cost per streamed token: the same requests as
// `./continuum bench --url` (src/main/java/dev/continuum/bench/HttpBench.java) and the same figures as its
// BenchResult (decode_tok_s: tokens that arrive after the last first token, over that span), but in one Node.js
// event loop with no JVM of its own beside the server, so on a small machine the client takes little of the
// cores the server is measured on. Node's built-in `http` only, no packages.
//
//   node bench/sse-client.mjs [--url http://localhost:8080] [--concurrency 16] [--prompt-tokens 128]
//                             [--gen-tokens 128] [--vocab 32000] [--rounds 1] [--no-warmup] [--no-logprobs]
//
// Prompts: seeded random token ids exactly as BenchCommand.prompts builds them (SplittableRandom(42), first id 1,
// then 3 + nextInt(vocab - 3)), so both clients send the same bodies. Requests ask for `logprobs: 0` as
// HttpBench does, which makes the server send one event per token even while UTF-8 bytes are held back;
// --no-logprobs drops it (the server then skips the log-sum-exp per token, but events may merge tokens, so the
// count is of events). One JSON line per round on stdout; the client's own CPU time is on stderr.
import http from 'node:http';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const flag = (name) => args.includes(name);
const base = new URL(opt('--url', 'http://localhost:8080'));
const concurrency = Number(opt('--concurrency', 16));
const promptTokens = Number(opt('--prompt-tokens', 128));
const genTokens = Number(opt('--gen-tokens', 128));
const vocab = Number(opt('--vocab', 32000));
const rounds = Number(opt('--rounds', 1));
const logprobs = !flag('--no-logprobs');

// java.util.SplittableRandom, for the same prompts as BenchCommand.
const M64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;
class SplittableRandom {
  constructor(seed) { this.seed = BigInt(seed) & M64; }
  nextSeed() { this.seed = (this.seed + GOLDEN_GAMMA) & M64; return this.seed; }
  static mix32(z) {
    z = ((z ^ (z >> 33n)) * 0x62a9d9ed799705f5n) & M64;
    const r = (((z ^ (z >> 28n)) * 0xcb24d0a5c88c35b3n) & M64) >> 32n;
    return Number(BigInt.asIntN(32, r));
  }
  nextInt(bound) {
    let r = SplittableRandom.mix32(this.nextSeed());
    const m = bound - 1;
    if ((bound & m) === 0) return r & m;
    for (let u = r >>> 1; u + m - (r = u % bound) > 0x7fffffff || u + m - r < 0;
         u = SplittableRandom.mix32(this.nextSeed()) >>> 1) {
      // Java's loop condition is an int overflow of u + m - r; in doubles that is a value above 2^31 - 1.
    }
    return r;
  }
}

function prompts(count) {
  const rnd = new SplittableRandom(42);
  const out = [];
  for (let c = 0; c < count; c++) {
    const p = new Array(promptTokens);
    p[0] = 1;
    for (let i = 1; i < promptTokens; i++) p[i] = 3 + rnd.nextInt(Math.max(1, vocab - 3));
    out.push(p);
  }
  return out;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

/** One streaming request; records each token event's arrival (ns since `start`) into `trace`. */
function stream(prompt, maxTokens, trace, start) {
  const body = JSON.stringify({ prompt, max_tokens: maxTokens, temperature: 0, ignore_eos: true, stream: true,
    ...(logprobs ? { logprobs: 0 } : {}) });
  return new Promise((resolve, reject) => {
    trace.submitted = process.hrtime.bigint() - start;
    const req = http.request({ agent, host: base.hostname, port: base.port || 80, path: '/v1/completions',
      method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
    (res) => {
      if (res.statusCode !== 200) {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => reject(new Error(`server answered ${res.statusCode}: ${text}`)));
        return;
      }
      res.setEncoding('utf8');
      let pending = '';
      res.on('data', (chunk) => {
        const now = process.hrtime.bigint() - start;
        pending += chunk;
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          // As HttpBench: every data event but the finishing one is a token.
          if (line.startsWith('data: {') && !line.includes('"finish_reason":"')) trace.times.push(now);
        }
      });
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** BenchResult.of: decode = tokens after the last first token over (end - lastFirst). */
function result(traces, end) {
  let lastFirst = 0n;
  const ttft = [];
  const itl = [];
  for (const t of traces) {
    if (t.times.length === 0) continue;
    ttft.push(Number(t.times[0] - t.submitted));
    if (t.times[0] > lastFirst) lastFirst = t.times[0];
    for (let k = 1; k < t.times.length; k++) itl.push(Number(t.times[k] - t.times[k - 1]));
  }
  let steady = 0;
  let tokens = 0;
  for (const t of traces) {
    tokens += t.times.length;
    for (const x of t.times) if (x > lastFirst) steady++;
  }
  const pct = (a, p) => {
    if (a.length === 0) return 0;
    const s = [...a].sort((x, y) => x - y);
    return s[Math.max(0, Math.min(s.length - 1, Math.ceil(p / 100 * s.length) - 1))] / 1e6;
  };
  const sec = (ns) => Number(ns) / 1e9;
  return {
    mode: 'http-node', concurrency: traces.length, prompt_tokens: promptTokens, gen_tokens: genTokens,
    logprobs, tokens,
    prefill_tok_s: +(traces.length * promptTokens / sec(lastFirst)).toFixed(1),
    decode_tok_s: +(end > lastFirst ? steady / sec(end - lastFirst) : 0).toFixed(1),
    ttft_ms_p50: +pct(ttft, 50).toFixed(1), ttft_ms_p99: +pct(ttft, 99).toFixed(1),
    itl_ms_p50: +pct(itl, 50).toFixed(2), itl_ms_p99: +pct(itl, 99).toFixed(2), wall_s: +sec(end).toFixed(2),
  };
}

async function run(n, ps, maxTokens) {
  const traces = [];
  const start = process.hrtime.bigint();
  const all = [];
  for (let i = 0; i < n; i++) {
    const trace = { submitted: 0n, times: [] };
    traces.push(trace);
    all.push(stream(ps[i % ps.length], maxTokens, trace, start));
  }
  await Promise.all(all);
  return result(traces, process.hrtime.bigint() - start);
}

const ps = prompts(concurrency);
if (!flag('--no-warmup')) await run(1, ps, Math.min(genTokens, 16));
for (let r = 0; r < rounds; r++) {
  const cpu0 = process.cpuUsage();
  const res = await run(concurrency, ps, genTokens);
  const cpu = process.cpuUsage(cpu0);
  res.client_cpu_s = +((cpu.user + cpu.system) / 1e6).toFixed(3);
  console.log(JSON.stringify(res));
}
agent.destroy();
