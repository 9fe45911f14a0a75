// Generates a realistic sample Messages database + Contacts stores, so the server runs on machines with no
// Mac. Deterministic: the same seed and `now` give the same rows. Scales to millions of messages for
// benchmarks by streaming rows in date order.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { encodeAttributedBody, encodeMessageSummaryInfo } from "../messages/codec.js";
import type { Service } from "../messages/types.js";
import { type AddressBookEntry, writeAddressBook } from "./addressbook-writer.js";
import { ChatDbWriter, type RowRef } from "./chatdb-writer.js";
import { conversation, singles } from "./phrases.js";
import { createRandom, cumulativeWeights, type Random } from "./random.js";
import { demoSampleFiles, type SampleFile } from "./sample-files.js";

export interface DemoPaths {
  dir: string;
  chatDb: string;
  /** Folder holding AddressBook-v22.abcddb and Sources/<UUID>/AddressBook-v22.abcddb. */
  contactsRoot: string;
  attachmentsDir: string;
}

export interface GenerateDemoOptions {
  /** Target folder; created if missing. It must not already hold a demo. */
  dir: string;
  /** The moment the data is "fresh" at: recent windows (last 24 hours, last week) are relative to it. */
  now?: Date;
  seed?: number;
  /** Total message rows (default 2500; at least MIN_DEMO_MESSAGES). */
  messages?: number;
  /** Apply the macOS 26 schema additions. */
  macos26?: boolean;
  /** Called every `progressEvery` message rows (default 100 000). */
  onProgress?: (written: number, total: number) => void;
  progressEvery?: number;
}

export const DEFAULT_DEMO_MESSAGES = 2500;
export const DEFAULT_DEMO_SEED = 20240601;
/** Enough room for the scripted showcase rows plus some ordinary history. */
export const MIN_DEMO_MESSAGES = 200;
/** Above this, random attachments share one file per kind instead of each getting its own copy. */
const SHARED_FILES_ABOVE = 50_000;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const OBJECT_REPLACEMENT = "\ufffc";

const TAPBACK_VERBS: Record<number, string> = {
  2000: "Loved",
  2001: "Liked",
  2002: "Disliked",
  2003: "Laughed at",
  2004: "Emphasized",
  2005: "Questioned",
  3000: "Removed a heart from",
  3001: "Removed a like from",
  3002: "Removed a dislike from",
  3003: "Removed a laugh from",
  3004: "Removed an exclamation from",
  3005: "Removed a question mark from",
};

// ---------------------------------------------------------------------------------------------------------
// People and chats

interface PersonSpec {
  key: string;
  contact: AddressBookEntry | null;
  /** Which Contacts store holds the card: the per-account Source (most) or the top-level local one. */
  store?: "source" | "local";
  /** Handles as Messages stores them: E.164 numbers, lower-case emails. */
  handles: { id: string; service: Service }[];
}

const basePeople: PersonSpec[] = [
  {
    key: "emma",
    contact: {
      firstName: "Emma",
      lastName: "Thompson",
      nickname: "Em",
      phones: [{ value: "+1 (555) 010-0101", label: "mobile" }],
      emails: [{ value: "Emma.Thompson@iCloud.com", label: "home" }],
    },
    handles: [{ id: "+15550100101", service: "iMessage" }],
  },
  {
    key: "liam",
    contact: { firstName: "Liam", lastName: "Carter", phones: [{ value: "5550100102", label: "mobile" }] },
    handles: [{ id: "+15550100102", service: "SMS" }],
  },
  {
    key: "olivia",
    contact: {
      firstName: "Olivia",
      lastName: "Nguyen",
      phones: [{ value: "+15550100103", label: "iPhone" }],
      emails: [{ value: "OLIVIA.NGUYEN@Gmail.com", label: "home" }],
    },
    handles: [{ id: "olivia.nguyen@gmail.com", service: "iMessage" }],
  },
  {
    key: "noah",
    contact: {
      firstName: "Noah",
      lastName: "Patel",
      phones: [{ value: "+1 555-010-0104", label: "mobile" }],
    },
    handles: [{ id: "+15550100104", service: "RCS" }],
  },
  {
    key: "ava",
    contact: {
      firstName: "Ava",
      lastName: "Rossi",
      phones: [{ value: "(555) 010-0105", label: "mobile" }],
      emails: [{ value: "ava@rossi.example", label: "home" }],
    },
    handles: [{ id: "+15550100105", service: "iMessage" }],
  },
  {
    key: "mom",
    store: "local",
    contact: {
      firstName: "Linda",
      lastName: "Reyes",
      nickname: "Mom",
      phones: [
        { value: "+1 (555) 010-0106", label: "mobile" },
        { value: "555.010.0107", label: "home" },
      ],
    },
    handles: [
      { id: "+15550100106", service: "iMessage" },
      { id: "+15550100106", service: "SMS" },
    ],
  },
  {
    key: "dad",
    store: "local",
    contact: { firstName: "Robert", lastName: "Reyes", nickname: "Dad", phones: [{ value: "5550100108" }] },
    handles: [{ id: "+15550100108", service: "iMessage" }],
  },
  {
    key: "sophia",
    contact: {
      firstName: "Sophia",
      lastName: "Reyes",
      phones: [{ value: "+15550100109", label: "mobile" }],
      emails: [{ value: "Sophia.Reyes@Outlook.com", label: "work" }],
    },
    handles: [{ id: "+15550100109", service: "iMessage" }],
  },
  {
    key: "jackson",
    contact: {
      firstName: "Jackson",
      lastName: "Lee",
      phones: [{ value: "+1 (555) 010-0110", label: "mobile" }],
    },
    handles: [{ id: "+15550100110", service: "iMessage" }],
  },
  {
    key: "mia",
    contact: {
      firstName: "Mia",
      lastName: "Hernández",
      emails: [{ value: "Mia.Hernandez@Example.org", label: "home" }],
    },
    handles: [{ id: "mia.hernandez@example.org", service: "iMessage" }],
  },
  {
    key: "ethan",
    contact: {
      firstName: "Ethan",
      lastName: "Brooks",
      organization: "Brooks & Sons Plumbing",
      phones: [{ value: "+1 555 010 0112", label: "work" }],
    },
    handles: [{ id: "+15550100112", service: "iMessage" }],
  },
  {
    key: "isabella",
    contact: {
      firstName: "Isabella",
      lastName: "Garcia",
      phones: [{ value: "5550100113", label: "mobile" }],
    },
    handles: [{ id: "+15550100113", service: "iMessage" }],
  },
  {
    key: "lucas",
    contact: { firstName: "Lucas", lastName: "Martin", phones: [{ value: "+15550100114", label: "mobile" }] },
    handles: [{ id: "+15550100114", service: "iMessage" }],
  },
  {
    key: "harper",
    contact: {
      firstName: "Harper",
      lastName: "Wilson",
      phones: [{ value: "+1 (555) 010-0115", label: "mobile" }],
    },
    handles: [
      { id: "+15550100115", service: "iMessage" },
      { id: "+15550100115", service: "SMS" },
    ],
  },
  {
    key: "dentist",
    contact: {
      organization: "Lakeside Family Dentistry",
      phones: [{ value: "+1 (555) 010-0190", label: "work" }],
    },
    handles: [{ id: "+15550100190", service: "SMS" }],
  },
  {
    key: "aiden",
    contact: { firstName: "Aiden", lastName: "Clark", phones: [{ value: "555-010-0116", label: "mobile" }] },
    handles: [{ id: "+15550100116", service: "iMessage" }],
  },
  {
    key: "chloe",
    contact: {
      firstName: "Chloe",
      lastName: "Davis",
      phones: [{ value: "+15550100117", label: "mobile" }],
      emails: [{ value: "chloe.davis@EXAMPLE.com", label: "work" }],
    },
    handles: [{ id: "chloe.davis@example.com", service: "iMessage" }],
  },
  {
    key: "grace",
    store: "local",
    contact: {
      firstName: "Grace",
      lastName: "Walker",
      nickname: "Gracie",
      phones: [{ value: "+1 (555) 010-0118", label: "mobile" }],
    },
    handles: [{ id: "+15550100118", service: "iMessage" }],
  },
  {
    key: "henry",
    contact: { firstName: "Henry", lastName: "Young", phones: [{ value: "5550100119", label: "home" }] },
    handles: [{ id: "+15550100119", service: "iMessage" }],
  },
  {
    key: "zoe",
    contact: {
      firstName: "Zoë",
      lastName: "Allen",
      phones: [{ value: "+1 (555) 010-0120", label: "mobile" }],
      emails: [{ value: "Zoe.Allen@iCloud.com" }],
    },
    handles: [{ id: "+15550100120", service: "iMessage" }],
  },
  // Not in Contacts: the resolver must fall back to the raw handle.
  { key: "unknownPhone", contact: null, handles: [{ id: "+15550109999", service: "SMS" }] },
  { key: "unknownEmail", contact: null, handles: [{ id: "jordan.blake@example.net", service: "iMessage" }] },
  { key: "shortCode", contact: null, handles: [{ id: "262966", service: "SMS" }] },
];

