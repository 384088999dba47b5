// The client's files travel compressed and are cached by name: the hashed WebAssembly,
// JavaScript and stylesheet and the versioned ECharts are sent as the brotli (or gzip) copy
// the build wrote beside them, cached for a year as immutable; pages and unhashed files
// must be revalidated. Plain HTTP requests (node:http), so that the bytes on the wire are
// seen as they are, not decoded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { BASE_URL } from './helpers.mjs';

const IMMUTABLE = 'public, max-age=31536000, immutable';

function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    http
      .get(`${BASE_URL}${path}`, { headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

// The files the page shell links: stylesheet, module, WebAssembly and ECharts.
async function linkedFiles() {
  const page = await get('/login');
  const html = page.body.toString('utf8');
  const find = (re, what) => {
    const m = html.match(re);
    assert.ok(m, `the page links ${what}`);
    return m[1];
  };
  return {
    page,
    css: find(/href="(\/pkg\/scorewatch\.[A-Za-z0-9_-]{22}\.css)"/, 'a hashed stylesheet'),
    js: find(/href="(\/pkg\/scorewatch\.[A-Za-z0-9_-]{22}\.js)"/, 'a hashed module'),
    wasm: find(/href="(\/pkg\/scorewatch\.[A-Za-z0-9_-]{22}\.wasm)"/, 'a hashed WebAssembly module'),
    echarts: find(/src="(\/vendor\/echarts-\d+\.\d+\.\d+\.min\.js)"/, 'a versioned ECharts'),
  };
}

test('pages are revalidated on every visit', async () => {
  const { page } = await linkedFiles();
  assert.equal(page.status, 200);
  assert.match(page.headers['cache-control'] ?? '', /\bno-cache\b/);
  const missing = await get('/pkg/no-such-file.js');
  assert.equal(missing.status, 404);
  assert.match(missing.headers['cache-control'] ?? '', /\bno-cache\b/);
});

test('hashed client files are sent compressed and cached for good', async () => {
  const files = await linkedFiles();
  for (const path of [files.wasm, files.js, files.css, files.echarts]) {
    const plain = await get(path, { 'accept-encoding': 'identity' });
    assert.equal(plain.status, 200, path);
    assert.equal(plain.headers['content-encoding'], undefined, path);
    assert.equal(plain.headers['cache-control'], IMMUTABLE, path);

    const br = await get(path, { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(br.status, 200, path);
    assert.equal(br.headers['content-encoding'], 'br', path);
    assert.equal(br.headers['cache-control'], IMMUTABLE, path);
    assert.match(br.headers.vary ?? '', /accept-encoding/i, path);
    assert.equal(br.headers['content-type'], plain.headers['content-type'], path);
    assert.ok(br.body.length < plain.body.length, `${path}: ${br.body.length} < ${plain.body.length} bytes`);
    assert.ok(zlib.brotliDecompressSync(br.body).equals(plain.body), `${path}: brotli copy decodes to the file`);

    const gz = await get(path, { 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip', path);
    assert.ok(zlib.gunzipSync(gz.body).equals(plain.body), `${path}: gzip copy decodes to the file`);
  }
  const wasm = await get(files.wasm, { 'accept-encoding': 'br' });
  assert.equal(wasm.headers['content-type'], 'application/wasm');
});

test('an unhashed file is revalidated and costs a 304 when unchanged', async () => {
  const first = await get('/favicon.svg');
  assert.equal(first.status, 200);
  assert.equal(first.headers['cache-control'], 'no-cache');
  const again = await get('/favicon.svg', { 'if-modified-since': first.headers['last-modified'] });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
});
