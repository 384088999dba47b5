import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, signedInPage, waitForCharts, screenshot, getJson, BASE_URL, OFFICER_KEY, VIEWER_KEY,
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

test('values the model never saw are flagged in the form, in the result and on the prediction', async () => {
  const page = await signedInPage(browser, '/score', OFFICER_KEY);
  // Training medians fill the form in readable numbers, and the page says what happens
  // to the features left out.
  await page.click('[data-testid="fill-medians"]');
  await page.waitForSelector('[data-testid="fill-note"]');
  assert.match(await page.textContent('[data-testid="fill-note"]'), /stays\s+missing/);
  const filled = await page.$$eval('[data-testid="score-form"] input[name]', (is) => is.map((i) => i.value));
  assert.equal(filled.length, 12);
  for (const v of filled) {
    assert.ok(v === '' || /^-?\d+(\.\d{1,4})?$/.test(v), `a readable number: ${v}`);
  }
  assert.equal(await page.locator('[data-testid="field-warning"]').count(), 0, 'medians are training values');

  // A score of 5 where scores lie in 0..1: said before scoring.
  await page.fill('input[name="EXT_SOURCE_2"]', '5');
  const warning = page.locator('label:has(input[name="EXT_SOURCE_2"]) [data-testid="field-warning"]');
  await warning.waitFor();
  assert.match(await warning.textContent(), /above every training value/);
  await page.fill('[data-testid="score-json"]', '{"CODE_GENDER": 0.5}');
  await page.click('[data-testid="score-submit"]');
  await page.waitForSelector('[data-testid="score-result"]', { timeout: 15_000 });
  const notice = page.locator('[data-testid="score-result"] [data-testid="outside-training"]');
  await notice.waitFor();
  assert.match(await notice.locator('li[data-feature="EXT_SOURCE_2"]').textContent(), /5 is above the largest training value/);
  assert.match(await notice.locator('li[data-feature="CODE_GENDER"]').textContent(), /0\.5 is none of its training values \(0, 1\)/);
  await screenshot(page, 'score-outside-training');

  // The prediction's page says the same.
  const id = await page.textContent('[data-testid="score-id"]');
  await page.goto(`${BASE_URL}/predictions/${id}`);
  const stored = page.locator('[data-testid="outside-training"]');
  await stored.waitFor();
  assert.equal(await stored.locator('li').count(), 2);
  assert.equal(await page.getAttribute('tr[data-feature="EXT_SOURCE_2"]', 'class'), 'outside');
  assert.deepEqual(page.errors, [], 'no errors in the page');
});
