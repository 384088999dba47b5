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
  assert.match(await page.textContent('[data-testid="empty-hint"]'), /Clear the filters/);
  await page.fill('[data-testid="filter-since"]', '');
  await page.waitForSelector('[data-testid="predictions"] tbody tr', { timeout: 10_000 });
  assert.deepEqual(page.errors, [], 'no errors in the page');
});

test('the filters live in the URL, the list shows its total, and the rows download as CSV', async () => {
  await postPrediction({ EXT_SOURCE_2: 0.9, EXT_SOURCE_3: 0.8 }, 777002);
  await postPrediction({ EXT_SOURCE_2: 0.01, EXT_SOURCE_3: 0.02 }, 777002);
  // A linked view opens filtered.
  const page = await signedInPage(browser, '/predictions?decision=REFUSED');
  await page.waitForSelector('[data-testid="predictions"] tbody tr');
  const refused = await allPredictions({ decision: 'REFUSED' });
  const decisions = await page.$$eval('[data-testid="predictions"] tbody tr td:nth-child(4)', (tds) => tds.map((t) => t.textContent));
  assert.ok(decisions.length > 0 && decisions.every((d) => d === 'REFUSED'), decisions.join());
  assert.equal(await page.inputValue('[data-testid="filter-decision"]'), 'REFUSED');
  assert.equal(Number(await page.getAttribute('[data-testid="total"]', 'data-total')), refused.length);

  // Changing a filter changes the URL.
  await page.selectOption('[data-testid="filter-decision"]', '');
  await page.fill('[data-testid="filter-client"]', '777002');
  await page.press('[data-testid="filter-client"]', 'Enter');
  await page.waitForURL(/\/predictions\?client=777002$/);
  await page.waitForFunction(
    () => document.querySelector('[data-testid="total"]')?.dataset.total === '2',
    null,
    { timeout: 10_000 },
  );

  // The CSV of the filtered rows: every number reads back to the API's double.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-testid="download-csv"]'),
  ]);
  const text = await (await download.createReadStream()).toArray().then((b) => Buffer.concat(b).toString());
  const [header, ...lines] = text.trim().split('\n');
  const columns = header.split(',');
  assert.deepEqual(columns.slice(0, 5), ['prediction_id', 'created_at', 'model_version', 'sk_id_curr', 'probability']);
  assert.equal(columns.length, 9 + 419);
  assert.equal(lines.length, 2);
  const api = await allPredictions({ sk_id_curr: '777002' });
  for (const line of lines) {
    const cells = line.split(',');
    const stored = api.find((p) => p.id === cells[0]);
    assert.ok(stored, cells[0]);
    assert.equal(Number(cells[4]), stored.probability);
    const ext = columns.indexOf('EXT_SOURCE_2');
    assert.equal(Number(cells[ext]), stored.features.EXT_SOURCE_2);
    assert.equal(cells[columns.indexOf('EXT_SOURCE_1')], '');
  }
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