interface ChatSpec {
  key: string;
  /** handles as `<personKey>:<service>`. */
  members: string[];
  service: Service;
  isGroup: boolean;
  displayName?: string;
  /** Share of ordinary conversation; 0 = only the scripted rows. */
  weight: number;
  /** Incoming messages of the last hours stay unread. */
  leavesUnread?: boolean;
  /** The other person has read receipts on: my messages get a `date_read`. */
  readReceipts?: boolean;
}

const WEEKEND_CREW = "Weekend Crew 🏕️";

const baseChats: ChatSpec[] = [
  {
    key: "emma",
    members: ["emma:iMessage"],
    service: "iMessage",
    isGroup: false,
    weight: 10,
    readReceipts: true,
  },
  { key: "liam", members: ["liam:SMS"], service: "SMS", isGroup: false, weight: 4 },
  { key: "olivia", members: ["olivia:iMessage"], service: "iMessage", isGroup: false, weight: 6 },
  { key: "noah", members: ["noah:RCS"], service: "RCS", isGroup: false, weight: 3, leavesUnread: true },
  { key: "ava", members: ["ava:iMessage"], service: "iMessage", isGroup: false, weight: 3 },
  {
    key: "mom",
    members: ["mom:iMessage"],
    service: "iMessage",
    isGroup: false,
    weight: 8,
    leavesUnread: true,
  },
  { key: "momSms", members: ["mom:SMS"], service: "SMS", isGroup: false, weight: 0.5 },
  { key: "dad", members: ["dad:iMessage"], service: "iMessage", isGroup: false, weight: 3 },
  {
    key: "sophia",
    members: ["sophia:iMessage"],
    service: "iMessage",
    isGroup: false,
    weight: 4,
    leavesUnread: true,
  },
  { key: "jackson", members: ["jackson:iMessage"], service: "iMessage", isGroup: false, weight: 2 },
  { key: "mia", members: ["mia:iMessage"], service: "iMessage", isGroup: false, weight: 1.5 },
  { key: "ethan", members: ["ethan:iMessage"], service: "iMessage", isGroup: false, weight: 1 },
  { key: "isabella", members: ["isabella:iMessage"], service: "iMessage", isGroup: false, weight: 1 },
  { key: "lucas", members: ["lucas:iMessage"], service: "iMessage", isGroup: false, weight: 1 },
  { key: "harper", members: ["harper:iMessage"], service: "iMessage", isGroup: false, weight: 1.5 },
  { key: "aiden", members: ["aiden:iMessage"], service: "iMessage", isGroup: false, weight: 0.8 },
  { key: "chloe", members: ["chloe:iMessage"], service: "iMessage", isGroup: false, weight: 1 },
  { key: "grace", members: ["grace:iMessage"], service: "iMessage", isGroup: false, weight: 1.2 },
  { key: "henry", members: ["henry:iMessage"], service: "iMessage", isGroup: false, weight: 0.6 },
  { key: "zoe", members: ["zoe:iMessage"], service: "iMessage", isGroup: false, weight: 1 },
  { key: "dentist", members: ["dentist:SMS"], service: "SMS", isGroup: false, weight: 0, leavesUnread: true },
  { key: "unknownPhone", members: ["unknownPhone:SMS"], service: "SMS", isGroup: false, weight: 0 },
  { key: "unknownEmail", members: ["unknownEmail:iMessage"], service: "iMessage", isGroup: false, weight: 0 },
  { key: "shortCode", members: ["shortCode:SMS"], service: "SMS", isGroup: false, weight: 0 },
  {
    key: "crew",
    members: ["emma:iMessage", "olivia:iMessage", "ava:iMessage", "jackson:iMessage"],
    service: "iMessage",
    isGroup: true,
    displayName: WEEKEND_CREW,
    weight: 7,
    leavesUnread: true,
  },
  {
    key: "family",
    members: ["mom:iMessage", "dad:iMessage", "sophia:iMessage"],
    service: "iMessage",
    isGroup: true,
    weight: 5,
  },
  { key: "smsGroup", members: ["liam:SMS", "harper:SMS"], service: "SMS", isGroup: true, weight: 1.5 },
];

