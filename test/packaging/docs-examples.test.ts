// The documentation, executed: every tool-call example in README.md and docs/*.md runs against the demo data
// through the real CLI over stdio (sending through a recording fake osascript), and where the docs show the
// output, the real output must open with the same line (digits, ids and dates aside). The Claude Desktop
// configuration example starts the server; the .mcp.json forms are read by the real Claude Code CLI; every
// relative link and #anchor leads somewhere. (The
// `claude mcp add` lines run with the real Claude Code CLI in npm-package.test.ts, against the installed
// package.)
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeClaudeSandbox, runClaude } from "../helpers/claude-code.js";
import { DOC_FILES, fencedBlocks, shellBlockLines } from "../helpers/docs-markdown.js";
import { type FakeOsascript, installFakeOsascript } from "../helpers/fake-osascript.js";
import { textOf } from "../helpers/mcp-scenario.js";
import { REPO_ROOT } from "../helpers/packed-package.js";
import { realClientsOrSkip } from "../helpers/real-clients.js";
import {
  openStdioSession,
  type StdioSession,
  sourceCli,
  withStdioSession,
} from "../helpers/stdio-session.js";

const realClients = realClientsOrSkip();

interface Example {
  file: string;
  name: string;
  arguments: Record<string, unknown>;
  /** The first line of the output the docs show right after the call, if they show one. */
  shownFirstLine?: string;
}

function isToolCall(value: unknown): value is { name: string; arguments?: Record<string, unknown> } {
  return (
    typeof value === "object" && value !== null && typeof (value as { name?: unknown }).name === "string"
  );
}

/** Tool calls written as `{ "name": …, "arguments": … }` in json blocks: a whole block, or one per line. */
function toolExamples(): Example[] {
  const examples: Example[] = [];
  for (const file of DOC_FILES) {
    const text = readFileSync(join(REPO_ROOT, file), "utf8");
    const blocks = fencedBlocks(text);
    blocks.forEach((block, index) => {
      if (block.lang !== "json") return;
      let calls: unknown[];
      try {
        calls = [JSON.parse(block.body)];
      } catch {
        calls = block.body
          .split("\n")
          .filter((line) => line.trim().startsWith("{"))
          .map((line) => JSON.parse(line) as unknown);
      }
      const next = blocks[index + 1];
      const shown =
        calls.length === 1 && next?.lang === "text" && text.slice(block.end, next.start).trim() === ""
          ? next.body.split("\n")[0]
          : undefined;
      for (const call of calls) {
        if (!isToolCall(call) || "mcpServers" in (call as object)) continue;
        examples.push({ file, name: call.name, arguments: call.arguments ?? {}, shownFirstLine: shown });
      }
    });
  }
  return examples;
}

/** Digits, hex ids and cursors differ from run to run; the words and the shape must not. */
function shape(line: string): string {
  return line.replace(/[0-9A-Fa-f]{6,}(-[0-9A-Fa-f]{4,})*/g, "#").replace(/\d+/g, "#");
}

let fake: FakeOsascript;
let home: string;
let demo: StdioSession;

before(async () => {
  fake = await installFakeOsascript({ stdout: "iMessage" });
  home = mkdtempSync(join(tmpdir(), "docs-examples-"));
  // The send_message example attaches ~/Pictures/beach.jpg.
  mkdirSync(join(home, "Pictures"));
  writeFileSync(join(home, "Pictures", "beach.jpg"), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0xff, 0xd9]));
  demo = await openStdioSession({
    ...sourceCli(["--demo"]),
    env: {
      PATH: fake.env.PATH ?? "",
      HOME: home,
      MAC_MESSAGES_MCP_HOME: join(home, ".mac-messages-mcp"),
    },
  });
});

