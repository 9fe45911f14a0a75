import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import {
  ContactsStore,
  describeOpenError,
  isPermissionError,
  searchScore,
} from "../../src/contacts/index.js";
import { type AddressBookEntry, writeAddressBook } from "../../src/demo/addressbook-writer.js";
import { buildAddressBook, makeTempDir, STORE_FILE } from "../helpers/addressbook.js";

describe("writeAddressBook", () => {
  const temp = makeTempDir();
  after(temp.cleanup);

  test("writes rows the way Contacts.app does, from the real schema", () => {
    const path = join(temp.dir, "Sources", "ABC", STORE_FILE);
    writeAddressBook(
      path,
      [
        {
          firstName: "Jane",
          lastName: "Doe",
          phones: [
            { value: "(555) 123-4567", label: "mobile" },
            { value: "+1 555 765 4321", label: "Boat" },
          ],
          emails: [{ value: "Jane.Doe@Example.COM", label: "work" }],
        },
        { organization: "Acme Corp", phones: [{ value: "555-000-1111" }] },
      ],
      { createdAt: new Date(Date.UTC(2024, 0, 1)), uniqueIdSeed: "seed" },
    );
    assert.deepEqual(
      readdirSync(join(temp.dir, "Sources", "ABC")),
      [STORE_FILE],
      "no temporary, -wal or -shm file is left behind",
    );
    const db = new Database(path, { readonly: true });
    try {
      const ent = (name: string) =>
        db.prepare("SELECT Z_ENT FROM Z_PRIMARYKEY WHERE Z_NAME = ?").pluck().get(name);
      const contactEnt = ent("ABCDContact");
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      const records = db
        .prepare(
          "SELECT Z_PK, Z_ENT, Z_OPT, ZFIRSTNAME, ZORGANIZATION, ZDISPLAYFLAGS, ZUNIQUEID, ZCREATIONDATE FROM ZABCDRECORD ORDER BY Z_PK",
        )
        .all() as Record<string, unknown>[];
      assert.equal(records.length, 2);
      assert.equal(records[0]?.Z_ENT, contactEnt);
      assert.equal(records[0]?.Z_OPT, 1);
      assert.match(String(records[0]?.ZUNIQUEID), /^[0-9A-F-]{36}:ABPerson$/);
      assert.equal(records[0]?.ZCREATIONDATE, 725760000, "Core Data seconds since 2001");
      assert.equal(records[1]?.ZDISPLAYFLAGS, 1, "organisation-only card shows as company");
      const phones = db
        .prepare(
          "SELECT Z_ENT, ZOWNER, Z22_OWNER, ZFULLNUMBER, ZLABEL, ZORDERINGINDEX, ZLASTFOURDIGITS FROM ZABCDPHONENUMBER ORDER BY Z_PK",
        )
        .all() as Record<string, unknown>[];
      assert.deepEqual(phones[0], {
        Z_ENT: ent("ABCDPhoneNumber"),
        ZOWNER: 1,
        Z22_OWNER: contactEnt,
        ZFULLNUMBER: "(555) 123-4567",
        ZLABEL: "_$!<Mobile>!$_",
        ZORDERINGINDEX: 0,
        ZLASTFOURDIGITS: "4567",
      });
      assert.equal(phones[1]?.ZLABEL, "Boat");
      assert.equal(phones[2]?.ZOWNER, 2);
      assert.equal(phones[2]?.ZLABEL, null);
      const email = db
        .prepare("SELECT ZOWNER, ZADDRESS, ZADDRESSNORMALIZED, ZLABEL FROM ZABCDEMAILADDRESS")
        .get();
      assert.deepEqual(email, {
        ZOWNER: 1,
        ZADDRESS: "Jane.Doe@Example.COM",
        ZADDRESSNORMALIZED: "jane.doe@example.com",
        ZLABEL: "_$!<Work>!$_",
      });
      const max = (name: string) =>
        db.prepare("SELECT Z_MAX FROM Z_PRIMARYKEY WHERE Z_NAME = ?").pluck().get(name);
      assert.equal(max("ABCDRecord"), 2);
      assert.equal(max("ABCDPhoneNumber"), 3);
      assert.equal(max("ABCDEmailAddress"), 1);
    } finally {
      db.close();
    }
  });

  test("a seed makes unique ids reproducible", () => {
    const ids = ["a", "b"].map((name) => {
      const path = join(temp.dir, `seeded-${name}.abcddb`);
      writeAddressBook(path, [{ firstName: "X" }], { uniqueIdSeed: "same" });
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare("SELECT ZUNIQUEID FROM ZABCDRECORD").pluck().get();
      } finally {
        db.close();
      }
    });
    assert.equal(ids[0], ids[1]);
  });

  test("never overwrites an existing file and rejects bad entries with a clear message", () => {
    const path = join(temp.dir, "existing.abcddb");
    writeFileSync(path, "precious");
    assert.throws(() => writeAddressBook(path, []), /already exists; refusing to overwrite/);
    const badPath = join(temp.dir, "bad.abcddb");
    const bad = [{ firstName: "Ok" }, { phones: [{ value: "" }] }] as AddressBookEntry[];
    assert.throws(
      () => writeAddressBook(badPath, bad),
      /contact #2: phones\[0\]\.value must be a non-empty string/,
    );
    assert.equal(existsSync(badPath), false);
  });
});

