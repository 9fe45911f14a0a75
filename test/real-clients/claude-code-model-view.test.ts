// What the model actually receives through the real Claude Code CLI (print mode, stand-in model API on
// loopback), over stdio and over remote /mcp with a bearer token: the message texts, the fence around other
// people's text with a hostile closing tag defused, the per-message budget, and an image attachment arriving
// as an image block.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type McpServerConfig, type ModelSaw, runClaudeToolCall } from "../helpers/claude-code.js";
import { realClientsOrSkip } from "../helpers/real-clients.js";
import { obtainTokens } from "../helpers/remote-oauth-http.js";
import {
  buildRealClientFixture,
  DANA,
  HOSTILE_MARKER,
  IMAGE_NAME,
  type RealClientFixture,
  SHORT_TEXTS,
} from "./fixture.js";
import { FENCE_CLOSE, readFences } from "./model-view.js";
import { type RemoteCli, startRemoteCli, stdioServer } from "./our-server.js";

const { clients, skip } = realClientsOrSkip();
/** Budget from issue #11: what the model reads per message of a conversation of short texts. */
const MAX_CHARS_PER_MESSAGE = 110;
const TEST_TIMEOUT = 300_000;

/** Enough of what the model got to see the problem in a failure message. */
function excerpt(text: string): string {
  return text.length > 1500 ? `${text.slice(0, 1500)}… (${text.length} characters)` : text;
}

/** Each (transport, call) runs Claude Code once; several tests read the same result. */
function memo<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

function assertAllShortTexts(saw: ModelSaw): void {
  for (const text of SHORT_TEXTS) assert.ok(saw.text.includes(text), `the model did not get "${text}"`);
}

/** Asserts the fence and the budget; returns the characters per message, for the test log. */
function assertFencedAndBudgeted(saw: ModelSaw): string {
  const fences = readFences(saw.text);
  assert.ok(
    fences.opens > 0,
    `no <untrusted-message-content> fence in what the model got:\n${excerpt(saw.text)}`,
  );
  assert.equal(fences.unterminated, false, "a fence is never closed");
  assert.equal(fences.closes, fences.opens, "a closing tag appears that does not close a fence");
  for (const text of SHORT_TEXTS) {
    assert.ok(
      fences.inside.some((inside) => inside.includes(text)),
      `"${text}" is not inside a fence:\n${excerpt(saw.text)}`,
    );
  }
  const perMessage = saw.text.length / SHORT_TEXTS.length;
  assert.ok(
    perMessage <= MAX_CHARS_PER_MESSAGE,
    `the model got ${saw.text.length} characters for ${SHORT_TEXTS.length} messages ` +
      `(${perMessage.toFixed(1)} per message, budget ${MAX_CHARS_PER_MESSAGE}):\n${excerpt(saw.text)}`,
  );
  return `the model got ${perMessage.toFixed(1)} characters per message (budget ${MAX_CHARS_PER_MESSAGE})`;
}

function assertHostileDefused(saw: ModelSaw): void {
  const fences = readFences(saw.text);
  assert.ok(saw.text.includes(HOSTILE_MARKER), `the hostile message is missing:\n${excerpt(saw.text)}`);
  assert.ok(fences.opens > 0, `no fence in what the model got:\n${excerpt(saw.text)}`);
  assert.equal(fences.unterminated, false, "a fence is never closed");
  assert.equal(
    fences.closes,
    fences.opens,
    `the stranger's ${FENCE_CLOSE} reached the model as a real closing tag:\n${excerpt(saw.text)}`,
  );
  assert.ok(
    !fences.outside.includes("SYSTEM:"),
    `the stranger's "SYSTEM:" line is outside the fence:\n${excerpt(saw.text)}`,
  );
  assert.ok(fences.inside.some((inside) => inside.includes(HOSTILE_MARKER)));
}

