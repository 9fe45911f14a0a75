import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ContactsStore } from "../../src/contacts/index.js";
import { ChatDbWriter } from "../../src/demo/chatdb-writer.js";
import { generateDemo } from "../../src/demo/generate.js";
import { makePng } from "../../src/demo/sample-files.js";
import { conversationKind } from "../../src/mcp/core/conversation-kind.js";
import type { ServerDeps } from "../../src/mcp/core/server-deps.js";
import { UNTRUSTED_OPEN } from "../../src/mcp/format.js";
import { registerTool } from "../../src/mcp/tool-definition.js";
import { getAttachment } from "../../src/mcp/tools/get-attachment.js";
import { listConversations } from "../../src/mcp/tools/list-conversations.js";
import { searchAttachmentContents } from "../../src/mcp/tools/search-attachment-contents.js";
import { searchAttachments } from "../../src/mcp/tools/search-attachments.js";
import { type MessagesStore, openMessagesStore } from "../../src/messages/index.js";
import { EXPORTER_TEST_DB } from "../helpers/fixtures.js";
import {
  call,
  connectRegistered,
  type RegisteredSession,
  structured,
  textOf,
} from "../helpers/mcp-scenario.js";
import { addOneToOneChat } from "../helpers/one-to-one-chat.js";

const FIXTURE_DB = EXPORTER_TEST_DB;
// A 16×16 HEIC made with libheif's heif-enc; embedded so the test needs no encoder.
const TINY_HEIC_BASE64 =
  "AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAAa1tZXRhAAAAAAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAAAAAAAAAAAAAAAA5waXRtAAAAAAACAAAAEGlkYXQAAAAAABAAEAAAADhpbG9jAQAAAERAAAIAAQAAAAAAAAHRAAEAAAAAAAAANgACAAEAAAAAAAAAAQAAAAAAAAAIAAAAOGlpbmYAAAAAAAIAAAAVaW5mZQIAAAEAAQAAaHZjMQAAAAAVaW5mZQIAAAAAAgAAZ3JpZAAAAADYaXBycAAAALZpcGNvAAAAdmh2Y0MBA3AAAAAAAAAAAAAe8AD8/fj4AAAPAyAAAQAYQAEMAf//A3AAAAMAkAAAAwAAAwAeugJAIQABACpCAQEDcAAAAwCQAAADAAADAB6gIIEFluqumubgQEDAgAAAAwCAAAADAIQiAAEABkQBwXPBiQAAABRpc3BlAAAAAAAAAEAAAABAAAAAFGlzcGUAAAAAAAAAEAAAABAAAAAQcGl4aQAAAAADCAgIAAAAGmlwbWEAAAAAAAAAAgABAoECAAICA4QAAAAaaXJlZgAAAAAAAAAOZGltZwACAAEAAQAAAD5tZGF0AAAAMigBrxkhXvJA715V7BcN19+uISIgcZTYNMA2x5kNyeYh905bnWx7Hr20lwSYlbB+5tlg";

