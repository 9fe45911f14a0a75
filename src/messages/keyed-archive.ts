// NSKeyedArchiver archives: a binary plist whose `$objects` table holds every object once and refers to
// others by UID. Messages nests them inside other plists (macOS 26 translations in message_summary_info).
// Hand-written because no npm package reads them; it maps only the Foundation classes Messages uses there
// (dictionaries, arrays, strings, attributed strings, numbers) and is bounded against hostile input.
import { bplistCreator, parseBinaryPlist } from "./binary-plist.js";
import type { DecodeBudget } from "./decode-limits.js";

/** Deeper nesting than this is not something Messages writes; stops reference loops and stack exhaustion. */
const MAX_DEPTH = 32;
/** Objects visited per archive, at most: bounds the work a crafted archive can cause through shared refs. */
const MAX_VISITS = 10_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function uidOf(v: unknown): number | null {
  if (isRecord(v) && Object.keys(v).length === 1 && typeof v.UID === "number") return v.UID;
  return null;
}

/**
 * The root object of an NSKeyedArchiver archive as plain JS: NSDictionary → object (keys as strings),
 * NSArray/NSSet → array, NS(Mutable)String → string, NS(Mutable)AttributedString → its string.
 * null when the bytes are not such an archive. Never throws.
 */
export function unarchive(bytes: Uint8Array, budget?: DecodeBudget): unknown {
  let root: unknown;
  try {
    const buffer = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buffer.subarray(0, 6).toString("latin1") !== "bplist") return null;
    // The shape check bounds what bplist-parser expands; the budget is shared with the enclosing plist.
    root = parseBinaryPlist(buffer, budget);
  } catch {
    return null;
  }
  if (!isRecord(root) || root.$archiver !== "NSKeyedArchiver" || !Array.isArray(root.$objects)) return null;
  const objects = root.$objects as unknown[];
  const top = isRecord(root.$top) ? uidOf(root.$top.root) : null;
  if (top === null) return null;
  let visits = 0;
  const resolve = (value: unknown, depth: number): unknown => {
    if (++visits > MAX_VISITS || depth > MAX_DEPTH) return null;
    const uid = uidOf(value);
    if (uid !== null) {
      const target = objects[uid];
      return target === "$null" ? null : resolve(target, depth + 1);
    }
    if (!isRecord(value)) return value;
    const classInfo = objects[uidOf(value.$class) ?? -1];
    const className =
      isRecord(classInfo) && typeof classInfo.$classname === "string" ? classInfo.$classname : "";
    if (Array.isArray(value["NS.keys"]) && Array.isArray(value["NS.objects"])) {
      const result: Record<string, unknown> = Object.create(null);
      const keys = value["NS.keys"] as unknown[];
      const values = value["NS.objects"] as unknown[];
      keys.forEach((key, i) => {
        result[String(resolve(key, depth + 1))] = resolve(values[i], depth + 1);
      });
      return result;
    }
    if (Array.isArray(value["NS.objects"])) {
      return (value["NS.objects"] as unknown[]).map((v) => resolve(v, depth + 1));
    }
    if ("NSString" in value) return resolve(value.NSString, depth + 1);
    if (typeof value["NS.string"] === "string") return value["NS.string"];
    if (className === "NSMutableString" || className === "NSString") return String(value["NS.string"] ?? "");
    return null;
  };
  return resolve(objects[top], 0);
}

/**
 * Writes a keyed archive of the shape Messages uses for translations (for demo data and tests):
 * NSDictionary { part index → NSArray [ NSDictionary { key → string | attributed string } ] }.
 * Values marked `attributed: true` are stored as NSAttributedString, others as NSString.
 */
export function archivePartEntries(
  entries: Record<number, Record<string, { value: string; attributed?: boolean }>>,
): Buffer {
  const objects: unknown[] = ["$null"];
  const add = (object: unknown) => {
    objects.push(object);
    return { UID: objects.length - 1 };
  };
  const classes = new Map<string, { UID: number }>();
  const classRef = (name: string) => {
    let ref = classes.get(name);
    if (!ref) {
      ref = add({ $classname: name, $classes: [name, "NSObject"] });
      classes.set(name, ref);
    }
    return ref;
  };
  const rootRef = add(null);
  const rootKeys: { UID: number }[] = [];
  const rootValues: { UID: number }[] = [];
  for (const [part, fields] of Object.entries(entries)) {
    rootKeys.push(add(Number(part)));
    const arrayRef = add(null);
    const dictRef = add(null);
    const keys: { UID: number }[] = [];
    const values: { UID: number }[] = [];
    for (const [key, field] of Object.entries(fields)) {
      keys.push(add(key));
      if (field.attributed) {
        const attributes = add({ "NS.keys": [], "NS.objects": [], $class: classRef("NSDictionary") });
        values.push(
          add({
            NSString: add(field.value),
            NSAttributes: attributes,
            $class: classRef("NSAttributedString"),
          }),
        );
      } else {
        values.push(add(field.value));
      }
    }
    objects[dictRef.UID] = { "NS.keys": keys, "NS.objects": values, $class: classRef("NSDictionary") };
    objects[arrayRef.UID] = { "NS.objects": [dictRef], $class: classRef("NSArray") };
    rootValues.push(arrayRef);
  }
  objects[rootRef.UID] = { "NS.keys": rootKeys, "NS.objects": rootValues, $class: classRef("NSDictionary") };
  return bplistCreator()({
    $version: 100000,
    $archiver: "NSKeyedArchiver",
    $top: { root: rootRef },
    $objects: objects,
  });
}
