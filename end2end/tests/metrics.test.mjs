// The metrics endpoint as Prometheus sees it: promtool accepts the exposition, and a real
// Prometheus server scrapes the running service and can query what it counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BASE_URL, postPrediction } from './helpers.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

test('promtool accepts the /metrics exposition', async () => {
  await postPrediction({ EXT_SOURCE_2: 0.4 });
  const text = await (await fetch(`${BASE_URL}/metrics`)).text();
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(check.error, undefined, `promtool could not run: ${check.error}`);
  assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
});

test('a Prometheus server scrapes the service and queries its counters', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scorewatch-prom-'));
  const target = new URL(BASE_URL).host;
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: scorewatch\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  const port = await freePort();
  const prom = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  prom.stderr.on('data', (d) => (log += d));
  try {
    await postPrediction({ EXT_SOURCE_2: 0.7 });
    const query = async (q) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = await res.json();
      return body.data?.result ?? [];
    };
    let up = [], stored = [];
    for (let i = 0; i < 60 && !(up.length && stored.length); i++) {
      await new Promise((r) => setTimeout(r, 500));
      try {
        up = (await query('up{job="scorewatch"} == 1'));
        stored = await query('sum(scorewatch_predictions_total) > 0');
      } catch {
        // Prometheus is still starting.
      }
    }
    assert.ok(up.length, `Prometheus never scraped the service:\n${log.slice(-2000)}`);
    assert.ok(stored.length, 'scorewatch_predictions_total is queryable');
  } finally {
    prom.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
