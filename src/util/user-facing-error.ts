// The one error type whose message was written for the person using the server. Every layer throws its own
// subclass (MessagesDbError, AppleScriptError, ConfigError, …), and the MCP layer decides what a client sees
// from one flag instead of a list of class names: a message that may be shown goes to the client as is,
// anything else becomes one generic line.

export class UserFacingError extends Error {
  /** Whether the message may be shown to the MCP client (and so to the model) as it is. */
  readonly showToClient: boolean;

  constructor(message: string, options: { showToClient?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.showToClient = options.showToClient ?? true;
  }
}
