// The conversation view's ui:// resource: one self-contained HTML document (MCP Apps, text/html;profile=
// mcp-app) put together from the three files in ./view when first read. Its script and style are inline and
// named by hash in a strict Content-Security-Policy (no network at all, images from data: only), so nothing
// but that exact code runs even if a message's text were ever put into the page as HTML, which the view
// never does (it writes text with textContent).
//
// `npm run build` assembles the document into dist/ (scripts/build-views.mjs), so the package ships one
// HTML file and no sources; from a checkout it is assembled when first read.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { McpServer } from "@modelcontextprotocol/server";

export const CONVERSATION_VIEW_URI = "ui://mac-messages-mcp/conversation.html";

/**
 * The MIME type of an MCP Apps view. Written here rather than imported from @modelcontextprotocol/ext-apps,
 * which would bring the SDK's client into every installation for one string; test/apps checks it (and the
 * tool's `_meta.ui`) against the extension's own constants and helpers.
 */
export const APP_HTML_MIME_TYPE = "text/html;profile=mcp-app";

const VIEW_FILES = ["conversation-view.html", "conversation-view.css", "conversation-view.js"] as const;

/** The assembled document's file name: `npm run build` writes it beside the compiled module. */
export const BUILT_VIEW_FILE = "conversation-view.html";

const HERE = dirname(fileURLToPath(import.meta.url));

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** The view's Content-Security-Policy for its inline `script` and `style`. */
export function viewCsp(script: string, style: string): string {
  return [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    "img-src data:",
    "connect-src 'none'",
    "frame-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

/**
 * The document put together from its sources in `src/mcp/apps/view/` (found from this module, under tsx
 * or, for the build script, from `dist/src/mcp/apps/`): script and style inlined, their hashes in the CSP.
 */
export function assembleConversationView(): string {
  let dir = HERE;
  while (!existsSync(join(dir, "src", "mcp", "apps", "view", VIEW_FILES[0]))) {
    if (dirname(dir) === dir) throw new Error("The conversation view's sources are missing.");
    dir = dirname(dir);
  }
  const sources = join(dir, "src", "mcp", "apps", "view");
  const [template, style, script] = VIEW_FILES.map((name) => readFileSync(join(sources, name), "utf8")) as [
    string,
    string,
    string,
  ];
  if (/<\/(script|style)/i.test(script + style)) {
    throw new Error("The conversation view's code may not contain a closing script or style tag.");
  }
  const html = template
    .replace("{{CSP}}", () => viewCsp(script, style))
    .replace('<style data-inline="conversation-view.css"></style>', () => `<style>${style}</style>`)
    .replace('<script data-inline="conversation-view.js"></script>', () => `<script>${script}</script>`);
  if (!html.includes(script) || !html.includes(style)) {
    throw new Error("The conversation view's template lost its style or script placeholder.");
  }
  return html;
}

let cached: string | undefined;

/**
 * The whole document, read once per process: the file the build wrote beside this module (an installed
 * package ships only that), else assembled from the sources (running from a checkout under tsx).
 */
export function conversationViewHtml(): string {
  if (cached === undefined) {
    const built = join(HERE, BUILT_VIEW_FILE);
    cached = existsSync(built) ? readFileSync(built, "utf8") : assembleConversationView();
  }
  return cached;
}

/** Registers the view's resource; show_conversation names it in its `_meta.ui.resourceUri`. */
export function registerConversationView(server: McpServer): void {
  server.registerResource(
    "Conversation view",
    CONVERSATION_VIEW_URI,
    {
      description: "The conversation as Messages shows it: the view show_conversation results are drawn in.",
      mimeType: APP_HTML_MIME_TYPE,
    },
    async () => ({
      contents: [
        {
          uri: CONVERSATION_VIEW_URI,
          mimeType: APP_HTML_MIME_TYPE,
          text: conversationViewHtml(),
          // No domains at all: the host's sandbox allows no network and no outside images, scripts or frames.
          _meta: {
            ui: { csp: { connectDomains: [], resourceDomains: [], frameDomains: [] }, prefersBorder: true },
          },
        },
      ],
    }),
  );
}
