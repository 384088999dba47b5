import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, signedInPage, waitForCharts, screenshot, postJson, getJson, BASE_URL, API_KEY, ADMIN_KEY, VIEWER_KEY,
} from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const post = postJson;

// 100 applications (the test server's --max-batch) whose external scores set the risk.
function applications(offset) {
  return Array.from({ length: 100 }, (_, i) => ({
    sk_id_curr: 700000 + offset + i,
    features: { EXT_SOURCE_2: (i % 60) / 60, EXT_SOURCE_3: ((i * 7) % 60) / 60, DAYS_BIRTH: -9000 - 90 * i },
  }));
}

test('the performance page shows the API\'s numbers, its charts and new outcomes after a refresh', async () => {
  const scored = await post('/api/v1/predict/batch?source=simulator', { applications: applications(0) }, API_KEY);
  const ids = scored.results.map((r) => r.prediction_id);
  // Riskier applicants default: the 25 highest scores, plus a few others.
  const order = scored.results.map((r, i) => [r.probability, i]).sort((a, b) => b[0] - a[0]);
  const defaulted = new Set(order.slice(0, 25).map(([, i]) => i).concat([5, 17, 44, 70]));
  const outcomes = ids.slice(0, 80).map((id, i) => ({ prediction_id: id, defaulted: defaulted.has(i) }));
  const recorded = await post('/api/v1/outcomes', { outcomes }, API_KEY);
  assert.equal(recorded.recorded, 80);
  const run = await post('/api/v1/performance/run', { last: 100 }, ADMIN_KEY);
  const report = run.report;
  assert.equal(report.n_labelled, 80);

  const page = await signedInPage(browser, '/performance', VIEWER_KEY);
  await waitForCharts(page, ['auc-chart', 'calibration-chart']);
  const detail = page.locator('[data-testid="performance-report"]');
  assert.equal(await detail.getAttribute('data-report-id'), String(report.id));
  // The exact values behind the rounded text are the API's.
  assert.equal(Number(await page.getAttribute('[data-testid="roc-auc"]', 'data-value')), report.roc_auc);
  assert.match(await page.textContent('[data-testid="roc-auc"]'), new RegExp(report.roc_auc.toFixed(3)));
  assert.equal(Number(await page.getAttribute('[data-testid="gini"]', 'data-value')), report.gini);
  assert.equal(
    Number(await page.getAttribute('[data-testid="estimated-roc-auc"]', 'data-value')),
    report.estimated_roc_auc,
  );
  assert.equal(await page.locator('[data-testid="grades"] tbody tr').count(), run.grades.length);
  for (const g of run.grades) {
    const row = page.locator(`[data-testid="grades"] tr[data-grade="${g.grade}"]`);
    assert.match(await row.textContent(), new RegExp(`^${g.grade}`));
  }
  const light = await page.getAttribute('[data-testid="auc-test-light"]', 'data-light');
  assert.ok(['OK', 'WARNING', 'ALERT', 'NOT TESTED'].includes(light), light);
  assert.match(await page.textContent('[data-testid="coverage-all"]'), /^80 of 100 /);
  const row = page.locator(`[data-testid="performance-reports"] tr[data-report-id="${report.id}"]`);
  assert.equal(await row.locator('[data-testid="status"]').textContent(), report.status);
  assert.deepEqual(page.errors, []);
  await screenshot(page, 'performance');

  // Outcomes posted through the API appear once a new report is computed and the page
  // is refreshed.
  const more = ids.slice(80).map((id) => ({ prediction_id: id, defaulted: false }));
  await post('/api/v1/outcomes', { outcomes: more }, API_KEY);
  const again = await post('/api/v1/performance/run', { last: 100 }, ADMIN_KEY);
  assert.equal(again.report.n_labelled, 100);
  await page.reload();
  await page.waitForSelector(`[data-testid="performance-report"][data-report-id="${again.report.id}"]`);
  assert.match(await page.textContent('[data-testid="coverage-all"]'), /^100 of 100 /);

  // At phone width the page still lays out (no horizontal scrolling of the whole page).
  await page.setViewportSize({ width: 390, height: 844 });
  await waitForCharts(page, ['auc-chart']);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  assert.equal(wide, false);
  await screenshot(page, 'performance-phone');
  await page.context().close();
});

test('the overview shows the newest conclusive performance status, not the newest created', async () => {
  // An inconclusive report (two labelled predictions) created after the conclusive ones.
  const t0 = Date.now() - 200;
  const scored = await post('/api/v1/predict/batch?source=simulator', { applications: applications(200) }, API_KEY);
  await post('/api/v1/outcomes', {
    outcomes: scored.results.slice(0, 2).map((r, i) => ({ prediction_id: r.prediction_id, defaulted: i === 0 })),
  }, API_KEY);
  const hour = 3_600_000;
  const lone = (await post('/api/v1/performance/run', {
    since: new Date(t0).toISOString(),
    until: new Date(Date.now() + hour).toISOString(),
  }, ADMIN_KEY)).report;
  assert.equal(lone.status, 'INSUFFICIENT_DATA');

  const { items } = await getJson('/api/v1/performance/reports?limit=100');
  const scheduled = items.filter((r) => r.trigger === 'schedule' || r.trigger === 'matured');
  const pool = scheduled.length ? scheduled : items;
  const rank = (r) => [r.status !== 'INSUFFICIENT_DATA' ? 1 : 0, r.window_end, r.id];
  pool.sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    for (let k = 0; k < 3; k += 1) if (x[k] !== y[k]) return x[k] < y[k] ? 1 : -1;
    return 0;
  });
  assert.notEqual(pool[0].id, lone.id);

  const page = await signedInPage(browser, '/', VIEWER_KEY);
  const status = page.locator('[data-testid="performance-status"] .badge');
  await status.waitFor();
  assert.equal(await status.textContent(), pool[0].status);
  assert.equal(await page.getAttribute('[data-testid="performance-status"] a', 'href'), `/performance/${pool[0].id}`);

  // The history chart plots one trigger's reports, ordered by cohort end.
  await page.goto(`${BASE_URL}/performance`);
  await waitForCharts(page, ['auc-chart']);
  const labels = await page.evaluate(
    () => echarts.getInstanceByDom(document.getElementById('auc-chart')).getOption().xAxis[0].data,
  );
  assert.deepEqual(labels, [...labels].sort());
  assert.ok(
    (await page.$$eval('[data-testid="chart-trigger"] option', (os) => os.map((o) => o.value))).includes('api'),
  );
  await page.context().close();
});
