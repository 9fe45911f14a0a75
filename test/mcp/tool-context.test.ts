// ToolContext.handlesMatching against a real chat.db that Messages (a writer connection) changes while it is open.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ContactsStore } from "../../src/contacts/index.js";
import { ChatDbWriter } from "../../src/demo/chatdb-writer.js";
import { ToolContext } from "../../src/mcp/core/tool-context.js";
import { type MessagesStore, openMessagesStore } from "../../src/messages/index.js";

describe("handlesMatching", () => {
  let dir: string;
  let writer: ChatDbWriter;
  let store: MessagesStore;
  const region = process.env.MAC_MESSAGES_REGION;
  /** A tool call's context, as each call makes one. */
  const context = () =>
    new ToolContext({ messages: store, contacts: ContactsStore.empty("none"), sender: null });
  const ids = (ctx: ToolContext, wanted: string[]) =>
    ctx.handlesMatching(wanted).map((h) => `${h.id} ${h.service}`);

  before(() => {
    process.env.MAC_MESSAGES_REGION = "US";
    dir = mkdtempSync(join(tmpdir(), "mmcp-tool-context-"));
    writer = new ChatDbWriter(join(dir, "chat.db"));
    writer.addHandle({ id: "+15550100001", service: "iMessage" });
    writer.addHandle({ id: "ann@example.com", service: "iMessage" });
    writer.addHandle({ id: "5550100001", service: "SMS" });
    writer.addHandle({ id: "+15550100002", service: "iMessage" });
    store = openMessagesStore(writer.path);
  });

  after(() => {
    store?.close();
    writer?.close();
    rmSync(dir, { recursive: true, force: true });
    if (region === undefined) delete process.env.MAC_MESSAGES_REGION;
    else process.env.MAC_MESSAGES_REGION = region;
  });

  test("finds every handle meaning the same number or address, in listHandles' order, call after call", () => {
    for (let call = 0; call < 3; call++) {
      assert.deepEqual(ids(context(), ["(555) 010-0001", "ANN@Example.com", "+1 555 010 0001"]), [
        "+15550100001 iMessage",
        "5550100001 SMS",
        "ann@example.com iMessage",
      ]);
      assert.deepEqual(ids(context(), ["+15550100009"]), []);
    }
  });

  test("a handle Messages adds while the server runs is matched by the next call", () => {
    const before = store.listHandles();
    assert.equal(store.listHandles(), before, "one list while chat.db is unchanged");
    assert.deepEqual(ids(context(), ["+15550100002"]), ["+15550100002 iMessage"]);
    writer.addHandle({ id: "555-010-0002", service: "SMS" });
    writer.addHandle({ id: "+15550100003", service: "iMessage" });
    assert.notEqual(store.listHandles(), before, "a new list once chat.db has changed");
    assert.deepEqual(ids(context(), ["+15550100002"]), ["+15550100002 iMessage", "555-010-0002 SMS"]);
    assert.deepEqual(ids(context(), ["5550100003"]), ["+15550100003 iMessage"]);
  });

  test("a change of region keys national numbers anew", () => {
    assert.deepEqual(ids(context(), ["+15550100001"]), ["+15550100001 iMessage", "5550100001 SMS"]);
    process.env.MAC_MESSAGES_REGION = "GB";
    try {
      // In the UK "5550100001" is a British number: only the handle stored in full still means the US one.
      assert.deepEqual(ids(context(), ["+15550100001"]), ["+15550100001 iMessage"]);
      assert.deepEqual(ids(context(), ["+445550100001"]), ["5550100001 SMS"]);
    } finally {
      process.env.MAC_MESSAGES_REGION = "US";
    }
  });
});
