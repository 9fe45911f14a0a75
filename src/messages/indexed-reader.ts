// A MessagesReader that answers searches from the side index (src/messages/search-index.ts) and everything
// else from chat.db. The index is built in a worker thread (search-index-worker.ts) so the server's event loop
// never stalls; while it builds, a search is answered from what is indexed plus a bounded look at the rest,
// and says so. Any other trouble with the index (unreadable, corrupt) falls back to the store's linear scan,
// which gives the same answers, only slower. A busy index (another process building it) is retried, never
// switched off.
import { type ResourceLimits, Worker } from "node:worker_threads";
import { comparePositions, decodePosition } from "./date-order.js";
import { MessagesDbError } from "./errors.js";
import {
  type IndexProgress,
  isCorruption,
  moveIndexAside,
  SearchIndex,
  SearchIndexError,
} from "./search-index.js";
import type { IndexWorkerInput, IndexWorkerMessage } from "./search-index-worker.js";
import type { MessagesStore } from "./store.js";
import type {
  AttachmentQuery,
  AttachmentWithMessage,
  Chat,
  ChatSummary,
  Handle,
  ListChatsOptions,
  Message,
  MessageQuery,
  MessagesReader,
  SearchQuery,
  Service,
} from "./types.js";

export interface IndexedReaderOptions {
  /** Where the index lives (it is (re)created there when missing or corrupt). */
  stateDir: string;
  /** Messages per build transaction (default: the index's own). */
  batchSize?: number;
  /** Sync with chat.db at most this often, in ms (default 1000). A sync costs one PRAGMA when nothing changed. */
  syncIntervalMs?: number;
  /** Start building in the background on the first search when the index is not ready (default true). */
  autoBuild?: boolean;
  /** Progress of background builds (e.g. `progressToStderr()`). */
  onProgress?: IndexProgress;
  /** One-line notices (index moved aside, build failed): the CLI writes them to stderr. */
  log?: (line: string) => void;
  /**
   * While the index builds, how many of the not-yet-indexed messages (newest ROWIDs first) a search reads
   * itself at most (default 60,000). The answer then says what it did not cover.
   */
  partialScanRows?: number;
  /**
   * …and for how long at most, in ms (default 400): reading costs about 10 µs of CPU a row (most of it
   * decoding attributedBody), and the build's worker and other processes share the cores, so a row count
   * alone does not bound the answer's time (60,000 rows took 3–6 s on a loaded machine).
   */
  partialScanMs?: number;
}

/** How long to wait before retrying an index that another process holds busy. */
const BUSY_RETRY_MS = 5_000;

/** SQLite's "someone else holds the lock" errors: transient, never a reason to give up on the index. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

/**
 * The worker's V8 heap. Its garbage is short-lived (a chunk of rows at a time): a small young generation and a
 * capped old one keep the heap small instead of letting V8 size it for throughput (the build's share of the
 * peak-RSS budget in docs/performance.md). A build's live data is a few MB; should a history not fit (the
 * worker runs out of memory under the cap), the build is run again without the cap.
 */
export const WORKER_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 48 };

/**
 * A worker running search-index-worker next to this module. Compiled (dist/), that is plain JavaScript. From
 * source (tsx: `npm start`, the tests) a worker thread does not inherit tsx's loader, so a two-line bootstrap
 * registers it first.
 */
function startWorker(workerData: IndexWorkerInput, resourceLimits: ResourceLimits): Worker {
  if (!import.meta.url.endsWith(".ts")) {
    return new Worker(new URL("./search-index-worker.js", import.meta.url), { workerData, resourceLimits });
  }
  const tsx = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./search-index-worker.ts", import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits });
}

/**
 * Builds (or resumes) the index for a chat.db in a worker thread with its own SQLite connections.
 * Resolves when the worker is done; rejects with the worker's error (its SQLite code kept).
 */
