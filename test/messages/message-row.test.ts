// What Messages shows around the text, read from hand-built chat.db files (Apple's schema, real blobs from
// the fixtures) and from the real imessage-exporter test database.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ChatDbWriter } from "../../src/demo/chatdb-writer.js";
import { encodeAttributedBody, encodeMessageSummaryInfo } from "../../src/messages/codec.js";
import { type MessagesStore, openMessagesStore } from "../../src/messages/index.js";
import { displayTextOf, previewOf } from "../../src/messages/message-row.js";
import type { Attachment, Message } from "../../src/messages/types.js";
import { EXPORTER_TEST_DB } from "../helpers/fixtures.js";
import { SUMMARY_INFO_DIR, TYPEDSTREAM_DIR } from "../helpers/typedstream-fixtures.js";

const MINUTE = 60_000;
const base = new Date("2025-06-01T17:00:00Z").getTime();
const at = (minutes: number) => new Date(base + minutes * MINUTE);

describe("message semantics on a hand-built chat.db", () => {
  let dir: string;
  let store: MessagesStore;
  const ids: Record<string, number> = {};
  const handles = { noah: 0, ava: 0, liam: 0 };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "message-row-"));
    const w = new ChatDbWriter(join(dir, "chat.db"));
    handles.noah = w.addHandle({ id: "+15550100001", service: "iMessage" });
    handles.ava = w.addHandle({ id: "ava@example.com", service: "iMessage" });
    handles.liam = w.addHandle({ id: "+15550100003", service: "iMessage" });
    const noah = w.addChat({
      identifier: "+15550100001",
      service: "iMessage",
      isGroup: false,
      participants: [handles.noah],
    });
    const group = w.addChat({
      identifier: "chat123",
      service: "iMessage",
      isGroup: true,
      displayName: "Crew",
      participants: [handles.noah, handles.ava, handles.liam],
    });
    const say = (key: string, input: Partial<Parameters<ChatDbWriter["addMessage"]>[0]> & { date: Date }) => {
      const ref = w.addMessage({
        chatRowid: noah,
        handleRowid: handles.noah,
        isFromMe: false,
        service: "iMessage",
        ...input,
      });
      ids[key] = ref.rowid;
      return ref;
    };
    // A voice message: the real Transcription blob (its U+FFFC names the audio transfer).
    const voice = say("voice", {
      attributedBody: readFileSync(join(TYPEDSTREAM_DIR, "Transcription")),
      date: at(0),
      isAudioMessage: true,
    });
    w.addAttachment({
      guid: "4C339597-EBBB-4978-9B87-521C0471A848",
      messageRowid: voice.rowid,
      path: "~/Library/Messages/Attachments/48/08/Audio Message.caf",
      name: "Audio Message.caf",
      mimeType: "audio/x-caf",
      uti: "com.apple.coreaudio-format",
      totalBytes: 20_000,
    });
    // A mention: the real Mention blob, and one written by our encoder.
    say("mention", {
      chatRowid: group,
      attributedBody: readFileSync(join(TYPEDSTREAM_DIR, "Mention")),
      date: at(1),
    });
    say("mention2", {
      chatRowid: group,
      handleRowid: handles.ava,
      attributedBody: encodeAttributedBody("Ask Liam about it", {
        mentions: [{ start: 4, length: 4, handleId: "+15550100003" }],
      }),
      date: at(2),
    });
    // A thread: the original and a reply to it.
    const original = say("original", {
      text: "Who's in for camping the weekend of the 14th, anyone?",
      date: at(3),
    });
    say("reply", { text: "Me!", isFromMe: true, threadOriginatorGuid: original.guid, date: at(4) });
    // Receipts of my message.
    say("receipts", {
      text: "See you at 8",
      isFromMe: true,
      date: at(5),
      dateDelivered: at(5.5),
      dateRead: at(9),
    });
    say("undelivered", { text: "Hello?", isFromMe: true, date: at(6), dateDelivered: null });
    // Group events.
    const event = (key: string, minute: number, input: Partial<Parameters<ChatDbWriter["addMessage"]>[0]>) =>
      say(key, { chatRowid: group, handleRowid: handles.ava, date: at(minute), ...input });
    event("added", 10, { itemType: 1, groupActionType: 0, otherHandle: handles.liam });
    event("removed", 11, { itemType: 1, groupActionType: 1, otherHandle: handles.noah });
    event("left", 12, { itemType: 3, groupActionType: 0, handleRowid: handles.liam });
    event("photo", 13, { itemType: 3, groupActionType: 1 });
    event("renamed", 14, { itemType: 2, groupTitle: "Crew 2" });
    event("meAdded", 15, {
      itemType: 1,
      groupActionType: 0,
      otherHandle: handles.ava,
      isFromMe: true,
      handleRowid: 0,
    });
    // Tapbacks: Noah loves, then likes (replacing the love); Ava laughs then removes it; I emphasize.
    const target = say("tapped", { text: "Pizza tonight?", isFromMe: true, date: at(20) });
    const react = (minute: number, type: number, handle: number, isFromMe = false) =>
      w.addMessage({
        chatRowid: noah,
        handleRowid: handle,
        isFromMe,
        service: "iMessage",
        date: at(minute),
        text: "reaction",
        associatedMessageGuid: `p:0/${target.guid}`,
        associatedMessageType: type,
      });
    react(21, 2000, handles.noah);
    react(22, 2001, handles.noah);
    react(23, 2003, handles.ava);
    react(24, 3003, handles.ava);
    react(25, 3000, handles.noah); // removing the love that was already replaced changes nothing
    react(26, 2004, 0, true);
    // A plain unsend (date_edited set, summary says part 0 unsent) and a real edit.
    say("unsent", {
      text: "",
      isFromMe: true,
      date: at(30),
      dateEdited: at(31),
      messageSummaryInfo: readFileSync(join(SUMMARY_INFO_DIR, "Deleted.plist")),
    });
    say("edited", {
      text: "Running 15 min late",
      isFromMe: true,
      date: at(32),
      dateEdited: at(33),
      messageSummaryInfo: readFileSync(join(SUMMARY_INFO_DIR, "Edited.plist")),
    });
    // An inline sticker and a Genmoji inside text.
    const sticker = say("sticker", {
      attributedBody: encodeAttributedBody("Look \ufffc and \ufffc!", {
        attachmentGuids: ["at_0_S1", "at_2_G1"],
      }),
      date: at(40),
    });
    w.addAttachment({
      guid: "at_0_S1",
      messageRowid: sticker.rowid,
      path: null,
      name: "s.heic",
      mimeType: "image/heic",
      uti: "public.heic",
      totalBytes: 9,
      isSticker: true,
      imageDescription: "pink poodle",
    });
    w.addAttachment({
      guid: "at_2_G1",
      messageRowid: sticker.rowid,
      path: null,
      name: "g.heic",
      mimeType: "image/heic",
      uti: "public.heic",
      totalBytes: 9,
      imageDescription: "cat in sunglasses",
    });
    // A translation (macOS 26), written the way the real fixture stores it.
    say("translated", {
      text: "¿Vienes mañana?",
      date: at(41),
      messageSummaryInfo: encodeMessageSummaryInfo({
        editedParts: [],
        unsentParts: [],
        history: {},
        translation: { text: "Are you coming tomorrow?", language: "en_US", sourceLanguage: "es_ES" },
      }),
    });
    w.close();
    store = openMessagesStore(join(dir, "chat.db"));
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = (key: string): Message => {
    const m = store.getMessage(ids[key] ?? -1);
    assert.ok(m, key);
    return m;
  };

  test("voice message: the transcription, and no stray placeholder in the shown text", () => {
    const m = get("voice");
    assert.equal(m.transcription, "This is a test");
    assert.equal(m.displayText, "");
    assert.equal(m.attachments[0]?.mimeType, "audio/x-caf");
  });
  test("mentions: who was mentioned, from the real blob and from ours", () => {
    assert.deepEqual(get("mention").mentions, [{ text: "Dad", handleId: "+15558675309" }]);
    assert.deepEqual(get("mention2").mentions, [{ text: "Liam", handleId: "+15550100003" }]);
    assert.equal(get("mention2").text, "Ask Liam about it");
  });
  test("replies: the answered message's id and first words", () => {
    const reply = get("reply");
    assert.deepEqual(reply.replyTo, {
      guid: get("original").guid,
      rowid: ids.original,
      preview: "Who's in for camping the weekend…",
    });
    assert.equal(get("original").replyTo, null);
  });
  test("receipts: delivered and read times of my messages", () => {
    const m = get("receipts");
    assert.equal(m.dateDelivered?.toISOString(), at(5.5).toISOString());
    assert.equal(m.dateRead?.toISOString(), at(9).toISOString());
    assert.equal(get("undelivered").dateDelivered, null);
  });
  test("group events say who did what to whom; leaving and a new photo differ", () => {
    const summary = (key: string) => {
      const e = get(key).groupEvent;
      return e && { kind: e.kind, actor: e.actor?.id ?? null, target: e.target?.id ?? null, title: e.title };
    };
    assert.deepEqual(summary("added"), {
      kind: "added",
      actor: "ava@example.com",
      target: "+15550100003",
      title: null,
    });
    assert.deepEqual(summary("removed"), {
      kind: "removed",
      actor: "ava@example.com",
      target: "+15550100001",
      title: null,
    });
    assert.deepEqual(summary("left"), { kind: "left", actor: "+15550100003", target: null, title: null });
    assert.deepEqual(summary("photo"), {
      kind: "photo-changed",
      actor: "ava@example.com",
      target: null,
      title: null,
    });
    assert.deepEqual(summary("renamed"), {
      kind: "renamed",
      actor: "ava@example.com",
      target: null,
      title: "Crew 2",
    });
    assert.deepEqual(summary("meAdded"), {
      kind: "added",
      actor: null,
      target: "ava@example.com",
      title: null,
    });
    assert.equal(get("receipts").groupEvent, null);
  });
  test("one tapback per person, the newest; a removal only takes away what is showing", () => {
    const tapbacks = get("tapped").tapbacks.map((t) => `${t.isFromMe ? "me" : t.handle?.id}:${t.kind}`);
    assert.deepEqual(tapbacks, ["+15550100001:like", "me:emphasize"]);
  });
  test("a plain unsend is not an edit; an edit is", () => {
    const unsent = get("unsent");
    assert.equal(unsent.isUnsent, true);
    assert.equal(unsent.isEdited, false);
    const edited = get("edited");
    assert.equal(edited.isEdited, true);
    assert.equal(edited.isUnsent, false);
  });
  test("inline stickers and Genmoji show as markers", () => {
    assert.equal(
      get("sticker").displayText,
      "Look [sticker: pink poodle] and [Genmoji: cat in sunglasses] !",
    );
  });
  test("translations (macOS 26)", () => {
    assert.deepEqual(get("translated").translation, {
      text: "Are you coming tomorrow?",
      language: "en_US",
      sourceLanguage: "es_ES",
    });
  });
});

