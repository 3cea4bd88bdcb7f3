// Server-side (Node) commands for the browser tests: open a page of the local static server in a new tab
// of the same Chromium, optionally with a script that runs before the page's own scripts, wait until it is
// done, and return what it rendered. Called from the tests through `commands.openPage(...)`.
import { mkdir } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserCommand } from 'vitest/node';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface OpenPageOptions {
  /** Source of a script run in the page before any of its own (e.g. to stub WebAssembly.validate). */
  initScript?: string;
  /** CSS selector that appears when the page has finished. */
  waitFor: string;
  /** Milliseconds to wait for it (default 60 s). */
  timeout?: number;
  /** Save a full-page screenshot here (a path under build/, relative to the repository root). */
  screenshot?: string;
  viewport?: { width: number; height: number };
}

export interface RenderedElement {
  text: string;
  /** The element's data-* attributes. */
  data: Record<string, string>;
}

export interface OpenPageResult {
  /** Every element with an id: its text and data attributes. */
  elements: Record<string, RenderedElement>;
  /** Uncaught exceptions and console errors of the page. */
  errors: string[];
}

const openPage: BrowserCommand<[url: string, options: OpenPageOptions]> = async (ctx, url, options) => {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') throw new Error(`openPage: loopback URLs only, got ${url}`);
  const page = await ctx.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console.error: ${m.text()}`); });
  try {
    await page.setViewportSize(options.viewport ?? { width: 900, height: 900 });
    if (options.initScript) await page.addInitScript({ content: options.initScript });
    await page.goto(url);
    await page.waitForSelector(options.waitFor, { timeout: options.timeout ?? 60_000 });
    if (options.screenshot) {
      const file = resolve(ROOT, options.screenshot);
      if (!relative(resolve(ROOT, 'build'), file).match(/^[^.]/)) throw new Error(`openPage: screenshots go under build/, got ${options.screenshot}`);
      await mkdir(dirname(file), { recursive: true });
      await page.screenshot({ path: file, fullPage: true });
    }
    const elements = await page.evaluate(() => {
      const out: Record<string, { text: string; data: Record<string, string> }> = {};
      for (const el of document.querySelectorAll<HTMLElement>('[id]')) {
        out[el.id] = { text: el.innerText, data: { ...el.dataset } as Record<string, string> };
      }
      return out;
    });
    return { elements, errors };
  } finally {
    await page.close();
  }
};

export const commands = { openPage };

declare module 'vitest/browser' {
  interface BrowserCommands {
    openPage: (url: string, options: OpenPageOptions) => Promise<OpenPageResult>;
  }
}
