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
  // The chart and the table agree on the order: by effect size (then importance, name),
  // each bar naming its feature's share of the model's gain.
  const chartNames = await page.evaluate(() => {
    const o = echarts.getInstanceByDom(document.getElementById('top-features-chart')).getOption();
    return [...o.yAxis[0].data].reverse();
  });
  // (Bars only for features with an effect size: here the three the applications carry.)
  const tableNames = await page.$$eval('[data-testid="features"] tbody tr', (rows) => rows.slice(0, 20).map((r) => r.dataset.feature));
  assert.ok(chartNames.length >= 3, chartNames.join());
  assert.deepEqual(chartNames.map((n) => n.split(' · ')[0]), tableNames.slice(0, chartNames.length));
  assert.ok(chartNames.some((n) => / · \d+\.\d% gain$/.test(n)), chartNames.join());
  const effects = await page.$$eval('[data-testid="features"] tbody tr td:nth-child(4)', (tds) => tds.slice(0, 3).map((t) => Number(t.textContent)));
  assert.deepEqual(effects, [...effects].sort((a, b) => b - a), 'largest effect first');
  assert.match(await page.textContent('[data-testid="weighted-drift-share"]'), /^\d+\.\d%$/);
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
  await screenshot(page, 'drift-report-drilldown');

  // The HTML report downloads with the session.
  const html = await page.request.get(`${BASE_URL}/drift/${id}/report.html`);
  assert.equal(html.status(), 200);
  assert.match(html.headers()['content-disposition'], /attachment; filename="drift-report-\d+\.html"/);
  assert.match(await html.text(), /<svg/);

  const missing = await page.goto(`${BASE_URL}/drift/999999`);
  assert.equal(missing.status(), 404);
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

test('the drift chart plots one trigger by window end; the overview shows the newest window', async () => {
  const applications = Array.from({ length: 40 }, (_, i) => ({
    features: { EXT_SOURCE_2: 0.01 * i, DAYS_BIRTH: -12000 - 50 * i },
  }));
  await post('/api/v1/predict/batch?source=simulator', { applications }, API_KEY);
  const now = Date.now();
  const iso = (ms) => new Date(ms).toISOString();
  const hour = 3_600_000;
  // The later window is reported first, the earlier one second.
  const later = (await post('/api/v1/drift/run', { since: iso(now - hour), until: iso(now + 3 * hour) }, ADMIN_KEY)).report;
  const earlier = (await post('/api/v1/drift/run', { since: iso(now - hour), until: iso(now + 2 * hour) }, ADMIN_KEY)).report;

  const page = await signedInPage(browser, '/drift');
  await waitForCharts(page, ['drift-share-chart']);
  const triggers = await page.$$eval('[data-testid="chart-trigger"] option', (os) => os.map((o) => o.value));
  assert.ok(triggers.includes('api'), `the chart offers the api reports: ${triggers}`);
  await page.selectOption('[data-testid="chart-trigger"]', 'api');
  const axis = async () => page.evaluate(() => {
    const option = echarts.getInstanceByDom(document.getElementById('drift-share-chart')).getOption();
    return { labels: option.xAxis[0].data, title: option.title[0].text };
  });
  await page.waitForFunction(
    () => /on demand/.test(echarts.getInstanceByDom(document.getElementById('drift-share-chart')).getOption().title[0].text),
    null,
    { timeout: 10_000 },
  );
  const { labels } = await axis();
  assert.deepEqual(labels, [...labels].sort(), `window ends in order: ${labels}`);
  const fmt = (t) => t.slice(0, 16).replace('T', ' ');
  assert.ok(
    labels.indexOf(fmt(earlier.window_end)) < labels.lastIndexOf(fmt(later.window_end)),
    'the earlier window is left of the later one although it was reported after it',
  );
  const row = page.locator(`tr[data-report-id="${earlier.id}"]`);
  assert.equal(await row.locator('[data-testid="trigger"]').textContent(), 'api');
  assert.equal(await row.locator('[data-testid="method"]').textContent(), 'test');

  // The overview's card: the scheduler's newest window, else the newest window of any report.
  const reports = [];
  let cursor = null;
  do {
    const q = cursor ? `?limit=100&cursor=${cursor}` : '?limit=100';
    const res = await fetch(`${BASE_URL}/api/v1/drift/reports${q}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const body = await res.json();
    reports.push(...body.items);
    cursor = body.next_cursor;
  } while (cursor);
  const scheduled = reports.filter((r) => r.trigger === 'schedule');
  const pool = scheduled.length ? scheduled : reports;
  pool.sort((a, b) => (a.window_end === b.window_end ? b.id - a.id : (a.window_end < b.window_end ? 1 : -1)));
  const overview = await signedInPage(browser, '/');
  const href = await overview.getAttribute('[data-testid="drift-status"] a', 'href');
  assert.equal(href, `/drift/${pool[0].id}`);
  if (!scheduled.length) assert.equal(href, `/drift/${later.id}`, 'not the report created last');
  assert.deepEqual(page.errors, [], 'no errors in the page');
});
