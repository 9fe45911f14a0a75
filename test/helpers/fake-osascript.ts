// A stand-in `osascript` executable for Linux tests. The project's code runs for real down to
// execFile; only the program at the end of PATH is different. The fake parses its argv the way
// macOS osascript does (getopt(3): options first, stop at `--` or the first operand, a lone `-` is
// an operand meaning "program on stdin"), records what it received and behaves as scripted.
//
// `osascript` itself is a two-line /bin/sh script that notes its pid in `started` and then execs Node on
// the fake (same pid). Node takes a while to start on a busy machine; the shell line does not. Tests that
// need to know a run began (a timeout kill, "tried once, not retried") read `started()` rather than hoping
// Node got as far as recording its call before the timeout hit.
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export interface FakeBehaviour {
  /** Printed on stdout when the run succeeds (osascript prints the script's result). */
  stdout?: string;
  /** Fail: print this on stderr and exit with `exitCode` (default 1). */
  failWith?: { stderr: string; exitCode?: number };
  /** Apply `failWith` only when the program text contains this string; otherwise succeed. */
  failWhenProgramIncludes?: string;
  /** Wait this long before answering (for timeouts). */
  sleepMs?: number;
  /** Answer only once this file exists (a send the test holds "in flight" until it says so). */
  waitForFile?: string;
}

export interface FakeCall {
  /** argv exactly as the process got it, without the executable itself. */
  argv: string[];
  /** The program text, from stdin, `-e` lines or a file. */
  program: string;
  programSource: "stdin" | "-e" | "file";
  /** What the script's `on run argv` would receive. */
  runArgs: string[];
  cwd: string;
  pid: number;
}

export interface FakeOsascript {
  dir: string;
  /** process.env with the fake's directory first on PATH (and no delivery wait): pass it as `env` to the code under test. */
  env: NodeJS.ProcessEnv;
  calls(): Promise<FakeCall[]>;
  /** Pids of every run that started, in order, including runs killed before Node got going. */
  started(): Promise<number[]>;
  setBehaviour(behaviour: FakeBehaviour): Promise<void>;
  cleanup(): Promise<void>;
}

// CommonJS on purpose: the file has no extension and its temp dir no package.json.
const FAKE_SOURCE = String.raw`
const fs = require("node:fs");
const path = require("node:path");
const dir = __dirname;
const argv = process.argv.slice(2);
const behaviour = JSON.parse(fs.readFileSync(path.join(dir, "behaviour.json"), "utf8"));

function usage(message) {
  process.stderr.write("osascript: " + message + "\nusage: osascript [-l language] [-e script] [-i] [-s {ehso}] [programfile] [argument ...]\n");
  process.exit(1);
}

// getopt(3) with optstring "e:l:s:i", non-permuting like BSD's.
const eLines = [];
let i = 0;
for (; i < argv.length; i++) {
  const word = argv[i];
  if (word === "--") { i++; break; }
  if (word === "-" || !word.startsWith("-")) break;
  for (let c = 1; c < word.length; c++) {
    const flag = word[c];
    if (flag === "i") continue;
    if (flag === "e" || flag === "l" || flag === "s") {
      let value = word.slice(c + 1);
      if (value === "") {
        i++;
        if (i >= argv.length) usage("option requires an argument -- " + flag);
        value = argv[i];
      }
      if (flag === "e") eLines.push(value);
      break;
    }
    usage("illegal option -- " + flag);
  }
}

let program;
let programSource;
let runArgs;
if (eLines.length > 0) {
  program = eLines.join("\n");
  programSource = "-e";
  runArgs = argv.slice(i);
} else if (i >= argv.length || argv[i] === "-") {
  program = fs.readFileSync(0, "utf8");
  programSource = "stdin";
  runArgs = argv.slice(i + 1);
} else {
  program = fs.readFileSync(argv[i], "utf8");
  programSource = "file";
  runArgs = argv.slice(i + 1);
}

fs.appendFileSync(
  path.join(dir, "calls.jsonl"),
  JSON.stringify({ argv, program, programSource, runArgs, cwd: process.cwd(), pid: process.pid }) + "\n",
);

function answer() {
  const fails = behaviour.failWith &&
    (behaviour.failWhenProgramIncludes === undefined || program.includes(behaviour.failWhenProgramIncludes));
  if (fails) {
    process.stderr.write(behaviour.failWith.stderr + "\n");
    process.exit(behaviour.failWith.exitCode ?? 1);
  }
  process.stdout.write((behaviour.stdout ?? "") + "\n");
  process.exit(0);
}

if (behaviour.waitForFile) {
  const poll = () => (fs.existsSync(behaviour.waitForFile) ? answer() : setTimeout(poll, 20));
  poll();
} else if (behaviour.sleepMs) setTimeout(answer, behaviour.sleepMs);
else answer();
`;

export async function installFakeOsascript(behaviour: FakeBehaviour = {}): Promise<FakeOsascript> {
  const dir = await mkdtemp(join(tmpdir(), "fake-osascript-"));
  const executable = join(dir, "osascript");
  const program = join(dir, "fake-osascript.cjs");
  const startedFile = join(dir, "started");
  await writeFile(program, FAKE_SOURCE);
  // The absolute node path keeps the fake independent of what else is on PATH.
  await writeFile(
    executable,
    `#!/bin/sh\necho $$ >> ${shellQuote(startedFile)}\nexec ${shellQuote(process.execPath)} ${shellQuote(program)} "$@"\n`,
  );
  await chmod(executable, 0o755);
  const behaviourFile = join(dir, "behaviour.json");
  const setBehaviour = (next: FakeBehaviour) => writeFile(behaviourFile, JSON.stringify(next));
  await setBehaviour(behaviour);
  const logFile = join(dir, "calls.jsonl");

  const calls = async (): Promise<FakeCall[]> => {
    let text: string;
    try {
      text = await readFile(logFile, "utf8");
    } catch {
      return [];
    }
    return text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as FakeCall);
  };

  const started = async (): Promise<number[]> => {
    const text = await readFile(startedFile, "utf8").catch(() => "");
    return text
      .split("\n")
      .filter((line) => line !== "")
      .map(Number);
  };

  return {
    dir,
    started,
    // No Messages behind the fake writes rows to chat.db: one look for the sent row, then "uncertain",
    // instead of the 5 s a real send gets. Tests of the delivery check set their own window.
    env: {
      ...process.env,
      PATH: [dir, process.env.PATH ?? ""].join(delimiter),
      MAC_MESSAGES_DELIVERY_WINDOW_MS: "0",
    },
    calls,
    setBehaviour,
    async cleanup() {
      // A fake still sleeping would be a leaked child: stop any that started and are still this fake
      // (checked through /proc so a reused pid is never touched).
      for (const pid of await started()) {
        const commandLine = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
        if (commandLine.includes(dir)) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // Exited in the meantime.
          }
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