export async function buildInWorker(
  input: IndexWorkerInput,
  onProgress?: IndexProgress,
  onStart?: (worker: Worker) => void,
  limits: ResourceLimits = WORKER_LIMITS,
): Promise<void> {
  try {
    await runWorker(input, limits, onProgress, onStart);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== "ERR_WORKER_OUT_OF_MEMORY" || limits.maxOldGenerationSizeMb === undefined) throw error;
    // Every committed batch is kept: the uncapped worker resumes where this one stopped.
    const { maxOldGenerationSizeMb: _, ...uncapped } = limits;
    await runWorker(input, uncapped, onProgress, onStart);
  }
}

function runWorker(
  input: IndexWorkerInput,
  limits: ResourceLimits,
  onProgress?: IndexProgress,
  onStart?: (worker: Worker) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(input, limits);
    onStart?.(worker);
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve();
    };
    worker.on("message", (message: IndexWorkerMessage) => {
      if (message.type === "progress") onProgress?.(message.done, message.total);
      else if (message.type === "done") settle();
      else settle(Object.assign(new Error(message.message), { code: message.code ?? undefined }));
    });
    worker.on("error", (error) => settle(error));
    // Stopped (reader closed, server exiting) mid-way: the build resumes next time (each batch commits).
    worker.on("exit", (code) =>
      settle(code === 0 ? undefined : new Error(`index worker exited with ${code}`)),
    );
  });
}

export interface SearchPreparation {
  onProgress?: IndexProgress;
  signal?: AbortSignal;
}

export class IndexedMessagesReader implements MessagesReader {
  private index: SearchIndex | null;
  private building: Promise<void> | null = null;
  private readonly progressListeners = new Set<IndexProgress>();
  private lastSync = 0;
  private lastProgress: [number, number] | null = null;
  private readonly syncIntervalMs: number;
  /** The running build's worker, stopped by close(). */
  private worker: Worker | null = null;
  /** Not before this time (ms) will a busy index be opened or built again. */
  private retryAt = 0;
  /** Why the last searchMessages answer may be incomplete, or null. */
  private notice: string | null = null;

  constructor(
    readonly store: MessagesStore,
    index: SearchIndex | null,
    private readonly options: IndexedReaderOptions,
  ) {
    this.index = index;
    this.syncIntervalMs = options.syncIntervalMs ?? 1000;
  }

  /** Opens the index for this store; with an unusable state directory the reader simply always scans. */
  static open(store: MessagesStore, options: IndexedReaderOptions): IndexedMessagesReader {
    let index: SearchIndex | null = null;
    let busy = false;
    try {
      index = SearchIndex.open(store, options);
    } catch (error) {
      busy = isBusy(error);
      if (!busy) options.log?.(`Search index unavailable (${describe(error)}); searching by full scan.`);
    }
    const reader = new IndexedMessagesReader(store, index, options);
    if (busy) reader.retryLater();
    return reader;
  }

  private retryLater(): void {
    this.retryAt = Date.now() + BUSY_RETRY_MS;
    this.reopen = true;
  }

  /** Set when the index could not be opened because it was busy: open it on a later search. */
  private reopen = false;

  private currentIndex(): SearchIndex | null {
    if (!this.index && this.reopen && Date.now() >= this.retryAt) {
      try {
        this.index = SearchIndex.open(this.store, this.options);
        this.reopen = false;
      } catch (error) {
        if (isBusy(error)) this.retryLater();
        else {
          this.reopen = false;
          this.options.log?.(`Search index unavailable (${describe(error)}); searching by full scan.`);
        }
      }
    }
    return this.index;
  }

  /** Why the last `searchMessages` answer may be incomplete (the index was still being built), or null. */
  searchNotice(): string | null {
    return this.notice;
  }

  get path(): string {
    return this.store.path;
  }

  /** True when searches are answered from the index. */
  get indexReady(): boolean {
    return this.index?.ready ?? false;
  }

  private closed = false;

  close(): void {
    this.closed = true;
    void this.worker?.terminate();
    this.index?.close();
    this.index = null;
    this.store.close();
  }

