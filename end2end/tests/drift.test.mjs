import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, signedInPage, waitForCharts, screenshot, postJson, BASE_URL, API_KEY, ADMIN_KEY, VIEWER_KEY,
} from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const post = postJson;

test('a drift report is listed with its status and opens with every feature', async () => {
  const applications = Array.from({ length: 40 }, (_, i) => ({
    features: { EXT_SOURCE_2: 0.02 * i, EXT_SOURCE_3: 0.5, DAYS_BIRTH: -10000 - 100 * i },
  }));
  await post('/api/v1/predict/batch?source=simulator', { applications }, API_KEY);
  const run = await post('/api/v1/drift/run', { last: 40 }, ADMIN_KEY);
  const id = run.report.id;

  const page = await signedInPage(browser, '/drift');
  await waitForCharts(page, ['drift-share-chart']);
  const row = page.locator(`tr[data-report-id="${id}"]`);
  assert.equal(await row.locator('[data-testid="status"]').textContent(), run.report.status);
  assert.match(await row.textContent(), new RegExp(`${run.report.n_features_drifted} / ${run.report.n_features_analyzed}`));
  await screenshot(page, 'drift-list');

  await row.locator('a').click();
  await page.waitForURL(`${BASE_URL}/drift/${id}`);
  await page.waitForSelector('[data-testid="features"] tbody tr');
  await waitForCharts(page, ['top-features-chart']);
  assert.equal(await page.locator('[data-testid="features"] tbody tr').count(), 419);
  assert.equal(await page.textContent('[data-testid="n-current"]'), '40');
  // Drifted features come first.
  const firstDrift = await page.locator('[data-testid="features"] tbody tr').first().getAttribute('class');
  assert.equal(firstDrift, run.report.n_features_drifted > 0 ? 'drift' : '');
  await screenshot(page, 'drift-report');

  // Filter, sort, drill down.
  await page.fill('[data-testid="feature-filter"]', 'EXT_SOURCE');
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="features"] tbody tr').length === 3,
    null,
    { timeout: 10_000 },
  );
  await page.click('th[data-sort="feature"]');
  const names = await page.$$eval('[data-testid="features"] tbody tr', (rows) => rows.map((r) => r.dataset.feature));
  assert.deepEqual(names, ['EXT_SOURCE_1', 'EXT_SOURCE_2', 'EXT_SOURCE_3']);
  await page.click('[data-testid="features"] tbody tr[data-feature="EXT_SOURCE_2"] button');
  await waitForCharts(page, ['feature-histogram', 'feature-ecdf']);
  assert.match(await page.textContent('[data-testid="drilldown"]'), /40 window values/);
  await screenshot(page, 'drift-report');

  // The HTML report downloads with the session.
  const html = await page.request.get(`${BASE_URL}/drift/${id}/report.html`);
  assert.equal(html.status(), 200);
  assert.match(html.headers()['content-disposition'], /attachment; filename="drift-report-\d+\.html"/);
  assert.match(await html.text(), /<svg/);

  const missing = await page.goto(`${BASE_URL}/drift/999999`);
  assert.equal(missing.status(), 200);
  await page.waitForSelector('text=No such report');
  assert.deepEqual(page.errors, [], 'no errors in the page');
});

test('an admin runs drift detection from the page; a viewer may not', async () => {
  const page = await signedInPage(browser, '/drift');
  const before = await page.locator('[data-testid="reports"] tbody tr').count();
  await page.selectOption('[data-testid="run-window"]', 'last-500');
  await page.click('[data-testid="run-drift"]');
  await page.waitForURL(/\/drift\/\d+$/, { timeout: 60_000 });
  await page.waitForSelector('[data-testid="features"] tbody tr');
  const id = Number(page.url().split('/').pop());
  const listed = await fetch(`${BASE_URL}/api/v1/drift/reports/${id}`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  }).then((r) => r.json());
  assert.equal(listed.report.id, id);
  assert.equal(await page.textContent('[data-testid="n-current"]'), String(listed.report.n_current));
  await page.goto(`${BASE_URL}/drift`);
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="reports"] tbody tr').length === n,
    before + 1,
    { timeout: 10_000 },
  );
  assert.deepEqual(page.errors, [], 'no errors in the page');

  const viewer = await signedInPage(browser, '/drift', VIEWER_KEY);
  await viewer.click('[data-testid="run-drift"]');
  await viewer.waitForSelector('[data-testid="run-error"]');
  assert.match(await viewer.textContent('[data-testid="run-error"]'), /viewer.*may not/);
});