describe("parity tools on the demo data: conversations and attachments", () => {
  let dir: string;
  let store: MessagesStore;
  let session: RegisteredSession;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcp-parity-demo-"));
    const paths = generateDemo({ dir, messages: 200 });
    store = openMessagesStore(paths.chatDb);
    const deps: ServerDeps = {
      messages: store,
      contacts: ContactsStore.open({ roots: [paths.contactsRoot] }),
      sender: null,
      demo: true,
    };
    session = await connectRegistered((server) => {
      registerTool(server, listConversations, deps);
      for (const tool of [searchAttachments, getAttachment, searchAttachmentContents])
        registerTool(server, tool, deps);
    });
  });
  after(async () => {
    await session.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists every conversation with its kind, counts and last activity, and pages through them", async () => {
    type Page = {
      conversations: {
        id: number;
        name: string;
        kind: string;
        messageCount: number;
        unreadCount: number;
        lastActivity: string | null;
      }[];
      nextCursor: string | null;
    };
    const all = structured<Page>(await call(session.client, "list_conversations", { limit: 500 }));
    assert.equal(all.conversations.length, store.listChats({ limit: 1000 }).length);
    assert.equal(all.nextCursor, null);
    const kinds = new Set(all.conversations.map((c) => c.kind));
    assert.deepEqual([...kinds].sort(), ["business", "direct", "group"]);
    const crew = all.conversations.find((c) => c.name.startsWith("Weekend Crew"));
    assert.equal(crew?.kind, "group");
    assert.ok((crew?.messageCount ?? 0) > 0);
    const shortCode = all.conversations.find((c) => c.kind === "business");
    assert.ok(shortCode, "the demo's SMS short code 262966 is a business conversation");

    const first = structured<Page>(await call(session.client, "list_conversations", { limit: 5 }));
    assert.equal(first.conversations.length, 5);
    assert.ok(first.nextCursor);
    const second = structured<Page>(
      await call(session.client, "list_conversations", { limit: 5, cursor: first.nextCursor }),
    );
    assert.deepEqual(
      [...first.conversations, ...second.conversations].map((c) => c.id),
      all.conversations.slice(0, 10).map((c) => c.id),
    );

    const unread = structured<Page>(await call(session.client, "list_conversations", { unread_only: true }));
    assert.ok(unread.conversations.length > 0);
    assert.ok(unread.conversations.every((c) => c.unreadCount > 0));
    // Exactly the conversations the full list shows with unread messages (how many depends on the time of
    // day the demo was generated, so the set is compared rather than a count).
    assert.deepEqual(
      unread.conversations.map((c) => c.id).sort(),
      all.conversations
        .filter((c) => c.unreadCount > 0)
        .map((c) => c.id)
        .sort(),
    );
  });

  it("classifies business identifiers without mistaking ordinary numbers", () => {
    const chat = (identifier: string, ids: string[] = [], isGroup = false) => ({
      identifier,
      isGroup,
      participants: ids.map((id, rowid) => ({ rowid, id, service: "iMessage" })),
    });
    assert.equal(conversationKind(chat("urn:biz:5f1c6a4e-1111-2222-3333-444455556666")), "business");
    assert.equal(conversationKind(chat("262966", ["262966"])), "business");
    assert.equal(conversationKind(chat("x", ["support@apple.biz"])), "business");
    assert.equal(conversationKind(chat("+15550100101", ["+15550100101"])), "direct");
    assert.equal(conversationKind(chat("chat123", ["262966", "+15550100101"], true)), "group");
  });

  it("searches attachment metadata by type, contact, chat and date, newest first, with pages", async () => {
    type Page = {
      attachments: {
        id: number;
        name: string;
        mimeType: string;
        onDisk: boolean;
        chat: { name: string } | null;
      }[];
      nextCursor: string | null;
    };
    const all = structured<Page>(await call(session.client, "search_attachments", {}));
    assert.ok(all.attachments.length >= 5, "the demo showcase has a PNG, a JPEG, a PDF, a .txt and a .vcf");
    assert.ok(all.attachments.every((a) => a.onDisk));
    const ids = all.attachments.map((a) => a.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
    );

    const images = structured<Page>(
      await call(session.client, "search_attachments", { mime_prefix: "image/" }),
    );
    assert.ok(images.attachments.length > 0);
    assert.ok(images.attachments.every((a) => a.mimeType.startsWith("image/")));

    const crew = structured<Page>(
      await call(session.client, "search_attachments", {
        chat: "Weekend Crew",
        mime_prefix: "application/pdf",
      }),
    );
    assert.deepEqual(
      crew.attachments.map((a) => a.name),
      ["Cabin confirmation.pdf"],
    );

    const future = structured<Page>(
      await call(session.client, "search_attachments", { start_date: "2999-01-01" }),
    );
    assert.equal(future.attachments.length, 0);

    const first = structured<Page>(await call(session.client, "search_attachments", { limit: 2 }));
    const rest = structured<Page>(
      await call(session.client, "search_attachments", { limit: 500, cursor: first.nextCursor }),
    );
    assert.deepEqual(
      [...first.attachments, ...rest.attachments].map((a) => a.id),
      ids,
    );

    const text = textOf(await call(session.client, "search_attachments", {}));
    assert.ok(text.includes(UNTRUSTED_OPEN), "file names are fenced as third-party content");

    const bad = await call(session.client, "search_attachments", { start_date: "last tuesday" });
    assert.equal(bad.isError, true);
    assert.match(textOf(bad), /not a date/);
  });

  it("returns a small image inline with its real type", async () => {
    const png = store.searchAttachments({ mimePrefix: "image/png", limit: 1 })[0];
    assert.ok(png);
    const result = await call(session.client, "get_attachment", { id: png.rowid });
    assert.equal(result.isError, undefined);
    const image = result.content.find((c) => c.type === "image");
    assert.ok(image && image.type === "image");
    assert.equal(image.mimeType, "image/png");
    assert.deepEqual(Buffer.from(image.data, "base64").subarray(0, 4), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    const info = structured<{ file: { status: string }; preview: { kind: string } }>(result);
    assert.equal(info.file.status, "available");
    assert.equal(info.preview.kind, "image");
  });

  it("returns the text of a PDF and a contact card, fenced", async () => {
    const pdf = store.searchAttachments({ mimePrefix: "application/pdf", limit: 1 })[0];
    assert.ok(pdf);
    const result = await call(session.client, "get_attachment", { id: pdf.rowid });
    const info = structured<{ preview: { kind: string; text: string } }>(result);
    assert.equal(info.preview.kind, "text");
    assert.match(info.preview.text, /Confirmation code: PHC-58214/);
    assert.ok(textOf(result).includes(`${UNTRUSTED_OPEN}\nPine Hollow`));

    const missing = await call(session.client, "get_attachment", { id: 999_999 });
    assert.equal(missing.isError, true);
    assert.match(textOf(missing), /no attachment with id 999999/);
  });

  it("finds text inside PDFs and contact cards, with snippets", async () => {
    type Found = {
      matches: { attachment: { name: string }; snippets: string[]; matchCount: number }[];
      filesSearched: number;
      unreadableCount: number;
    };
    const code = structured<Found>(
      await call(session.client, "search_attachment_contents", { query: "phc-58214" }),
    );
    assert.ok(code.matches.length >= 1);
    assert.ok(code.matches.every((m) => m.attachment.name === "Cabin confirmation.pdf"));
    assert.match(code.matches[0]?.snippets[0] ?? "", /Confirmation code: PHC-58214/);
    assert.ok(code.filesSearched >= 3);
    assert.equal(code.unreadableCount, 0);

    const card = structured<Found>(
      await call(session.client, "search_attachment_contents", { query: "Lakeside Family" }),
    );
    assert.deepEqual(
      card.matches.map((m) => m.attachment.name),
      ["Priya Raman.vcf"],
    );

    const none = structured<Found>(
      await call(session.client, "search_attachment_contents", { query: "no such words anywhere" }),
    );
    assert.equal(none.matches.length, 0);
  });
});

