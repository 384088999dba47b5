import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, waitForHydration, screenshot, postPrediction, BASE_URL } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('the overview shows the active model and counts a new prediction after Refresh', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${BASE_URL}/`);
  await waitForHydration(page);

  const model = await page.textContent('[data-testid="model-version"]');
  assert.match(model, /#\d+ scorewatch-demo/);
  const count = page.locator('[data-testid="prediction-count"]');
  const before = Number(await count.textContent());
  assert.ok(Number.isInteger(before), 'the count is a whole number');

  const result = await postPrediction({ EXT_SOURCE_2: 0.26, EXT_SOURCE_3: 0.14, DAYS_BIRTH: -9461 });
  assert.ok(result.probability > 0 && result.probability < 1);

  // The page does not change by itself: only the button fetches the new count.
  assert.equal(Number(await count.textContent()), before);
  await page.click('[data-testid="refresh"]');
  await page.waitForFunction(
    (expected) => document.querySelector('[data-testid="prediction-count"]')?.textContent === String(expected),
    before + 1,
    { timeout: 10_000 },
  );
  await screenshot(page, 'overview');
  assert.deepEqual(errors, [], 'no errors in the page');
});

test('an unknown page answers 404 with a way back', async () => {
  const res = await fetch(`${BASE_URL}/no-such-page`);
  assert.equal(res.status, 404);
  assert.match(await res.text(), /Page not found/);
});