after(async () => {
  await demo?.close();
  await fake?.cleanup();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe("tool-call examples in README.md and docs/ run on the demo data", { timeout: 10 * 60_000 }, () => {
  const examples = toolExamples();
  let lastScheduledId: string | undefined;

  test("the docs have examples to run", () => {
    assert.ok(examples.length >= 15, `found ${examples.length}`);
    assert.ok(examples.some((example) => example.file === "README.md"));
  });

  for (const example of examples) {
    test(`${example.file}: ${example.name} ${JSON.stringify(example.arguments)}`, async () => {
      const args = { ...example.arguments };
      // A schedule time that has passed is refused by design; the docs' date is moved to tomorrow.
      if (typeof args.send_at === "string" && Date.parse(args.send_at) <= Date.now()) {
        args.send_at = new Date(Date.now() + 86_400_000).toISOString();
      }
      // Scheduled ids are random: the docs' id stands for the one the schedule example just made.
      if (typeof args.id === "string" && args.id.startsWith("sch_") && lastScheduledId)
        args.id = lastScheduledId;
      const result = await demo.client.callTool({ name: example.name, arguments: args });
      const text = textOf(result);
      const scheduled = /\bsch_[0-9a-f]+/.exec(text);
      if (example.name === "schedule_message" && scheduled) lastScheduledId = scheduled[0];
      if (example.shownFirstLine === undefined) {
        assert.equal(result.isError, undefined, `${text}\n${demo.stderr().slice(-2000)}`);
      } else {
        assert.equal(
          shape(text.split("\n")[0] ?? ""),
          shape(example.shownFirstLine),
          `the docs show a different first line:\n${text}`,
        );
      }
    });
  }
});

describe("the Claude Desktop configuration in the README starts the server", () => {
  test("claude_desktop_config.json as shown, with this machine's node and checkout", async () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const block = fencedBlocks(readme).find((b) => b.lang === "json" && b.body.includes('"mcpServers"'));
    assert.ok(block, "the README shows a claude_desktop_config.json");
    const config = JSON.parse(block.body) as {
      mcpServers: Record<string, { command: string; args: string[] }>;
    };
    const server = config.mcpServers.messages;
    assert.ok(server);
    assert.match(server.command, /\/node$/, "an absolute path to node");
    const entry = server.args[0]?.replace(/^\/Users\/you\/mac-messages-mcp/, REPO_ROOT) ?? "";
    assert.ok(entry.endsWith("dist/src/cli/main.js"));
    // The README points at the built CLI. Build a private copy of the checkout's layout (package.json,
    // the embedded schemas, dist/) rather than touch this checkout's dist/, which other tests pack.
    const checkout = join(home, "checkout");
    mkdirSync(join(checkout, "src", "demo"), { recursive: true });
    cpSync(join(REPO_ROOT, "package.json"), join(checkout, "package.json"));
    symlinkSync(join(REPO_ROOT, "node_modules"), join(checkout, "node_modules"));
    cpSync(join(REPO_ROOT, "src", "demo", "schema"), join(checkout, "src", "demo", "schema"), {
      recursive: true,
    });
    execFileSync(
      process.execPath,
      [
        join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"),
        "-p",
        REPO_ROOT,
        "--outDir",
        join(checkout, "dist"),
      ],
      {
        timeout: 600_000,
      },
    );
    const compiled = join(checkout, entry.slice(REPO_ROOT.length + 1));
    assert.ok(existsSync(compiled), compiled);
    const desktop = {
      command: process.execPath,
      args: [compiled],
      env: { PATH: process.env.PATH ?? "", HOME: home, MAC_MESSAGES_MCP_HOME: join(home, ".desktop-state") },
    };
    await withStdioSession(desktop, async ({ client }) => {
      const contact = await client.callTool({ name: "find_contact", arguments: { query: "dad" } });
      assert.match(textOf(contact), /Robert Reyes/);
    });
  });
});

describe("links in README.md and docs/", () => {
  /** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
  function anchors(markdown: string): Set<string> {
    const found = new Set<string>();
    const withoutCode = markdown.replace(/^```[\s\S]*?^```$/gm, "");
    for (const match of withoutCode.matchAll(/^#{1,6} (.+)$/gm)) {
      const slug = (match[1] ?? "")
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-");
      found.add(slug);
    }
    return found;
  }

  for (const file of DOC_FILES) {
    test(`${file}: every relative link and anchor resolves`, () => {
      const text = readFileSync(join(REPO_ROOT, file), "utf8").replace(/^```[\s\S]*?^```$/gm, "");
      const broken: string[] = [];
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1] ?? "";
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split("#");
        const resolved = path ? resolve(dirname(join(REPO_ROOT, file)), path) : join(REPO_ROOT, file);
        if (!existsSync(resolved)) {
          broken.push(`${target} (no such file)`);
          continue;
        }
        if (anchor && resolved.endsWith(".md") && !anchors(readFileSync(resolved, "utf8")).has(anchor)) {
          broken.push(`${target} (no such heading)`);
        }
      }
      // Docs name the test that checks a claim: that test must exist.
      for (const match of text.matchAll(/\btest\/[\w/.-]+\.test\.ts\b/g)) {
        if (!existsSync(join(REPO_ROOT, match[0]))) broken.push(`${match[0]} (no such test)`);
      }
      assert.deepEqual(broken, []);
    });
  }
});

describe("the remote .mcp.json forms in the docs, read by the real Claude Code CLI", {
  skip: realClients.skip,
}, () => {
  /** Runs `claude mcp list` in a folder holding `.mcp.json` with this content. */
  async function listWith(mcpJson: string) {
    const clients = realClients.clients;
    assert.ok(clients);
    const sandbox = makeClaudeSandbox();
    try {
      writeFileSync(join(sandbox.cwd, ".mcp.json"), mcpJson);
      const listed = await runClaude(clients, sandbox, ["mcp", "list"]);
      return `${listed.stdout}\n${listed.stderr}`;
    } finally {
      sandbox.cleanup();
    }
  }

  test("remote-access.md's SSE entry (with its type) is taken as an SSE server", async () => {
    const doc = readFileSync(join(REPO_ROOT, "docs", "remote-access.md"), "utf8");
    const block = fencedBlocks(doc).find((b) => b.lang === "json" && b.body.includes('"mcpServers"'));
    assert.ok(block, "remote-access.md shows a .mcp.json");
    const output = await listWith(block.body);
    assert.match(output, /messages: https:\/\/mcp\.yourdomain\.com\/sse \(SSE\)/);
  });

  test("the original guide's entry without a type is skipped, as docs/deployment.md says", async () => {
    const output = await listWith(
      '{ "mcpServers": { "messages": { "url": "https://mcp.yourdomain.com/sse" } } }',
    );
    assert.match(output, /has a "url" but no "type"/);
    assert.doesNotMatch(output, /^messages: /m);
  });
});

describe("the demo generator lines in docs/demo-data.md", { timeout: 10 * 60_000 }, () => {
  const doc = readFileSync(join(REPO_ROOT, "docs", "demo-data.md"), "utf8");
  const lines = shellBlockLines(doc).filter((line) => line.startsWith("npm run demo:generate"));

  test("the docs show the generator", () => assert.ok(lines.length >= 2));

  for (const line of lines) {
    // The million-message line is the benchmark's size; it is run by `npm run bench`, not here.
    test(line, { skip: /--messages \d{6,}/.test(line) ? "benchmark size (npm run bench)" : false }, () => {
      const out = mkdtempSync(join(tmpdir(), "demo-generate-"));
      try {
        // `./name` is relative to where you run it; here, a temporary folder instead of this checkout.
        const command = line.replace(/--out \.\/(\S+)/, `--out ${join(out, "$1")}`);
        execFileSync("bash", ["-c", command], { cwd: REPO_ROOT, stdio: "pipe", timeout: 300_000 });
        const target = join(out, /--out \.\/(\S+)/.exec(line)?.[1] ?? "");
        assert.ok(existsSync(join(target, "Messages", "chat.db")), "a chat.db");
        assert.ok(existsSync(join(target, "AddressBook", "AddressBook-v22.abcddb")), "an address book");
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  }
});
