// Bounds shared by every decoder of chat.db blobs (attributedBody typedstreams, message_summary_info binary
// and XML plists). chat.db content arrives from other people's devices, so a blob is hostile input: an
// outside probe hung the server for 25 s (2.6 GB) with a 147-byte plist whose objects share references, so
// that expanding them doubled the work per nesting level. Each decode therefore runs with a size cap on its
// input, a depth cap, a work budget counted in expanded values (so shared references cost what expanding
// them costs), and a wall-clock deadline as the last line of defence. Hitting a bound is an ordinary
// decode failure (the message shows as undecodable), never an exception out of the store.

export interface DecodeLimits {
  /** Largest blob decoded at all. Real attributedBody/summary blobs are a few KB; a 20 000-character message ~60 KB. */
  maxBytes: number;
  /** Deepest nesting of objects/containers. Real data nests fewer than 10 levels. */
  maxDepth: number;
  /** Most values produced, counting each use of a shared reference as a copy. */
  maxValues: number;
  /** Wall-clock time one decode may take before it gives up. */
  maxMillis: number;
  /** Clock for the deadline (tests pass a fake one). */
  now?: () => number;
}

export const DEFAULT_DECODE_LIMITS: Readonly<Required<Omit<DecodeLimits, "now">>> = Object.freeze({
  maxBytes: 4 * 1024 * 1024,
  maxDepth: 64,
  maxValues: 1_000_000,
  maxMillis: 2000,
});

/** A decode went past one of its bounds; the message says which, for logs. */
export class DecodeLimitError extends Error {
  override readonly name = "DecodeLimitError";
}

function monotonicNow(): number {
  return performance.now();
}

/** How many budget steps pass between two looks at the clock (reading it costs more than a step). */
const CLOCK_EVERY = 1024;

/**
 * The running budget of one decode: values left and a deadline. `spend` is called for every value
 * produced; it throws DecodeLimitError when either runs out.
 */
export class DecodeBudget {
  readonly limits: Readonly<Required<Omit<DecodeLimits, "now">>>;
  #left: number;
  #untilClock = CLOCK_EVERY;
  readonly #now: () => number;
  readonly #deadline: number;

  constructor(limits: Partial<DecodeLimits> = {}) {
    // One budget per blob decoded (hundreds of thousands while indexing): the defaults are shared.
    this.limits =
      limits.maxBytes === undefined &&
      limits.maxDepth === undefined &&
      limits.maxValues === undefined &&
      limits.maxMillis === undefined
        ? DEFAULT_DECODE_LIMITS
        : {
            maxBytes: limits.maxBytes ?? DEFAULT_DECODE_LIMITS.maxBytes,
            maxDepth: limits.maxDepth ?? DEFAULT_DECODE_LIMITS.maxDepth,
            maxValues: limits.maxValues ?? DEFAULT_DECODE_LIMITS.maxValues,
            maxMillis: limits.maxMillis ?? DEFAULT_DECODE_LIMITS.maxMillis,
          };
    this.#left = this.limits.maxValues;
    this.#now = limits.now ?? monotonicNow;
    this.#deadline = this.#now() + this.limits.maxMillis;
  }

  /** Takes `n` values from the budget (and looks at the clock now and then). */
  spend(n = 1): void {
    this.#left -= n;
    if (this.#left < 0) throw new DecodeLimitError(`it holds more than ${this.limits.maxValues} values`);
    this.#untilClock -= n;
    if (this.#untilClock <= 0) {
      this.#untilClock = CLOCK_EVERY;
      this.checkClock();
    }
  }

  /** Throws when the deadline has passed. */
  checkClock(): void {
    if (this.#now() > this.#deadline) {
      throw new DecodeLimitError(`decoding took longer than ${this.limits.maxMillis} ms`);
    }
  }

  checkSize(bytes: number): void {
    if (bytes > this.limits.maxBytes) {
      throw new DecodeLimitError(`it is ${bytes} bytes, more than the ${this.limits.maxBytes} decoded`);
    }
  }

  checkDepth(depth: number): void {
    if (depth > this.limits.maxDepth) {
      throw new DecodeLimitError(`it is nested more than ${this.limits.maxDepth} levels deep`);
    }
  }
}
