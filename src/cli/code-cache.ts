// Runs the built CLI (one CommonJS script, scripts/build-cli.mjs) through V8's code cache, so that a start
// after the first deserialises the compiled program instead of parsing and compiling ~1 MB of JavaScript:
// most of what start-up costs beyond Node's own (docs/performance.md, "Start-up"). Node 20 has no compile
// cache for ES modules, and on Node 22 this one starts quicker than its module compile cache does (489M
// against 742M instructions to tools/list; that cache is made as a module is compiled, before it runs).
//
// Hand-written rather than the npm package v8-compile-cache (2.4.0): that one is a require() hook for every
// CommonJS module loaded, and this program is one script; and an import() in a script it compiles from its
// cache fails on Node 20 (see WRAPPER), while ours loads pdf.js, HEIC and sharp that way.
//
// The cache is one file per bundle content, Node version and set of flags (V8 refuses a cache made under
// other flags or another V8, and checks nothing but the source's length otherwise), beside the program's
// other state. Written after the program has run a while, so it also holds the functions that answering the
// first requests compiled, and never before the first answer; and once more a while after the first tool call
// a process answers, if its cache did not hold one yet: the functions a call compiles lazily (pages, contacts,
// libphonenumber-js, rendering) are then deserialised with the rest instead of compiled by the next start's
// first call (docs/performance.md, "Start-up"). A missing, unreadable or unwritable cache only means a slower
// start; nothing here may stop the program from running.
import { createHash } from "node:crypto";
import {
  closeSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  type Stats,
  statSync,
  unlinkSync,
} from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { debuglog } from "node:util";
import vm from "node:vm";
import { writeFileAtomic } from "../util/secure-file.js";

/** `NODE_DEBUG=mac-messages-mcp` prints what the cache did (used, rejected, written) on stderr. */
const debug = debuglog("mac-messages-mcp");

/**
 * How long after the program started the cache is written (by a process still running then), and after the
 * last tool call answered once a first one has been (the answers are out by then, and no call came since).
 */
export const CODE_CACHE_WRITE_DELAY_MS = 2_000;
/** Cache files kept per bundle name (other Node versions and builds): the newest few. */
const KEPT_CACHE_FILES = 4;
const DIGEST_BYTES = 32;
/**
 * What a cache holds, in the byte after its digest: what starting and the first requests compiled, or that
 * and what a tool call compiled too. A start that used the first kind writes the second after its first call.
 */
const HOLDS_START_UP = 0;
const HOLDS_A_CALL = 1;
type Holds = typeof HOLDS_START_UP | typeof HOLDS_A_CALL;
const HOLDS_TEXT: Record<Holds, string> = {
  [HOLDS_START_UP]: "start-up only",
  [HOLDS_A_CALL]: "with a tool call",
};

/**
 * Node's own CommonJS wrapper, the script seeing the same five names as a module `require` loads, and a
 * sixth: `__importPackage`, an import() from this module, which the build puts in place of the script's
 * own import() of a package (scripts/build-cli.mjs, forTheScript). A script compiled from the code cache
 * on Node 20 loses the loader its own import() needs, whatever importModuleDynamically says.
 */
const WRAPPER = [
  "(function (exports, require, module, __filename, __dirname, __importPackage) { ",
  "\n});",
] as const;

/** The script's import() of a package: resolved from this file, which sits beside the script. */
const importPackage = (specifier: string): Promise<unknown> => import(specifier);

export interface CodeCacheOptions {
  /** The cache folder; may throw (no home folder), which only means no cache. */
  cacheDir: () => string;
  /**
   * The SHA-256 of the script as its build wrote it, which spares hashing ~1 MB at every start (1–2 ms);
   * the file's size and modification time then stand for it having been changed since. Without it, the
   * script's contents are hashed.
   */
  sourceHash?: string;
}

/**
 * The file a cache of `source` is kept in, named by the source and by what V8 checks a cache against (its
 * version and flags): the source's length is all V8 checks of the source itself.
 */
function codeCacheFile(file: string, source: string, options: CodeCacheOptions): string {
  const { size, mtimeMs } = options.sourceHash !== undefined ? statSync(file) : { size: 0, mtimeMs: 0 };
  const key = createHash("sha256")
    .update(
      JSON.stringify([
        options.sourceHash ?? createHash("sha256").update(source).digest("hex"),
        size,
        mtimeMs,
        process.version,
        process.arch,
        process.execArgv,
        process.env.NODE_OPTIONS ?? "",
      ]),
    )
    .digest("hex")
    .slice(0, 16);
  return join(options.cacheDir(), `${basename(file).replace(/\.[cm]?js$/, "")}-${key}.v8`);
}

/**
 * Whether only we can change this file or folder. A cache is code we run: one that another user could have
 * written (a state folder pointed at a shared place) is not read.
 */
function onlyOurs(info: Stats): boolean {
  return (info.mode & 0o022) === 0 && (typeof process.getuid !== "function" || info.uid === process.getuid());
}

/**
 * The cached data in `file` and what it holds, or undefined when there is none, it is not only ours, or it is
 * damaged. Each file starts with the SHA-256 of the rest (what it holds, then V8's data): V8 release builds do
 * not checksum a code cache, and a damaged one that passes its length check could run wrong code.
 */
