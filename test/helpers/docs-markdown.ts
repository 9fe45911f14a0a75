// Reading README.md and docs/*.md the way the docs tests execute them: which files are the docs, their fenced
// blocks, and the shell commands they show (in sh/bash blocks, or as `inline code` in tables and prose).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./packed-package.js";

/** README.md and every docs/*.md, relative to the checkout. */
export const DOC_FILES: readonly string[] = [
  "README.md",
  ...readdirSync(join(REPO_ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => join("docs", name)),
];

export function readDoc(file: string): string {
  return readFileSync(join(REPO_ROOT, file), "utf8");
}

export interface FencedBlock {
  /** The info string after the opening fence (`sh`, `json`, …). */
  lang: string;
  body: string;
  start: number;
  end: number;
}

/** Fenced blocks of one markdown text, in order, with their info string. */
export function fencedBlocks(text: string): FencedBlock[] {
  return [...text.matchAll(/^```([^\n`]*)\n([\s\S]*?)^```$/gm)].map((match) => ({
    lang: (match[1] ?? "").trim(),
    body: match[2] ?? "",
    start: match.index ?? 0,
    end: (match.index ?? 0) + match[0].length,
  }));
}

/** Each line of the sh/bash blocks, without its trailing `# comment`, blank lines dropped. */
export function shellBlockLines(text: string): string[] {
  return fencedBlocks(text)
    .filter((block) => block.lang === "sh" || block.lang === "bash")
    .flatMap((block) => block.body.split("\n"))
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

/** Every `inline code` span outside fenced blocks (table cells, prose). */
export function inlineCode(text: string): string[] {
  const prose = text.replace(/^```[\s\S]*?^```$/gm, "");
  return [...prose.matchAll(/`([^`\n]+)`/g)].map((match) => (match[1] ?? "").trim());
}

/** The commands starting with `command ` that a document shows, in blocks or inline, each once, in order. */
export function commandsIn(text: string, command: string): string[] {
  const found = [...shellBlockLines(text), ...inlineCode(text)].filter((line) =>
    line.startsWith(`${command} `),
  );
  return [...new Set(found)];
}
