// The built CLI runs through V8's code cache (src/cli/code-cache.ts): the first run writes a cache, the next
// one uses it, and a damaged, refused, missing or unwritable cache only means compiling as usual: the
// program runs the same either way and says nothing on stderr about it (unless NODE_DEBUG asks). Checked on
// small scripts here; test/packaging/npm-package.test.ts checks the installed command. Whether the cache
// makes start-up faster is for the bench (docs/performance.md), never a test.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { waitUntil } from "../helpers/wait.js";

const CHILD = join(import.meta.dirname, "..", "helpers", "code-cache-child.ts");

let root: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), "code-cache-"));
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/**
 * A CommonJS script using what the built CLI uses: require, module.exports, __filename and the import() of a
 * package the build rewrites its own into (__importPackage); `answer` is its export.
 */
function writeScript(name: string, answer: number): string {
  const file = join(root, name);
  writeFileSync(
    file,
    [
      'const { basename } = require("node:path");',
      `module.exports.answer = ${answer};`,
      '__importPackage("node:os").then((os) =>',
      '  process.stdout.write("imported " + typeof os.cpus + " in " + basename(__filename) + "\\n"),',
      ");",
    ].join("\n"),
  );
  return file;
}

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Runs `script` through the code cache in `cacheDir` with NODE_DEBUG on (and `env`), until it has printed its export and
 * its import, and its stderr matches `until` when given (the cache written, say); then closes its stdin. With
 * `calls` (true: one), once the script has run, the child is told that many tool calls were answered (as the
 * stdio server tells it).
 */
async function runScript(
  script: string,
  cacheDir: string,
  until?: RegExp,
  env: Record<string, string> = {},
  calls: number | boolean = false,
): Promise<Run> {
  const call = Number(calls);
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, script, cacheDir], {
    env: { ...process.env, NODE_DEBUG: "mac-messages-mcp", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const run: Run = { stdout: "", stderr: "", code: null };
  child.stdout.on("data", (chunk: Buffer) => {
    run.stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    run.stderr += chunk.toString("utf8");
  });
  const exited = new Promise<void>((resolve) =>
    child.on("exit", (code) => {
      run.code = code;
      resolve();
    }),
  );
  const ran = () => run.stdout.includes("imported") && run.stdout.includes("answer");
  try {
    if (call) {
      await waitUntil(() => run.code !== null || ran(), "the script to run");
      child.stdin.write("call\n".repeat(call));
    }
    await waitUntil(
      () =>
        run.code !== null ||
        (ran() &&
          (run.stdout.match(/^called$/gm)?.length ?? 0) >= call &&
          (!until || until.test(run.stderr))),
      `the script to run${call ? `, ${call} tool calls reported` : ""}${until ? ` and ${until}` : ""}`,
    );
  } finally {
    child.stdin.end();
  }
  await exited;
  return run;
}

/** What every run must show: the script ran, its import worked, it exited cleanly, no stack trace. */
function assertRan(run: Run, answer: number, script: string): void {
  assert.match(run.stdout, new RegExp(`^answer ${answer}$`, "m"), run.stderr);
  assert.match(run.stdout, new RegExp(`^imported function in ${script.split("/").at(-1)}$`, "m"));
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /^\s+at /m, "no stack trace");
}

/** The cache files in `dir`. */
function cacheFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith(".v8"));
}

/** A start whose cache holds a call: it uses that cache and plans no write (it runs one call, as the others). */
async function assertKeepsCacheWithCall(script: string, cacheDir: string, value: number): Promise<void> {
  const next = await runScript(script, cacheDir, undefined, {}, true);
  assertRan(next, value, script);
  assert.match(next.stderr, /code cache: used \(with a tool call\)/);
  assert.doesNotMatch(next.stderr, /code cache: (to be written again|wrote)/);
}

