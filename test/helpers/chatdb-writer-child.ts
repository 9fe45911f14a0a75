// Plays Messages.app for the fault tests: a separate process writing to chat.db in WAL mode while the
// server reads. "append": adds `count` messages in small transactions (waiting for the reader now and then when given a pace file), sometimes holding the write lock a
// few ms and checkpointing now and then, printing "rows <n>" after each commit. "lock": takes an
// exclusive lock (locking_mode=EXCLUSIVE, as a wedged writer could) and holds it `holdMs`. "hold": keeps
// an uncommitted write transaction open for `holdMs`. "sent": writes one sent message as Messages does
// after a send (text, chat, handle, service).
import { readFileSync, writeSync } from "node:fs";
import Database from "better-sqlite3";
import { registerAppleTriggerFunctions } from "../../src/demo/index.js";
import { dateToAppleNanos } from "../../src/messages/apple-time.js";

const [dbPath, mode = "append", countArg = "300", chatArg = "1", handleArg = "1", paceFile] =
  process.argv.slice(2);
if (!dbPath)
  throw new Error(
    "usage: chatdb-writer-child <db> append|lock|hold <count|holdMs> <chatRowid> <handleRowid>",
  );
const db = new Database(dbPath);
registerAppleTriggerFunctions(db);
db.pragma("journal_mode = WAL");
db.pragma("busy_timeout = 5000");
const say = (line: string) => writeSync(1, `${line}\n`);
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

if (mode === "lock") {
  db.pragma("locking_mode = EXCLUSIVE");
  db.exec("BEGIN EXCLUSIVE");
  db.prepare("UPDATE message SET is_read = is_read WHERE ROWID = (SELECT MAX(ROWID) FROM message)").run();
  db.exec("COMMIT"); // in EXCLUSIVE locking mode the lock stays after the commit
  say("locked");
  pause(Number(countArg));
  db.close();
  say("released");
  process.exit(0);
}

if (mode === "hold") {
  // A long write transaction in ordinary locking mode: WAL readers must not wait for it nor see its rows.
  db.exec("BEGIN EXCLUSIVE");
  db.prepare(
    "INSERT INTO message (guid, text, handle_id, date, is_from_me) VALUES (?, 'uncommitted row', ?, 0, 0)",
  ).run(`HOLD-${process.pid}`, Number(handleArg));
  say("holding");
  pause(Number(countArg));
  db.exec("ROLLBACK");
  db.close();
  say("released");
  process.exit(0);
}

if (mode === "sent") {
  // What Messages writes when a send goes out: my message (is_from_me = 1) in the chat, on the service it
  // really used (argument 6: iMessage, SMS, RCS). Argument 3 is the text here.
  const service = process.argv[7] ?? "iMessage";
  const date = dateToAppleNanos(new Date());
  db.exec("BEGIN IMMEDIATE");
  const { lastInsertRowid } = db
    .prepare(
      `INSERT INTO message (guid, text, handle_id, service, date, is_from_me, is_read, is_finished, is_sent, is_delivered)
       VALUES (?, ?, ?, ?, ?, 1, 1, 1, 1, 1)`,
    )
    .run(`SENT-${process.pid}`, countArg, Number(handleArg), service, date);
  db.prepare("INSERT INTO chat_message_join (chat_id, message_id, message_date) VALUES (?, ?, ?)").run(
    Number(chatArg),
    lastInsertRowid,
    date,
  );
  db.exec("COMMIT");
  db.close();
  say(`sent ${lastInsertRowid}`);
  process.exit(0);
}

const count = Number(countArg);
const insertMessage = db.prepare(
  `INSERT INTO message (guid, text, handle_id, service, date, is_from_me, is_read, is_finished, is_sent)
   VALUES (?, ?, ?, 'iMessage', ?, 0, 0, 1, 0)`,
);
const join = db.prepare("INSERT INTO chat_message_join (chat_id, message_id, message_date) VALUES (?, ?, ?)");
let written = 0;
let batch = 0;
/** Batches between waits for the reader (append with a pace file). */
const PACE_EVERY = 10;
let readerSeen = "";
/** Set when the reader stopped answering (its test failed): the writer then just finishes. */
let readerGone = false;
/**
 * With a pace file, every PACE_EVERY batches the writer waits (up to a minute) until the reader has written
 * something new to it, so the reads overlap the writes however busy the machine is, instead of the writer
 * finishing before a slow reader has looked.
 */
function waitForReader(): void {
  if (paceFile === undefined || readerGone) return;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    let now = "";
    try {
      now = readFileSync(paceFile, "utf8");
    } catch {
      // not written yet
    }
    if (now !== readerSeen) {
      readerSeen = now;
      return;
    }
    pause(2);
  }
  readerGone = true;
}
while (written < count) {
  if (batch > 0 && batch % PACE_EVERY === 0) waitForReader();
  const size = Math.min(count - written, 1 + (batch % 5));
  db.exec("BEGIN IMMEDIATE");
  for (let k = 0; k < size; k++) {
    const n = written + k;
    const date = dateToAppleNanos(new Date());
    const { lastInsertRowid } = insertMessage.run(
      `LIVE-${process.pid}-${n}`,
      `live message ${n}`,
      Number(handleArg),
      date,
    );
    // Holding the write lock between the two inserts: a reader must never see one without the other.
    if (batch % 7 === 0) pause(3);
    join.run(Number(chatArg), lastInsertRowid, date);
  }
  db.exec("COMMIT");
  written += size;
  batch++;
  say(`rows ${written}`);
  if (batch % 20 === 0) db.pragma(batch % 60 === 0 ? "wal_checkpoint(TRUNCATE)" : "wal_checkpoint(PASSIVE)");
  pause(1 + (batch % 3));
}
db.close();
say("done");
