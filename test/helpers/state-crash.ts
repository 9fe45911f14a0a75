// Drives state-writer-child.ts and SIGKILLs it at random moments, then checks the state file with the
// real loader: it must parse, hold everything whose write was acknowledged, and nothing acknowledged
// as revoked. Used by the fast suite (a few dozen kills) and the stress suite (hundreds).
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OAuthStore } from "../../src/remote/oauth-store.js";

const CHILD = new URL("./state-writer-child.ts", import.meta.url).pathname;

export interface CrashRunResult {
  kills: number;
  ackedClients: number;
  ackedTokens: number;
  ackedRevocations: number;
  /** Problems found; empty means nothing was lost or corrupted. */
  problems: string[];
  leftoverTempFiles: number;
}

/** One state dir, `iterations` children in a row, each killed after a random number of acks. */
async function runLane(iterations: number, lane: number, random: () => number): Promise<CrashRunResult> {
  const dir = mkdtempSync(join(tmpdir(), "mmcp-crash-"));
  const clients = new Set<string>();
  const tokens = new Set<string>();
  const revoked = new Set<string>();
  const problems: string[] = [];
  let kills = 0;
  try {
    for (let i = 0; i < iterations; i++) {
      const killAfterAcks = 1 + Math.floor(random() * 12);
      const extraDelayMs = Math.floor(random() * 4);
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, `l${lane}i${i}`, "8000"], {
          stdio: ["ignore", "pipe", "pipe"],
        });
        let buffered = "";
        let acks = 0;
        let killScheduled = false;
        let stderr = "";
        child.stderr.on("data", (chunk) => {
          stderr += chunk;
        });
        child.stdout.on("data", (chunk: Buffer) => {
          buffered += chunk.toString("utf8");
          const lines = buffered.split("\n");
          buffered = lines.pop() ?? "";
          for (const line of lines) {
            if (line.startsWith("revoking ")) {
              // In flight: from now on the token may or may not be there.
              tokens.delete(line.slice("revoking ".length));
              continue;
            }
            const [, kind, value] = line.split(" ");
            if (!value) continue;
            if (kind === "client") clients.add(value);
            if (kind === "token") tokens.add(value);
            if (kind === "revoked") {
              tokens.delete(value);
              revoked.add(value);
            }
            acks++;
          }
          if (acks >= killAfterAcks && !killScheduled) {
            killScheduled = true;
            const kill = () => child.kill("SIGKILL");
            if (extraDelayMs === 0) kill();
            else setTimeout(kill, extraDelayMs);
          }
        });
        child.once("error", reject);
        child.once("exit", (code, signal) => {
          if (signal === "SIGKILL") kills++;
          else if (code !== 0) problems.push(`child exited with ${code}: ${stderr.slice(0, 500)}`);
          resolve();
        });
      });
      let state: OAuthStore;
      try {
        state = OAuthStore.open(dir);
      } catch (error) {
        problems.push(`after kill ${i}: state does not load: ${(error as Error).message}`);
        break;
      }
      try {
        for (const id of clients)
          if (!state.getClient(id)) problems.push(`after kill ${i}: lost client ${id}`);
        for (const hash of tokens) {
          if (!state.getToken("access", hash) || !state.getToken("refresh", `r${hash}`))
            problems.push(`after kill ${i}: lost token ${hash.slice(0, 12)}`);
        }
        for (const hash of revoked) {
          if (state.getToken("access", hash))
            problems.push(`after kill ${i}: revoked token ${hash.slice(0, 12)} is back`);
        }
      } finally {
        state.close();
      }
    }
    const leftoverTempFiles = readdirSync(dir).filter((name) => name.endsWith(".tmp")).length;
    // SQLite keeps its own journal (-wal); nothing else may be left behind.
    return {
      kills,
      ackedClients: clients.size,
      ackedTokens: tokens.size,
      ackedRevocations: revoked.size,
      problems,
      leftoverTempFiles,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Mulberry32: reproducible "random" kill points; the seed is printed so a failure can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `lanes` state dirs in parallel, `iterationsPerLane` kills each, and sums the results. */
export async function runCrashTest(
  iterationsPerLane: number,
  lanes: number,
  seed: number,
): Promise<CrashRunResult> {
  const results = await Promise.all(
    Array.from({ length: lanes }, (_, lane) => runLane(iterationsPerLane, lane, seededRandom(seed + lane))),
  );
  return results.reduce((sum, r) => ({
    kills: sum.kills + r.kills,
    ackedClients: sum.ackedClients + r.ackedClients,
    ackedTokens: sum.ackedTokens + r.ackedTokens,
    ackedRevocations: sum.ackedRevocations + r.ackedRevocations,
    problems: [...sum.problems, ...r.problems],
    leftoverTempFiles: sum.leftoverTempFiles + r.leftoverTempFiles,
  }));
}