  /**
   * Builds the index if needed and resolves when it is ready (or when building failed: searches then scan).
   * The seam for MCP progress: a tool that got a progressToken awaits this with `onProgress` before searching.
   */
  async prepareSearch(options: SearchPreparation = {}): Promise<void> {
    const index = this.currentIndex();
    if (!index) return;
    if (index.ready && !this.building) return;
    const build = this.startBuild();
    if (options.onProgress) {
      this.progressListeners.add(options.onProgress);
      // Joining a build already under way: report where it is now.
      if (this.lastProgress) options.onProgress(...this.lastProgress);
    }
    try {
      if (options.signal) {
        const signal = options.signal;
        await Promise.race([
          build,
          new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })),
        ]);
      } else {
        await build;
      }
    } finally {
      if (options.onProgress) this.progressListeners.delete(options.onProgress);
    }
  }

  private startBuild(): Promise<void> {
    if (this.building) return this.building;
    const index = this.index;
    if (!index || Date.now() < this.retryAt) return Promise.resolve();
    const onProgress: IndexProgress = (done, total) => {
      this.lastProgress = [done, total];
      this.options.onProgress?.(done, total);
      for (const listener of this.progressListeners) listener(done, total);
    };
    this.building = buildInWorker(
      { chatDbPath: this.store.path, stateDir: this.options.stateDir, batchSize: this.options.batchSize },
      onProgress,
      (worker) => {
        this.worker = worker;
      },
    )
      .catch((error: unknown) => {
        if (this.closed) return;
        // Another process holding the index (building it too) is not a failure: try again a little later.
        if (isBusy(error)) this.retryAt = Date.now() + BUSY_RETRY_MS;
        else this.indexFailed(error);
      })
      .finally(() => {
        this.building = null;
        this.worker = null;
        this.lastProgress = null;
      });
    return this.building;
  }

  /** A corrupt index is moved aside and rebuilt later; any other failure disables the index for this run. */
  private indexFailed(error: unknown): void {
    const index = this.index;
    this.index = null;
    if (!index) return;
    const path = index.path;
    try {
      index.close();
    } catch {
      // Already unusable; nothing more to release.
    }
    if (isCorruption(error)) {
      try {
        const aside = moveIndexAside(path);
        this.options.log?.(`Search index ${path} was damaged; moved it to ${aside} and rebuilding.`);
        this.index = SearchIndex.open(this.store, this.options);
      } catch (reopenError) {
        this.options.log?.(`Search index disabled: ${describe(reopenError)}`);
      }
    } else {
      this.options.log?.(`Search index disabled for this run: ${describe(error)}`);
    }
  }

  searchMessages(query: SearchQuery): Message[] {
    this.notice = null;
    const hits = this.searchIndex(query);
    return hits ?? this.store.searchMessages(query);
  }

  /** Index answer, or null when the scan must answer instead. */
  private searchIndex(query: SearchQuery): Message[] | null {
    const index = this.currentIndex();
    if (!index) return null;
    try {
      if (this.building || !index.ready) {
        if (!this.building && (this.options.autoBuild ?? true)) void this.startBuild();
        return this.building ? this.searchWhileBuilding(index, query) : null;
      }
      if (index.sweepDue && (this.options.autoBuild ?? true)) void this.startBuild();
      const now = Date.now();
      if (now - this.lastSync >= this.syncIntervalMs) {
        const synced = index.sync();
        this.lastSync = now;
        if (synced.reset) {
          this.options.log?.("chat.db was replaced; rebuilding the search index.");
          if (this.options.autoBuild ?? true) void this.startBuild();
          return null;
        }
      }
      return this.fromIndex(index, query);
    } catch (error) {
      if (error instanceof SearchIndexError || error instanceof MessagesDbError) return null;
      if (error instanceof RangeError) throw error; // a bad cursor: the caller's mistake, not the index's
      // A damaged index is replaced; anything else (chat.db busy for a moment) only skips the index this once.
      if (isCorruption(error)) this.indexFailed(error);
      else this.options.log?.(`Search index skipped for one query: ${describe(error)}`);
      return null;
    }
  }

  /**
   * Hits deleted from chat.db since they were indexed are dropped and the query repeated, so a page is as
   * full as the scan's.
   */
  private fromIndex(index: SearchIndex, query: SearchQuery): Message[] {
    for (;;) {
      const rowids = index.search(query);
      const messages = this.store.getMessagesByRowids(rowids);
      if (messages.length === rowids.length) return messages;
      const found = new Set(messages.map((m) => m.rowid));
      index.forget(rowids.filter((id) => !found.has(id)));
    }
  }

  /**
   * A search while the worker builds: the part already indexed (every ROWID up to the watermark), plus the
   * store's own scan of the newest not-yet-indexed rows, bounded in rows and time so the answer comes within a
   * second.
   * When rows were left unread, `searchNotice()` says how many.
   */
  private searchWhileBuilding(index: SearchIndex, query: SearchQuery): Message[] {
    const deadline = performance.now() + (this.options.partialScanMs ?? 400);
    const watermark = index.watermark;
    const indexed = this.store.getMessagesByRowids(index.searchIndexed(query));
    const rest = this.store.searchAbove(query, watermark, this.options.partialScanRows ?? 60_000, deadline);
    const direction = query.order === "asc" ? 1 : -1;
    const key = (m: Message) => decodePosition(m.position) ?? { key: 0n, rowid: m.rowid };
    const merged = [...new Map([...indexed, ...rest.messages].map((m) => [m.rowid, m])).values()]
      .sort((a, b) => direction * comparePositions(key(a), key(b)))
      .slice(0, Math.max(0, Math.floor(query.limit)));
    if (!rest.complete) {
      const [done, total] = this.lastProgress ?? [watermark, watermark + rest.unread];
      const percent = total > 0 ? Math.floor((done / total) * 100) : 0;
      this.notice =
        `The search index is still being built (${percent}% done): searched the indexed messages and the ` +
        `newest ${rest.scanned.toLocaleString("en-US")} of the rest; ` +
        `about ${rest.unread.toLocaleString("en-US")} older messages were not searched yet. Ask again shortly for a complete answer.`;
    }
    return merged;
  }

  maxRowid(): number {
    return this.store.maxRowid();
  }

  listHandles(): readonly Handle[] {
    return this.store.listHandles();
  }

  getChat(ref: number | string): Chat | null {
    return this.store.getChat(ref);
  }

  listChats<Counted extends boolean = true>(options: ListChatsOptions<Counted>): ChatSummary<Counted>[] {
    return this.store.listChats(options);
  }

  chatsWithHandles(handleRowids: number[]): Chat[] {
    return this.store.chatsWithHandles(handleRowids);
  }

  getMessages(query: MessageQuery): Message[] {
    return this.store.getMessages(query);
  }

  getMessage(ref: number | string): Message | null {
    return this.store.getMessage(ref);
  }

  getAttachment(rowid: number): AttachmentWithMessage | null {
    return this.store.getAttachment(rowid);
  }

  searchAttachments(query: AttachmentQuery): AttachmentWithMessage[] {
    return this.store.searchAttachments(query);
  }

  serviceHistory(handleId: string): { service: Service; lastUsed: Date | null; messageCount: number }[] {
    return this.store.serviceHistory(handleId);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Builds (or resumes) the index for `store` and closes it: for the CLI's first run and for the benchmark.
 * Progress goes to `onProgress` (see `progressToStderr`).
 */
export async function buildIndex(
  store: MessagesStore,
  options: { stateDir: string; onProgress?: IndexProgress; batchSize?: number },
): Promise<{ path: string; scanned: number; documents: number }> {
  const before = SearchIndex.open(store, options);
  const watermark = before.watermark;
  before.close();
  // The same worker the server uses, so the CLI and the benchmark measure what users get.
  await buildInWorker(
    { chatDbPath: store.path, stateDir: options.stateDir, batchSize: options.batchSize },
    options.onProgress,
  );
  const index = SearchIndex.open(store, options);
  try {
    index.sync();
    const scanned = store.maxRowid() > watermark ? index.watermark - watermark : 0;
    return { path: index.path, scanned, documents: index.documentCount() };
  } finally {
    index.close();
  }
}

/** A progress callback printing "Indexing messages: 42% (420000/1000000)" to stderr, at most every 2 %. */
export function progressToStderr(
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): IndexProgress {
  let lastPercent = -1;
  return (done, total) => {
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (percent < 100 && percent - lastPercent < 2) return;
    if (percent === lastPercent) return;
    lastPercent = percent;
    write(`Indexing messages for search: ${percent}% (${done}/${total})`);
  };
}
