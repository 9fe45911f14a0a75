// How the process-wide memos of pure functions stay bounded (time-zone offsets, date texts, handle keys): past
// `max` entries a memo starts over. Simpler than least-recently-used, and enough where any entry is as good to
// forget as another (a miss only computes the value again).

/** Sets `key` to `value` in `map`, emptying it first when it already holds `max` entries; returns `value`. */
export function setWithin<K, V>(map: Map<K, V>, max: number, key: K, value: V): V {
  if (map.size >= max) map.clear();
  map.set(key, value);
  return value;
}
