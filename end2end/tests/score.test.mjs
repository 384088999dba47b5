import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, signedInPage, waitForCharts, screenshot, getJson, OFFICER_KEY, VIEWER_KEY,
} from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('an officer scores an application: decision, contributions, and the row is stored', async () => {
  const page = await signedInPage(browser, '/score', OFFICER_KEY);
  const fields = page.locator('[data-testid="score-form"] input[name]');
  assert.equal(await fields.count(), 12);
  assert.equal(await fields.first().getAttribute('name'), 'EXT_SOURCE_2');
  await page.fill('input[name="EXT_SOURCE_2"]', '0.15');
  await page.fill('input[name="EXT_SOURCE_3"]', '0.2');
  await page.fill('[data-testid="score-json"]', '{"FLAG_OWN_CAR": 0, "AMT_ANNUITY": 24700.5}');
  await page.click('[data-testid="score-submit"]');
  await page.waitForSelector('[data-testid="score-result"]', { timeout: 15_000 });
  await waitForCharts(page, ['score-contributions']);
  const id = await page.textContent('[data-testid="score-id"]');
  const decision = await page.textContent('[data-testid="score-decision"]');
  const probability = await page.textContent('[data-testid="score-probability"]');
  assert.ok((await page.locator('[data-testid="contributions"] tbody tr').count()) === 15);
  await screenshot(page, 'score');

  // Stored like any prediction, with source `ui` and the values typed.
  const stored = await getJson(`/api/v1/predictions/${id}`);
  assert.equal(stored.source, 'ui');
  assert.equal(stored.decision, decision);
  assert.equal(stored.probability.toFixed(4), probability);
  assert.equal(stored.features.EXT_SOURCE_2, 0.15);
  assert.equal(stored.features.AMT_ANNUITY, 24700.5);
  assert.equal(stored.features.EXT_SOURCE_1, null);

  // Bad input says what is wrong and stores nothing.
  await page.fill('input[name="EXT_SOURCE_2"]', 'high');
  await page.click('[data-testid="score-submit"]');
  await page.waitForSelector('[data-testid="score-error"]');
  assert.match(await page.textContent('[data-testid="score-error"]'), /EXT_SOURCE_2: `high` is not a number/);
  await page.fill('input[name="EXT_SOURCE_2"]', '');
  await page.fill('[data-testid="score-json"]', '{"NO_SUCH_FEATURE": 1}');
  await page.click('[data-testid="score-submit"]');
  await page.waitForFunction(
    () => /NO_SUCH_FEATURE/.test(document.querySelector('[data-testid="score-error"]')?.textContent ?? ''),
    null,
    { timeout: 10_000 },
  );
  assert.deepEqual(page.errors, [], 'no errors in the page');
});

test('a viewer sees the form but may not score', async () => {
  const page = await signedInPage(browser, '/score', VIEWER_KEY);
  await page.waitForSelector('[role="alert"]');
  assert.match(await page.textContent('[role="alert"]'), /viewer.*may not score/);
});
