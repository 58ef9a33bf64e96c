#!/usr/bin/env node
// The playground (GET /playground) of a running service, in a real headless Chromium.
//
//   BROWSER_BASE_URL=http://127.0.0.1:8000 BROWSER_API_KEY=... node test/browser/playground.mjs
//
// Drives Debian's chromium (CHROMIUM, default /usr/bin/chromium) through playwright-core:
// Playwright's own browser download is not reachable from these machines. The service
// must run the fake model with API keys configured (BROWSER_API_KEY is one of them);
// a FAKE_LLM_LATENCY_MS of a few hundred ms makes the streaming visible.
// Writes screenshots to BROWSER_SCREENSHOT_DIR (default out/browser) and, with
// BROWSER_REPORT=FILE, the checks as JSON. Exit 0 when every check passed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = (process.env.BROWSER_BASE_URL ?? '').replace(/\/+$/, '');
const apiKey = process.env.BROWSER_API_KEY ?? '';
const shots = process.env.BROWSER_SCREENSHOT_DIR ?? join('out', 'browser');
const reportFile = process.env.BROWSER_REPORT;
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!base || !apiKey) {
  console.error('playground.mjs: BROWSER_BASE_URL and BROWSER_API_KEY are required');
  process.exit(2);
}
// The fake model's documented trigger for an answer full of markup (see its README).
const MARKUP_TRIGGER = 'show untrusted markup';
const TIMEOUT = 20_000;

const checks = [];
function check(name, ok, detail = '') {
  checks.push({ name, ok: Boolean(ok), detail: String(detail) });
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
  return Boolean(ok);
}

mkdirSync(shots, { recursive: true });
const userDataDir = mkdtempSync(join(tmpdir(), 'cas-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 1280, height: 900 },
  colorScheme: 'light',
});
context.setDefaultTimeout(TIMEOUT);
const page = context.pages()[0] ?? (await context.newPage());

// --- what the page does, recorded ------------------------------------------------
const consoleErrors = []; // { text, phase }
const pageErrors = [];
const dialogs = [];
const requestUrls = [];
const streamResponses = []; // one per POST /v1/chat/stream
const sessionReads = []; // statuses of GET /v1/sessions/{id}
let phase = 'load';
page.on('console', (msg) => {
  if (msg.type() === 'error') consoleErrors.push({ text: msg.text(), phase, url: msg.location()?.url ?? '' });
});
page.on('pageerror', (error) => pageErrors.push(String(error)));
page.on('dialog', (dialog) => {
  dialogs.push(dialog.message());
  dialog.dismiss().catch(() => {});
});
page.on('request', (request) => requestUrls.push(request.url()));
page.on('response', (response) => {
  const url = new URL(response.url());
  if (url.pathname === '/v1/chat/stream') {
    streamResponses.push({
      status: response.status(),
      traceId: response.headers()['x-trace-id'],
      requestId: response.headers()['x-request-id'],
      body: response.request().postData(),
    });
  } else if (url.pathname.startsWith('/v1/sessions/')) {
    sessionReads.push(response.status());
  }
});
// Before any page script: collect CSP violations (the event fires on the document).
await context.addInitScript(() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
  });
});

const lastAnswer = () => page.locator('#log > li.msg').last();
const sessionShown = () => page.locator('#session-id').textContent();

async function ready() {
  await page.locator('body[data-ready="true"]').waitFor();
}

// Type like a person: focus the composer, type, Enter. Resolves when the answer is
// complete (a caption) or an error is shown. Counts the streamed text updates
// (DOM mutations of the pending answer) that happen before the answer is done.
async function ask(message) {
  await page.evaluate(() => {
    window.__streamUpdates = 0;
    window.__observer?.disconnect();
    window.__observer = new MutationObserver((records) => {
      for (const r of records) {
        const parent = r.target.parentElement;
        if (r.type === 'characterData' && parent?.classList.contains('pending')) window.__streamUpdates += 1;
      }
    });
    window.__observer.observe(document.getElementById('log'), { subtree: true, characterData: true, childList: true });
  });
  const before = await page.locator('#log > li.msg').count();
  await page.locator('#message').focus();
  await page.keyboard.type(message);
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    (n) => {
      const items = document.querySelectorAll('#log > li.msg');
      const last = items[items.length - 1];
      return items.length >= n + 2 && last && (last.querySelector('.caption') || last.classList.contains('error'));
    },
    before,
  );
  return page.evaluate(() => window.__streamUpdates);
}

