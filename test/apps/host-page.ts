// The test host: a page in headless Chromium built on the MCP Apps extension's AppBridge (host-entry.ts,
// bundled here with esbuild), an MCP client of our server on the Node side, and helpers to mount the view
// for a show_conversation result and look inside it.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { CallToolResult, Client } from "@modelcontextprotocol/client";
import type { McpUiHostContext } from "@modelcontextprotocol/ext-apps/app-bridge";
import { build } from "esbuild";
import type { Browser, Frame, Page } from "playwright-core";
import type { MountOptions } from "./host-entry.js";

export const ARTIFACTS_DIR = join(import.meta.dirname, "..", "..", "test-artifacts");

let bundled: Promise<string> | undefined;

/** The host page's HTML, its script the bundled host-entry.ts. */
export function hostPageHtml(): Promise<string> {
  bundled ??= build({
    entryPoints: [join(import.meta.dirname, "host-entry.ts")],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  }).then((out) => {
    const script = out.outputFiles[0]?.text ?? "";
    return `<!doctype html><html><head><meta charset="utf-8"><title>MCP Apps test host</title></head><body><script>${script.replace(/<\/script/gi, "<\\/script")}</script></body></html>`;
  });
  return bundled;
}

export interface MountedView {
  page: Page;
  /** The view's document. */
  frame: Frame;
  /** What the show_conversation call returned to the host. */
  result: CallToolResult;
  close(): Promise<void>;
}

export const DEFAULT_CONTEXT: McpUiHostContext = {
  theme: "light",
  locale: "en-US",
  timeZone: "Asia/Tokyo",
  displayMode: "inline",
  platform: "web",
};

/**
 * Calls show_conversation for `chat` through `client`, reads the view the tool names (resources/read), and
 * mounts it in a new page of `browser` with the result; resolves once the view has drawn it.
 */
export async function mountConversation(
  browser: Browser,
  client: Client,
  chat: number,
  options: { hostContext?: McpUiHostContext; width?: number } = {},
): Promise<MountedView> {
  const toolInput = { chat: `chat:${chat}` };
  const result = (await client.callTool({
    name: "show_conversation",
    arguments: toolInput,
  })) as CallToolResult;
  const { tools } = await client.listTools();
  const meta = tools.find((t) => t.name === "show_conversation")?._meta as
    | { ui?: { resourceUri?: string } }
    | undefined;
  const uri = meta?.ui?.resourceUri;
  if (!uri) throw new Error("show_conversation names no ui:// resource");
  const resource = await client.readResource({ uri });
  const content = resource.contents[0] as { text?: string; mimeType?: string } | undefined;
  if (content?.mimeType !== "text/html;profile=mcp-app" || typeof content.text !== "string") {
    throw new Error(`the view resource is ${content?.mimeType}`);
  }
  const page = await browser.newPage({ viewport: { width: 520, height: 900 } });
  await page.exposeFunction("hostCallTool", (params: { name: string; arguments?: Record<string, unknown> }) =>
    client.callTool(params),
  );
  await page.setContent(await hostPageHtml());
  const mount: MountOptions = {
    html: content.text,
    toolInput,
    toolResult: result,
    hostContext: options.hostContext ?? DEFAULT_CONTEXT,
    width: options.width ?? 440,
  };
  // As JSON: Playwright's argument types recurse too deeply on a CallToolResult.
  await page.evaluate(
    (json: string) => window.mountView(JSON.parse(json) as MountOptions),
    JSON.stringify(mount),
  );
  const frame = page.frames().find((f) => f !== page.mainFrame());
  if (!frame) throw new Error("the view's frame did not appear");
  await frame.waitForSelector("body[data-ready]", { timeout: 60_000 });
  return { page, frame, result, close: () => page.close() };
}

/** The view as a PNG in test-artifacts/ (kept by CI as the test's artifact). */
export async function screenshot(view: MountedView, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await view.page.locator("iframe").screenshot({ path });
  return path;
}

/** WCAG 2 contrast ratio of two CSS rgb()/rgba() colours (opaque). */
export function contrastRatio(foreground: string, background: string): number {
  const luminance = (css: string) => {
    const parts = css
      .match(/[\d.]+/g)
      ?.slice(0, 3)
      .map(Number);
    if (!parts || parts.length < 3) throw new Error(`not an rgb() colour: ${css}`);
    const [r, g, b] = parts.map((v) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [luminance(foreground), luminance(background)].sort((a, b) => b - a) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
