// The conversation view (MCP Apps) in a real browser: headless Chromium runs a host page built on the
// extension's own AppBridge, which loads the view our server serves (resources/read) and hands it a real
// show_conversation result — over stdio from the CLI, and over remote /mcp with OAuth tokens. Asserts what
// a person sees for the tricky cases, keeps a screenshot of each in test-artifacts/, and checks keyboard
// use, contrast, the CSP and that a token without messages:send gets no reply box.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type CallToolResult, Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { getToolUiResourceUri, RESOURCE_MIME_TYPE } from "@modelcontextprotocol/ext-apps/app-bridge";
import type { Browser, Frame } from "playwright-core";
import { VIEW_DATA_KEY } from "../../src/mcp/apps/conversation-data.js";
import { APP_HTML_MIME_TYPE, CONVERSATION_VIEW_URI } from "../../src/mcp/apps/conversation-view.js";
import { ELICITATION_UNSUPPORTED_MESSAGE } from "../../src/mcp/elicit.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import { connect } from "../helpers/mcp-scenario.js";
import { launchChromium } from "../helpers/remote-oauth-client.js";
import { obtainTokens } from "../helpers/remote-oauth-http.js";
import { openStdioSession, type StdioSession, sourceCli } from "../helpers/stdio-session.js";
import { answeringQuestions } from "../helpers/test-client.js";
import { waitUntil } from "../helpers/wait.js";
import { type RemoteCli, startRemoteCli } from "../real-clients/our-server.js";
import {
  type AppsFixture,
  buildAppsFixture,
  GROUP_NAME,
  HOSTILE_HTML,
  LONG_CHAT_MESSAGES,
  PDF_NAME,
  PHOTO_NAME,
} from "./fixture.js";
import {
  contrastRatio,
  DEFAULT_CONTEXT,
  type MountedView,
  mountConversation,
  screenshot,
} from "./host-page.js";

const VIEW_JS = join(import.meta.dirname, "..", "..", "src", "mcp", "apps", "view", "conversation-view.js");
/** A busy two-core machine: a tsx-compiled CLI, Chromium and esbuild all start slowly. */
const SLOW = { timeout: 300_000 };

let fixture: AppsFixture;
let fake: FakeOsascript;
let browser: Browser;
let stateDir: string;

before(async () => {
  fixture = buildAppsFixture();
  fake = await installFakeOsascript({ stdout: "iMessage, SMS" });
  browser = await launchChromium();
  stateDir = join(tmpdir(), `apps-view-state-${process.pid}`);
}, SLOW);

after(async () => {
  await browser?.close();
  await fake?.cleanup();
  fixture?.cleanup();
});

/** The view's data in a show_conversation result. */
function dataOf(result: CallToolResult): {
  canSend: boolean;
  messages: { id: number; date: string; text: string | null }[];
} {
  const data = result._meta?.[VIEW_DATA_KEY];
  assert.ok(data, "no view data in the result");
  return data as ReturnType<typeof dataOf>;
}

/** The visible text of the elements matching `selector` in the view. */
async function texts(frame: Frame, selector: string): Promise<string[]> {
  return await frame.$$eval(selector, (nodes) => nodes.map((n) => n.textContent ?? ""));
}

/** Our CLI over stdio, sending through the fake osascript, approving every confirmation it is asked. */
async function stdioClient(extraArgs: string[] = []): Promise<{ session: StdioSession; asked: string[] }> {
  const asked: string[] = [];
  const server = {
    ...sourceCli([...fixture.dataArgs, ...extraArgs]),
    env: {
      HOME: stateDir,
      MAC_MESSAGES_MCP_HOME: stateDir,
      PATH: fake.env.PATH ?? "",
      // Nothing writes the sent row into the fixture's chat.db: do not wait for it.
      MAC_MESSAGES_DELIVERY_WINDOW_MS: "0",
      TZ: "UTC",
    },
  };
  const session = await openStdioSession(server, answeringQuestions("accept", asked));
  return { session, asked };
}

