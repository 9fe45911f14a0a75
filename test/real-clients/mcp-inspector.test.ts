// The real MCP Inspector CLI against our server: over stdio (the demo a new user starts, and the
// real-client fixture) and over remote /mcp with bearer tokens of each scope.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import {
  INSPECTOR_TIMEOUT_MS,
  inspectorJson,
  runInspectorCli,
  runInspectorCliInTerminal,
} from "../helpers/mcp-inspector.js";
import { authorizationUrlIn } from "../helpers/pseudo-terminal.js";
import { realClientsOrSkip } from "../helpers/real-clients.js";
import { OWNER_PASSWORD } from "../helpers/remote-fixtures.js";
import { consentInBrowser, launchChromium } from "../helpers/remote-oauth-client.js";
import { obtainTokens } from "../helpers/remote-oauth-http.js";
import { sourceCli } from "../helpers/stdio-session.js";
import { buildRealClientFixture, HOSTILE_MARKER, type RealClientFixture } from "./fixture.js";
import { readFences } from "./model-view.js";
import { type RemoteCli, startRemoteCli } from "./our-server.js";

const { clients, skip } = realClientsOrSkip();
const TIMEOUT = INSPECTOR_TIMEOUT_MS + 30_000;

interface ToolsList {
  tools: { name: string; description?: string; inputSchema?: { type?: string } }[];
}
interface CallResult {
  content: { type: string; text?: string }[];
  isError?: boolean;
}

const READ_TOOLS = ["get_recent_messages", "search_messages", "get_attachment", "list_chats"];

describe("MCP Inspector CLI over stdio", { skip, timeout: TIMEOUT * 3 }, () => {
  let fixture: RealClientFixture;
  before(() => {
    fixture = buildRealClientFixture();
  });
  after(() => fixture?.cleanup());

  /** `inspector --cli -e MAC_MESSAGES_MCP_HOME=… node … main.ts ARGS --method …`: Inspector starts the server. */
  const stdio = (serverArgs: string[], methodArgs: string[]) => {
    const { command, args } = sourceCli(serverArgs);
    return runInspectorCli(clients!, [
      "-e",
      `MAC_MESSAGES_MCP_HOME=${fixture.dir}`,
      command,
      ...args,
      ...methodArgs,
    ]);
  };

  test("tools/list on the demo: every tool described, schemas portable (--strict)", {
    timeout: TIMEOUT,
  }, async () => {
    const run = await stdio(["--demo"], ["--method", "tools/list", "--strict"]);
    // --strict exits 6 when a tool schema has an error-severity portability problem.
    const { tools } = inspectorJson<ToolsList>(run);
    const names = tools.map((tool) => tool.name);
    for (const name of [...READ_TOOLS, "send_message"]) assert.ok(names.includes(name), `${name} missing`);
    for (const tool of tools) {
      assert.ok((tool.description ?? "").length > 20, `${tool.name} has no real description`);
      assert.equal(tool.inputSchema?.type, "object", `${tool.name} input schema`);
    }
  });

  test("tools/call: the text content fences a stranger's hostile message", { timeout: TIMEOUT }, async () => {
    const run = await stdio(fixture.dataArgs, [
      "--method",
      "tools/call",
      "--tool-name",
      "search_messages",
      "--tool-arg",
      "query=approved this",
    ]);
    const result = inspectorJson<CallResult>(run);
    assert.notEqual(result.isError, true);
    const text = result.content.map((block) => block.text ?? "").join("\n");
    const fences = readFences(text);
    assert.ok(fences.opens > 0, text);
    assert.equal(fences.closes, fences.opens, `a forged closing tag survived:\n${text}`);
    assert.equal(fences.unterminated, false);
    assert.ok(!fences.outside.includes("SYSTEM:"), `"SYSTEM:" outside the fence:\n${text}`);
    assert.ok(
      fences.inside.some((inside) => inside.includes(HOSTILE_MARKER)),
      text,
    );
  });
});

describe("MCP Inspector CLI over remote /mcp: bearer tokens and its own OAuth", {
  skip,
  timeout: TIMEOUT * 5,
}, () => {
  let fixture: RealClientFixture;
  let remote: RemoteCli;
  let browser: Browser;
  before(async () => {
    fixture = buildRealClientFixture();
    remote = await startRemoteCli(fixture.dataArgs);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await remote?.close();
    fixture?.cleanup();
  });

  const listTools = (token: string) =>
    runInspectorCli(clients!, [
      remote.mcpUrl,
      "--transport",
      "http",
      "--header",
      `Authorization: Bearer ${token}`,
      "--method",
      "tools/list",
    ]);

  test("a read+send token lists the read and send tools", { timeout: TIMEOUT }, async () => {
    const { access_token } = await obtainTokens(remote.serverUrl, { access: "read_send" });
    const names = inspectorJson<ToolsList>(await listTools(access_token)).tools.map((tool) => tool.name);
    for (const name of [...READ_TOOLS, "send_message"]) assert.ok(names.includes(name), `${name} missing`);
  });

  test("a read-only token does not even see the send tools", {
    timeout: TIMEOUT,
  }, async () => {
    const { access_token, scope } = await obtainTokens(remote.serverUrl, { access: "read" });
    assert.equal(scope, "messages:read");
    const names = inspectorJson<ToolsList>(await listTools(access_token)).tools.map((tool) => tool.name);
    for (const name of READ_TOOLS) assert.ok(names.includes(name), `${name} missing`);
    assert.ok(!names.includes("send_message"), `a read-only token lists ${names.join(", ")}`);
  });

  test("with no token, Inspector's own OAuth: registration, consent in Chromium, then tools/list", {
    timeout: TIMEOUT,
  }, async () => {
    let consent: Promise<void> | undefined;
    const run = await runInspectorCliInTerminal(
      clients!,
      [remote.mcpUrl, "--transport", "http", "--method", "tools/list"],
      (soFar) => {
        const url = authorizationUrlIn(soFar, remote.serverUrl);
        if (consent === undefined && url) {
          consent = consentInBrowser(browser, url, { password: OWNER_PASSWORD, access: "read" });
          consent.catch(() => {}); // awaited below; a failure must not count as unhandled meanwhile
        }
      },
    );
    assert.ok(consent, `Inspector printed no authorization URL:\n${run.stdout}`);
    await consent;
    assert.equal(run.code, 0, run.stdout);
    for (const name of READ_TOOLS) assert.ok(run.stdout.includes(`"name": "${name}"`), `${name} missing`);
  });

  test("a wrong token is refused, and Inspector turns to OAuth", { timeout: TIMEOUT }, async () => {
    const run = await listTools("not-a-real-token");
    assert.notEqual(run.code, 0, run.stdout);
    // The server's 401 points at its OAuth metadata, so Inspector wants to authorize (interactively).
    assert.match(`${run.stderr}${run.stdout}`, /"code":"auth_required"/);
  });
});
