// dashboard_token_test.mjs — the dashboard against a JobManager that requires a bearer token
// (security.auth.token_file) over HTTPS, in headless Chromium: the first 401 makes it ask for
// the token; a wrong answer is refused and asked again ("refused"); with the right one the
// API answers 200 and the token is sent on every later call (no more prompts). The page's
// HTTPS certificate is not checked here (a test CA; tests/common/bearer_token_test.cc checks
// verification). One line per passed check; exit 1 with a message on the first failure.
//
// Usage: node tests/web/dashboard_token_test.mjs --url https://HOST:PORT --token-file FILE
//        [--chromium /usr/bin/chromium]

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const args = parseArgs({
  options: {
    url: { type: 'string' },
    'token-file': { type: 'string' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
  },
  strict: true,
}).values;
if (!args.url || !args['token-file']) {
  process.stderr.write('usage: node dashboard_token_test.mjs --url https://HOST:PORT --token-file FILE\n');
  process.exit(2);
}
const token = fs.readFileSync(args['token-file'], 'utf8').trim();
function fail(msg) {
  process.stderr.write(`dashboard_token_test: FAIL: ${msg}\n`);
  process.exit(1);
}
const pass = (msg) => process.stdout.write(`ok: ${msg}\n`);

const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  // API calls sent after the right token was entered: their Authorization header
  // (allHeaders: headers() may omit it) and status.
  const after = new Map();  // Request -> Promise<authorization header>
  const statusesAfter = [];
  let tokenGiven = false;
  const prompts = [];
  page.on('dialog', async (dialog) => {
    prompts.push(dialog.message());
    if (dialog.type() !== 'prompt') return dialog.dismiss();
    // First a wrong token, then the right one. JS waits for the answer: nothing is sent
    // while the dialog is open, so every call seen from here on was sent afterwards.
    if (prompts.length === 1) return dialog.accept('not-the-token');
    tokenGiven = true;
    return dialog.accept(token);
  });
  page.on('request', (r) => {
    if (tokenGiven && new URL(r.url()).pathname.startsWith('/v1/')) {
      after.set(r, r.allHeaders().then((h) => h['authorization'] || '', () => '?'));
    }
  });
  page.on('response', (r) => {
    if (after.has(r.request())) statusesAfter.push(r.status());
  });
  const ok = page.waitForResponse(
    (r) => new URL(r.url()).pathname === '/v1/overview' && r.status() === 200, { timeout: 20000 });
  const index = await page.goto(`${args.url}/`);
  if (!index || index.status() !== 200) fail(`GET / answered ${index && index.status()}`);
  pass('the dashboard page loads without a token');
  await ok.catch(() => fail(`no 200 from /v1/overview; prompts: ${JSON.stringify(prompts)}`));
  if (prompts.length !== 2) fail(`expected 2 prompts (wrong, then right token), got ${JSON.stringify(prompts)}`);
  if (!prompts[0].includes('requires a bearer token')) fail(`first prompt: ${prompts[0]}`);
  if (!prompts[1].includes('refused')) fail(`second prompt: ${prompts[1]}`);
  pass('asked for the token, refused the wrong one, accepted the right one');
  // The next polls (every 2 s) carry the token, get 200 and ask nothing.
  const deadline = Date.now() + 15000;
  while (statusesAfter.length < 3 && Date.now() < deadline) await page.waitForTimeout(100);
  if (statusesAfter.length < 3) fail(`the dashboard stopped polling (${statusesAfter.length} calls)`);
  if (!statusesAfter.every((s) => s === 200)) fail(`later calls answered ${JSON.stringify(statusesAfter)}`);
  const headers = await Promise.all(after.values());
  if (!headers.every((h) => h === `Bearer ${token}`)) fail('a later call lacked the token');
  if (prompts.length !== 2) fail('asked again after the right token');
  pass('later calls send the token without asking again');
} finally {
  await browser.close();
}
