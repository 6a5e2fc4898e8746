// The page (toolkit/web/) in a real headless Chromium (Debian's chromium through playwright-core),
// microphone faked with the fixture's WAV: two pages at once, each its own session, each shows
// exactly the text the server sent its session (read off the page's WebSocket frames), the newest
// text marked until transcription.done, latency shown, no console errors. A screenshot of a page is
// kept at reports/serve-page.png (the one artifact this test leaves).
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { packageRoot } from "../../../src/lib/paths.js";
import { MODEL, modelDir, type Running, startServe } from "./server.js";
import { CHROMIUM, CHROMIUM_QUIET_ARGS } from "../../helpers.js";

const wav = join(modelDir, "test_speech.wav");

interface Seen {
  sessionIds: string[];
  deltas: string[];
  done: string | null;
  errors: string[];
}

async function openPage(browser: Browser, url: string): Promise<{ page: Page; seen: Seen }> {
  const page = await browser.newPage();
  const seen: Seen = { sessionIds: [], deltas: [], done: null, errors: [] };
  page.on("console", (m) => {
    if (m.type() === "error") seen.errors.push(m.text());
  });
  page.on("pageerror", (e) => seen.errors.push(String(e)));
  page.on("websocket", (ws) => {
    ws.on("framereceived", (f) => {
      const ev = JSON.parse(String(f.payload)) as Record<string, unknown>;
      if (ev.type === "session.created") seen.sessionIds.push(String(ev.id));
      else if (ev.type === "transcription.delta") seen.deltas.push(String(ev.delta));
      else if (ev.type === "transcription.done") seen.done = String(ev.text);
      else if (ev.type === "error") seen.errors.push(`server error event: ${String(ev.error)}`);
    });
  });
  await page.goto(url);
  await page.waitForFunction(`document.getElementById("model").textContent.includes(${JSON.stringify(MODEL)})`);
  return { page, seen };
}

let srv: Running;
let browser: Browser | null = null;
before(async () => {
  if (!existsSync(CHROMIUM)) return;
  srv = await startServe();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      ...CHROMIUM_QUIET_ARGS,
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${wav}`,
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

test("two pages at once: each shows the text the server decoded for its session, no console errors", async (t) => {
  if (!browser) return t.skip(`${CHROMIUM} not installed (apt-get install -y chromium; .ci/run installs it)`);
  const a = await openPage(browser, `${srv.http}/`);
  const b = await openPage(browser, `${srv.http}/`);
  await a.page.click("#start");
  await b.page.click("#start");
  for (const p of [a, b]) {
    await p.page.waitForFunction("window.voxPage.deltas.length >= 12", undefined, { timeout: 90_000 });
  }
  // while it runs: the newest text is marked, latency shown
  assert.ok((await a.page.locator("#transcript .fresh").count()) > 0, "newest text marked");
  assert.match((await a.page.locator("#lat-last").textContent()) ?? "", /^\d+ ms$/);
  const health = await srv.health();
  assert.equal(health.engine_streams, 2, "two sessions, two engine streams");
  mkdirSync(join(packageRoot(), "reports"), { recursive: true });
  await a.page.setViewportSize({ width: 1000, height: 720 });
  await a.page.screenshot({ path: join(packageRoot(), "reports", "serve-page.png"), fullPage: true });
  for (const p of [a, b]) await p.page.click("#stop");
  for (const p of [a, b]) {
    await p.page.waitForFunction("window.voxPage.done !== null", undefined, { timeout: 90_000 });
    const shown = (await p.page.locator("#transcript").textContent()) ?? "";
    assert.ok(p.seen.done !== null && p.seen.done.length > 0);
    assert.equal(shown, p.seen.done, "the page shows the server's text for its session");
    assert.equal(shown, p.seen.deltas.join(""));
    assert.equal(await p.page.locator("#transcript .fresh").count(), 0, "nothing marked once final");
    assert.deepEqual(p.seen.errors, []);
    assert.equal(p.seen.sessionIds.length, 1);
  }
  assert.notEqual(a.seen.sessionIds[0], b.seen.sessionIds[0], "each page its own session");
});

test("a file dropped on the page is transcribed through POST /v1/audio/transcriptions", async (t) => {
  if (!browser) return t.skip(`${CHROMIUM} not installed (apt-get install -y chromium; .ci/run installs it)`);
  const { page, seen } = await openPage(browser, `${srv.http}/`);
  const posted = page.waitForResponse((r) => r.url().endsWith("/v1/audio/transcriptions"));
  await page.setInputFiles("#file", wav);
  const res = await posted;
  assert.equal(res.status(), 200);
  const body = (await res.json()) as { text: string };
  await page.waitForFunction('!document.getElementById("file-result").textContent.startsWith("transcribing")');
  const shown = (await page.locator("#file-result").textContent()) ?? "";
  assert.ok(shown.includes(body.text), "the page shows the endpoint's text");
  assert.deepEqual(seen.errors, []);
});
