// A chat.db of our own in a new temporary folder, with one person (+15550100001 on iMessage) and a one-to-one
// chat with them: what store tests that write to chat.db while it is open start from.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatDbWriter } from "../../src/demo/chatdb-writer.js";

export interface OneToOneChat {
  /** The temporary folder (the caller removes it). */
  dir: string;
  writer: ChatDbWriter;
  /** The person's handle ROWID. */
  handle: number;
  /** The chat's ROWID. */
  chat: number;
}

export function oneToOneChat(prefix: string): OneToOneChat {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const writer = new ChatDbWriter(join(dir, "chat.db"));
  return { dir, writer, ...addOneToOneChat(writer) };
}

/** The person and the one-to-one chat with them, added to a chat.db being written. */
export function addOneToOneChat(writer: ChatDbWriter): { handle: number; chat: number } {
  const handle = writer.addHandle({ id: "+15550100001", service: "iMessage" });
  const chat = writer.addChat({
    identifier: "+15550100001",
    service: "iMessage",
    isGroup: false,
    participants: [handle],
  });
  return { handle, chat };
}