describe("message semantics on the real imessage-exporter database", () => {
  let store: MessagesStore;
  before(() => {
    store = openMessagesStore(EXPORTER_TEST_DB);
  });
  after(() => store.close());
  test("the macOS 26 translation stored by a real Mac", () => {
    const m = store.getMessage(548216);
    assert.equal(m?.text, "Oh it translated what I sent!");
    assert.deepEqual(m?.translation, {
      text: "Oh, il a traduit ce que j'ai envoyé !",
      language: "fr_FR",
      sourceLanguage: "en_US",
    });
    assert.equal(m?.dateDelivered?.toISOString(), "2025-09-13T21:07:07.786Z");
  });
  test("real sticker attachments carry their description; rows without summaries are not edited", () => {
    const m = store.getMessage(452567);
    assert.equal(m?.attachments[0]?.isSticker, true);
    assert.equal(m?.attachments[0]?.imageDescription, "heart.png.accessibilityLabel");
    assert.equal(m?.isEdited, false);
    assert.equal(m?.translation, null);
  });
});

describe("display helpers", () => {
  const attachment = (guid: string, extra: Partial<Attachment> = {}): Attachment => ({
    rowid: 1,
    guid,
    path: null,
    name: null,
    mimeType: null,
    uti: null,
    sizeBytes: 0,
    isSticker: false,
    imageDescription: null,
    createdAt: null,
    ...extra,
  });
  test("placeholders pair with attachments in order when the body names none", () => {
    assert.equal(displayTextOf("\ufffcnice", [attachment("a")]), "nice");
    assert.equal(
      displayTextOf("hi \ufffc", [
        attachment("a", { isSticker: true, imageDescription: "x.accessibilityLabel" }),
      ]),
      "hi [sticker]",
    );
    assert.equal(displayTextOf(null, []), null);
  });
  test("previews cut at six words or 48 characters", () => {
    assert.equal(previewOf("one two three"), "one two three");
    assert.equal(previewOf("a b c d e f g"), "a b c d e f…");
    assert.equal(previewOf("x".repeat(60)), `${"x".repeat(48)}…`);
    assert.equal(previewOf("\ufffc"), null);
  });
});
