// Reads the real attributedBody fixtures and their manifest (../shared/fixtures/typedstream).
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FIXTURES_DIR } from "./fixtures.js";

export const TYPEDSTREAM_DIR = resolve(FIXTURES_DIR, "typedstream");
export const SUMMARY_INFO_DIR = resolve(FIXTURES_DIR, "message_summary_info");

export interface TypedStreamFixture {
  name: string;
  blob: Uint8Array;
  /** Expected text (the manifest's decoded_text_by_tools column), null where the blob is corrupt. */
  expectedText: string | null;
  utf16Length: number | null;
  runCount: number | null;
  rootClass: string;
}

function tsvRows(path: string): string[][] {
  const lines = readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.length > 0);
  return lines.slice(1).map((l) => l.split("\t"));
}

export function typedStreamFixtures(): TypedStreamFixture[] {
  return tsvRows(join(TYPEDSTREAM_DIR, "manifest.tsv")).map((c) => {
    const decoded = c[3] ?? "";
    return {
      name: c[0] ?? "",
      blob: new Uint8Array(readFileSync(join(TYPEDSTREAM_DIR, c[0] ?? ""))),
      expectedText: decoded.startsWith('"') ? (JSON.parse(decoded) as string) : null,
      utf16Length: c[7] ? Number(c[7]) : null,
      runCount: c[8] ? Number(c[8]) : null,
      rootClass: c[6] ?? "",
    };
  });
}

export interface SummaryInfoFixture {
  name: string;
  blob: Uint8Array;
  editedParts: number[];
  unsentParts: number[];
  /** Per history entry: part, UTC ISO date without milliseconds, text. */
  history: { part: number; date: string; text: string }[];
}

export function summaryInfoFixtures(): SummaryInfoFixture[] {
  return tsvRows(join(SUMMARY_INFO_DIR, "manifest.tsv")).map((c) => {
    const history = (c[5] ?? "")
      .split(" | ")
      .filter((e) => e.trim().length > 0)
      .map((entry) => {
        const m = /^\[(\d+)\] (\S+) (".*")$/.exec(entry.trim());
        if (!m) throw new Error(`unparsed manifest history entry: ${entry}`);
        return { part: Number(m[1]), date: m[2] ?? "", text: JSON.parse(m[3] ?? '""') as string };
      });
    return {
      name: c[0] ?? "",
      blob: new Uint8Array(readFileSync(join(SUMMARY_INFO_DIR, c[0] ?? ""))),
      editedParts: JSON.parse(c[3] ?? "[]") as number[],
      unsentParts: JSON.parse(c[4] ?? "[]") as number[],
      history,
    };
  });
}
