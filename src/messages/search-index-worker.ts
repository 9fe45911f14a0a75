// The search index's builder, run in a worker thread (see `runIndexWorker` in index-worker.ts) so that
// decoding a decade of messages never blocks the server's event loop. It has its own connections to chat.db
// and to the index (SQLite connections are per thread), builds or resumes the index, runs the daily edit
// sweep when it is due, and reports progress to the parent.
import { parentPort, workerData } from "node:worker_threads";
import { readSchema } from "./schema.js";
import { SearchIndex } from "./search-index.js";
import { openChatDbReadOnly } from "./sql.js";

export interface IndexWorkerInput {
  chatDbPath: string;
  stateDir: string;
  batchSize?: number;
}

export type IndexWorkerMessage =
  | { type: "progress"; done: number; total: number }
  | { type: "done"; scanned: number }
  | { type: "error"; message: string; code: string | null };

async function main(input: IndexWorkerInput): Promise<void> {
  const source = openChatDbReadOnly(input.chatDbPath);
  let schema: ReturnType<typeof readSchema>;
  try {
    schema = readSchema(source);
  } finally {
    source.close();
  }
  const index = SearchIndex.open(
    { path: input.chatDbPath, schema },
    { stateDir: input.stateDir, batchSize: input.batchSize },
  );
  let scanned = 0;
  try {
    const result = await index.build({
      onProgress: (done, total) => parentPort?.postMessage({ type: "progress", done, total }),
    });
    if (index.sweepDue) index.sweepEdits();
    scanned = result.scanned;
  } finally {
    index.close();
  }
  // Only once the connections are closed: the parent may then move or replace the files at once.
  parentPort?.postMessage({ type: "done", scanned } satisfies IndexWorkerMessage);
}

main(workerData as IndexWorkerInput).catch((error: unknown) => {
  const code = (error as { code?: unknown } | null)?.code;
  parentPort?.postMessage({
    type: "error",
    message: error instanceof Error ? error.message : String(error),
    code: typeof code === "string" ? code : null,
  } satisfies IndexWorkerMessage);
});