describe("the view and its tool, as the extension defines them", () => {
  test("show_conversation names the view the way the extension reads it; the view is served as an app", async () => {
    const session = await connect({ chatDb: fixture.chatDb, contactsRoots: [fixture.contactsDir] });
    try {
      assert.equal(APP_HTML_MIME_TYPE, RESOURCE_MIME_TYPE);
      const tool = (await session.client.listTools()).tools.find((t) => t.name === "show_conversation");
      assert.ok(tool);
      assert.equal(getToolUiResourceUri(tool), CONVERSATION_VIEW_URI);
      const resource = await session.client.readResource({ uri: CONVERSATION_VIEW_URI });
      const html = resource.contents[0] as { text: string; mimeType: string };
      assert.equal(html.mimeType, RESOURCE_MIME_TYPE);
      // One self-contained document: inline script and style, named by hash; no network, data: images.
      assert.match(html.text, /<script>[\s\S]+<\/script>/);
      const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html.text)?.[1] ?? "";
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
      assert.match(csp, /img-src data:(;|$)/);
      assert.match(csp, /connect-src 'none'/);
      assert.doesNotMatch(html.text, /\b(src|href)="(https?:)?\/\//);
    } finally {
      await session.close();
    }
  });

  test("the view's code never parses text as HTML", () => {
    const source = readFileSync(VIEW_JS, "utf8");
    assert.doesNotMatch(
      source,
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|eval\(|new Function/,
    );
  });

  test("the model gets the compact fenced text; the view's data is in _meta; a read-only server offers no reply", async () => {
    const session = await connect({ chatDb: fixture.chatDb, contactsRoots: [fixture.contactsDir] });
    try {
      const result = (await session.client.callTool({
        name: "show_conversation",
        arguments: { chat: `chat:${fixture.chats.stranger}` },
      })) as CallToolResult;
      assert.equal(result.structuredContent, undefined);
      const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
      assert.match(
        text,
        /^Messages in chat:\d+ \(a conversation view where the client shows MCP Apps\): 2 shown/,
      );
      assert.equal(text.match(/<untrusted-message-content>/g)?.length, 1);
      assert.equal(text.match(/<\/untrusted-message-content>/g)?.length, 1);
      const data = dataOf(result);
      assert.equal(data.messages.find((m) => m.id === fixture.messages.hostile)?.text, HOSTILE_HTML);
      assert.equal(data.canSend, false, "no sender: read-only");
    } finally {
      await session.close();
    }
  });
});

describe("over stdio, in Chromium", () => {
  let session: StdioSession;
  let client: Client;
  let asked: string[];
  const views: MountedView[] = [];

  before(async () => {
    ({ session, asked } = await stdioClient());
    client = session.client;
  }, SLOW);

  after(async () => {
    for (const view of views) await view.close().catch(() => {});
    await session?.close();
  });

  async function show(chat: number, options: Parameters<typeof mountConversation>[3] = {}) {
    const view = await mountConversation(browser, client, chat, options);
    views.push(view);
    return view;
  }

  test(
    "a group: names, tapbacks on their bubbles, a reply linked to its message, an edit, days in the user's zone",
    SLOW,
    async () => {
      const view = await show(fixture.chats.group);
      const { frame } = view;
      assert.equal(await frame.textContent("#chat-name"), GROUP_NAME);
      assert.equal(await frame.textContent("#service"), "iMessage");
      // Sender names above their runs of bubbles, never above mine.
      assert.deepEqual(await texts(frame, ".sender"), [
        "Dana Whitfield",
        "Sam Ortega",
        "Dana Whitfield",
        "Sam Ortega",
        "Dana Whitfield",
      ]);
      const tent = `#m-${fixture.messages.tent}`;
      assert.deepEqual(
        await frame.$$eval(`${tent} .tapbacks li`, (items) =>
          items.map((li) => li.getAttribute("aria-label")),
        ),
        ["❤️ from Dana Whitfield", "👍 from Me"],
      );
      assert.equal(await frame.$eval(tent, (b) => b.closest(".row")?.classList.contains("them")), true);
      const reply = `#m-${fixture.messages.reply}`;
      assert.equal(await frame.textContent(`${reply} .reply-link`), "↩ Who's in for camping this weekend?");
      await frame.click(`${reply} .reply-link`);
      await waitUntil(
        () => frame.evaluate(() => document.activeElement?.id),
        "the replied-to message to take focus",
      ).then((id) => assert.equal(id, `m-${fixture.messages.question}`));
      const metas = await texts(frame, ".meta");
      assert.ok(
        metas.some((m) => m.endsWith("· Edited")),
        metas.join(" | "),
      );
      // My messages right, in iMessage blue.
      assert.equal(await frame.$$eval(".row.me .bubble.svc-imessage", (b) => b.length), 2);
      // Day separators in the host's time zone (Tokyo, UTC+9): 18:00 UTC is already the next day there.
      const question = new Date(
        dataOf(view.result).messages.find((m) => m.id === fixture.messages.question)?.date ?? "",
      );
      const expected = new Intl.DateTimeFormat("en-US", {
        timeZone: "Asia/Tokyo",
        weekday: "long",
        year: "numeric",
        month: "long",
        day: "numeric",
      }).format(question);
      assert.equal((await texts(frame, ".day"))[0], expected);
      await frame.evaluate(() => document.getElementById("thread")?.scrollTo(0, 0));
      await screenshot(view, "apps-group-tapbacks-reply");
    },
  );

  test("an image as a small server-made thumbnail, another file as a chip", SLOW, async () => {
    const view = await show(fixture.chats.group);
    const { frame } = view;
    const photo = `#m-${fixture.messages.photo}`;
    const image = await frame.$eval(`${photo} img.thumb`, (img) => {
      const el = img as HTMLImageElement;
      return { src: el.src, alt: el.alt, natural: el.naturalWidth, shown: el.width, complete: el.complete };
    });
    assert.match(image.src, /^data:image\/webp;base64,/);
    assert.equal(image.alt, `Photo: ${PHOTO_NAME}`);
    assert.ok(image.natural > 0 && image.natural <= 440, `decoded ${image.natural}px wide`);
    assert.ok(image.shown <= 220);
    // The file is megabytes; the view got a few kilobytes.
    assert.ok(fixture.photoBytes > 1_000_000, `photo ${fixture.photoBytes} B`);
    assert.ok(image.src.length < 60_000, `thumbnail ${image.src.length} characters`);
    assert.equal(await frame.textContent(`${photo} .text`), "The campsite");
    const chips = await texts(frame, ".chip");
    assert.ok(
      chips.some((c) => c.includes(PDF_NAME)),
      chips.join(" | "),
    );
    await frame.$eval(photo, (b) => b.scrollIntoView({ block: "center" }));
    await screenshot(view, "apps-image-thumbnail");
  });

  test("an unsent message", SLOW, async () => {
    const view = await show(fixture.chats.dana);
    const unsent = `#m-${fixture.messages.unsent}`;
    assert.equal(await view.frame.textContent(`${unsent} .text`), "You unsent a message");
    assert.equal(await view.frame.$eval(unsent, (b) => b.classList.contains("unsent")), true);
    assert.equal(await view.frame.textContent("#chat-name"), "Dana Whitfield");
    // A short chat asks the host for a short frame: the content's height, not the frame's.
    const sizes = await waitUntil(async () => {
      const reported = await view.page.evaluate(() => window.hostLog.sizes);
      return reported.some((h) => h < 500) ? reported : null;
    }, "a size change below the frame's first height");
    assert.ok(
      sizes.every((h) => h > 150),
      sizes.join(),
    );
    await screenshot(view, "apps-unsent");
  });

  test(
    "a hostile message is shown as the characters it is: no element, no script, no request",
    SLOW,
    async () => {
      const probe: { server?: Server; hits: number } = { hits: 0 };
      probe.server = createServer((_req, res) => {
        probe.hits += 1;
        res.end("no");
      });
      await new Promise<void>((resolve) => probe.server?.listen(0, "127.0.0.1", resolve));
      const port = (probe.server.address() as { port: number }).port;
      try {
        const view = await show(fixture.chats.stranger);
        const { frame, page } = view;
        const hostile = `#m-${fixture.messages.hostile}`;
        assert.equal(await frame.textContent(`${hostile} .text`), HOSTILE_HTML);
        assert.equal(
          await frame.$$eval("#messages img, #messages script, #messages b, #messages a", (n) => n.length),
          0,
        );
        assert.equal(await frame.title(), "Conversation");
        assert.equal(await frame.textContent("#service"), "SMS");
        assert.equal(await frame.$eval(hostile, (b) => b.classList.contains("incoming")), true);
        // The CSP stops any request the page would make: fetch, an image, a stylesheet.
        const outcome = await frame.evaluate(async (url) => {
          const img = document.createElement("img");
          img.src = `${url}/pixel.png`;
          document.body.append(img);
          const link = document.createElement("link");
          link.rel = "stylesheet";
          link.href = `${url}/style.css`;
          document.head.append(link);
          try {
            await fetch(`${url}/fetch`);
            return "fetched";
          } catch {
            return "blocked";
          }
        }, `http://127.0.0.1:${port}`);
        assert.equal(outcome, "blocked");
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.equal(probe.hits, 0, "the view reached the network");
        assert.deepEqual(
          await page.evaluate(() => window.hostLog.stray),
          [],
          "the message posted to the host",
        );
        await frame.$eval("body > img", (img) => img.remove());
        await screenshot(view, "apps-hostile-html");
        // Found by search, it is still only text.
        await frame.fill("#search-input", "FREE");
        await frame.press("#search-input", "Enter");
        await frame.waitForSelector("#results li button");
        assert.match(
          (await frame.textContent("#results li")) ?? "",
          /<script>document\.title="pwned"<\/script>/,
        );
        assert.equal(
          await frame.$$eval("#results img, #results script, #results b, #results a", (n) => n.length),
          0,
        );
        assert.equal(await frame.title(), "Conversation");
      } finally {
        await new Promise((resolve) => probe.server?.close(resolve));
      }
    },
  );

  test(
    "scrolling back pages through the tool's cursor; search finds and shows an old message",
    SLOW,
    async () => {
      const view = await show(fixture.chats.lee);
      const { frame, page } = view;
      const count = () => frame.$$eval(".bubble", (b) => b.length);
      assert.equal(await count(), 30);
      // A DOM click: Playwright's own would first scroll the button into view, which loads a page by itself.
      await frame.$eval("#earlier", (button) => (button as HTMLButtonElement).click());
      await waitUntil(async () => (await count()) >= 60, "the second page");
      await frame.evaluate(() => document.getElementById("thread")?.scrollTo(0, 0));
      await waitUntil(
        async () => (await count()) === LONG_CHAT_MESSAGES,
        "the last page, on scrolling to the top",
      );
      assert.equal(await frame.isHidden("#earlier"), true, "no more to load");

      const fresh = await show(fixture.chats.lee);
      await fresh.frame.fill("#search-input", "Lee message 4.");
      await fresh.frame.press("#search-input", "Enter");
      await fresh.frame.waitForSelector("#results li button");
      assert.deepEqual(await texts(fresh.frame, "#results li"), [
        `${new Intl.DateTimeFormat("en-US", {
          timeZone: "Asia/Tokyo",
          month: "short",
          day: "numeric",
        }).format(new Date(await idDate(fresh, "Lee message 4.")))}Me: Lee message 4.`,
      ]);
      await fresh.frame.click("#results li button");
      const focused = await waitUntil(
        () => fresh.frame.evaluate(() => document.activeElement?.querySelector(".text")?.textContent),
        "the found message to be loaded and focused",
      );
      assert.equal(focused, "Lee message 4.");
      const calls = await fresh.page.evaluate(() => window.hostLog.toolCalls);
      assert.equal(calls[0], "search_messages");
      assert.ok(
        calls.slice(1).every((name) => name === "show_conversation") && calls.length >= 3,
        calls.join(),
      );
      assert.ok(
        (await page.evaluate(() => window.hostLog.toolCalls)).every((n) => n === "show_conversation"),
      );
    },
  );

  /** The date of the Lee message with `text`, as the server has it (from search_messages' data). */
  async function idDate(_view: MountedView, text: string): Promise<string> {
    const found = (await client.callTool({
      name: "search_messages",
      arguments: { query: text, chat: `chat:${fixture.chats.lee}`, format: "json" },
    })) as CallToolResult;
    const messages = (found.structuredContent as { messages: { date: string }[] }).messages;
    return messages[0]?.date ?? "";
  }

  test(
    "keyboard: Tab reaches the reply box, Enter sends through send_message with the confirmation",
    SLOW,
    async () => {
      const view = await show(fixture.chats.group);
      const { frame } = view;
      assert.equal(await frame.isVisible("#reply"), true);
      await frame.focus("#search-input");
      const visited: string[] = [];
      for (let i = 0; i < 40; i++) {
        const id = await frame.evaluate(() => {
          const el = document.activeElement;
          return el ? `${el.tagName.toLowerCase()}#${el.id}.${el.className}` : "";
        });
        visited.push(id);
        if (id.startsWith("textarea#reply")) break;
        await view.page.keyboard.press("Tab");
      }
      assert.ok(visited.at(-1)?.startsWith("textarea#reply"), `Tab went: ${visited.join(" → ")}`);
      await view.page.keyboard.type("On my way");
      await view.page.keyboard.press("Enter");
      await frame.waitForFunction(
        () => document.getElementById("status")?.textContent === "Sent.",
        undefined,
        {
          timeout: 60_000,
        },
      );
      const sent = await fake.calls();
      assert.ok(
        sent.some((c) => c.runArgs.includes("On my way") || c.program.includes("On my way")),
        JSON.stringify(sent.map((c) => c.runArgs)),
      );
      assert.equal(asked.length, 1);
      assert.match(asked[0] ?? "", /On my way/);
      assert.equal(await frame.inputValue("#reply"), "");
      // The model learns of the send through the host's context update, with the chat's ref.
      const context = await waitUntil(async () => {
        const received = await view.page.evaluate(() => window.hostLog.modelContext);
        return received.length > 0 ? received : null;
      }, "the view's model context update");
      assert.deepEqual(context, [
        `In the conversation view, the user sent this message to chat:${fixture.chats.group}: "On my way"`,
      ]);
      assert.deepEqual(await texts(frame, ".bubble.pending .text"), ["On my way"]);
      await screenshot(view, "apps-reply-sent");
    },
  );

  test(
    "contrast: every bubble's text and the labels around it reach WCAG AA in light and dark",
    SLOW,
    async () => {
      const colours = new Set<string>();
      for (const [theme, chat] of (["light", "dark"] as const).flatMap((t) =>
        [fixture.chats.group, fixture.chats.dana, fixture.chats.stranger].map((c) => [t, c] as const),
      )) {
        const view = await show(chat, { hostContext: { ...DEFAULT_CONTEXT, theme } });
        for (const service of await view.frame.$$eval(".row.me .bubble", (bubbles) =>
          bubbles.map((b) => b.className),
        )) {
          colours.add(service.replace("bubble ", ""));
        }
        const pairs = await view.frame.evaluate(() =>
          Array.from(
            document.querySelectorAll(
              ".text, .sender, .meta, .day, .chip, .tapbacks li, .reply-link, h1, .service-badge",
            ),
          ).map((el) => {
            // The colour behind the text: the nearest ancestor (or itself) with an opaque background.
            let bg = getComputedStyle(document.documentElement).backgroundColor;
            for (let node: Element | null = el; node; node = node.parentElement) {
              const own = getComputedStyle(node).backgroundColor;
              if (own !== "rgba(0, 0, 0, 0)" && own !== "transparent") {
                bg = own;
                break;
              }
            }
            return {
              what: `${el.className || el.tagName} in ${el.parentElement?.className}`,
              fg: getComputedStyle(el).color,
              bg,
            };
          }),
        );
        assert.ok(pairs.length > 5);
        for (const pair of pairs) {
          const ratio = contrastRatio(pair.fg, pair.bg);
          assert.ok(ratio >= 4.5, `${theme}: ${pair.what} ${pair.fg} on ${pair.bg} is ${ratio.toFixed(2)}:1`);
        }
        if (theme === "dark" && chat === fixture.chats.group) await screenshot(view, "apps-group-dark");
      }
      assert.deepEqual(
        [...colours].sort(),
        ["svc-imessage", "svc-rcs", "svc-sms", "unsent"],
        "every bubble style was checked",
      );
    },
  );
});

describe("over remote /mcp with OAuth, in Chromium", () => {
  let remote: RemoteCli;
  const clients: Client[] = [];

  before(async () => {
    remote = await startRemoteCli(fixture.dataArgs);
  }, SLOW);

  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await remote?.close();
  });

  async function remoteClient(access: "read" | "read_send"): Promise<Client> {
    const tokens = await obtainTokens(remote.serverUrl, { access });
    const client = new Client({ name: "apps-test-host", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(remote.mcpUrl), {
        requestInit: { headers: { Authorization: `Bearer ${tokens.access_token}` } },
      }),
    );
    clients.push(client);
    return client;
  }

  test("the group drawn from the remote server; the reply box only with messages:send", SLOW, async () => {
    const reading = await mountConversation(browser, await remoteClient("read"), fixture.chats.group);
    try {
      assert.equal(await reading.frame.textContent("#chat-name"), GROUP_NAME);
      assert.deepEqual(
        await reading.frame.$$eval(`#m-${fixture.messages.tent} .tapbacks li`, (items) =>
          items.map((li) => li.textContent),
        ),
        ["❤️", "👍"],
      );
      assert.equal(await reading.frame.isHidden("#composer"), true, "a read-only token got a reply box");
      await screenshot(reading, "apps-remote-read-only");
    } finally {
      await reading.close();
    }
    const sending = await mountConversation(browser, await remoteClient("read_send"), fixture.chats.lee);
    try {
      assert.equal(await sending.frame.isVisible("#reply"), true);
      // The Send button goes through send_message with confirm: a client that cannot ask its user gets the
      // server's refusal, shown in the view, and nothing is sent.
      await sending.frame.fill("#reply", "Hello from the view");
      await sending.frame.click("#send");
      await sending.frame.waitForFunction(
        (expected) => document.getElementById("status")?.textContent === expected,
        ELICITATION_UNSUPPORTED_MESSAGE,
        { timeout: 60_000 },
      );
      assert.equal(await sending.frame.inputValue("#reply"), "Hello from the view", "the text is kept");
      // Paging back goes through the host to the remote server too.
      const count = () => sending.frame.$$eval(".bubble", (b) => b.length);
      assert.equal(await count(), 30);
      await sending.frame.$eval("#earlier", (button) => (button as HTMLButtonElement).click());
      await waitUntil(async () => (await count()) >= 60, "an older page from the remote server");
    } finally {
      await sending.close();
    }
  });
});