function readCodeCache(file: string): { data: Buffer; holds: Holds } | undefined {
  let contents: Buffer;
  try {
    const fd = openSync(file, "r");
    try {
      if (!onlyOurs(fstatSync(fd)) || !onlyOurs(statSync(dirname(file)))) {
        debug("code cache: others could write it, ignored: %s", file);
        return undefined;
      }
      contents = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    debug("code cache: none at %s", file);
    return undefined;
  }
  const rest = contents.subarray(DIGEST_BYTES);
  const holds = rest[0];
  if (
    rest.length < 2 ||
    (holds !== HOLDS_START_UP && holds !== HOLDS_A_CALL) ||
    !createHash("sha256").update(rest).digest().equals(contents.subarray(0, DIGEST_BYTES))
  ) {
    debug("code cache: damaged, ignored: %s", file);
    return undefined;
  }
  return { data: rest.subarray(1), holds };
}

/** Writes the cache atomically, owner-only in an owner-only folder (writeFileAtomic); drops the oldest. */
function writeCodeCache(file: string, data: Buffer, holds: Holds): void {
  const rest = Buffer.concat([Buffer.of(holds), data]);
  writeFileAtomic(file, Buffer.concat([createHash("sha256").update(rest).digest(), rest]));
  const dir = dirname(file);
  const prefix = basename(file).replace(/-[0-9a-f]+\.v8$/, "-");
  const others = readdirSync(dir)
    .filter((name) => name.startsWith(prefix) && name.endsWith(".v8") && name !== basename(file))
    .map((name) => ({ path: join(dir, name), mtime: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of others.slice(KEPT_CACHE_FILES - 1)) unlinkSync(old.path);
  debug("code cache: wrote %s (%d bytes, %s)", file, data.length, HOLDS_TEXT[holds]);
}

export interface CodeCacheRun {
  /** The script's exports. */
  exports: unknown;
  /**
   * To be called whenever the program has answered a tool call: the first such answer of a process whose
   * cache did not hold a call yet has the cache written again a while later.
   */
  toolCallAnswered: () => void;
}

/**
 * Runs the CommonJS script `bundleFile` as Node's loader would and returns its exports, compiled from the
 * code cache in `options.cacheDir()` when there is a usable one there, and writing one otherwise. Throws
 * only what reading or running the script itself throws.
 */
export function runWithCodeCache(bundleFile: string, options: CodeCacheOptions): CodeCacheRun {
  const source = readFileSync(bundleFile, "utf8");
  let cacheFile: string | undefined;
  let cached: ReturnType<typeof readCodeCache>;
  try {
    cacheFile = codeCacheFile(bundleFile, source, options);
    cached = readCodeCache(cacheFile);
  } catch {
    // No cache folder (no home, say) is a slower start, whatever the reason.
  }
  const script = new vm.Script(WRAPPER[0] + source + WRAPPER[1], {
    filename: bundleFile,
    cachedData: cached?.data,
  });
  const usable = cached !== undefined && !script.cachedDataRejected;
  if (cached !== undefined) {
    debug("code cache: %s %s", usable ? `used (${HOLDS_TEXT[cached.holds]})` : "rejected by V8", cacheFile);
  }
  const writer =
    cacheFile !== undefined && !(usable && cached?.holds === HOLDS_A_CALL)
      ? new CodeCacheWriter(script, cacheFile, !usable)
      : undefined;
  const module = { exports: {} as unknown };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const require = createRequire(bundleFile);
  run.call(module.exports, module.exports, require, module, bundleFile, dirname(bundleFile), importPackage);
  return { exports: module.exports, toolCallAnswered: () => writer?.toolCallAnswered() };
}

/**
 * Writes the cache once the program has run a while (when there was no usable one): it then also holds the
 * functions that answering the first requests compiled. Only a process that lives that long writes one (a
 * server does; `--version` or `doctor` would leave a cache of their own few functions, which the server
 * would then use as it is). Then, once, a while after the first tool call answered, so that it holds what
 * that call compiled: V8's cache has every function compiled so far, and a call compiles the most (the
 * first chat page at 1M: 534M main-thread instructions without, 458M with; docs/performance.md). Each
 * further call answered before that write puts it off again, so that it lands after a burst of calls rather
 * than inside the next one (writing takes ~130M instructions on the main thread), and holds them all too. A
 * call answered before the first write makes that write the last. The timers do not keep the process alive.
 */
class CodeCacheWriter {
  readonly #script: vm.Script;
  readonly #file: string;
  #timer: NodeJS.Timeout | undefined;
  #callAnswered = false;
  #done = false;

  constructor(script: vm.Script, file: string, writeSoon: boolean) {
    this.#script = script;
    this.#file = file;
    if (writeSoon) this.#writeIn(CODE_CACHE_WRITE_DELAY_MS);
  }

  toolCallAnswered(): void {
    if (this.#done) return;
    if (!this.#callAnswered) debug("code cache: to be written again after this tool call");
    this.#callAnswered = true;
    this.#writeIn(CODE_CACHE_WRITE_DELAY_MS);
  }

  #writeIn(delay: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#write(), delay).unref();
  }

  #write(): void {
    const holds = this.#callAnswered ? HOLDS_A_CALL : HOLDS_START_UP;
    if (holds === HOLDS_A_CALL) this.#done = true;
    try {
      writeCodeCache(this.#file, this.#script.createCachedData(), holds);
    } catch (error) {
      debug("code cache: not written (%s)", (error as Error).message);
    }
  }
}
