// Minimal XML property-list reader. Messages writes message_summary_info as a binary plist (read with
// bplist-parser), but copies of that data converted by `plutil -convert xml1` exist (one real fixture is one);
// the XML subset plists use is tiny, so a small reader here avoids another dependency just for that case.
// Bounds: input size, nesting depth, values and time come from DecodeLimits; every pattern below matches in
// time linear in what it scans (no nested or adjacent quantifiers that could backtrack on hostile input).
import { setOwn } from "../util/set-own.js";
import { DecodeBudget, type DecodeLimits } from "./decode-limits.js";

// A tag is `<name`, anything but angle brackets, `>`; a `/` just before the `>` makes it empty (`<true/>`).
const TOKEN =
  /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<(\/?)([A-Za-z]+)((?:\s[^<>]*)?)(\/?)>|([^<]+)/gy;

type Token = { kind: "open" | "close" | "empty"; name: string } | { kind: "text"; text: string };

function tokenize(xml: string, budget: DecodeBudget): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < xml.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(xml);
    if (!m) throw new Error(`XML plist: unexpected markup at offset ${at}`);
    budget.spend();
    if (m[2] !== undefined) {
      const empty = m[4] === "/" || (m[3] ?? "").trimEnd().endsWith("/");
      tokens.push({ kind: m[1] ? "close" : empty ? "empty" : "open", name: m[2] });
    } else if (m[5] !== undefined && m[5].trim() !== "") tokens.push({ kind: "text", text: m[5] });
  }
  return tokens;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#[0-9]+);/g, (_, e: string) => {
    if (e === "lt") return "<";
    if (e === "gt") return ">";
    if (e === "amp") return "&";
    if (e === "quot") return '"';
    if (e === "apos") return "'";
    return String.fromCodePoint(e[1] === "x" ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });
}

/**
 * Parses an XML plist into plain JS (dict → object, data → Uint8Array, date → Date). Throws on malformed
 * input, and with DecodeLimitError past the limits (or a budget shared with a larger decode).
 */
export function parseXmlPlist(xml: string, bounds: Partial<DecodeLimits> | DecodeBudget = {}): unknown {
  const budget = bounds instanceof DecodeBudget ? bounds : new DecodeBudget(bounds);
  budget.checkSize(xml.length);
  const tokens = tokenize(xml, budget);
  let i = 0;
  const next = (): Token => {
    const t = tokens[i++];
    if (!t) throw new Error("XML plist: ends early");
    return t;
  };
  const textUntilClose = (name: string): string => {
    let t = next();
    let text = "";
    if (t.kind === "text") {
      text = unescapeXml(t.text);
      t = next();
    }
    if (t.kind !== "close" || t.name !== name) throw new Error(`XML plist: <${name}> is not closed`);
    return text;
  };
  const value = (t: Token, depth: number): unknown => {
    budget.checkDepth(depth);
    budget.spend();
    if (t.kind === "empty") {
      if (t.name === "true") return true;
      if (t.name === "false") return false;
      if (t.name === "dict") return {};
      if (t.name === "array") return [];
      if (t.name === "string") return "";
      if (t.name === "data") return new Uint8Array(0);
      throw new Error(`XML plist: unexpected <${t.name}/>`);
    }
    if (t.kind !== "open") throw new Error("XML plist: expected a value");
    switch (t.name) {
      case "dict": {
        const out: Record<string, unknown> = {};
        for (let k = next(); !(k.kind === "close" && k.name === "dict"); k = next()) {
          if (k.kind !== "open" || k.name !== "key") throw new Error("XML plist: expected <key> in <dict>");
          const key = textUntilClose("key");
          setOwn(out, key, value(next(), depth + 1));
        }
        return out;
      }
      case "array": {
        const out: unknown[] = [];
        for (let k = next(); !(k.kind === "close" && k.name === "array"); k = next())
          out.push(value(k, depth + 1));
        return out;
      }
      case "string":
        return textUntilClose("string");
      case "integer": {
        const n = Number(textUntilClose("integer").trim());
        if (!Number.isInteger(n)) throw new Error("XML plist: bad <integer>");
        return n;
      }
      case "real": {
        const n = Number(textUntilClose("real").trim());
        if (Number.isNaN(n)) throw new Error("XML plist: bad <real>");
        return n;
      }
      case "data":
        return new Uint8Array(Buffer.from(textUntilClose("data").replace(/\s+/g, ""), "base64"));
      case "date": {
        const d = new Date(textUntilClose("date").trim());
        if (Number.isNaN(d.getTime())) throw new Error("XML plist: bad <date>");
        return d;
      }
      default:
        throw new Error(`XML plist: unexpected <${t.name}>`);
    }
  };
  let first = next();
  const wrapped = first.kind === "open" && first.name === "plist";
  if (wrapped) first = next();
  const result = value(first, 0);
  if (wrapped) {
    const end = next();
    if (end.kind !== "close" || end.name !== "plist") throw new Error("XML plist: <plist> is not closed");
  }
  return result;
}
