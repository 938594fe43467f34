/**
 * Helpers of the browser tests: Debian's Chromium (headless, WebGPU on
 * SwiftShader) driven by puppeteer-core, and the page's server started as
 * `deno task serve` would (web/serve.ts) on a free port.
 */

import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** The Chromium binary: $CHROMIUM_PATH, else Debian's. */
export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

/** Whether Chromium is installed (the browser tests skip visibly without it). */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** The page's server in a child process, serving `dataDir` under /data/. */
export async function startServer(
  dataDir: string,
): Promise<{ url: string; close: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "web/serve.ts", "--port", "0", "--data", dataDir],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/listening on (\S+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`web/serve.ts ended before listening: ${text}`);
    text += value;
  }
  const url = /listening on (\S+)/.exec(text)![1];
  return {
    url,
    close: async () => {
      child.kill();
      await child.status;
      await reader.cancel();
    },
  };
}

/** Headless Chromium with WebGPU (SwiftShader here). */
export function launch(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--enable-unsafe-webgpu", "--window-size=1300,1000"],
  });
}

// Code run in the page is given as text: these files are checked without
// the DOM's types.

/** Waits until #status reports the end of a fit (or an error); returns it. */
export async function waitForStatus(
  page: Page,
  timeout = 300_000,
): Promise<string> {
  await page.waitForFunction(
    `["done", "error"].includes(document.getElementById("status").dataset.state)`,
    { timeout },
  );
  return await text(page, "#status");
}

/** The text of the first element that `selector` finds. */
export async function text(page: Page, selector: string): Promise<string> {
  return await page.evaluate(
    `document.querySelector(${JSON.stringify(selector)})?.textContent ?? ""`,
  ) as string;
}

/** The result table: name -> { value, stderr } as the page shows them. */
export async function readTable(
  page: Page,
): Promise<Record<string, { value: number; stderr: number }>> {
  const rows = await page.evaluate(`[...document.querySelectorAll(
    "#results tr[data-param]")].map((tr) => [tr.dataset.param,
    tr.querySelector("td.value").textContent,
    tr.querySelector("td.stderr").textContent])`) as string[][];
  return Object.fromEntries(
    rows.map(([n, v, e]) => [n, { value: Number(v), stderr: Number(e) }]),
  );
}

export type { Browser, Page };
