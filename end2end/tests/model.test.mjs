import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, signedInPage, waitForCharts, screenshot } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('the model page shows the card and every feature by importance', async () => {
  const page = await signedInPage(browser, '/model');
  await waitForCharts(page, ['importance-chart']);
  assert.equal(await page.textContent('[data-testid="threshold"]'), '0.494');
  // Metrics: labelled in words, rounded for reading, exact in data-value (the card's JSON).
  const auc = Number(await page.getAttribute('[data-metric="valid_auc"]', 'data-value'));
  assert.ok(auc > 0.8 && auc < 1, `validation AUC ${auc}`);
  assert.equal(await page.textContent('[data-metric="valid_auc"]'), auc.toFixed(4));
  const labels = await page.$$eval('.stats dt', (dts) => dts.map((d) => d.textContent));
  assert.ok(labels.includes('ROC AUC, validation rows'), labels.join(' | '));
  assert.ok(!labels.some((l) => /_|^n /.test(l)), `no raw keys: ${labels.join(' | ')}`);
  assert.match(await page.textContent('[data-metric="n_train"]'), /^\d{1,3}(,\d{3})*$/);
  // Each metric's value fits its card.
  const overflowing = await page.$$eval('.stats dd', (dds) => dds.filter((d) => d.scrollWidth > d.clientWidth + 1).map((d) => d.textContent));
  assert.deepEqual(overflowing, []);
  // The feature table fits the page at desktop width (no column cut off).
  const wrap = await page.$eval('[data-testid="model-features"]', (t) => [t.scrollWidth, t.parentElement.clientWidth]);
  assert.ok(wrap[0] <= wrap[1] + 1, `table ${wrap[0]} px in ${wrap[1]} px`);
  const rows = page.locator('[data-testid="model-features"] tbody tr');
  assert.equal(await rows.count(), 419);
  assert.equal(await rows.first().locator('td').first().textContent(), 'EXT_SOURCE_2');
  await screenshot(page, 'model');
  assert.deepEqual(page.errors, [], 'no errors in the page');
});