describe("ContactsStore across Sources", () => {
  const book = buildAddressBook({
    topLevel: [{ firstName: "Local", lastName: "Only", phones: [{ value: "555 010 0001" }] }],
    sources: {
      "1-ICLOUD": [
        {
          firstName: "John",
          lastName: "Smith",
          phones: [{ value: "(555) 123-4567", label: "mobile" }],
          emails: [{ value: "John.Smith@Example.com", label: "home" }],
        },
        { nickname: "Bobby", phones: [{ value: "+1 555 222 3333" }] },
        { organization: "Acme Corp", phones: [{ value: "1-555-999-0000", label: "work" }] },
        { emails: [{ value: "nobody@example.org" }] },
        { firstName: "José", lastName: "Núñez", emails: [{ value: "jose@example.es" }] },
      ],
      "2-GOOGLE": [
        // The same John as in iCloud: same name, one shared number, plus extra values.
        {
          firstName: "John",
          lastName: "Smith",
          organization: "Smith & Sons",
          phones: [{ value: "+15551234567" }, { value: "555-444-5555", label: "work" }],
          emails: [{ value: "john@work.example" }],
        },
        // Another person who shares John's home email: different name, so not merged.
        { firstName: "Mary", lastName: "Smith", emails: [{ value: "JOHN.SMITH@example.com" }] },
        { firstName: "Jon", lastName: "Snow", phones: [{ value: "+44 20 7946 0958" }] },
        { firstName: "Jonathan", lastName: "Byers" },
      ],
    },
  });
  // Real stores hold groups and other records in ZABCDRECORD too, and subscribed contacts as a sub-entity.
  const db = new Database(book.storePath("2-GOOGLE"));
  db.exec(`INSERT INTO ZABCDRECORD (Z_PK, Z_ENT, Z_OPT, ZNAME) VALUES (100, 19, 1, 'Family');
    INSERT INTO ZABCDRECORD (Z_PK, Z_ENT, Z_OPT, ZFIRSTNAME, ZLASTNAME) VALUES (101, 23, 1, 'Sub', 'Scribed');
    INSERT INTO ZABCDPHONENUMBER (Z_PK, Z_ENT, Z_OPT, ZOWNER, Z22_OWNER, ZFULLNUMBER) VALUES (100, 15, 1, 101, 23, '555-777-8888');`);
  db.close();
  const store = ContactsStore.open({ roots: [book.root], region: "US" });
  after(book.cleanup);

  test("reads the top-level store and every Sources store", () => {
    const status = store.status();
    assert.equal(status.ok, true, status.message);
    assert.deepEqual(
      status.sources.map((s) => [s.path.slice(book.root.length), s.contacts, s.error]),
      [
        [`/${STORE_FILE}`, 1, undefined],
        [`/Sources/1-ICLOUD/${STORE_FILE}`, 5, undefined],
        [`/Sources/2-GOOGLE/${STORE_FILE}`, 5, undefined],
      ],
    );
    assert.match(status.message, /Read 10 contacts from 3 Contacts databases/);
  });

  test("finds a contact from any formatting of its number", () => {
    for (const handle of [
      "+15551234567",
      "(555) 123-4567",
      "5551234567",
      "1-555-123-4567",
      "tel:+1 555 123 4567",
    ]) {
      assert.equal(store.displayNameFor(handle), "John Smith", handle);
    }
    assert.equal(store.displayNameFor("+15550100001"), "Local Only");
    assert.equal(store.displayNameFor("+442079460958"), "Jon Snow");
    assert.equal(store.displayNameFor("+15559999999"), null);
  });

  test("finds emails case-insensitively", () => {
    assert.equal(store.displayNameFor("john.smith@EXAMPLE.com"), "John Smith");
    assert.equal(store.displayNameFor("e:JOSE@example.es"), "José Núñez");
    assert.equal(store.lookupHandle("someone@else.example"), null);
  });

  test("merges the same person across sources, keeping everything", () => {
    const johns = store.all().filter((c) => c.firstName === "John");
    assert.equal(johns.length, 1);
    const john = johns[0]!;
    assert.equal(john.organization, "Smith & Sons");
    assert.deepEqual(
      john.phones.map((p) => [p.key, p.label]),
      [
        ["+15551234567", "mobile"],
        ["+15554445555", "work"],
      ],
    );
    assert.deepEqual(
      john.emails.map((e) => e.key),
      ["john.smith@example.com", "john@work.example"],
    );
    assert.equal(store.lookupHandle("555-444-5555"), john, "values from the merged card resolve too");
    assert.equal(store.lookupHandle("john@work.example"), john);
    assert.ok(
      store.all().some((c) => c.firstName === "Mary"),
      "a different person sharing an email stays separate",
    );
  });

  test("display names: First Last, else nickname, else organization, else phone or email", () => {
    assert.equal(store.displayNameFor("+15552223333"), "Bobby");
    assert.equal(store.displayNameFor("555-999-0000"), "Acme Corp");
    assert.equal(store.displayNameFor("nobody@example.org"), "nobody@example.org");
  });

  test("reads only contacts (sub-entities included), not groups", () => {
    assert.equal(store.displayNameFor("5557778888"), "Sub Scribed");
    assert.ok(!store.all().some((c) => c.displayName === "Family"));
  });

  test("contacts handed out cannot be changed by callers", () => {
    const contact = store.lookupHandle("+15551234567")!;
    assert.throws(() => {
      (contact as { displayName: string }).displayName = "Changed";
    }, TypeError);
  });

  test("fuzzy name search tolerates typos and ranks exact > prefix > fuzzy", () => {
    const jon = store.search("jon");
    assert.deepEqual(
      jon.map((r) => [r.contact.displayName, r.matchedOn]),
      [
        ["Jon Snow", "firstName"],
        ["Jonathan Byers", "firstName"],
        ["John Smith", "firstName"],
      ],
    );
    assert.equal(jon[0]?.score, 1);
    assert.ok(jon[0]!.score > jon[1]!.score && jon[1]!.score > jon[2]!.score);
    for (const result of jon) assert.ok(result.score > 0 && result.score <= 1);

    const smtih = store.search("smtih");
    assert.deepEqual(smtih.map((r) => r.contact.displayName).sort(), ["John Smith", "Mary Smith"]);
    assert.equal(smtih[0]?.matchedOn, "lastName");
    assert.deepEqual(
      [store.search("John Smith")[0]?.score, store.search("John Smith")[0]?.matchedOn],
      [1, "fullName"],
    );
    assert.equal(store.search("smithers").length, 0);
    assert.equal(store.search("jonathon")[0]?.contact.displayName, "Jonathan Byers");
    assert.equal(store.search("john smtih")[0]?.contact.displayName, "John Smith");
    assert.equal(store.search("bobby")[0]?.matchedOn, "nickname");
    assert.equal(store.search("acme")[0]?.matchedOn, "organization");
    assert.equal(store.search("jose nunez")[0]?.contact.displayName, "José Núñez");
    assert.deepEqual(store.search("zzzzqqq"), []);
    assert.equal(store.search("jon", 1).length, 1);
  });

  test("search by phone or email does a reverse lookup", () => {
    const byPhone = store.search("(555) 123-4567");
    assert.equal(byPhone[0]?.contact.displayName, "John Smith");
    assert.equal(byPhone[0]?.score, 1);
    assert.equal(byPhone[0]?.matchedOn, "phone");
    const byEmail = store.search("JOSE@EXAMPLE.ES");
    assert.deepEqual(
      byEmail.map((r) => [r.contact.displayName, r.score, r.matchedOn]),
      [["José Núñez", 1, "email"]],
    );
    const partial = store.search("9990");
    assert.equal(partial[0]?.contact.displayName, "Acme Corp");
    assert.ok(partial[0]!.score < 1);
  });
});

