// The overview page over a slow network: bytes transferred and time to interactive, first
// visit (empty browser cache) and repeat visit (warm cache), in headless Chromium with the
// network throttled to 10 Mbit/s both ways and 40 ms round trips (CDP
// Network.emulateNetworkConditions).
//
// Time to interactive, as measured here: from the start of the navigation until the page
// has fired its load event AND the WebAssembly client has hydrated it (the App sets
// `data-hydrated="true"` on <body> from an effect, which runs only once hydration is done
// and the page answers input). The later of the two, read from the page's own clock.
// Bytes: the sum of CDP's encodedDataLength (bytes on the wire, headers included) over
// every request of the visit; a file taken from the browser cache counts nothing.
// Each figure is the median of RUNS visits (default 5), each first visit in a new browser
// context, each repeat visit a second navigation in that context.
//
// Usage (a release build, as scripts/run.sh makes it):
//   cargo leptos build --release && node scripts/precompress.mjs target/site
//   node bench/page_load.mjs
// starts target/release/scorewatch (SCOREWATCH_BIN to choose another binary,
// LEPTOS_SITE_ROOT another site) on a free port with a throwaway data directory
// (SCOREWATCH_DATA_DIR, default target/bench-page-load/data) and no dashboard sign-in, and
// stops it at the end. Or point BASE_URL at a running server (signed-in pages excepted).
// ACCEPT_ENCODING=identity makes the browser ask for every file uncompressed (what a server
// without compressed copies sends).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { launch } from '../end2end/tests/helpers.mjs';

const RUNS = Number(process.env.RUNS ?? 5);
const NETWORK = {
  offline: false,
  latency: 40, // ms added to each round trip
  downloadThroughput: (10e6 / 8), // bytes per second
  uploadThroughput: (10e6 / 8),
};

async function startServer() {
  const bin = process.env.SCOREWATCH_BIN ?? 'target/release/scorewatch';
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: cargo leptos build --release`);
  const dataDir = process.env.SCOREWATCH_DATA_DIR ?? 'target/bench-page-load/data';
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  const env = { ...process.env, SCOREWATCH_DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  env.LEPTOS_SITE_ROOT ??= 'target/site';
  const child = spawn(
    bin,
    ['serve', '--addr', '127.0.0.1:0', '--no-backup', '--no-drift-schedule', '--dashboard-sign-in', 'never'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no server after 300 s:\n${out}`)), 300_000);
    const read = (chunk) => {
      out += chunk;
      const m = out.match(/^scorewatch is serving on (\S+)/m);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => reject(new Error(`server exited (${code}):\n${out}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

// One visit to `url` in `page`: bytes on the wire, time to interactive, and what came how.
async function visit(page, url) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', NETWORK);
  if (process.env.ACCEPT_ENCODING) {
    await cdp.send('Network.setExtraHTTPHeaders', { headers: { 'Accept-Encoding': process.env.ACCEPT_ENCODING } });
  }
  const requests = new Map();
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    requests.set(requestId, {
      url: response.url,
      status: response.status,
      encoding: response.headers['content-encoding'] ?? response.headers['Content-Encoding'] ?? '',
      cached: response.fromDiskCache || response.fromPrefetchCache || false,
      bytes: 0,
    });
  });
  cdp.on('Network.requestServedFromCache', ({ requestId }) => {
    const r = requests.get(requestId);
    if (r) r.cached = true;
    else requests.set(requestId, { cached: true, bytes: 0 });
  });
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
    const r = requests.get(requestId) ?? {};
    r.bytes = encodedDataLength;
    requests.set(requestId, r);
  });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 120_000 });
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return { load: nav.loadEventEnd, hydrated: window.__hydratedAt };
  });
  // Let the last responses finish being counted.
  await page.waitForTimeout(500);
  await cdp.detach();
  const list = [...requests.values()].filter((r) => r.url);
  return {
    bytes: list.reduce((s, r) => s + (r.bytes ?? 0), 0),
    tti: Math.max(timing.load, timing.hydrated),
    load: timing.load,
    hydrated: timing.hydrated,
    requests: list,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const server = process.env.BASE_URL ? null : await startServer();
const base = (process.env.BASE_URL ?? server.url).replace(/\/$/, '');
const browser = await launch();
const first = [];
const repeat = [];
try {
  for (let i = 0; i < RUNS + 1; i++) {
    const context = await browser.newContext();
    // Records when the hydration mark appears, on the page's clock.
    await context.addInitScript(() => {
      new MutationObserver(() => {
        if (window.__hydratedAt === undefined && document.body?.dataset.hydrated === 'true') {
          window.__hydratedAt = performance.now();
        }
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
    });
    const page = await context.newPage();
    const a = await visit(page, `${base}/`);
    const b = await visit(page, `${base}/`);
    await context.close();
    // The first round warms the server (its first page render, the database's caches).
    if (i > 0) {
      first.push(a);
      repeat.push(b);
    }
  }
} finally {
  await browser.close();
  server?.stop();
}

const describe = (r) =>
  r.requests
    .map((q) => `    ${q.status ?? ''} ${q.cached ? 'cache' : `${q.bytes} B`} ${q.encoding} ${new URL(q.url).pathname}`)
    .join('\n');
for (const [name, runs] of [['first visit (empty cache)', first], ['repeat visit (warm cache)', repeat]]) {
  const kb = median(runs.map((r) => r.bytes)) / 1000;
  console.log(
    `${name}: ${kb.toFixed(1)} kB transferred, time to interactive ${median(runs.map((r) => r.tti)).toFixed(0)} ms ` +
      `(load event ${median(runs.map((r) => r.load)).toFixed(0)} ms, hydrated ${median(runs.map((r) => r.hydrated)).toFixed(0)} ms), ` +
      `median of ${runs.length}`,
  );
  console.log(describe(runs[0]));
}
