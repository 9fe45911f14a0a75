/**
 * An error whose message is meant for the person running the server: the CLI prints it as one line,
 * without a stack trace.
 */
export class RemoteSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RemoteSetupError";
  }
}