describe("ContactsStore edge cases", () => {
  test("a missing AddressBook folder is not fatal and status says so", () => {
    const temp = makeTempDir();
    try {
      const missing = join(temp.dir, "nope");
      const store = ContactsStore.open({ roots: [missing], region: "US" });
      assert.deepEqual(store.all(), []);
      assert.equal(store.lookupHandle("+15551234567"), null);
      const status = store.status();
      assert.equal(status.ok, false);
      assert.equal(status.sources[0]?.path, missing);
      assert.match(status.sources[0]?.error ?? "", /does not exist/);
      assert.match(status.message, /could not be read/);
    } finally {
      temp.cleanup();
    }
  });

  test("a folder without stores reports that no database was found", () => {
    const temp = makeTempDir();
    try {
      mkdirSync(join(temp.dir, "Sources", "EMPTY"), { recursive: true });
      const status = ContactsStore.open({ roots: [temp.dir] }).status();
      assert.equal(status.ok, false);
      assert.match(status.sources[0]?.error ?? "", /No AddressBook-v22\.abcddb found/);
    } finally {
      temp.cleanup();
    }
  });

  test("a corrupt store is reported while the others still load", () => {
    const book = buildAddressBook({
      sources: { GOOD: [{ firstName: "Good", phones: [{ value: "5551112222" }] }] },
    });
    try {
      const corrupt = book.storePath("BAD");
      mkdirSync(join(corrupt, ".."), { recursive: true });
      writeFileSync(
        corrupt,
        "this is not a SQLite database, just some text long enough to matter ".repeat(100),
      );
      const store = ContactsStore.open({ roots: [book.root], region: "US" });
      assert.equal(store.displayNameFor("+15551112222"), "Good");
      const status = store.status();
      assert.equal(status.ok, false);
      const bad = status.sources.find((s) => s.path === corrupt);
      assert.equal(bad?.contacts, 0);
      assert.match(bad?.error ?? "", /is not a readable Contacts database \(corrupt, or not SQLite\)/);
      assert.doesNotMatch(status.message, /\n\s+at /, "no stack trace");
    } finally {
      book.cleanup();
    }
  });

  test("a SQLite file that is not an AddressBook is reported, not thrown", () => {
    const temp = makeTempDir();
    try {
      const path = join(temp.dir, STORE_FILE);
      new Database(path).exec("CREATE TABLE t (x)").close();
      const status = ContactsStore.open({ roots: [path] }).status();
      assert.equal(status.ok, false);
      assert.match(
        status.sources[0]?.error ?? "",
        /does not look like a Contacts database: no such table: Z_PRIMARYKEY/,
      );
    } finally {
      temp.cleanup();
    }
  });

  test("permission errors map to Full Disk Access instructions", () => {
    for (const code of ["EACCES", "EPERM", "SQLITE_AUTH"]) {
      const error = Object.assign(new Error(`${code}: operation not permitted, open '/x'`), { code });
      assert.equal(isPermissionError(error), true);
      const text = describeOpenError(error, "/Users/me/Library/Application Support/AddressBook");
      assert.match(text, /Permission denied reading \/Users\/me\/Library\/Application Support\/AddressBook/);
      assert.match(text, /System Settings → Privacy & Security → Full Disk Access/);
    }
    assert.equal(isPermissionError(Object.assign(new Error("x"), { code: "ENOENT" })), false);
    assert.match(
      describeOpenError(Object.assign(new Error("x"), { code: "SQLITE_CANTOPEN" }), "/p"),
      /Full Disk Access/,
    );
    assert.equal(describeOpenError("weird", "/p"), "Could not read /p: weird");
  });

  test("empty(reason) reports the reason", () => {
    const store = ContactsStore.empty("Contacts disabled by --no-contacts");
    assert.deepEqual(store.all(), []);
    assert.equal(store.displayNameFor("+15551234567"), null);
    assert.deepEqual(store.search("john"), []);
    assert.deepEqual(store.status(), {
      ok: false,
      sources: [],
      message: "Contacts disabled by --no-contacts",
    });
  });

  test("sees rows Contacts.app has written to the WAL but not yet checkpointed", () => {
    const book = buildAddressBook({ sources: { A: [{ firstName: "Before" }] } });
    const writer = new Database(book.storePath("A"));
    try {
      writer.pragma("wal_autocheckpoint = 0");
      writer.exec(`INSERT INTO ZABCDRECORD (Z_PK, Z_ENT, Z_OPT, ZFIRSTNAME) VALUES (50, 22, 1, 'Fresh');
        INSERT INTO ZABCDPHONENUMBER (Z_PK, Z_ENT, Z_OPT, ZOWNER, Z22_OWNER, ZFULLNUMBER) VALUES (50, 15, 1, 50, 22, '555 333 4444');`);
      assert.ok(existsSync(`${book.storePath("A")}-wal`));
      const store = ContactsStore.open({ roots: [book.root], region: "US" });
      assert.equal(store.displayNameFor("+15553334444"), "Fresh");
    } finally {
      writer.close();
      book.cleanup();
    }
  });

  test("numbers saved without a country code still match when the trailing digits are unique", () => {
    const book = buildAddressBook({
      sources: {
        A: [
          { firstName: "Uk", lastName: "Friend", phones: [{ value: "07700 900123" }] },
          { firstName: "Twin", lastName: "One", phones: [{ value: "0612 345 678" }] },
          { firstName: "Twin", lastName: "Two", phones: [{ value: "+49 612 345 678" }] },
        ],
      },
    });
    try {
      const store = ContactsStore.open({ roots: [book.root], region: "US" });
      assert.equal(store.displayNameFor("+447700900123"), "Uk Friend");
      assert.equal(store.displayNameFor("+33612345678"), null, "ambiguous trailing digits match nobody");
    } finally {
      book.cleanup();
    }
  });

  test("loads thousands of contacts with all their values", () => {
    const entries: AddressBookEntry[] = Array.from({ length: 3000 }, (_, i) => ({
      firstName: `First${i}`,
      lastName: `Last${i}`,
      phones: [
        {
          value: `+1 (555) ${String(1000000 + i).slice(0, 3)}-${String(i).padStart(4, "0")}`,
          label: "mobile",
        },
      ],
      emails: [{ value: `Person${i}@Example.com` }],
    }));
    const book = buildAddressBook({ sources: { BIG: entries } });
    try {
      const store = ContactsStore.open({ roots: [book.root], region: "US" });
      assert.equal(store.all().length, 3000);
      assert.equal(store.displayNameFor("person2999@example.com"), "First2999 Last2999");
      assert.equal(store.displayNameFor("+15551002999"), "First2999 Last2999");
      assert.equal(store.search("Last2999")[0]?.contact.firstName, "First2999");
    } finally {
      book.cleanup();
    }
  });
});

test("searchScore tiers: exact 1, prefix below, typo below that, no match 0", () => {
  assert.equal(searchScore("smith", "smith"), 1);
  const prefix = searchScore("smi", "smith");
  const typo = searchScore("smtih", "smith");
  assert.ok(prefix < 1 && typo < prefix && typo > 0, `${prefix} ${typo}`);
  assert.equal(searchScore("xy", "smith"), 0);
  assert.equal(searchScore("jo", "jon"), searchScore("jo", "jon"));
});