const firstNames = [
  "James",
  "Maya",
  "Daniel",
  "Nora",
  "Caleb",
  "Leah",
  "Owen",
  "Ruby",
  "Samuel",
  "Ivy",
  "Isaac",
  "Hazel",
  "Julian",
  "Stella",
  "Wyatt",
  "Aurora",
  "Levi",
  "Naomi",
  "Gabriel",
  "Elena",
  "Mateo",
  "Layla",
  "Ezra",
  "Clara",
  "Theo",
  "Lucy",
  "Miles",
  "Alice",
  "Felix",
  "Iris",
  "Hugo",
  "June",
  "Arjun",
  "Mei",
  "Kofi",
];
const lastNames = [
  "Bennett",
  "Foster",
  "Hughes",
  "Price",
  "Sanders",
  "Ward",
  "Ortiz",
  "Kelly",
  "Long",
  "Perry",
  "Powell",
  "Russell",
  "Sullivan",
  "Bell",
  "Coleman",
  "Butler",
  "Barnes",
  "Fisher",
  "Jenkins",
  "Murphy",
  "Tanaka",
  "Okafor",
  "Kowalski",
  "Silva",
  "Dubois",
  "Novak",
  "Singh",
  "Haddad",
  "Larsen",
  "Moreau",
];
const groupNames = [
  "Book Club 📚",
  "Soccer Parents",
  "Trivia Tuesday",
  "Apartment 4B",
  "Cousins",
  "Run Club",
];

/** Extra generated people (and groups of them) for large databases, so benchmarks see ~300 handles / ~400 chats. */
function scalePeople(messages: number, random: Random): { people: PersonSpec[]; chats: ChatSpec[] } {
  const count = Math.min(280, Math.round(messages / 3400));
  const people: PersonSpec[] = [];
  const chats: ChatSpec[] = [];
  for (let i = 0; i < count; i++) {
    const digits = String(2_000_000 + i * 37).padStart(7, "0");
    const e164 = `+1555${digits}`;
    const roll = random.next();
    const service: Service = roll < 0.8 ? "iMessage" : roll < 0.95 ? "SMS" : "RCS";
    const formats = [
      e164,
      `+1 (555) ${digits.slice(0, 3)}-${digits.slice(3)}`,
      `555${digits}`,
      `555-${digits.slice(0, 3)}-${digits.slice(3)}`,
    ];
    const key = `extra${i}`;
    people.push({
      key,
      contact: random.chance(0.85)
        ? {
            firstName: random.pick(firstNames),
            lastName: random.pick(lastNames),
            phones: [{ value: random.pick(formats), label: "mobile" }],
          }
        : null,
      handles: [{ id: e164, service }],
    });
    chats.push({ key, members: [`${key}:${service}`], service, isGroup: false, weight: 3 / (i + 2) ** 0.6 });
  }
  const imessagePeople = people.filter((p) => p.handles[0]?.service === "iMessage");
  const groupCount = Math.round(count / 3);
  for (let g = 0; g < groupCount && imessagePeople.length >= 6; g++) {
    const size = random.int(2, 6);
    const members = new Set<string>();
    while (members.size < size) members.add(`${random.pick(imessagePeople).key}:iMessage`);
    chats.push({
      key: `extraGroup${g}`,
      members: [...members],
      service: "iMessage",
      isGroup: true,
      displayName: random.chance(0.4) ? random.pick(groupNames) : undefined,
      weight: 2 / (g + 2) ** 0.6,
    });
  }
  return { people, chats };
}

// ---------------------------------------------------------------------------------------------------------
// Generation state

interface RecentMessage {
  guid: string;
  text: string;
  isFromMe: boolean;
  handleRowid: number;
}

interface ChatState {
  spec: ChatSpec;
  rowid: number;
  /** handle ROWIDs of the other participants. */
  members: number[];
  /** Last few text messages, as tapback and reply targets. */
  recent: RecentMessage[];
  lastGuid: string | null;
}

interface EmitInput {
  chat: ChatState;
  date: Date;
  isFromMe: boolean;
  /** Sender for incoming messages; for my messages the writer stores the peer (1:1) or 0 (group). */
  sender?: number;
  text: string | null;
  forceUnread?: boolean;
  tapback?: { type: number; target: RecentMessage; emoji?: string };
  replyTo?: RecentMessage;
  attachments?: SampleFile[];
  edit?: { originalText: string; editedAt: Date };
  unsentAt?: Date;
  rename?: string;
  /** Voice message: what Messages transcribed (the text is the attachment placeholder). */
  transcription?: string;
  /** Names in the text that are @mentions, and the handle each confirms. */
  mentions?: { name: string; handleId: string }[];
  /** Messages' translation (macOS 26). */
  translation?: { text: string; language: string; sourceLanguage: string };
  /** Group event: item_type 1 (member added/removed) or 3 (left, photo), with its action and person. */
  groupEvent?: { itemType: 1 | 3; action: number; other?: number };
  /**
   * Written now but dated earlier, as iCloud sync, a restore or an import does: ROWID order then differs
   * from date order. The generator's clock is left where it was.
   */
  backdated?: boolean;
  /** Dates stored in seconds, as on Macs before High Sierra. */
  datesInSeconds?: boolean;
}

