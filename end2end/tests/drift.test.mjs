import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, waitForHydration, screenshot, BASE_URL, API_KEY } from './helpers.mjs';

// The admin key the server created at its first start (scripts/test.sh exports it).
const ADMIN_KEY = process.env.SCOREWATCH_ADMIN_KEY ?? '';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function post(path, body, key) {
  const res = await fetch(`${BASE_URL}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(json)}`);
  return json;
}

test('a drift report is listed with its status and opens with every feature', async () => {
  const applications = Array.from({ length: 40 }, (_, i) => ({
    features: { EXT_SOURCE_2: 0.02 * i, EXT_SOURCE_3: 0.5, DAYS_BIRTH: -10000 - 100 * i },
  }));
  await post('/api/v1/predict/batch?source=simulator', { applications }, API_KEY);
  const run = await post('/api/v1/drift/run', { last: 40 }, ADMIN_KEY);
  const id = run.report.id;

  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${BASE_URL}/drift`);
  await waitForHydration(page);
  const row = page.locator(`tr[data-report-id="${id}"]`);
  assert.equal(await row.locator('[data-testid="status"]').textContent(), run.report.status);
  assert.match(await row.textContent(), new RegExp(`${run.report.n_features_drifted} / ${run.report.n_features_analyzed}`));
  await screenshot(page, 'drift-list');

  await row.locator('a').click();
  await page.waitForURL(`${BASE_URL}/drift/${id}`);
  await page.waitForSelector('[data-testid="features"] tbody tr');
  assert.equal(await page.locator('[data-testid="features"] tbody tr').count(), 419);
  assert.equal(await page.textContent('[data-testid="n-current"]'), '40');
  // Drifted features come first.
  const firstDrift = await page.locator('[data-testid="features"] tbody tr').first().getAttribute('class');
  assert.equal(firstDrift, run.report.n_features_drifted > 0 ? 'drift' : '');
  await screenshot(page, 'drift-report');

  const missing = await fetch(`${BASE_URL}/drift/999999`);
  assert.equal(missing.status, 200);
  assert.match(await missing.text(), /No such report/);
  assert.deepEqual(errors, [], 'no errors in the page');
});
