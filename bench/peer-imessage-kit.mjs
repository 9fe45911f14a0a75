// Runs @photon-ai/imessage-kit's read calls on a chat.db and prints their timings as one JSON line.
// Started by bench/peers.ts as `node peer-imessage-kit.mjs <package dir> <chat.db> <reps> <chat id>`.
// The SDK refuses any platform but macOS in its constructor (it would send through Messages.app); only its
// reading is measured here, so the constructor is told it runs on darwin. Nothing is ever sent.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [packageDir, chatDb, repsText, chatId] = process.argv.slice(2);
const reps = Number(repsText);
Object.defineProperty(process, "platform", { value: "darwin" });
const { IMessageSDK } = await import(pathToFileURL(join(packageDir, "dist", "index.js")).href);
const sdk = new IMessageSDK({ databasePath: chatDb });

async function time(call) {
  await call(); // warm the page cache and the statements
  const wall = [];
  const cpu = [];
  let result;
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    result = await call();
    const used = process.cpuUsage(cpuStart);
    wall.push(performance.now() - start);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall, cpu, rows: result.length };
}

const out = {
  search: await time(() => sdk.getMessages({ search: "dinner", limit: 20 })),
  chatPage: await time(() => sdk.getMessages({ chatId, limit: 50 })),
  listChats: await time(() => sdk.listChats({ limit: 20, sortBy: "recent" })),
};
await sdk.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
