// Where data comes from: flags over environment over macOS defaults, and when demo data is served.
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  ConfigError,
  resolveChatDbPath,
  resolveContactsRoots,
  resolveDataSource,
  resolveStateDir,
} from "../../src/config/index.js";
import { defaultStateDir } from "../../src/remote/index.js";

const home = "/Users/pat";
const none = () => false;
const all = () => true;

describe("paths", () => {
  test("chat.db: --db beats MAC_MESSAGES_DB beats the default; ~ is expanded", () => {
    const env = { MAC_MESSAGES_DB: "~/copy/chat.db" };
    assert.deepEqual(resolveChatDbPath({ db: "/x/chat.db", env, home }), {
      path: "/x/chat.db",
      from: "--db",
    });
    assert.deepEqual(resolveChatDbPath({ env, home }), {
      path: "/Users/pat/copy/chat.db",
      from: "MAC_MESSAGES_DB",
    });
    assert.deepEqual(resolveChatDbPath({ env: {}, home }), {
      path: "/Users/pat/Library/Messages/chat.db",
      from: "default",
    });
    assert.equal(resolveChatDbPath({ db: "  ", env: {}, home }).from, "default");
  });

  test("contacts roots: repeated --contacts-dir, env list, default", () => {
    assert.deepEqual(resolveContactsRoots({ contactsDir: ["/a", "~/b"], env: {}, home }).roots, [
      "/a",
      "/Users/pat/b",
    ]);
    assert.deepEqual(resolveContactsRoots({ env: { MAC_MESSAGES_CONTACTS_DIR: "/a:/b" }, home }), {
      roots: ["/a", "/b"],
      explicit: true,
    });
    assert.deepEqual(resolveContactsRoots({ env: {}, home }), {
      roots: ["/Users/pat/Library/Application Support/AddressBook"],
      explicit: false,
    });
  });

  test("state dir: MAC_MESSAGES_MCP_HOME or ~/.mac-messages-mcp", () => {
    assert.equal(resolveStateDir({ env: { MAC_MESSAGES_MCP_HOME: "/srv/m" }, home }), "/srv/m");
    assert.equal(resolveStateDir({ env: {}, home }), "/Users/pat/.mac-messages-mcp");
  });

  test("remote mode resolves the state dir the same way, ~ included", () => {
    const env = { MAC_MESSAGES_MCP_HOME: "~/messages-state" };
    assert.equal(defaultStateDir(env), resolveStateDir({ env }));
    assert.equal(defaultStateDir(env), join(homedir(), "messages-state"));
  });
});

describe("demo decision", () => {
  test("--demo always serves demo data", () => {
    const source = resolveDataSource({ demo: true, env: {}, home, exists: all });
    assert.equal(source.kind, "demo");
    assert.equal(source.kind === "demo" && source.notice, null);
  });

  test("no chat.db at the default path and no --db: demo, with the notice", () => {
    const source = resolveDataSource({ env: {}, home, exists: none });
    assert.equal(source.kind, "demo");
    assert.equal(
      source.kind === "demo" && source.notice,
      "No Messages database at /Users/pat/Library/Messages/chat.db; serving the built-in demo data. Use --db or run on a Mac with Full Disk Access.",
    );
  });

  test("an explicit --db or MAC_MESSAGES_DB that is missing is an error, not demo", () => {
    assert.throws(() => resolveDataSource({ db: "/nope/chat.db", env: {}, home, exists: none }), ConfigError);
    assert.throws(
      () => resolveDataSource({ env: { MAC_MESSAGES_DB: "/nope/chat.db" }, home, exists: none }),
      /No Messages database at \/nope\/chat\.db \(from MAC_MESSAGES_DB\)/,
    );
  });

  test("an existing chat.db is served for real with its contacts roots", () => {
    const source = resolveDataSource({ env: {}, home, exists: all, contactsDir: "/c" });
    assert.deepEqual(source, {
      kind: "real",
      chatDb: "/Users/pat/Library/Messages/chat.db",
      chatDbFrom: "default",
      contactsRoots: ["/c"],
    });
  });
});
