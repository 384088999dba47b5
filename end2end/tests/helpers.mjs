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

export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
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
