// A MessagesReader that answers searches from the side index (src/messages/search-index.ts) and everything
// else from chat.db. Any trouble with the index (not built yet, still building, unreadable, corrupt) falls
// back to the store's linear scan, which gives the same answers, only slower.
import { MessagesDbError } from "./errors.js";
import {
  type IndexProgress,
  isCorruption,
  moveIndexAside,
  SearchIndex,
  SearchIndexError,
} from "./search-index.js";
import type { MessagesStore } from "./store.js";
import type {
  AttachmentQuery,
  AttachmentWithMessage,
  Chat,
  ChatSummary,
  Handle,
  Message,
  MessageQuery,
  MessagesReader,
  SearchQuery,
  Service,
} from "./types.js";

export interface IndexedReaderOptions {
  /** Where the index lives (it is (re)created there when missing or corrupt). */
  stateDir: string;
  /** Sync with chat.db at most this often, in ms (default 1000). A sync costs one PRAGMA when nothing changed. */
  syncIntervalMs?: number;
  /** Start building in the background on the first search when the index is not ready (default true). */
  autoBuild?: boolean;
  /** Progress of background builds (e.g. `progressToStderr()`). */
  onProgress?: IndexProgress;
  /** One-line notices (index moved aside, build failed): the CLI writes them to stderr. */
  log?: (line: string) => void;
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
    try {
      index = SearchIndex.open(store, options);
    } catch (error) {
      options.log?.(`Search index unavailable (${describe(error)}); searching by full scan.`);
    }
    return new IndexedMessagesReader(store, index, options);
  }

  get path(): string {
    return this.store.path;
  }

  /** True when searches are answered from the index. */
  get indexReady(): boolean {
    return this.index?.ready ?? false;
  }

  close(): void {
    this.index?.close();
    this.index = null;
    this.store.close();
  }

  /**
   * Builds the index if needed and resolves when it is ready (or when building failed: searches then scan).
   * The seam for MCP progress: a tool that got a progressToken awaits this with `onProgress` before searching.
   */
  async prepareSearch(options: SearchPreparation = {}): Promise<void> {
    if (!this.index) return;
    if (this.index.ready && !this.building) return;
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
    if (!index) return Promise.resolve();
    const onProgress: IndexProgress = (done, total) => {
      this.lastProgress = [done, total];
      this.options.onProgress?.(done, total);
      for (const listener of this.progressListeners) listener(done, total);
    };
    this.building = index
      .build({ onProgress })
      .then(() => undefined)
      .catch((error: unknown) => this.indexFailed(error))
      .finally(() => {
        this.building = null;
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
    const hits = this.searchIndex(query);
    return hits ?? this.store.searchMessages(query);
  }

  /** Index answer, or null when the scan must answer instead. */
  private searchIndex(query: SearchQuery): Message[] | null {
    const index = this.index;
    if (!index) return null;
    try {
      if (!index.ready || this.building) {
        if (this.options.autoBuild ?? true) void this.startBuild();
        return null;
      }
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
      // Hits deleted from chat.db since they were indexed are dropped and the query repeated, so a page is
      // as full as the scan's.
      for (;;) {
        const rowids = index.search(query);
        const messages = this.store.getMessagesByRowids(rowids);
        if (messages.length === rowids.length) return messages;
        const found = new Set(messages.map((m) => m.rowid));
        index.forget(rowids.filter((id) => !found.has(id)));
      }
    } catch (error) {
      if (error instanceof SearchIndexError || error instanceof MessagesDbError) return null;
      // A damaged index is replaced; anything else (chat.db busy for a moment) only skips the index this once.
      if (isCorruption(error)) this.indexFailed(error);
      else this.options.log?.(`Search index skipped for one query: ${describe(error)}`);
      return null;
    }
  }

  maxRowid(): number {
    return this.store.maxRowid();
  }

  listHandles(): Handle[] {
    return this.store.listHandles();
  }

  getChat(ref: number | string): Chat | null {
    return this.store.getChat(ref);
  }

  listChats(options: { limit: number; offset?: number; unreadOnly?: boolean; since?: Date }): ChatSummary[] {
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
  const index = SearchIndex.open(store, options);
  try {
    const result = await index.build({ onProgress: options.onProgress });
    index.sync();
    return { path: index.path, scanned: result.scanned, documents: index.documentCount() };
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