describe("parity attachment tools: confinement to the attachments folder", () => {
  let dir: string;
  let store: MessagesStore;
  let session: RegisteredSession;
  const ids: Record<string, number> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcp-parity-escape-"));
    const messagesDir = join(dir, "Messages");
    const attachments = join(messagesDir, "Attachments");
    mkdirSync(join(attachments, "ab"), { recursive: true });
    const secret = join(dir, "secret.txt");
    writeFileSync(secret, "TOPSECRET outside the folder\n");
    writeFileSync(join(attachments, "ab", "notes.txt"), "meeting at noon\n");
    writeFileSync(join(attachments, "ab", "photo.heic"), Buffer.from(TINY_HEIC_BASE64, "base64"));
    writeFileSync(join(attachments, "ab", "broken.pdf"), "%PDF-1.4 this is not really a pdf");
    writeFileSync(
      join(attachments, "ab", "big.png"),
      Buffer.concat([makePng(), Buffer.alloc(1024 * 1024 + 10)]),
    );
    symlinkSync(secret, join(attachments, "ab", "link-out.txt"));
    symlinkSync(join(attachments, "ab", "notes.txt"), join(attachments, "ab", "link-in.txt"));
    symlinkSync(dir, join(attachments, "dir-out"));

    const writer = new ChatDbWriter(join(messagesDir, "chat.db"));
    const { handle, chat } = addOneToOneChat(writer);
    const files: [string, string | null, string, string | null][] = [
      ["notes", "~/Library/Messages/Attachments/ab/notes.txt", "notes.txt", "text/plain"],
      ["linkIn", "~/Library/Messages/Attachments/ab/link-in.txt", "link-in.txt", "text/plain"],
      ["linkOut", "~/Library/Messages/Attachments/ab/link-out.txt", "link-out.txt", "text/plain"],
      ["dotdot", "~/Library/Messages/Attachments/../../secret.txt", "secret.txt", "text/plain"],
      ["absolute", join(dir, "secret.txt"), "secret2.txt", "text/plain"],
      ["dirOut", "~/Library/Messages/Attachments/dir-out/secret.txt", "secret3.txt", "text/plain"],
      ["heic", "~/Library/Messages/Attachments/ab/photo.heic", "photo.heic", "image/heic"],
      ["brokenPdf", "~/Library/Messages/Attachments/ab/broken.pdf", "broken.pdf", "application/pdf"],
      ["bigPng", "~/Library/Messages/Attachments/ab/big.png", "big.png", "image/png"],
      ["gone", "~/Library/Messages/Attachments/ab/deleted.txt", "deleted.txt", "text/plain"],
      ["never", null, "never.jpg", "image/jpeg"],
    ];
    let minute = 0;
    for (const [key, path, name, mimeType] of files) {
      const message = writer.addMessage({
        chatRowid: chat,
        handleRowid: handle,
        text: null,
        date: new Date(Date.UTC(2025, 0, 1, 12, minute++)),
        isFromMe: false,
        service: "iMessage",
      });
      ids[key] = writer.addAttachment({
        messageRowid: message.rowid,
        path,
        name,
        mimeType,
        uti: null,
        totalBytes: 10,
      }).rowid;
    }
    writer.close();
    store = openMessagesStore(join(messagesDir, "chat.db"));
    const deps: ServerDeps = { messages: store, contacts: ContactsStore.empty("test"), sender: null };
    session = await connectRegistered((server) => {
      for (const tool of [searchAttachments, getAttachment, searchAttachmentContents])
        registerTool(server, tool, deps);
    });
  });
  after(async () => {
    await session.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads files inside the folder, also through a symlink that stays inside", async () => {
    for (const key of ["notes", "linkIn"]) {
      const info = structured<{ preview: { text: string } }>(
        await call(session.client, "get_attachment", { id: ids[key] }),
      );
      assert.equal(info.preview.text, "meeting at noon\n");
    }
  });

  it("refuses symlinks, .. and absolute paths that lead outside, without reading them", async () => {
    for (const key of ["linkOut", "dotdot", "absolute", "dirOut"]) {
      const result = await call(session.client, "get_attachment", { id: ids[key] });
      assert.equal(result.isError, true, key);
      assert.match(textOf(result), /outside the Messages attachments folder/, key);
      assert.ok(!textOf(result).includes("TOPSECRET"), key);
    }
  });

  it("counts files it may not or cannot read in a content search, and never matches inside them", async () => {
    type Found = {
      matches: { attachment: { id: number } }[];
      unreadableCount: number;
      unreadable: { id: number; reason: string }[];
    };
    const secret = structured<Found>(
      await call(session.client, "search_attachment_contents", { query: "TOPSECRET" }),
    );
    assert.equal(secret.matches.length, 0);
    const unreadableIds = secret.unreadable.map((u) => u.id).sort((a, b) => a - b);
    const expected = ["linkOut", "dotdot", "absolute", "dirOut", "brokenPdf", "gone"]
      .map((k) => ids[k])
      .sort((a, b) => (a ?? 0) - (b ?? 0));
    assert.deepEqual(unreadableIds, expected);
    assert.equal(secret.unreadableCount, expected.length);
    const broken = secret.unreadable.find((u) => u.id === ids.brokenPdf);
    assert.match(broken?.reason ?? "", /not a valid PDF|could not be read/);

    const noon = structured<Found>(
      await call(session.client, "search_attachment_contents", { query: "NOON" }),
    );
    assert.deepEqual(noon.matches.map((m) => m.attachment.id).sort(), [ids.notes, ids.linkIn].sort());
  });

  it("converts a HEIC photo to JPEG for the preview", async () => {
    const result = await call(session.client, "get_attachment", { id: ids.heic });
    const image = result.content.find((c) => c.type === "image");
    assert.ok(image && image.type === "image", textOf(result));
    assert.equal(image.mimeType, "image/jpeg");
    assert.deepEqual(Buffer.from(image.data, "base64").subarray(0, 3), Buffer.from([0xff, 0xd8, 0xff]));
    const info = structured<{ preview: { convertedFrom: string } }>(result);
    assert.equal(info.preview.convertedFrom, "image/heic");
  });

  it("scales a photo over max_bytes down; says plainly when a file is gone or was never downloaded", async () => {
    const big = await call(session.client, "get_attachment", { id: ids.bigPng });
    const image = big.content.find((c) => c.type === "image");
    assert.equal(image?.mimeType, "image/jpeg");
    assert.ok(Buffer.from(image?.data ?? "", "base64").length <= 1024 * 1024);
    assert.match(textOf(big), /scaled down from 48×32 \(1\.0 MB\) to 48×32 JPEG/);

    const gone = structured<{ file: { status: string; note: string } }>(
      await call(session.client, "get_attachment", { id: ids.gone }),
    );
    assert.equal(gone.file.status, "missing");
    assert.match(gone.file.note, /The file is missing/);

    const never = structured<{ file: { status: string } }>(
      await call(session.client, "get_attachment", { id: ids.never }),
    );
    assert.equal(never.file.status, "not_downloaded");
  });
});

