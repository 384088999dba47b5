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

test('the predictions page lists stored decisions and filters them', async () => {
  const mine = await postPrediction({ EXT_SOURCE_2: 0.05, EXT_SOURCE_3: 0.05 }, 777001);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${BASE_URL}/predictions`);
  await waitForHydration(page);
  const rows = page.locator('[data-testid="predictions"] tbody tr');
  // Newest first: the one just stored leads.
  assert.equal(await rows.first().getAttribute('data-prediction-id'), mine.prediction_id);
  await screenshot(page, 'predictions');

  await page.fill('[data-testid="filter-client"]', '777001');
  await page.press('[data-testid="filter-client"]', 'Enter');
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="predictions"] tbody tr').length === 1,
    null,
    { timeout: 10_000 },
  );
  assert.match(await rows.first().textContent(), new RegExp(mine.decision));

  await page.fill('[data-testid="filter-client"]', '');
  await page.press('[data-testid="filter-client"]', 'Enter');
  await page.selectOption('[data-testid="filter-decision"]', 'APPROVED');
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="predictions"] tbody tr td:nth-child(4)')]
      .every((td) => td.textContent === 'APPROVED'),
    null,
    { timeout: 10_000 },
  );
  assert.ok((await rows.count()) > 0);
  assert.deepEqual(errors, [], 'no errors in the page');
});
