// What a message's blobs (attributedBody, message_summary_info) decode to, kept for the messages a process
// reads again. An assistant reads the same newest messages over and over (checking for a reply, a page
// after an answer), and decoding is a large part of what such a read costs in a new server, which runs its
// decoders unoptimised for its first hundred or so calls: one page's 50 bodies and one edit history took
// about 1.5 ms of CPU there (sampled at 1M), a third of the call.
//
// A result is keyed by the message's ROWID but only ever used for the same bytes: the blob it came from is
// kept and compared (a native memcmp), so an edit, an unsend or a reused ROWID decodes afresh. Every page
// that reads the message shares the value: the types it becomes (Mention, EditInfo, Translation in types.ts)
// are read-only. They are not frozen at run time: Object.freeze on each decoded part cost a page read for
// the first time about 10% more instructions (callgrind), which is what a cache must not make slower.

/** Messages whose decoded blobs are kept (least recently read dropped first): twenty pages of 50. */
export const DECODED_BLOBS_KEPT = 1024;
/**
 * And at most this many bytes of blobs (a decoded value is about as large as its blob): a typical body is a few
 * hundred bytes, so the count bounds the cache, but a conversation of long pasted texts must not make it tens of
 * megabytes. A blob above DECODED_BLOB_MAX_BYTES is decoded at each read and not kept.
 */
export const DECODED_BLOBS_MAX_BYTES = 2 * 1024 * 1024;
export const DECODED_BLOB_MAX_BYTES = 16 * 1024;

interface Entry<T> {
  blob: Buffer;
  variant: boolean;
  value: T;
}

/** Results of one pure decoder of a blob, per message; the least recently read are dropped past the bounds. */
export class DecodedBlobs<T> {
  private readonly entries = new Map<number, Entry<T>>();
  private bytes = 0;

  constructor(
    private readonly decode: (blob: Buffer, variant: boolean) => T,
    private readonly bounds = {
      count: DECODED_BLOBS_KEPT,
      bytes: DECODED_BLOBS_MAX_BYTES,
      blobBytes: DECODED_BLOB_MAX_BYTES,
    },
  ) {}

  /**
   * `decode(blob, variant)`, from an earlier call for this message when its blob and variant are the same.
   * Anything that is not a Buffer (NULL, or another type in a damaged database) is decoded each time.
   */
  get(rowid: number, blob: unknown, variant: boolean): T {
    if (!Buffer.isBuffer(blob)) return this.decode(blob as Buffer, variant);
    const kept = this.entries.get(rowid);
    if (kept !== undefined) {
      this.entries.delete(rowid);
      if (kept.variant === variant && kept.blob.equals(blob)) {
        this.entries.set(rowid, kept);
        return kept.value;
      }
      this.bytes -= kept.blob.length;
    }
    const value = this.decode(blob, variant);
    if (blob.length > this.bounds.blobBytes) return value;
    this.entries.set(rowid, { blob, variant, value });
    this.bytes += blob.length;
    while (this.entries.size > this.bounds.count || this.bytes > this.bounds.bytes) {
      const [oldest, entry] = this.entries.entries().next().value as [number, Entry<T>];
      this.entries.delete(oldest);
      this.bytes -= entry.blob.length;
    }
    return value;
  }

  /** Messages kept, and the bytes of their blobs. */
  get size(): { count: number; bytes: number } {
    return { count: this.entries.size, bytes: this.bytes };
  }
}
