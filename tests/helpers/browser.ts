/**
 * Headless Chromium for UI tests: Debian's `/usr/bin/chromium` driven by npm `playwright-core`
 * (never `playwright install`), a fresh profile per launch, and helpers that collect console
 * errors and write screenshots to `artifacts/screenshots/`.
 *
 * @module
 */

import { type Browser, chromium, type Page } from "playwright-core";

/** Where Debian installs Chromium. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Screenshot folder (gitignored). */
export const SCREENSHOT_DIR = new URL("../../artifacts/screenshots/", import.meta.url);

/** Desktop and phone viewports. */
export const VIEWPORTS = {
  desktop: { width: 1280, height: 900 },
  phone: { width: 390, height: 844 },
} as const;

/** A launched browser with its throwaway profile. */
export interface TestBrowser {
  /** The Playwright browser. */
  readonly browser: Browser;
  /** Closes the browser and removes the profile. */
  close(): Promise<void>;
}

/** True when Chromium is installed (CI installs it in `.ci/run`). */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    return false;
  }
}

/**
 * Launches headless Chromium. Playwright gives every `launch` a fresh temporary user-data-dir (it
 * refuses `--user-data-dir`); `TMPDIR` points it at a directory this helper removes on close.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await Deno.makeTempDir({ prefix: "denopool-chromium-" });
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    env: { ...Deno.env.toObject(), TMPDIR: profile },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

/** A page whose console errors, page errors and failed requests are collected in `errors`. */
export async function openPage(
  browser: Browser,
  viewport: { width: number; height: number } = VIEWPORTS.desktop,
  colorScheme: "light" | "dark" = "light",
): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  page.on("requestfailed", (req) => {
    // A poll cut short by navigation is not an error of the page.
    if (req.failure()?.errorText !== "net::ERR_ABORTED") {
      errors.push(`requestfailed: ${req.url()} ${req.failure()?.errorText}`);
    }
  });
  page.on("response", (res) => {
    if (res.status() >= 400) errors.push(`http ${res.status()}: ${res.url()}`);
  });
  return { page, errors, close: () => context.close() };
}

/** Writes a full-page screenshot to `artifacts/screenshots/<name>.png`; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = new URL(`${name}.png`, SCREENSHOT_DIR).pathname;
  await page.screenshot({ path, fullPage: true });
  return path;
}