test("a second run uses the cache the first one wrote (owner-only, in an owner-only folder)", async () => {
  const script = writeScript("first.cjs", 42);
  const cacheDir = join(root, "state-first", "code-cache");
  const first = await runScript(script, cacheDir, /code cache: wrote/);
  assertRan(first, 42, script);
  assert.match(first.stderr, /code cache: none at /);
  const [file] = cacheFiles(cacheDir);
  assert.ok(file, "a cache file was written");
  assert.equal(statSync(cacheDir).mode & 0o777, 0o700);
  assert.equal(statSync(join(cacheDir, file)).mode & 0o777, 0o600);
  assert.deepEqual(
    readdirSync(cacheDir).filter((name) => name.endsWith(".tmp")),
    [],
    "no temporary file left",
  );

  const second = await runScript(script, cacheDir);
  assertRan(second, 42, script);
  assert.match(second.stderr, new RegExp(`code cache: used .*${file}`));
});

test("a start whose cache holds start-up only writes it again after its first tool call, once", async () => {
  // The functions a tool call compiles are in the cache the next start reads (code-cache.ts, CodeCacheWriter).
  const script = writeScript("calls.cjs", 9);
  const cacheDir = join(root, "state-calls", "code-cache");
  const first = await runScript(script, cacheDir, /code cache: wrote .*start-up only/);
  assertRan(first, 9, script);
  const [file] = cacheFiles(cacheDir);
  assert.ok(file, "a cache file was written");

  // Two calls answered in a row: one write, after both.
  const second = await runScript(script, cacheDir, /code cache: wrote .*with a tool call/, {}, 2);
  assertRan(second, 9, script);
  assert.match(second.stderr, new RegExp(`code cache: used \\(start-up only\\) .*${file}`));
  assert.equal(second.stderr.match(/code cache: wrote/g)?.length, 1, second.stderr);
  assert.deepEqual(cacheFiles(cacheDir), [file], "the same file, replaced");
  assert.equal(statSync(join(cacheDir, file)).mode & 0o777, 0o600);

  // Reported before the child prints "called": a start using a cache that holds a call plans no write.
  await assertKeepsCacheWithCall(script, cacheDir, 9);
});

test("a first start that answers a tool call writes its cache with the call's functions", async () => {
  const script = writeScript("first-call.cjs", 11);
  const cacheDir = join(root, "state-first-call", "code-cache");
  const first = await runScript(script, cacheDir, /code cache: wrote .*with a tool call/, {}, true);
  assertRan(first, 11, script);
  assert.match(first.stderr, /code cache: none at /);
  // Usually once, 2 s after the call; twice on a machine slow enough that the start-up write came first.
  const writes = first.stderr.match(/code cache: wrote .*/g) ?? [];
  assert.ok(writes.length === 1 || writes.length === 2, first.stderr);
  assert.match(writes.at(-1) ?? "", /with a tool call/);
  await assertKeepsCacheWithCall(script, cacheDir, 11);
});

test("a damaged, truncated or refused cache is ignored and replaced", async () => {
  const script = writeScript("damaged.cjs", 7);
  const cacheDir = join(root, "state-damaged", "code-cache");
  await runScript(script, cacheDir, /code cache: wrote/);
  const [name] = cacheFiles(cacheDir);
  assert.ok(name);
  const file = join(cacheDir, name);
  const good = readFileSync(file);
  const damages: { what: string; damage: () => void; said: RegExp }[] = [
    {
      what: "one byte changed",
      damage: () => {
        const bytes = Buffer.from(good);
        bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0xff, bytes.length >> 1);
        writeFileSync(file, bytes);
      },
      said: /code cache: damaged, ignored/,
    },
    { what: "truncated", damage: () => truncateSync(file, good.length >> 1), said: /code cache: damaged/ },
    { what: "empty", damage: () => writeFileSync(file, ""), said: /code cache: damaged/ },
    {
      // Intact as a file (its checksum matches) but not V8's: V8 refuses it.
      what: "not a V8 cache",
      damage: () => {
        // What the cache holds (start-up only), then the data.
        const rest = Buffer.concat([Buffer.of(0), Buffer.from("not compiled code at all")]);
        writeFileSync(file, Buffer.concat([createHash("sha256").update(rest).digest(), rest]));
      },
      said: /code cache: rejected by V8/,
    },
  ];
  for (const { what, damage, said } of damages) {
    damage();
    const run = await runScript(script, cacheDir, /code cache: wrote/);
    assertRan(run, 7, script);
    assert.match(run.stderr, said, what);
    const again = await runScript(script, cacheDir);
    assert.match(again.stderr, /code cache: used/, `${what}: replaced by a good one`);
  }
});

