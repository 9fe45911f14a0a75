// The demo as a user gets it: the real CLI over stdio (`--demo`, and a macOS 26 demo made by
// `npm run demo:generate -- --macos26` served with --db), asked through the MCP client SDK. Attachments are
// found next to the served chat.db wherever the demo folder was renamed to.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import type { Client } from "@modelcontextprotocol/client";
import Database from "better-sqlite3";
import { sourceCli, withStdioSession } from "../helpers/stdio-session.js";

const ROOT = join(import.meta.dirname, "..", "..");
const run = promisify(execFile);

type Content = { type: string; text?: string; data?: string; mimeType?: string };

async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<Content[]> {
  const result = (await client.callTool({ name, arguments: args })) as {
    content: Content[];
    isError?: boolean;
  };
  const texts = result.content.map((c) => c.text ?? "").join("\n");
  assert.notEqual(result.isError, true, `${name} failed: ${texts}`);
  return result.content;
}

const textOf = (content: Content[]) =>
  content
    .filter((c) => c.type === "text")
    .map((c) => c.text)
    .join("\n");

/** Attachment ids of the served chat.db, by file name (read straight from SQLite, not through the tools). */
function attachmentIds(chatDb: string): Map<string, number> {
  const db = new Database(chatDb, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT ROWID AS id, transfer_name AS name FROM attachment ORDER BY ROWID")
      .all() as {
      id: number;
      name: string;
    }[];
    return new Map(rows.map((r) => [r.name, r.id]));
  } finally {
    db.close();
  }
}

async function assertAttachmentsServed(client: Client, chatDb: string): Promise<void> {
  const ids = attachmentIds(chatDb);
  const photo = await callTool(client, "get_attachment", { id: ids.get("IMG_5120.png") });
  const image = photo.find((c) => c.type === "image");
  assert.ok(image, `no image: ${textOf(photo)}`);
  assert.equal(image.mimeType, "image/jpeg");
  const bytes = Buffer.from(image.data ?? "", "base64");
  assert.ok(bytes.length > 10_000 && bytes.length <= 1024 * 1024, `${bytes.length} bytes`);
  assert.match(textOf(photo), /1568×1176/);

  const pdf = await callTool(client, "get_attachment", { id: ids.get("Cabin confirmation.pdf") });
  assert.match(textOf(pdf), /Confirmation code: PHC-58214/);
}

describe("the served demo", () => {
  let home: string;
  before(() => {
    home = mkdtempSync(join(tmpdir(), "served-demo-"));
  });
  after(() => rmSync(home, { recursive: true, force: true }));
  const env = (): Record<string, string> => ({
    HOME: home,
    MAC_MESSAGES_MCP_HOME: join(home, "state"),
    PATH: process.env.PATH ?? "",
    TZ: "America/Los_Angeles",
  });

  test("--demo: get_attachment returns the photo (scaled down) and the PDF's text", async () => {
    await withStdioSession(sourceCli(["--demo", "--read-only"], env()), async ({ client }) => {
      // The demo is generated in a temporary folder and renamed into place: paths must still resolve.
      await callTool(client, "list_chats", { limit: 1 });
      await assertAttachmentsServed(client, join(home, "state", "demo", "Messages", "chat.db"));
    });
  });

  test("a macOS 26 demo from `demo:generate --macos26` is served, attachments and all", async () => {
    const out = join(home, "tahoe-then-moved");
    const generated = await run(
      process.execPath,
      ["--import", "tsx", join(ROOT, "src", "demo", "cli.ts"), "--out", join(home, "tahoe"), "--macos26"],
      {
        env: { ...process.env, ...env() },
      },
    ).catch((error: { stderr?: string }) => {
      throw new Error(`demo:generate failed: ${error.stderr}`);
    });
    assert.match(generated.stderr, /Wrote 2,500 messages/);
    // Moved after generation, as a user might: nothing may point into the old folder.
    renameSync(join(home, "tahoe"), out);
    const chatDb = join(out, "Messages", "chat.db");
    const db = new Database(chatDb, { readonly: true });
    const columns = (db.prepare("PRAGMA table_info(message)").all() as { name: string }[]).map((c) => c.name);
    const guids = (db.prepare("SELECT guid FROM chat").all() as { guid: string }[]).map((r) => r.guid);
    db.close();
    assert.ok(columns.includes("date_recovered"), "macOS 26 columns");
    assert.ok(
      guids.some((g) => g.startsWith("any;")),
      "macOS 26 chat guids",
    );
    const server = sourceCli(
      ["--db", chatDb, "--contacts-dir", join(out, "AddressBook"), "--read-only"],
      env(),
    );
    await withStdioSession(server, async ({ client }) => {
      const recent = textOf(await callTool(client, "get_recent_messages", { hours: 24 * 7 }));
      assert.match(recent, /Sophia Reyes/);
      // The server process runs under TZ=America/Los_Angeles: times are in that zone, and it says so.
      assert.match(
        recent,
        /\nTimes in America\/Los_Angeles, UTC\u221207:00|\nTimes in America\/Los_Angeles, UTC\u221208:00/,
      );
      const id = Number(/\n#(\d+) /.exec(recent)?.[1]);
      const context = textOf(await callTool(client, "get_message_context", { message_id: id, before: 2 }));
      assert.match(context, new RegExp(`^Message #${id} in chat:\\d+ with 2 before and 0 after`));
      await assertAttachmentsServed(client, chatDb);
    });
  });
});