class DemoBuilder {
  private readonly writer: ChatDbWriter;
  private readonly random: Random;
  private readonly now: number;
  private readonly startMs: number;
  private readonly textOnlyBefore: number;
  private readonly bothBefore: number;
  private readonly sharedFiles: boolean;
  private readonly sharedFilePaths = new Map<string, string>();
  private readonly bodyCache = new Map<string, Buffer>();
  private lastDateMs = 0;
  written = 0;

  constructor(
    writer: ChatDbWriter,
    random: Random,
    now: number,
    startMs: number,
    private readonly attachmentsDir: string,
    totalMessages: number,
  ) {
    this.writer = writer;
    this.random = random;
    this.now = now;
    this.startMs = startMs;
    // Oldest rows have only `text`, then both columns, then (Ventura and later) only attributedBody.
    this.textOnlyBefore = startMs + (now - startMs) * 0.2;
    this.bothBefore = startMs + (now - startMs) * 0.4;
    this.sharedFiles = totalMessages > SHARED_FILES_ABOVE;
  }

  private encode(text: string): Buffer {
    let blob = this.bodyCache.get(text);
    if (!blob) {
      blob = encodeAttributedBody(text);
      // Bounded: the phrase bank yields a few thousand distinct texts.
      if (this.bodyCache.size < 50_000) this.bodyCache.set(text, blob);
    }
    return blob;
  }

  private body(
    text: string | null,
    dateMs: number,
    attachmentGuids?: string[],
    extra: Pick<EmitInput, "transcription" | "mentions"> = {},
  ) {
    if (text === null) return { text: null, attributedBody: null };
    const mentions = (extra.mentions ?? []).map((m) => ({
      start: text.indexOf(m.name),
      length: m.name.length,
      handleId: m.handleId,
    }));
    if (extra.transcription || mentions.length > 0) {
      // Transcriptions and mentions live only in attributedBody, so these rows always have one.
      const blob = encodeAttributedBody(text, {
        attachmentGuids,
        transcriptions: extra.transcription ? [extra.transcription] : [],
        mentions,
      });
      return { text: dateMs < this.bothBefore ? text : null, attributedBody: blob };
    }
    const blob = () =>
      attachmentGuids ? encodeAttributedBody(text, { attachmentGuids }) : this.encode(text);
    if (dateMs < this.textOnlyBefore) return { text, attributedBody: null };
    if (dateMs < this.bothBefore) return { text, attributedBody: blob() };
    return { text: null, attributedBody: blob() };
  }

