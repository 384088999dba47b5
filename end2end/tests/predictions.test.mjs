import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, signedInPage, waitForCharts, screenshot, postPrediction, BASE_URL } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('the predictions page lists stored decisions and filters them', async () => {
  const mine = await postPrediction({ EXT_SOURCE_2: 0.05, EXT_SOURCE_3: 0.05 }, 777001);
  const page = await signedInPage(browser, '/predictions');
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

  // A time range after every stored prediction: nothing matches.
  await page.selectOption('[data-testid="filter-decision"]', '');
  await page.fill('[data-testid="filter-since"]', '2099-01-01T00:00');
  await page.waitForSelector('[data-testid="empty-hint"]', { timeout: 10_000 });
  await page.fill('[data-testid="filter-since"]', '');
  await page.waitForSelector('[data-testid="predictions"] tbody tr', { timeout: 10_000 });
  assert.deepEqual(page.errors, [], 'no errors in the page');
});

test('the page of a prediction explains it and places its features among the reference', async () => {
  const mine = await postPrediction({ EXT_SOURCE_2: 0.3, EXT_SOURCE_3: 0.2, DAYS_BIRTH: -12000 }, 777002);
  const page = await signedInPage(browser, '/predictions');
  await page.locator(`tr[data-prediction-id="${mine.prediction_id}"] a`).click();
  await page.waitForURL(`${BASE_URL}/predictions/${mine.prediction_id}`);
  await waitForCharts(page, ['prediction-contributions']);
  assert.equal(await page.textContent('[data-testid="detail-probability"]'), mine.probability.toFixed(4));
  assert.equal(await page.textContent('[data-testid="detail-decision"]'), mine.decision);
  const features = page.locator('[data-testid="detail-features"] tbody tr');
  assert.equal(await features.count(), 25);
  // EXT_SOURCE_2 = 0.3 sits at a percentile strictly inside (0, 100).
  const pct = Number(await page.getAttribute('tr[data-feature="EXT_SOURCE_2"] td[data-percentile]', 'data-percentile'));
  assert.ok(pct > 0 && pct < 100, `percentile of EXT_SOURCE_2: ${pct}`);
  assert.ok((await page.locator('[data-testid="contributions"] tbody tr').count()) > 0);
  await screenshot(page, 'prediction');

  const missing = await page.goto(`${BASE_URL}/predictions/00000000-0000-0000-0000-000000000000`);
  assert.equal(missing.status(), 404);
  await page.waitForSelector('text=No such prediction');
  assert.deepEqual(page.errors, [], 'no errors in the page');
});
