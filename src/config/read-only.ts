// Read-only mode from the environment as well as from --read-only, because hosts that can only set
// environment variables (the Claude Desktop bundle's "Read-only" switch, launchd plists) need a way in.
// Commander's own Option.env() cannot be used: for a boolean flag it treats READ_ONLY=false as "on".
import { ConfigError } from "./paths.js";

export const READ_ONLY_ENV = "MAC_MESSAGES_READ_ONLY";

const ON = new Set(["1", "true", "yes", "on"]);
const OFF = new Set(["", "0", "false", "no", "off"]);

/** --read-only wins; otherwise MAC_MESSAGES_READ_ONLY (true/false, 1/0, yes/no, on/off; unset or empty = off). */
export function resolveReadOnly(flag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (flag === true) return true;
  const raw = env[READ_ONLY_ENV];
  if (raw === undefined) return false;
  const value = raw.trim().toLowerCase();
  if (ON.has(value)) return true;
  if (OFF.has(value)) return false;
  throw new ConfigError(`${READ_ONLY_ENV} must be true or false (or 1/0, yes/no), got "${raw}".`);
}
