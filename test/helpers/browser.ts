import * as fs from 'fs';
import { Browser, chromium } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`); playwright-core never downloads a browser of its own */
export const CHROMIUM = process.env.RESQ_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** launches headless Chromium; throws (never skips) when it is missing or cannot start, so a test run without it fails loudly */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set RESQ_CHROMIUM`);
  try {
    return await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 });
  } catch (e) {
    throw new Error(`Chromium at ${CHROMIUM} did not start: ${(e as Error).message}`);
  }
}