test("a cache or cache folder others could write is not read, and is replaced by a private one", async () => {
  const script = writeScript("shared.cjs", 5);
  const cacheDir = join(root, "state-shared", "code-cache");
  await runScript(script, cacheDir, /code cache: wrote/);
  const [name] = cacheFiles(cacheDir);
  assert.ok(name);
  const file = join(cacheDir, name);
  for (const [what, path, mode] of [
    ["the file", file, 0o666],
    ["the folder", cacheDir, 0o777],
  ] as const) {
    chmodSync(path, mode);
    const run = await runScript(script, cacheDir, /code cache: wrote/);
    assertRan(run, 5, script);
    assert.match(run.stderr, /code cache: others could write it, ignored/, what);
    assert.equal(statSync(cacheDir).mode & 0o777, 0o700, what);
    assert.equal(statSync(file).mode & 0o777, 0o600, what);
    assert.match((await runScript(script, cacheDir)).stderr, /code cache: used/, what);
  }
});

test("with an unwritable cache folder, or none to be had, the script runs all the same", async () => {
  const script = writeScript("unwritable.cjs", 3);
  // A folder that cannot be made (a file is in the way), whoever runs the test (root ignores modes).
  const blocked = join(root, "not-a-folder");
  writeFileSync(blocked, "");
  const unwritable = await runScript(script, join(blocked, "code-cache"), /code cache: not written/);
  assertRan(unwritable, 3, script);
  const noHome = await runScript(script, "-");
  assertRan(noHome, 3, script);
  // Without NODE_DEBUG, nothing about the cache on stderr.
  assert.doesNotMatch(noHome.stderr, /code cache/);
});

test("each script gets its own cache file, and only the newest four are kept", async () => {
  const cacheDir = join(root, "state-versions", "code-cache");
  const written: string[] = [];
  for (let version = 1; version <= 6; version++) {
    // Same file name, new contents: a new build of the bundle.
    const script = writeScript("versions.cjs", version);
    const run = await runScript(script, cacheDir, /code cache: wrote/);
    assertRan(run, version, script);
    written.push(/code cache: wrote (\S+)/.exec(run.stderr)?.[1] ?? "");
  }
  assert.equal(new Set(written).size, 6, "one file per version");
  assert.deepEqual(
    cacheFiles(cacheDir).sort(),
    written
      .slice(-4)
      .map((path) => path.split("/").at(-1))
      .sort(),
  );
});

test("with the build's hash of the script, a script changed since gets its own cache", async () => {
  const cacheDir = join(root, "state-hashed", "code-cache");
  // The build's hash stays the same while the file is edited in place to the same length: V8 itself would
  // take the old cache for it (it checks only the length) and run the old code.
  const env = { CODE_CACHE_SOURCE_HASH: "0".repeat(64) };
  const script = writeScript("hashed.cjs", 1);
  const first = await runScript(script, cacheDir, /code cache: wrote/, env);
  assertRan(first, 1, script);
  assert.equal(
    readFileSync(script, "utf8").length,
    readFileSync(writeScript("hashed.cjs", 2), "utf8").length,
  );
  utimesSync(script, new Date(), new Date(Date.now() + 60_000));
  const edited = await runScript(script, cacheDir, /code cache: wrote/, env);
  assertRan(edited, 2, script);
  assert.match(edited.stderr, /code cache: none at /);
  assert.equal(cacheFiles(cacheDir).length, 2);
});
