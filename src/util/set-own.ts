/**
 * `target[key] = value` for keys that come from data (a plist's, a decoded archive's, a result's): a key named
 * "__proto__" becomes an own property holding the value, as any other key would, instead of changing the
 * object's prototype.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