let failed = false;
try {
  // --- the page and its headers ------------------------------------------------------
  const response = await page.goto(`${base}/playground`);
  const h = response?.headers() ?? {};
  check('GET /playground is 200 text/html', response?.status() === 200 && /^text\/html/.test(h['content-type'] ?? ''), `${response?.status()} ${h['content-type']}`);
  const csp = h['content-security-policy'] ?? '';
  check(
    "strict CSP: default-src 'self', frame-ancestors 'none', no 'unsafe-inline'",
    csp.includes("default-src 'self'") && csp.includes("frame-ancestors 'none'") && !csp.includes('unsafe-'),
    csp,
  );
  check('X-Content-Type-Options: nosniff, Referrer-Policy set', h['x-content-type-options'] === 'nosniff' && Boolean(h['referrer-policy']), `${h['x-content-type-options']} / ${h['referrer-policy']}`);
  await ready();
  check('the key panel is shown (the service has API keys)', await page.locator('#key-panel').isVisible());

  // --- the key, from the keyboard ------------------------------------------------------
  phase = 'key';
  await page.locator('#key-input').focus();
  await page.keyboard.type(apiKey);
  await page.keyboard.press('Enter');
  check('the key is kept in sessionStorage, not localStorage', await page.evaluate((k) => sessionStorage.getItem('playground.apiKey') === k && !Object.values({ ...localStorage }).includes(k), apiKey));

  // Shift+Enter is a new line, not a send.
  await page.locator('#message').focus();
  await page.keyboard.type('first line');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('second line');
  const draft = await page.locator('#message').inputValue();
  check('Shift+Enter adds a new line and sends nothing', draft === 'first line\nsecond line' && streamResponses.length === 0, JSON.stringify(draft));
  await page.locator('#message').fill('');

  // --- what is 6*7? ------------------------------------------------------------------
  phase = 'chat';
  const updates = await ask('what is 6*7?');
  const first = lastAnswer();
  check('streamed tokens: at least two text updates before done', updates >= 2, `${updates} updates`);
  const tool = await first.locator('.tool[data-tool="calculator"]').textContent().catch(() => '');
  check('the calculator tool call is shown with its status', /calculator\s*·\s*ok/.test(tool ?? ''), tool);
  const answerText = await first.locator('.text').textContent();
  check('the answer says 42', /\b42\b/.test(answerText ?? ''), answerText);
  const shownTrace = await first.locator('[data-field="trace"] code').textContent().catch(() => '');
  const header = streamResponses.at(-1);
  check('the trace id shown equals the response X-Trace-Id', Boolean(shownTrace) && shownTrace === header?.traceId, `${shownTrace} vs ${header?.traceId}`);
  const shownRequest = await first.locator('[data-field="request"] code').textContent().catch(() => '');
  check('the request id shown equals the response X-Request-ID', Boolean(shownRequest) && shownRequest === header?.requestId, shownRequest);
  const latency = await first.locator('[data-field="latency"]').textContent().catch(() => '');
  const tokens = await first.locator('[data-field="tokens"]').textContent().catch(() => '');
  check('the caption shows latency and input/output tokens', /\d+ ms/.test(latency ?? '') && /\d+ in \/ \d+ out/.test(tokens ?? ''), `${latency}; ${tokens}`);
  check('the trace id has a copy button', (await first.locator('[data-field="trace"] button').count()) === 1);
  const session1 = await sessionShown();
  check('the session the service returned is shown', /^[A-Za-z0-9_-]{1,64}$/.test(session1 ?? '') && session1 !== 'new', session1);

  // --- continue the session ------------------------------------------------------------
  await ask('and what is 2+3?');
  const second = await lastAnswer().locator('.text').textContent();
  const sent = JSON.parse(streamResponses.at(-1)?.body ?? '{}');
  check('the next message continues the session', sent.session_id === session1 && (await sessionShown()) === session1 && /\b5\b/.test(second ?? ''), `${sent.session_id}; ${second}`);

  // --- reload: the history comes from the service -----------------------------------------
  phase = 'reload';
  await page.reload();
  await ready();
  const restored = await page.locator('#log > li.msg[data-restored="true"] .text').allTextContents();
  check(
    "reloading shows the session's history from the service",
    sessionReads.at(-1) === 200 && restored.length === 4 && restored[0] === 'what is 6*7?' && /42/.test(restored[1]) && restored[2] === 'and what is 2+3?',
    `GET /v1/sessions -> ${sessionReads.at(-1)}; ${JSON.stringify(restored)}`,
  );
  check('the session survives the reload', (await sessionShown()) === session1);

  // --- markup in an answer is text --------------------------------------------------------
  phase = 'markup';
  await ask(MARKUP_TRIGGER);
  const markup = await lastAnswer().locator('.text').textContent();
  check('an answer with <img onerror> is shown as text', /<img src=x onerror=/.test(markup ?? ''), markup);
  const injected = await page.evaluate(() => ({
    elements: document.querySelectorAll('#log img, #log script').length,
    flag: window.playgroundXss ?? null,
  }));
  check('no element was created from the answer and no script ran', injected.elements === 0 && injected.flag === null && dialogs.length === 0, JSON.stringify({ ...injected, dialogs }));

  // One more tool call, so the screenshots show a live answer with its tool and caption.
  await ask('what is (2+3)*4?');
  check('a second calculator answer after the reload', /\b20\b/.test((await lastAnswer().locator('.text').textContent()) ?? ''));

  // --- screenshots: desktop, dark, 360 px --------------------------------------------------
  await page.screenshot({ path: join(shots, 'playground.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.screenshot({ path: join(shots, 'playground-dark.png'), fullPage: true });
  check('prefers-color-scheme: dark changes the colours', dark !== 'rgb(247, 247, 248)', dark);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 360, height: 780 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.screenshot({ path: join(shots, 'playground-360.png'), fullPage: true });
  check('at 360 px nothing overflows horizontally', overflow <= 360, `scrollWidth ${overflow}`);
  await page.setViewportSize({ width: 1280, height: 900 });

  // --- a new session ---------------------------------------------------------------------
  phase = 'new-session';
  await page.locator('#new-session').focus();
  await page.keyboard.press('Enter');
  check('"New session" clears the conversation', (await page.locator('#log > li').count()) === 0 && (await sessionShown()) === 'new');
  await ask('hello');
  const session2 = await sessionShown();
  const sentNew = JSON.parse(streamResponses.at(-1)?.body ?? '{}');
  check('the first message of a new session starts another one', sentNew.session_id === undefined && Boolean(session2) && session2 !== 'new' && session2 !== session1, `${session1} -> ${session2}`);

  // --- a bad key -------------------------------------------------------------------------
  phase = 'bad-key';
  await page.locator('#key-forget').click();
  await page.locator('#key-input').fill('not-the-right-key');
  await page.locator('#key-input').press('Enter');
  await ask('hello again');
  const error = lastAnswer();
  const errorText = await error.locator('.text').textContent();
  check(
    'a wrong key shows a readable 401 message',
    (await error.getAttribute('class'))?.includes('error') && /401 unauthorized/.test(errorText ?? '') && /API key/.test(errorText ?? '') && streamResponses.at(-1)?.status === 401,
    errorText?.replace(/\n/g, ' | '),
  );

  // --- the contract's other errors, as the page shows them ------------------------------------
  // A message over MAX_MESSAGE_CHARS, for real: 422 with the field and reason.
  phase = 'too-long';
  await page.locator('#key-input').fill(apiKey);
  await page.locator('#key-input').press('Enter');
  await page.locator('#message').fill('x'.repeat(8001));
  await page.locator('#message').press('Enter');
  await page.waitForFunction(() => document.querySelector('#log > li.msg:last-child')?.classList.contains('error'));
  const tooLong = await lastAnswer().locator('.text').textContent();
  check('a message over MAX_MESSAGE_CHARS shows the 422 and its field', /422 validation_error/.test(tooLong ?? '') && /message: must be at most 8000/.test(tooLong ?? ''), tooLong?.replace(/\n/g, ' | '));
  // The statuses a healthy test container does not produce, answered in the contract's
  // shape by a stand-in for the service; then a stream that breaks off before done.
  phase = 'simulated';
  const simulated = [
    [413, 'payload_too_large', {}, /MAX_BODY_BYTES/],
    [429, 'rate_limited', { 'retry-after': '7' }, /Retry after 7 s/],
    [502, 'upstream_error', {}, /model endpoint failed/],
    [503, 'shutting_down', {}, /shutting down/],
    [504, 'upstream_timeout', {}, /timeout/],
  ];
  for (const [status, code, extra, hint] of simulated) {
    await page.route('**/v1/chat/stream', (route) =>
      route.fulfill({
        status,
        headers: { 'content-type': 'application/json', 'x-trace-id': 'f'.repeat(32), 'x-request-id': `sim-${status}`, ...extra },
        body: JSON.stringify({ error: { code, message: `simulated ${code}`, trace_id: 'f'.repeat(32), details: [] } }),
      }),
    );
    await ask(`simulate ${status}`);
    const text = await lastAnswer().locator('.text').textContent();
    check(`a ${status} ${code} is a readable message`, new RegExp(`${status} ${code}: simulated ${code}`).test(text ?? '') && hint.test(text ?? ''), text?.replace(/\n/g, ' | '));
    await page.unroute('**/v1/chat/stream');
  }
  await page.route('**/v1/chat/stream', (route) =>
    route.fulfill({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: 'event: token\ndata: {"delta":"The answer "}\n\nevent: token\ndata: {"delta":"is"}\n\n',
    }),
  );
  await ask('simulate a dropped stream');
  const dropped = await lastAnswer().locator('.text').textContent();
  check('a stream that ends before done says so', /stream ended before the answer was complete/.test(dropped ?? ''), dropped);
  await page.unroute('**/v1/chat/stream');
  // The error event of a stream that had started (the contract's error object as its data).
  await page.route('**/v1/chat/stream', (route) =>
    route.fulfill({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: `event: token\ndata: {"delta":"Thinking"}\n\nevent: error\ndata: ${JSON.stringify({ code: 'upstream_timeout', message: 'the agent turn passed REQUEST_TIMEOUT', trace_id: 'e'.repeat(32), details: [] })}\n\n`,
    }),
  );
  await ask('simulate an error event');
  const streamError = lastAnswer();
  const streamErrorText = await streamError.locator('.text').textContent();
  const streamErrorTrace = await streamError.locator('[data-field="trace"] code').textContent().catch(() => '');
  check('an error event in the stream is a readable message with its trace id', /upstream_timeout: the agent turn passed REQUEST_TIMEOUT/.test(streamErrorText ?? '') && streamErrorTrace === 'e'.repeat(32), streamErrorText?.replace(/\n/g, ' | '));
  await page.unroute('**/v1/chat/stream');

  // --- what must never happen ------------------------------------------------------------
  phase = 'end';
  const keyInUrl = requestUrls.filter((u) => u.includes(apiKey) || u.includes('not-the-right-key'));
  check('the API key never appears in a URL', keyInUrl.length === 0, keyInUrl.join(' '));
  const violations = await page.evaluate(() => window.__cspViolations);
  const cspConsole = consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e.text));
  check('no CSP violations', violations.length === 0 && cspConsole.length === 0, [...violations, ...cspConsole.map((e) => e.text)].join('; '));
  // Expected: Chromium logs each deliberate error answer as a failed resource load.
  const expectedStatus = { 'bad-key': /status of 401/, 'too-long': /status of 422/, simulated: /status of (413|429|502|503|504)/ };
  const unexpected = consoleErrors.filter((e) => !expectedStatus[e.phase]?.test(e.text));
  check('no console errors (besides the deliberate error answers) and no page errors', unexpected.length === 0 && pageErrors.length === 0, [...unexpected.map((e) => `${e.phase}: ${e.text}`), ...pageErrors].join('; '));
} catch (error) {
  failed = true;
  check('the browser run completed', false, error instanceof Error ? error.message.split('\n')[0] : String(error));
  await page.screenshot({ path: join(shots, 'playground-failure.png'), fullPage: true }).catch(() => {});
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

const passed = !failed && checks.every((c) => c.ok);
const screenshots = ['playground.png', 'playground-dark.png', 'playground-360.png'].map((f) => join(shots, f));
if (reportFile) {
  writeFileSync(reportFile, `${JSON.stringify({ passed, browser: executablePath, checks, screenshots }, null, 2)}\n`);
}
console.log(`${checks.filter((c) => c.ok).length} passed, ${checks.filter((c) => !c.ok).length} failed`);
process.exit(passed ? 0 : 1);