function assertImageBlock(saw: ModelSaw): void {
  assert.equal(saw.isError, false, saw.text);
  assert.equal(saw.images.length, 1, `expected one image block, got: ${JSON.stringify(saw.toolResult)}`);
  const image = saw.images[0]!;
  assert.match(image.mediaType, /^image\/(png|jpeg|webp)$/);
  const bytes = Buffer.from(image.data, "base64");
  const isPng = bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  const isWebp = bytes.subarray(8, 12).toString("latin1") === "WEBP";
  assert.ok(isPng || isJpeg || isWebp, "the image block does not hold an image");
  if (isPng) {
    // The fixture's own picture (64×40), not some other image: read the PNG header's size.
    assert.deepEqual([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [64, 40]);
  }
  assert.ok(saw.text.includes(IMAGE_NAME), `the attachment's name did not come with the image:\n${saw.text}`);
}

/** The calls every transport makes, each a real Claude Code run. */
function modelViews(server: () => McpServerConfig, fixture: () => RealClientFixture) {
  const call = (tool: string, input: unknown) =>
    memo(() => runClaudeToolCall(clients!, { server: server(), tool, input }));
  return {
    recent: call("get_recent_messages", { contact: DANA.name, limit: 50 }),
    hostile: call("search_messages", { query: "approved this" }),
    image: memo(() =>
      runClaudeToolCall(clients!, {
        server: server(),
        tool: "get_attachment",
        input: { id: fixture().imageAttachmentId },
      }),
    ),
  };
}

describe("Claude Code over stdio: what the model receives", { skip, timeout: TEST_TIMEOUT * 4 }, () => {
  let fixture: RealClientFixture;
  before(() => {
    fixture = buildRealClientFixture();
  });
  after(() => fixture?.cleanup());
  const views = modelViews(
    () => stdioServer(fixture.dataArgs, fixture.dir),
    () => fixture,
  );

  test("get_recent_messages: every text of the conversation", { timeout: TEST_TIMEOUT }, async () => {
    const saw = await views.recent();
    assert.equal(saw.isError, false, saw.text);
    assertAllShortTexts(saw);
  });

  test("get_recent_messages: fenced, within the per-message budget", {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    t.diagnostic(assertFencedAndBudgeted(await views.recent()));
  });

  test("search_messages: a hostile closing tag stays inside the fence", {
    timeout: TEST_TIMEOUT,
  }, async () => {
    assertHostileDefused(await views.hostile());
  });

  test("get_attachment: an image arrives as an image block", { timeout: TEST_TIMEOUT }, async () => {
    assertImageBlock(await views.image());
  });
});

describe("Claude Code over remote /mcp with a bearer token", { skip, timeout: TEST_TIMEOUT * 4 }, () => {
  let fixture: RealClientFixture;
  let remote: RemoteCli;
  let token: string;
  before(async () => {
    fixture = buildRealClientFixture();
    remote = await startRemoteCli(fixture.dataArgs);
    token = (await obtainTokens(remote.serverUrl)).access_token;
  });
  after(async () => {
    await remote?.close();
    fixture?.cleanup();
  });
  const views = modelViews(
    () => ({ type: "http", url: remote.mcpUrl, headers: { Authorization: `Bearer ${token}` } }),
    () => fixture,
  );

  test("get_recent_messages: every text of the conversation", { timeout: TEST_TIMEOUT }, async () => {
    const saw = await views.recent();
    assert.equal(saw.isError, false, saw.text);
    assertAllShortTexts(saw);
  });

  test("get_recent_messages: fenced, within the per-message budget", {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    t.diagnostic(assertFencedAndBudgeted(await views.recent()));
  });

  test("search_messages: a hostile closing tag stays inside the fence", {
    timeout: TEST_TIMEOUT,
  }, async () => {
    assertHostileDefused(await views.hostile());
  });

  test("get_attachment: an image arrives as an image block", { timeout: TEST_TIMEOUT }, async () => {
    assertImageBlock(await views.image());
  });
});
