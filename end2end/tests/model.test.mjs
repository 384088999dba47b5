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
  const auc = Number(await page.textContent('[data-metric="valid_auc"]'));
  assert.ok(auc > 0.8 && auc < 1, `validation AUC ${auc}`);
  const rows = page.locator('[data-testid="model-features"] tbody tr');
  assert.equal(await rows.count(), 419);
  assert.equal(await rows.first().locator('td').first().textContent(), 'EXT_SOURCE_2');
  await screenshot(page, 'model');
  assert.deepEqual(page.errors, [], 'no errors in the page');
});
