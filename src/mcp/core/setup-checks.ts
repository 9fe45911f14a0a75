// The set-up checks behind check_setup and `mac-messages-mcp doctor`.
import { FULL_DISK_ACCESS_FIX } from "../../util/macos-permissions.js";
import type { ServerDeps } from "./server-deps.js";
import { describeError } from "./tool-result.js";

export type CheckStatus = "ok" | "fail" | "skipped" | "info";

export interface SetupCheck {
  id: "messages_db" | "contacts" | "messages_app" | "node" | "data_source";
  title: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a failure, in plain steps; null when nothing needs doing. */
  fix: string | null;
}

export interface SetupReport {
  ok: boolean;
  checks: SetupCheck[];
}

export { FULL_DISK_ACCESS_FIX } from "../../util/macos-permissions.js";
export const AUTOMATION_FIX =
  "Open Messages and sign in to iMessage. Then System Settings → Privacy & Security → Automation → under the app " +
  "that runs this server (terminal, Claude, node) switch on Messages. macOS asks the first time a message is sent.";
export const NOT_A_MAC_FIX =
  "Sending only works on the Mac that runs Messages: run the server there, or pass --read-only here to hide sending.";
export const MIN_NODE: readonly [number, number] = [20, 10];

export function nodeVersionOk(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

function messagesDbCheck(deps: ServerDeps): SetupCheck {
  const title = "Messages database (chat.db)";
  try {
    const newest = deps.messages.maxRowid();
    return {
      id: "messages_db",
      title,
      status: "ok",
      detail: `Readable: ${deps.messages.path} (newest message id ${newest}).`,
      fix: null,
    };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const fix =
      code === "permission_denied" || code === "unreadable"
        ? FULL_DISK_ACCESS_FIX
        : code === "not_found"
          ? "Run on the Mac that has Messages signed in, pass --db with the path of a chat.db copy, or use --demo."
          : code === "not_messages_db"
            ? "Point --db (or MAC_MESSAGES_DB) at ~/Library/Messages/chat.db or a copy of it."
            : null;
    return { id: "messages_db", title, status: "fail", detail: describeError(error), fix };
  }
}

function contactsCheck(deps: ServerDeps): SetupCheck {
  const title = "Contacts";
  const status = deps.contacts.status();
  if (status.ok) return { id: "contacts", title, status: "ok", detail: status.message, fix: null };
  const permission = /permission/i.test(status.message);
  return {
    id: "contacts",
    title,
    status: "fail",
    detail: status.message,
    fix: permission
      ? FULL_DISK_ACCESS_FIX
      : "Names will show as phone numbers and emails. Open Contacts once on this Mac, or pass --contacts-dir with the AddressBook folder.",
  };
}

async function messagesAppCheck(deps: ServerDeps): Promise<SetupCheck> {
  const title = "Messages app (sending)";
  if (deps.sender === null) {
    return {
      id: "messages_app",
      title,
      status: "skipped",
      detail: "Read-only mode: sending is switched off.",
      fix: null,
    };
  }
  const probe = await deps.sender.probe();
  return probe.ok
    ? { id: "messages_app", title, status: "ok", detail: probe.message, fix: null }
    : {
        id: "messages_app",
        title,
        status: "fail",
        detail: probe.message,
        // probe() reports only words; "osascript … not found" means this is not a Mac at all.
        fix: /osascript program was not found/.test(probe.message) ? NOT_A_MAC_FIX : AUTOMATION_FIX,
      };
}

function nodeCheck(): SetupCheck {
  const version = process.versions.node;
  const ok = nodeVersionOk(version);
  return {
    id: "node",
    title: "Node.js",
    status: ok ? "ok" : "fail",
    detail: `Node ${version}${ok ? "" : `; ${MIN_NODE.join(".")} or newer is needed`}.`,
    fix: ok ? null : "Install a current Node.js LTS (https://nodejs.org or `brew install node`).",
  };
}

/** Runs every check; never throws (a broken check is reported as a failed check). */
export async function runSetupChecks(deps: ServerDeps): Promise<SetupReport> {
  const checks: SetupCheck[] = [];
  if (deps.demo) {
    checks.push({
      id: "data_source",
      title: "Data source",
      status: "info",
      detail: "Serving the built-in demo data, not your messages.",
      fix: null,
    });
  }
  checks.push(messagesDbCheck(deps), contactsCheck(deps));
  try {
    checks.push(await messagesAppCheck(deps));
  } catch (error) {
    checks.push({
      id: "messages_app",
      title: "Messages app (sending)",
      status: "fail",
      detail: describeError(error),
      fix: AUTOMATION_FIX,
    });
  }
  checks.push(nodeCheck());
  return { ok: checks.every((c) => c.status !== "fail"), checks };
}

const MARK: Record<CheckStatus, string> = { ok: "✓", fail: "✗", skipped: "–", info: "i" };

/** The report for a person: one line per check, each failure followed by its fix. */
export function formatSetupReport(report: SetupReport): string {
  const lines: string[] = [];
  for (const check of report.checks) {
    lines.push(`${MARK[check.status]} ${check.title}: ${check.detail}`);
    if (check.status === "fail" && check.fix) lines.push(`    Fix: ${check.fix}`);
  }
  lines.push(report.ok ? "All checks passed." : "Some checks failed; see the fixes above.");
  return lines.join("\n");
}
