// `npm run demo:generate -- --out DIR [--messages N] [--seed S] [--macos26]`: writes a demo Messages
// database + Contacts into DIR. Progress and a summary go to stderr.
import { existsSync, readdirSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_DEMO_MESSAGES, DEFAULT_DEMO_SEED, generateDemo, MIN_DEMO_MESSAGES } from "./generate.js";

const USAGE = `Usage: npm run demo:generate -- --out DIR [--messages N] [--seed S] [--macos26]

  --out DIR       folder to create (must not exist or be empty)
  --messages N    number of messages (default ${DEFAULT_DEMO_MESSAGES}, at least ${MIN_DEMO_MESSAGES})
  --seed S        random seed; the same seed gives the same data (default ${DEFAULT_DEMO_SEED})
  --now ISO       the moment the data is fresh at (default: now)
  --macos26       use the macOS 26 (Tahoe) schema additions
`;

class UsageError extends Error {}

function wholeNumber(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const cleaned = value.replace(/_/g, "");
  if (!/^-?\d+$/.test(cleaned)) throw new UsageError(`--${name} must be a whole number (got "${value}")`);
  const n = Number(cleaned);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${name} must be at least ${min} (got ${value})`);
  return n;
}

export function main(argv: string[]): number {
  let parsed: ReturnType<typeof parse>;
  const parse = (args: string[]) =>
    parseArgs({
      args,
      options: {
        out: { type: "string" },
        messages: { type: "string" },
        seed: { type: "string" },
        now: { type: "string" },
        macos26: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  try {
    parsed = parse(argv);
    if (parsed.values.help) {
      process.stderr.write(USAGE);
      return 0;
    }
    const out = parsed.values.out;
    if (!out) throw new UsageError("--out DIR is required");
    if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) {
      throw new UsageError(`${out} already exists and is not an empty folder; choose a new --out`);
    }
    const messages = wholeNumber(
      "messages",
      parsed.values.messages,
      DEFAULT_DEMO_MESSAGES,
      MIN_DEMO_MESSAGES,
    );
    const seed = wholeNumber("seed", parsed.values.seed, DEFAULT_DEMO_SEED, -(2 ** 31));
    let now: Date | undefined;
    if (parsed.values.now !== undefined) {
      now = new Date(parsed.values.now);
      if (Number.isNaN(now.getTime()))
        throw new UsageError(`--now must be an ISO date (got "${parsed.values.now}")`);
    }

    const started = performance.now();
    const paths = generateDemo({
      dir: out,
      messages,
      seed,
      now,
      macos26: parsed.values.macos26,
      onProgress: (written, total) => {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        process.stderr.write(
          `  ${written.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} messages (${seconds} s)\n`,
        );
      },
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const megabytes = (statSync(paths.chatDb).size / 1_048_576).toFixed(1);
    process.stderr.write(
      `Wrote ${messages.toLocaleString("en-US")} messages in ${seconds} s\n` +
        `  chat.db:      ${paths.chatDb} (${megabytes} MiB)\n` +
        `  contacts:     ${paths.contactsRoot}\n` +
        `  attachments:  ${paths.attachmentsDir}\n`,
    );
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`demo:generate: ${message}\n`);
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`\n${USAGE}`);
      return 2;
    }
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
