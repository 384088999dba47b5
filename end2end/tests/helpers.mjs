// Shared browser setup: Debian's Chromium driven by playwright-core, headless, with the
// flags this offline machine needs.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

export const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
// A scorer key (scripts/test.sh creates one with `scorewatch keys create`).
export const API_KEY = process.env.SCOREWATCH_API_KEY ?? '';
export const ARTIFACTS = path.resolve(process.env.E2E_ARTIFACTS ?? 'target/test-run/screenshots');

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

// Resolves once the WebAssembly client has hydrated the page.
export async function waitForHydration(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
}

// Screenshots of the page as it is (`NAME.png`) and at a phone's width (`NAME-phone.png`,
// 390 px), then back; throws when the page as a whole scrolls sideways on the phone.
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  const before = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-phone.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))
    .slice(0, 3)
    .map((e) => `${e.tagName.toLowerCase()}.${e.className}`));
  if (before) {
    await page.setViewportSize(before);
    await page.waitForTimeout(200);
  }
  if (overflow > 1) {
    throw new Error(`${name}: at a phone's width the page scrolls sideways by ${overflow}px (${wide.join(', ')})`);
  }
}

// Posts one application to the predict API; returns the parsed response.
export async function postPrediction(features, skIdCurr = 100002) {
  const res = await fetch(`${BASE_URL}/api/v1/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ sk_id_curr: skIdCurr, features }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`predict answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

// Keys scripts/test.sh creates: the server's admin key, and a viewer and an officer.
export const ADMIN_KEY = process.env.SCOREWATCH_ADMIN_KEY ?? '';
export const VIEWER_KEY = process.env.SCOREWATCH_VIEWER_KEY ?? '';
export const OFFICER_KEY = process.env.SCOREWATCH_OFFICER_KEY ?? '';

// A page in a fresh browser context, signed in to the dashboard with `key` through the
// sign-in form, on `path`, hydrated. Collects page errors in `page.errors`.
export async function signedInPage(browser, path = '/', key = ADMIN_KEY) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(`${BASE_URL}/login?next=${encodeURIComponent(path)}`);
  await waitForHydration(page);
  await page.fill('[data-testid="login-key"]', key);
  await page.click('[data-testid="login-submit"]');
  await page.waitForURL((url) => url.pathname + url.search === path, { timeout: 15_000 });
  await waitForHydration(page);
  return page;
}

// Resolves once every chart box on the page has drawn its canvas; returns their names.
export async function waitForCharts(page, names) {
  for (const name of names) {
    await page.waitForSelector(`[data-chart="${name}"][data-drawn="true"] canvas`, { timeout: 15_000 });
  }
  return page.$$eval('[data-chart]', (els) => els.map((e) => e.dataset.chart));
}

// Reads a JSON API with a key.
export async function getJson(path, key = ADMIN_KEY) {
  const res = await fetch(`${BASE_URL}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

// Every stored prediction matching `query` (an object of API filters), through the API.
export async function allPredictions(query = {}) {
  const items = [];
  let cursor = null;
  do {
    const params = new URLSearchParams({ ...query, limit: '1000' });
    if (cursor) params.set('cursor', cursor);
    const page = await getJson(`/api/v1/predictions?${params}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

// POSTs JSON with a key; returns the parsed answer, throwing unless it is a 200.
export async function postJson(path, body, key) {
  const res = await fetch(`${BASE_URL}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}