describe("parity attachment tools on a real chat.db (imessage-exporter fixture)", () => {
  let store: MessagesStore;
  let session: RegisteredSession;

  before(async () => {
    store = openMessagesStore(FIXTURE_DB);
    const deps: ServerDeps = { messages: store, contacts: ContactsStore.empty("test"), sender: null };
    session = await connectRegistered((server) => {
      for (const tool of [searchAttachments, getAttachment, searchAttachmentContents])
        registerTool(server, tool, deps);
      registerTool(server, listConversations, deps);
    });
  });
  after(async () => {
    await session.close();
    store.close();
  });

  it("lists the stickers and says their files are missing on this machine", async () => {
    type Page = { attachments: { id: number; isSticker: boolean; onDisk: boolean; path: string | null }[] };
    const found = structured<Page>(await call(session.client, "search_attachments", {}));
    // Only one of the fixture's three sticker rows is joined to a message; the store lists that one.
    assert.equal(found.attachments.length, 1);
    assert.ok(found.attachments.every((a) => a.isSticker && !a.onDisk));
    for (const attachment of found.attachments) {
      const result = await call(session.client, "get_attachment", { id: attachment.id });
      assert.notEqual(result.isError, true);
      const info = structured<{ file: { status: string; note: string } }>(result);
      assert.equal(info.file.status, "missing");
      assert.match(textOf(result), /The file is missing: nothing is at .*StickerCache/);
    }
  });

  it("lists the fixture's conversations", async () => {
    const page = structured<{ conversations: unknown[] }>(
      await call(session.client, "list_conversations", {}),
    );
    assert.equal(page.conversations.length, store.listChats({ limit: 100 }).length);
  });
});
