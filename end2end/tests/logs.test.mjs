import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, signedInPage, screenshot, postPrediction } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('the logs page shows the service\'s own lines, filters them and follows new ones', async () => {
  const page = await signedInPage(browser, '/logs');
  await page.waitForSelector('[data-testid="logs"] tbody tr');
  // A request made now appears by itself (following is on).
  const result = await postPrediction({ EXT_SOURCE_2: 0.5 }, 555001);
  const requestLine = () => page.locator('[data-testid="logs"] tbody tr', { hasText: '/api/v1/predict' });
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="logs"] tbody tr')]
      .some((tr) => tr.textContent.includes('POST /api/v1/predict')),
    null,
    { timeout: 20_000 },
  );
  assert.ok((await requestLine().count()) > 0);
  assert.ok(result.prediction_id);

  // Text filter: only matching lines.
  await page.fill('[data-testid="log-text"]', 'signed in');
  await page.press('[data-testid="log-text"]', 'Enter');
  await page.waitForFunction(
    () => {
      const rows = [...document.querySelectorAll('[data-testid="logs"] tbody tr')];
      return rows.length > 0 && rows.every((tr) => /signed in/i.test(tr.textContent));
    },
    null,
    { timeout: 10_000 },
  );
  // Level filter: WARN and above never shows INFO lines.
  await page.fill('[data-testid="log-text"]', '');
  await page.press('[data-testid="log-text"]', 'Enter');
  await page.selectOption('[data-testid="log-level"]', 'WARN');
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="logs"] tbody tr .level')]
      .every((l) => l.textContent === 'WARN' || l.textContent === 'ERROR'),
    null,
    { timeout: 10_000 },
  );
  await page.selectOption('[data-testid="log-level"]', '');
  await page.waitForSelector('[data-testid="logs"] tbody tr');
  await screenshot(page, 'logs');
  assert.deepEqual(page.errors, [], 'no errors in the page');
});
