export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * One line per event on stderr (stdout may carry protocol traffic in other modes).
 * Callers pass only paths, ids and counts: never tokens, codes, passwords or message text.
 */
export function createLogger(level: LogLevel = "info", write: (line: string) => void = defaultWrite): Logger {
  const emit = (at: LogLevel, message: string) => {
    if (ORDER[at] >= ORDER[level])
      write(`${new Date().toISOString()} ${at.toUpperCase()} ${oneLine(message)}`);
  };
  return {
    debug: (m) => emit("debug", m),
    info: (m) => emit("info", m),
    warn: (m) => emit("warn", m),
    error: (m) => emit("error", m),
  };
}

/**
 * Log entries may quote what a remote party chose (a client name, a path): control characters are escaped
 * so such text can never start a line of its own that looks like the server's ("owner approved ...").
 */
function oneLine(message: string): string {
  return message.replace(
    /[\p{Cc}\u2028\u2029]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function defaultWrite(line: string): void {
  process.stderr.write(`${line}\n`);
}
