import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, waitForHydration, signedInPage, screenshot, BASE_URL, API_KEY, VIEWER_KEY } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('pages ask to sign in, keys are checked, and signing out ends the session', async () => {
  // No session: a page redirects to the sign-in form, remembering where it was going.
  const res = await fetch(`${BASE_URL}/predictions?decision=x`, { redirect: 'manual' });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/login?next=/predictions%3Fdecision%3Dx');

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/drift`);
  await page.waitForURL(`${BASE_URL}/login?next=/drift`);
  await waitForHydration(page);
  // The admin key's file of this server's data directory, not the default one.
  assert.equal(await page.textContent('[data-testid="admin-key-file"]'), 'target/test-run/e2e-data/admin-key');
  await screenshot(page, 'login');

  // A wrong key and a scorer key are refused with a reason.
  await page.fill('[data-testid="login-key"]', 'sw_not_a_key');
  await page.click('[data-testid="login-submit"]');
  await page.waitForSelector('[data-testid="login-error"]');
  assert.match(await page.textContent('[data-testid="login-error"]'), /unknown or revoked key/);
  await page.fill('[data-testid="login-key"]', API_KEY);
  await page.click('[data-testid="login-submit"]');
  await page.waitForFunction(
    () => /only scores through the API/.test(document.querySelector('[data-testid="login-error"]')?.textContent ?? ''),
    null,
    { timeout: 10_000 },
  );

  // A viewer signs in and lands where they were going; the cookie is HTTP-only.
  await page.fill('[data-testid="login-key"]', VIEWER_KEY);
  await page.click('[data-testid="login-submit"]');
  await page.waitForURL(`${BASE_URL}/drift`);
  await waitForHydration(page);
  assert.match(await page.textContent('[data-testid="user"]'), /viewer/);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'scorewatch_session');
  assert.ok(session?.httpOnly, 'an HTTP-only session cookie');

  // Signing out ends the session on the server too.
  await page.click('[data-testid="sign-out"]');
  await page.waitForURL(/\/login/);
  const again = await fetch(`${BASE_URL}/drift`, {
    redirect: 'manual',
    headers: { cookie: `scorewatch_session=${session.value}` },
  });
  assert.equal(again.status, 303);
});

test('every page renders for a signed-in viewer; scoring answers 403 and says why', async () => {
  const page = await signedInPage(browser, '/', VIEWER_KEY);
  for (const path of ['/', '/predictions', '/drift', '/performance', '/logs', '/model']) {
    const res = await page.goto(`${BASE_URL}${path}`);
    assert.equal(res.status(), 200, path);
    await waitForHydration(page);
  }
  // A viewer may read, not score: the page says so, with a 403, not a 500.
  const res = await page.goto(`${BASE_URL}/score`);
  assert.equal(res.status(), 403);
  await waitForHydration(page);
  assert.match(await page.textContent('[role="alert"]'), /viewer.*may not score/);
  assert.deepEqual(page.errors, [], 'no errors in the pages');
});
