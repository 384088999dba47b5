import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, signedInPage, waitForCharts, screenshot, postPrediction, allPredictions, BASE_URL,
} from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('the overview draws its charts and its numbers match the database', async () => {
  await postPrediction({ EXT_SOURCE_2: 0.26, EXT_SOURCE_3: 0.14, DAYS_BIRTH: -9461 });
  const started = Date.now();
  const page = await signedInPage(browser, '/');
  const charts = await waitForCharts(page, [
    'volume-chart', 'latency-chart', 'refusal-chart', 'score-chart', 'decision-chart',
  ]);
  const firstRender = Date.now() - started;
  console.log(`overview: signed in, hydrated and all ${charts.length} charts drawn in ${firstRender} ms`);
  assert.match(await page.textContent('[data-testid="model-version"]'), /#\d+ scorewatch-demo/);

  // Last 30 days: the count and the refusal rate are those of the stored predictions.
  await page.selectOption('[data-testid="range"]', 'month');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="range-shown"]')?.textContent.includes('6 hours'),
    null,
    { timeout: 10_000 },
  );
  const since = new Date(Date.now() - 30 * 86_400_000 - 3_600_000).toISOString();
  const stored = await allPredictions({ since });
  const shown = Number(await page.textContent('[data-testid="range-count"]'));
  assert.equal(shown, stored.length, 'predictions in the range');
  assert.equal(Number(await page.textContent('[data-testid="prediction-count"]')), (await allPredictions()).length);
  const refused = stored.filter((p) => p.decision === 'REFUSED').length;
  assert.equal(
    await page.textContent('[data-testid="refusal-rate"]'),
    `${((100 * refused) / stored.length).toFixed(1)}%`,
  );
  await waitForCharts(page, ['volume-chart', 'score-chart']);
  await screenshot(page, 'overview');

  // Request latency (the access log) and the model's compute time are two numbers, each
  // labelled for what it is; a request takes at least the model's time.
  const requests = Number(await page.getAttribute('[data-testid="request-latency"]', 'data-n'));
  assert.ok(requests > 0, 'predict requests in the access log');
  const p50 = (sel) => page.textContent(sel).then((t) => Number(t.split(' / ')[0].replace(' ms', '')));
  assert.ok((await p50('[data-testid="request-latency"]')) >= (await p50('[data-testid="latency"]')));
  const labels = await page.$$eval('.stats dt', (dts) => dts.map((d) => d.textContent));
  assert.ok(labels.includes('Request latency p50 / p95 / p99'), labels.join(' | '));
  assert.ok(labels.includes('Model compute time p50 / p95 / p99'), labels.join(' | '));
  // The decision ring labels its slices with counts and shares.
  const ring = await page.evaluate(
    () => echarts.getInstanceByDom(document.getElementById('decision-chart')).getOption().series[0].label.formatter,
  );
  assert.equal(ring, '{b}: {c} ({d}%)');

  // Refresh fetches a new prediction.
  await postPrediction({ EXT_SOURCE_2: 0.7, EXT_SOURCE_3: 0.6 });
  await page.click('[data-testid="refresh"]');
  await page.waitForFunction(
    (expected) => document.querySelector('[data-testid="range-count"]')?.textContent === String(expected),
    shown + 1,
    { timeout: 10_000 },
  );

  // A phone-sized screen: no horizontal scrolling of the page.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  await screenshot(page, 'overview-phone');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 3)
    .map((e) => `${e.tagName.toLowerCase()}.${e.className}`));
  assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px on a phone: ${wide.join(', ')}`);
  assert.deepEqual(page.errors, [], 'no errors in the page');
});

test('an unknown page answers 404 with a way back', async () => {
  const page = await signedInPage(browser, '/');
  const res = await page.goto(`${BASE_URL}/no-such-page`);
  assert.equal(res.status(), 404);
  assert.match(await page.textContent('main'), /Page not found/);
});