  private writeFile(file: SampleFile, guid: string): string {
    if (this.sharedFiles) {
      const existing = this.sharedFilePaths.get(file.name);
      if (existing) return existing;
    }
    // Same layout as ~/Library/Messages/Attachments/<2 hex>/<2 digits>/<guid>/<name>.
    const id = guid.replace(/^at_\d+_/, "");
    const second = String(Number.parseInt(id.slice(-4, -2), 16) % 100).padStart(2, "0");
    const folder = join(this.attachmentsDir, id.slice(-2).toLowerCase(), second, id);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, file.name), file.bytes);
    // Stored as Messages stores it, so it resolves next to the chat.db wherever the demo folder ends up.
    const stored = `~/Library/Messages/Attachments/${relative(this.attachmentsDir, join(folder, file.name)).split(sep).join("/")}`;
    if (this.sharedFiles) this.sharedFilePaths.set(file.name, stored);
    return stored;
  }

  /** Writes one message row (plus its attachments) and returns it. Dates never go backwards or past now. */
  emit(input: EmitInput): RowRef {
    const { chat } = input;
    const wanted = Math.min(input.date.getTime(), this.now - 1000);
    const dateMs = input.backdated ? wanted : Math.max(wanted, this.lastDateMs + 1000);
    if (!input.backdated) this.lastDateMs = dateMs;
    const date = new Date(dateMs);
    const peer = chat.spec.isGroup ? 0 : (chat.members[0] ?? 0);
    const handleRowid = input.isFromMe ? peer : (input.sender ?? peer);
    const guid = this.random.uuid();
    const attachmentGuids = input.attachments?.map(() => `at_0_${this.random.uuid()}`);

    let text = input.text;
    let associated: Partial<Parameters<ChatDbWriter["addMessage"]>[0]> = {};
    if (input.tapback) {
      const { type, target, emoji } = input.tapback;
      const quoted = `“${target.text.replace(/\ufffc/g, "").trim()}”`;
      text =
        type === 2006 ? `Reacted ${emoji} to ${quoted}` : `${TAPBACK_VERBS[type] ?? "Reacted to"} ${quoted}`;
      associated = {
        associatedMessageGuid: `p:0/${target.guid}`,
        associatedMessageType: type,
        associatedMessageEmoji: emoji ?? null,
        associatedMessageRangeLength: target.text.length,
      };
    }
    let body = this.body(text, dateMs, attachmentGuids, input);
    let extra: Partial<Parameters<ChatDbWriter["addMessage"]>[0]> = {};
    if (input.edit && text !== null) {
      extra = {
        dateEdited: input.edit.editedAt,
        messageSummaryInfo: encodeMessageSummaryInfo({
          editedParts: [0],
          unsentParts: [],
          history: {
            0: [
              { date, text: input.edit.originalText },
              { date: input.edit.editedAt, text },
            ],
          },
        }),
      };
    }
    if (input.unsentAt) {
      // What Messages leaves behind after "Undo Send": an empty body and the retracted part in the summary.
      body = { text: "", attributedBody: encodeAttributedBody("") };
      extra = {
        dateEdited: input.unsentAt,
        messageSummaryInfo: encodeMessageSummaryInfo({ editedParts: [], unsentParts: [0], history: {} }),
      };
    }
    if (input.rename !== undefined) {
      body = { text: null, attributedBody: null };
      extra = { itemType: 2, groupTitle: input.rename };
    }
    if (input.groupEvent) {
      body = { text: null, attributedBody: null };
      extra = {
        itemType: input.groupEvent.itemType,
        groupActionType: input.groupEvent.action,
        otherHandle: input.groupEvent.other ?? 0,
      };
    }
    if (input.translation) {
      extra = {
        ...extra,
        messageSummaryInfo: encodeMessageSummaryInfo({
          editedParts: [],
          unsentParts: [],
          history: {},
          translation: input.translation,
        }),
      };
    }

    const unread =
      !input.isFromMe &&
      (input.forceUnread ||
        (chat.spec.leavesUnread === true && dateMs > this.now - 6 * HOUR && !input.tapback));
    // My messages are read when the other person has read receipts on (a minute to half an hour later,
    // derived from the date so the random sequence, and so the rest of the demo, stays as it was).
    const readByThem =
      input.isFromMe && chat.spec.readReceipts === true && !input.tapback
        ? Math.min(this.now - 500, dateMs + (60 + ((dateMs / 1000) % 1740)) * 1000)
        : null;
    const dateRead = input.isFromMe
      ? readByThem === null || readByThem <= dateMs
        ? null
        : new Date(readByThem)
      : unread
        ? null
        : new Date(Math.min(this.now - 500, dateMs + this.random.int(20, 5400) * 1000));
    const ref = this.writer.addMessage({
      guid,
      chatRowid: chat.rowid,
      handleRowid,
      ...body,
      date,
      isFromMe: input.isFromMe,
      isRead: !unread,
      dateRead,
      service: chat.spec.service,
      datesInSeconds: input.datesInSeconds,
      isAudioMessage: input.transcription !== undefined,
      replyToGuid: chat.lastGuid,
      threadOriginatorGuid: input.replyTo?.guid ?? null,
      threadOriginatorPart: input.replyTo ? `0:0:${input.replyTo.text.length}` : null,
      ...associated,
      ...extra,
    });
    input.attachments?.forEach((file, i) => {
      const attachmentGuid = attachmentGuids?.[i] ?? this.random.uuid();
      this.writer.addAttachment({
        guid: attachmentGuid,
        messageRowid: ref.rowid,
        path: this.writeFile(file, attachmentGuid),
        name: file.name,
        mimeType: file.mimeType,
        uti: file.uti,
        totalBytes: file.bytes.length,
        isSticker: file.isSticker,
        imageDescription: file.imageDescription,
        isOutgoing: input.isFromMe,
        createdDate: date,
      });
    });
    chat.lastGuid = ref.guid;
    if (
      text &&
      !input.tapback &&
      !input.backdated &&
      input.rename === undefined &&
      !input.unsentAt &&
      !text.includes(OBJECT_REPLACEMENT)
    ) {
      chat.recent.push({ guid: ref.guid, text, isFromMe: input.isFromMe, handleRowid });
      if (chat.recent.length > 6) chat.recent.shift();
    }
    this.written++;
    return ref;
  }

  /** A reference to a message for scripted tapbacks and replies. */
  static recentOf(ref: RowRef, text: string, isFromMe: boolean, handleRowid: number): RecentMessage {
    return { guid: ref.guid, text, isFromMe, handleRowid };
  }

  get span(): number {
    return this.now - this.startMs;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Scripted showcase: every shape the server must handle, at fixed places relative to `now`.

interface ScriptStep {
  at: number;
  run: () => void;
}

function showcaseScript(
  b: DemoBuilder,
  now: number,
  chat: (key: string) => ChatState,
  member: (chatKey: string, personKey: string) => number,
  files: ReturnType<typeof demoSampleFiles>,
  handleOf: (handleKey: string) => { rowid: number; id: string },
): ScriptStep[] {
  const steps: ScriptStep[] = [];
  let cursor = 0;
  const at = (ms: number) => {
    cursor = ms;
    return ms;
  };
  const next = (gapMs = 70_000) => {
    cursor += gapMs;
    return cursor;
  };
  const say = (
    chatKey: string,
    from: string | "me",
    text: string,
    when: number,
    extra: Partial<EmitInput> = {},
  ) => {
    const holder: { ref?: RowRef; recent?: RecentMessage } = {};
    steps.push({
      at: when,
      run: () => {
        const c = chat(chatKey);
        const isFromMe = from === "me";
        const sender = isFromMe ? undefined : member(chatKey, from);
        holder.ref = b.emit({ chat: c, date: new Date(when), isFromMe, sender, text, ...extra });
        holder.recent = DemoBuilder.recentOf(holder.ref, text, isFromMe, sender ?? 0);
      },
    });
    return holder;
  };
  const react = (
    chatKey: string,
    from: string | "me",
    type: number,
    target: { recent?: RecentMessage },
    when: number,
    emoji?: string,
  ) => {
    steps.push({
      at: when,
      run: () => {
        if (!target.recent) throw new Error("showcase: tapback target not written yet");
        b.emit({
          chat: chat(chatKey),
          date: new Date(when),
          isFromMe: from === "me",
          sender: from === "me" ? undefined : member(chatKey, from),
          text: null,
          tapback: { type, target: target.recent, emoji },
        });
      },
    });
  };

  // Weekend Crew: the group gets its name, plans a trip in a reply thread, shares a photo and a PDF.
  say("crew", "me", "", at(now - 21 * DAY - 3 * HOUR), { text: null, rename: WEEKEND_CREW });
  say("crew", "ava", "Love the new name 😂", next());
  const trip = say(
    "crew",
    "jackson",
    "Who's in for camping the weekend of the 14th?",
    at(now - 5 * DAY - 5 * HOUR),
  );
  const threadReply = (from: string, text: string, when: number) =>
    steps.push({
      at: when,
      run: () => {
        if (!trip.recent) throw new Error("showcase: thread originator not written yet");
        b.emit({
          chat: chat("crew"),
          date: new Date(when),
          isFromMe: from === "me",
          sender: from === "me" ? undefined : member("crew", from),
          text,
          replyTo: trip.recent,
        });
      },
    });
  threadReply("emma", "Me!!", next());
  threadReply("olivia", "In, if someone else drives", next());
  threadReply("me", "I'll drive. Booking a cabin at Pine Hollow", next());
  say("crew", "me", `${OBJECT_REPLACEMENT}View from the cabin listing`, next(3 * MINUTE), {
    attachments: [files.png],
  });
  say("crew", "ava", "Yay! 🙌", next());
  say("crew", "me", "Booked! Confirmation attached", at(now - 26 * HOUR));
  say("crew", "me", OBJECT_REPLACEMENT, next(20_000), { attachments: [files.pdf] });
  say("crew", "jackson", "Legend", next());

  // Olivia shares a packing list; later I unsend a message in her chat.
  say("olivia", "olivia", "Made us a packing list", at(now - 6 * DAY - 2 * HOUR));
  say("olivia", "olivia", OBJECT_REPLACEMENT, next(15_000), { attachments: [files.txt] });
  say("olivia", "me", "You're the best", next());
  say("olivia", "olivia", "Did you end up booking the cabin?", at(now - 27 * HOUR));
  say("olivia", "me", "Yes! Sending the confirmation to the group", next());
  say("olivia", "me", "", next(), { text: null, unsentAt: new Date(cursor + 45_000) });
  say("olivia", "olivia", "What did you unsend 👀", next(2 * MINUTE));
  say("olivia", "me", "Nothing!! Wrong chat 😅", next());

  // Emma: every classic tapback, an emoji reaction, a like that is taken back, and an edited message.
  const e1 = say(
    "emma",
    "emma",
    "Are we still doing the farmers market Saturday?",
    at(now - 3 * DAY - 2 * HOUR),
  );
  const e2 = say("emma", "me", "Yes! 9am at the north entrance", next());
  const e3 = say("emma", "emma", "Perfect. I'll bring the big tote bags", next());
  const e4 = say("emma", "me", "I found the best peach stand last time 🍑", next());
  const e5 = say("emma", "emma", "Peaches in October?? You're making that up", next());
  const e6 = say("emma", "me", "Ok fine they were apples", next());
  const e7 = say("emma", "emma", "Also can we leave by 8:30? Parking is brutal", next());
  react("emma", "me", 2000, e3, next(20_000));
  react("emma", "emma", 2004, e2, next(20_000));
  react("emma", "emma", 2002, e4, next(20_000));
  react("emma", "me", 2003, e5, next(20_000));
  react("emma", "emma", 2006, e6, next(20_000), "🍎");
  react("emma", "me", 2005, e7, next(20_000));
  react("emma", "me", 2001, e1, next(20_000));
  react("emma", "me", 3001, e1, next(20_000));
  const editedAt = at(now - 2 * DAY - HOUR);
  say("emma", "me", "Running 15 min late, order me the pad thai pls", editedAt, {
    edit: { originalText: "Running 5 min late", editedAt: new Date(editedAt + 50_000) },
  });
  say("emma", "emma", "Lol ok 🍜", next(2 * MINUTE));

  // Mom shares a contact card; Liam (SMS) sends a photo; Mom's phone falls back to SMS once.
  say("mom", "mom", "Here's the dentist's info you asked for", at(now - 2 * DAY - 5 * HOUR));
  say("mom", "mom", OBJECT_REPLACEMENT, next(10_000), { attachments: [files.vcf] });
  say("mom", "me", "Thanks Mom ❤️", next());
  say("liam", "liam", "New puppy!!", at(now - 4 * DAY));
  // A phone-sized photo (several MB): get_attachment scales it down.
  say("liam", "liam", OBJECT_REPLACEMENT, next(10_000), { attachments: [files.photo] });
  say("liam", "me", "STOP he's so cute", next());
  say("momSms", "mom", "Phone is acting up, texting the old way", at(now - 30 * DAY));
  say("momSms", "me", "Got it Mom", next());

  // People who are not in Contacts, a short code and an appointment reminder.
  say(
    "unknownEmail",
    "unknownEmail",
    "Hey! It's Jordan from the climbing gym, this is my new email",
    at(now - 10 * DAY),
  );
  say("unknownEmail", "me", "Hey Jordan! Saved it", next());
  say(
    "dentist",
    "dentist",
    "Lakeside Family Dentistry: you're due for a cleaning! Call (555) 010-0190 to book.",
    at(now - 90 * DAY),
  );
  say("unknownPhone", "unknownPhone", "Hi, is the bike still available?", at(now - 2 * DAY - 8 * HOUR));
  say("unknownPhone", "me", "Sorry, wrong number!", next());
  say(
    "shortCode",
    "shortCode",
    "Your Acme verification code is 482913. Don't share it with anyone.",
    at(now - 6 * HOUR),
  );

  // The oldest row, from a Mac before High Sierra: its dates are stored in seconds, not nanoseconds.
  say("momSms", "mom", "Did you get my voicemail? Call me back", at(now - 10 * 365 * DAY), {
    datesInSeconds: true,
  });

  // A voice message with Messages' transcription; a translated message (macOS 26).
  say("dad", "dad", OBJECT_REPLACEMENT, at(now - 3 * DAY - 7 * HOUR), {
    attachments: [files.audio],
    transcription:
      "Hey kiddo, call me back when you get a chance. Nothing urgent, just want to hear about the trip.",
  });
  say("dad", "me", "Will call tonight!", next(4 * MINUTE));
  say("mia", "mia", "¿Nos vemos en el café a las 10?", at(now - 4 * DAY - 3 * HOUR), {
    translation: { text: "See you at the café at 10?", language: "en_US", sourceLanguage: "es_ES" },
  });
  say("mia", "me", "Sí! See you there", next());

  // Weekend Crew: a mention, members coming and going, a new group photo, a Genmoji.
  const ava = handleOf("ava:iMessage");
  say("crew", "jackson", "Ava can you bring the lantern?", at(now - 4 * DAY - 6 * HOUR), {
    mentions: [{ name: "Ava", handleId: ava.id }],
  });
  say("crew", "ava", "", next(), {
    text: null,
    groupEvent: { itemType: 1, action: 0, other: handleOf("mia:iMessage").rowid },
  });
  say("crew", "ava", "Added Mia, she has the big tent", next());
  say("crew", "jackson", "", next(5 * MINUTE), { text: null, groupEvent: { itemType: 3, action: 1 } });
  say("crew", "ava", "", at(now - 3 * DAY - 2 * HOUR), {
    text: null,
    sender: handleOf("mia:iMessage").rowid,
    groupEvent: { itemType: 3, action: 0 },
  });
  // Jackson adds the wrong Ethan; I take him out again.
  const ethan = handleOf("ethan:iMessage").rowid;
  say("crew", "jackson", "", at(now - 2 * DAY - 20 * HOUR), {
    text: null,
    groupEvent: { itemType: 1, action: 0, other: ethan },
  });
  say("crew", "me", "", next(2 * MINUTE), {
    text: null,
    groupEvent: { itemType: 1, action: 1, other: ethan },
  });
  say("crew", "jackson", "Oops, wrong Ethan 😅", next());
  say("crew", "me", `Camping weekend mood ${OBJECT_REPLACEMENT}`, at(now - 2 * DAY - 9 * HOUR), {
    attachments: [files.genmoji],
  });

  // Emma: an inline sticker, and a tapback she changed her mind about (love replaced by laugh).
  const market = say("emma", "me", `Made it to the market! ${OBJECT_REPLACEMENT}`, at(now - 3 * DAY - HOUR), {
    attachments: [files.sticker],
  });
  react("emma", "emma", 2000, market, next(30_000));
  react("emma", "emma", 2003, market, next(30_000));

  // Synced late from another device: written after everything else, dated two days ago, so ROWID order
  // and date order disagree.
  say(
    "ava",
    "ava",
    "(from my old phone) Here's the recipe you asked for: lemon, garlic, lots of butter",
    at(now - 90 * MINUTE),
    {
      date: new Date(now - 2 * DAY - 4 * HOUR),
      backdated: true,
    },
  );
  say("ava", "ava", "(from my old phone) And bake it at 200°C for 25 min", next(), {
    date: new Date(now - 2 * DAY - 4 * HOUR + MINUTE),
    backdated: true,
  });

  // Unread: the latest incoming messages in a few chats.
  say(
    "dentist",
    "dentist",
    "Lakeside Family Dentistry: reminder of your appointment tomorrow at 10:30 AM. Reply C to confirm.",
    at(now - 3 * HOUR),
    { forceUnread: true },
  );
  say("noah", "noah", "Are you coming to the barbecue Sunday?", at(now - 50 * MINUTE), { forceUnread: true });
  say("noah", "noah", "Bring a chair if you have one", next(2 * MINUTE), { forceUnread: true });
  say(
    "sophia",
    "sophia",
    "Call me when you can, it's about Mom's birthday surprise 🎉",
    at(now - 20 * MINUTE),
    {
      forceUnread: true,
    },
  );

  return steps.sort((x, y) => x.at - y.at);
}

// ---------------------------------------------------------------------------------------------------------
// Ordinary history: conversations in sessions, denser towards `now`.

interface Region {
  from: number;
  to: number;
  count: number;
}

const SESSION_LENGTHS = cumulativeWeights([8, 14, 16, 14, 10, 7, 5, 3]); // index + 1 = lines

function* sessionPlan(random: Random, regions: Region[]): Generator<{ anchor: number; length: number }> {
  for (const region of regions) {
    const lengths: number[] = [];
    for (let remaining = region.count; remaining > 0; ) {
      const length = Math.min(remaining, random.weighted(SESSION_LENGTHS) + 1);
      lengths.push(length);
      remaining -= length;
    }
    const anchors = new Float64Array(lengths.length);
    for (let i = 0; i < anchors.length; i++) {
      let t = region.from + random.next() * (region.to - region.from);
      // Fewer chats in the small hours (UTC 07–13 ≈ night in the Americas): redraw once.
      const hour = new Date(t).getUTCHours();
      if (hour >= 7 && hour < 13) t = region.from + random.next() * (region.to - region.from);
      anchors[i] = t;
    }
    anchors.sort();
    for (let i = 0; i < lengths.length; i++)
      yield { anchor: anchors[i] ?? region.from, length: lengths[i] ?? 1 };
  }
}

function regionsFor(total: number, now: number, startMs: number): Region[] {
  const lastDay = Math.min(Math.round(total * 0.04), 300);
  const lastWeek = Math.min(Math.round(total * 0.08), 1500);
  return [
    { from: startMs, to: now - 7 * DAY, count: total - lastDay - lastWeek },
    { from: now - 7 * DAY, to: now - DAY, count: lastWeek },
    // Ends well before `now` so every session finishes in the past.
    { from: now - DAY, to: now - 2 * HOUR, count: lastDay },
  ];
}

/** History length: 6 months by default, growing with size to about 10 years for a million messages. */
function spanDaysFor(messages: number): number {
  return Math.min(3650, Math.round(182 * Math.sqrt(Math.max(1, messages / 3000))));
}

// ---------------------------------------------------------------------------------------------------------

/**
 * Writes `<dir>/Messages/chat.db`, `<dir>/Messages/Attachments/…`, and Contacts stores at
 * `<dir>/AddressBook/AddressBook-v22.abcddb` and `<dir>/AddressBook/Sources/<UUID>/AddressBook-v22.abcddb`.
 */
export function generateDemo(options: GenerateDemoOptions): DemoPaths {
  const total = options.messages ?? DEFAULT_DEMO_MESSAGES;
  if (!Number.isInteger(total) || total < MIN_DEMO_MESSAGES) {
    throw new Error(
      `messages must be a whole number of at least ${MIN_DEMO_MESSAGES} (got ${options.messages})`,
    );
  }
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  if (!Number.isInteger(seed)) throw new Error(`seed must be a whole number (got ${options.seed})`);
  const nowDate = options.now ?? new Date();
  const now = nowDate.getTime();
  if (Number.isNaN(now)) throw new Error("now must be a valid Date");

  const paths: DemoPaths = {
    dir: options.dir,
    chatDb: join(options.dir, "Messages", "chat.db"),
    contactsRoot: join(options.dir, "AddressBook"),
    attachmentsDir: join(options.dir, "Messages", "Attachments"),
  };
  const random = createRandom(seed);
  const extra = scalePeople(total, random);
  const people = [...basePeople, ...extra.people];
  const chatSpecs = [...baseChats, ...extra.chats];

  writeContacts(paths.contactsRoot, people, random, nowDate, seed);

  mkdirSync(paths.attachmentsDir, { recursive: true });
  const writer = new ChatDbWriter(paths.chatDb, {
    bulk: true,
    macos26: options.macos26,
    newGuid: () => random.uuid(),
    me: { email: "me@example.com", phone: "+15550100100" },
  });
  try {
    const handleRowids = new Map<string, number>();
    const chats = new Map<string, ChatState>();
    writer.transaction(() => {
      for (const person of people) {
        for (const handle of person.handles) {
          handleRowids.set(`${person.key}:${handle.service}`, writer.addHandle(handle));
        }
      }
      for (const spec of chatSpecs) {
        const members = spec.members.map((m) => {
          const rowid = handleRowids.get(m);
          if (rowid === undefined) throw new Error(`demo data: chat ${spec.key} names unknown handle ${m}`);
          return rowid;
        });
        const identifier = spec.isGroup
          ? `chat${String(random.int(100_000_000, 999_999_999))}${String(random.int(100_000_000, 999_999_999))}`
          : (people
              .find((p) => spec.members[0]?.startsWith(`${p.key}:`))
              ?.handles.find((h) => h.service === spec.service)?.id ?? spec.key);
        const rowid = writer.addChat({
          identifier,
          service: spec.service,
          isGroup: spec.isGroup,
          displayName: spec.displayName,
          participants: members,
        });
        chats.set(spec.key, { spec, rowid, members, recent: [], lastGuid: null });
      }
    });

    const startMs = now - spanDaysFor(total) * DAY;
    const builder = new DemoBuilder(writer, random, now, startMs, paths.attachmentsDir, total);
    const chatOf = (key: string): ChatState => {
      const state = chats.get(key);
      if (!state) throw new Error(`demo data: unknown chat ${key}`);
      return state;
    };
    const memberOf = (chatKey: string, personKey: string): number => {
      const spec = chatOf(chatKey).spec;
      const member = spec.members.find((m) => m.startsWith(`${personKey}:`));
      const rowid = member ? handleRowids.get(member) : undefined;
      if (rowid === undefined) throw new Error(`demo data: ${personKey} is not in chat ${chatKey}`);
      return rowid;
    };
    const files = demoSampleFiles();
    const handleOf = (handleKey: string) => {
      const rowid = handleRowids.get(handleKey);
      const [personKey, service] = handleKey.split(":");
      const id = people.find((p) => p.key === personKey)?.handles.find((h) => h.service === service)?.id;
      if (rowid === undefined || id === undefined) throw new Error(`demo data: unknown handle ${handleKey}`);
      return { rowid, id };
    };
    const script = showcaseScript(builder, now, chatOf, memberOf, files, handleOf);
    const regularCount = total - script.length;

    const active = [...chats.values()].filter((c) => c.spec.weight > 0);
    const weights = cumulativeWeights(active.map((c) => c.spec.weight));
    const progressEvery = options.progressEvery ?? 100_000;
    let nextStep = 0;
    const runStepsUntil = (ms: number) => {
      while (nextStep < script.length && (script[nextStep]?.at ?? Number.POSITIVE_INFINITY) <= ms) {
        script[nextStep]?.run();
        nextStep++;
        report();
      }
    };
    let reported = 0;
    const report = () => {
      if (options.onProgress && builder.written - reported >= progressEvery) {
        reported = builder.written;
        options.onProgress(builder.written, total);
      }
    };
    // Commit in chunks so memory stays bounded however many rows are written.
    let sinceCommit = 0;
    writer.db.exec("BEGIN");
    try {
      for (const session of sessionPlan(random, regionsFor(regularCount, now, startMs))) {
        const chat = active[random.weighted(weights)];
        if (!chat) continue;
        const lines = conversation(random, session.length);
        let when = session.anchor;
        let fromMe = random.chance(0.45);
        for (const line of lines) {
          runStepsUntil(when);
          writeOrdinary(builder, random, chat, line, new Date(when), fromMe, files);
          report();
          when += 15_000 + Math.floor(random.next() ** 2 * 6 * MINUTE);
          if (random.chance(0.65)) fromMe = !fromMe;
          if (++sinceCommit >= 50_000) {
            writer.db.exec("COMMIT; BEGIN");
            sinceCommit = 0;
          }
        }
      }
      runStepsUntil(Number.POSITIVE_INFINITY);
      writer.db.exec("COMMIT");
    } catch (error) {
      if (writer.db.inTransaction) writer.db.exec("ROLLBACK");
      throw error;
    }
  } finally {
    writer.close();
  }
  return paths;
}

function writeOrdinary(
  b: DemoBuilder,
  random: Random,
  chat: ChatState,
  line: string,
  date: Date,
  isFromMe: boolean,
  files: ReturnType<typeof demoSampleFiles>,
): void {
  const sender = chat.spec.isGroup ? random.pick(chat.members) : undefined;
  const others = chat.recent.filter((m) => m.isFromMe !== isFromMe);
  const roll = random.next();
  if (roll < 0.04 && others.length > 0) {
    const type = random.chance(0.1) ? 2006 : 2000 + random.int(0, 5);
    const emoji = type === 2006 ? random.pick(["🎉", "🔥", "🥲", "👀", "💯", "🙏"]) : undefined;
    b.emit({
      chat,
      date,
      isFromMe,
      sender,
      text: null,
      tapback: { type, target: random.pick(others), emoji },
    });
  } else if (roll < 0.06 && chat.recent.length > 0) {
    b.emit({ chat, date, isFromMe, sender, text: line, replyTo: random.pick(chat.recent) });
  } else if (roll < 0.07) {
    const file = random.chance(0.7)
      ? random.chance(0.5)
        ? files.png
        : files.jpeg
      : random.pick([files.pdf, files.txt]);
    const text = random.chance(0.6) ? OBJECT_REPLACEMENT : `${OBJECT_REPLACEMENT}${line}`;
    b.emit({ chat, date, isFromMe, sender, text, attachments: [file] });
  } else {
    b.emit({ chat, date, isFromMe, sender, text: random.chance(0.01) ? random.pick(singles) : line });
  }
}

function writeContacts(root: string, people: PersonSpec[], random: Random, now: Date, seed: number): void {
  const local: AddressBookEntry[] = [];
  const source: AddressBookEntry[] = [];
  for (const person of people) {
    if (!person.contact) continue;
    (person.store === "local" ? local : source).push(person.contact);
  }
  const sourceId = random.uuid();
  writeAddressBook(join(root, "AddressBook-v22.abcddb"), local, {
    createdAt: now,
    uniqueIdSeed: `${seed}-local`,
  });
  writeAddressBook(join(root, "Sources", sourceId, "AddressBook-v22.abcddb"), source, {
    createdAt: now,
    uniqueIdSeed: `${seed}-source`,
  });
}
