// Decoding speed of attributedBody blobs: the real fixtures, and 100k encoded typical short messages.
// Run: npx tsx bench/decode.ts
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { attributedBodyText, decodeAttributedBody } from "../src/messages/typedstream.js";
import { encodeAttributedBody } from "../src/messages/typedstream-encode.js";
import { TYPEDSTREAM_DIR } from "../test/helpers/typedstream-fixtures.js";

const dir = TYPEDSTREAM_DIR;
const fixtures = readdirSync(dir)
  .filter((n) => n !== "manifest.tsv")
  .map((n) => new Uint8Array(readFileSync(join(dir, n))));

const words = [
  "ok",
  "see you at 8",
  "running late 😅",
  "Did you get the tickets?",
  "lol",
  "Love you ❤️",
  "on my way",
];
const typical = Array.from({ length: 100_000 }, (_, i) => {
  const text = `${words[i % words.length]} ${i}`;
  return encodeAttributedBody(text, { mutable: i % 3 !== 0 });
});

function rate(label: string, blobs: Uint8Array[], decode: (b: Uint8Array) => unknown, minMs = 1500): void {
  for (const b of blobs.slice(0, 2000)) decode(b); // warm up
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    for (const b of blobs) decode(b);
    count += blobs.length;
  }
  const perSecond = Math.round(count / ((performance.now() - start) / 1000));
  console.log(`${label.padEnd(44)} ${perSecond.toLocaleString("en-US").padStart(12)} blobs/s`);
}

rate("fixtures (34 real blobs), full decode", fixtures, decodeAttributedBody);
rate("fixtures (34 real blobs), text only", fixtures, attributedBodyText);
rate("100k typical messages, full decode", typical, decodeAttributedBody);
rate("100k typical messages, text only", typical, attributedBodyText);
