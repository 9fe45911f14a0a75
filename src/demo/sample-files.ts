// Small but genuinely valid attachment files for the demo: PNG, JPEG, PDF (with extractable text), text
// and vCard. Written by hand because they are a few dozen bytes of well-known structure, and pulling in
// image/PDF libraries just to make sample files would be heavier than the formats themselves.
import { deflateSync } from "node:zlib";

export interface SampleFile {
  name: string;
  mimeType: string;
  uti: string;
  bytes: Buffer;
  /** A sticker (Memoji, sticker pack, or a photo turned into one). */
  isSticker?: boolean;
  /** What a sticker or Genmoji shows (`emoji_image_short_description`). */
  imageDescription?: string;
}

/**
 * A Core Audio Format file holding one second of silence (Linear PCM, 8 kHz mono 16-bit), the container
 * Messages records voice messages in.
 */
export function makeCaf(): Buffer {
  const header = Buffer.from("caff\x00\x01\x00\x00", "latin1");
  const desc = Buffer.alloc(12 + 32);
  desc.write("desc", 0, "latin1");
  desc.writeBigInt64BE(32n, 4);
  desc.writeDoubleBE(8000, 12); // sample rate
  desc.write("lpcm", 20, "latin1");
  desc.writeUInt32BE(2, 24); // flags: little-endian samples
  desc.writeUInt32BE(2, 28); // bytes per packet
  desc.writeUInt32BE(1, 32); // frames per packet
  desc.writeUInt32BE(1, 36); // channels
  desc.writeUInt32BE(16, 40); // bits per channel
  const samples = Buffer.alloc(8000 * 2);
  const data = Buffer.alloc(12 + 4);
  data.write("data", 0, "latin1");
  data.writeBigInt64BE(BigInt(4 + samples.length), 4);
  data.writeUInt32BE(0, 12); // edit count
  return Buffer.concat([header, desc, data, samples]);
}

// CRC-32 (IEEE) for PNG chunks. zlib.crc32 only exists from Node 22.2, and Node 20 must work too.
const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (crcTable[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/**
 * An 8-bit RGB PNG of a sunset-like gradient. `grain` (0–255) adds deterministic film grain, which does not
 * compress: a 2400×1800 image with grain 48 is a phone-photo-sized file of several megabytes.
 */
export function makePng(width = 48, height = 32, grain = 0): Buffer {
  let state = 0x2545f491;
  const noise = () => {
    if (grain === 0) return 0;
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return (state >>> 24) % grain;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour RGB
  // bytes 10–12: compression, filter, interlace all 0
  const rowBytes = 1 + width * 3;
  const raw = Buffer.alloc(rowBytes * height);
  for (let y = 0; y < height; y++) {
    raw[y * rowBytes] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const at = y * rowBytes + 1 + x * 3;
      const sky = y / (height - 1);
      raw[at] = Math.min(255, Math.round(250 - 90 * sky) + noise());
      raw[at + 1] = Math.min(255, Math.round(170 - 120 * sky + 20 * Math.sin(x / 5)) + noise());
      raw[at + 2] = Math.min(255, Math.round(90 + 110 * sky) + noise());
    }
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    pngChunk("IHDR", header),
    // Grain does not compress anyway: the fastest level keeps demo generation quick.
    pngChunk("IDAT", deflateSync(raw, { level: grain > 0 ? 1 : 6 })),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/**
 * A baseline JFIF JPEG, 8×8 mid-grey: one block whose DC difference and AC coefficients are all zero, with
 * one-symbol Huffman tables. Valid per ITU T.81 and decodable by browsers and libjpeg.
 */
export function makeJpeg(): Buffer {
  const segment = (marker: number, body: number[]): number[] => [
    0xff,
    marker,
    (body.length + 2) >> 8,
    (body.length + 2) & 0xff,
    ...body,
  ];
  const jfif = [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const quant = [0x00, ...new Array<number>(64).fill(1)];
  const frame = [8, 0, 8, 0, 8, 1, 1, 0x11, 0]; // 8-bit, 8×8, one component (Y), table 0
  const oneSymbolTable = (tableClassAndId: number) => [
    tableClassAndId,
    1,
    ...new Array<number>(15).fill(0),
    0x00,
  ];
  const scan = [1, 1, 0x00, 0, 63, 0];
  // Entropy-coded data: DC category 0 ("0"), end of block ("0"), padded with 1-bits.
  const entropy = [0x3f];
  return Buffer.from([
    0xff,
    0xd8,
    ...segment(0xe0, jfif),
    ...segment(0xdb, quant),
    ...segment(0xc0, frame),
    ...segment(0xc4, oneSymbolTable(0x00)),
    ...segment(0xc4, oneSymbolTable(0x10)),
    ...segment(0xda, scan),
    ...entropy,
    0xff,
    0xd9,
  ]);
}

function pdfString(text: string): string {
  return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

/**
 * A one-page PDF 1.4 with the lines in Helvetica, in an uncompressed content stream so any PDF text
 * extractor finds them. ASCII text only. The xref table carries exact byte offsets.
 */
export function makePdf(title: string, lines: string[]): Buffer {
  for (const line of [title, ...lines]) {
    if (!/^[\x20-\x7e]*$/.test(line)) throw new Error(`makePdf: only printable ASCII is supported: ${line}`);
  }
  const content = [
    "BT",
    "/F1 18 Tf",
    "72 720 Td",
    "22 TL",
    `${pdfString(title)} Tj`,
    "/F1 12 Tf",
    "16 TL",
    "T*",
    ...lines.map((line) => `T* ${pdfString(line)} Tj`),
    "ET",
  ].join("\n");
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    `<< /Length ${Buffer.byteLength(content, "latin1")} >>\nstream\n${content}\nendstream`,
    `<< /Title ${pdfString(title)} /Producer (mac-messages-mcp demo) >>`,
  ];
  let out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, "latin1"));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefOffset = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, "0")} 00000 n\r\n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info ${objects.length} 0 R >>\n`;
  out += `startxref\n${xrefOffset}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

export interface VCardInput {
  firstName: string;
  lastName: string;
  organization?: string;
  phone?: string;
  email?: string;
}

/** A vCard 3.0 as Messages shares contact cards. */
export function makeVCard(card: VCardInput): Buffer {
  const lines = [
    "BEGIN:VCARD",
    "VERSION:3.0",
    `N:${card.lastName};${card.firstName};;;`,
    `FN:${card.firstName} ${card.lastName}`,
    ...(card.organization ? [`ORG:${card.organization};`] : []),
    ...(card.phone ? [`TEL;type=CELL;type=VOICE;type=pref:${card.phone}`] : []),
    ...(card.email ? [`EMAIL;type=INTERNET;type=pref:${card.email}`] : []),
    "END:VCARD",
  ];
  return Buffer.from(`${lines.join("\r\n")}\r\n`, "utf8");
}

/** The demo's sample attachments, ready to be written under Messages/Attachments. */
export function demoSampleFiles(): {
  png: SampleFile;
  jpeg: SampleFile;
  pdf: SampleFile;
  txt: SampleFile;
  vcf: SampleFile;
  /** A phone-sized photo (several MB): what get_attachment has to scale down. */
  photo: SampleFile;
  audio: SampleFile;
  sticker: SampleFile;
  genmoji: SampleFile;
} {
  return {
    png: { name: "IMG_4821.png", mimeType: "image/png", uti: "public.png", bytes: makePng() },
    photo: { name: "IMG_5120.png", mimeType: "image/png", uti: "public.png", bytes: makePng(2016, 1512, 4) },
    audio: {
      name: "Audio Message.caf",
      mimeType: "audio/x-caf",
      uti: "com.apple.coreaudio-format",
      bytes: makeCaf(),
    },
    sticker: {
      name: "sticker-cactus.png",
      mimeType: "image/png",
      uti: "public.png",
      bytes: makePng(96, 96),
      isSticker: true,
      imageDescription: "cactus giving a thumbs up",
    },
    genmoji: {
      name: "genmoji-tent.png",
      mimeType: "image/png",
      uti: "public.png",
      bytes: makePng(64, 64),
      imageDescription: "tent under the stars",
    },
    jpeg: { name: "IMG_0917.jpeg", mimeType: "image/jpeg", uti: "public.jpeg", bytes: makeJpeg() },
    pdf: {
      name: "Cabin confirmation.pdf",
      mimeType: "application/pdf",
      uti: "com.adobe.pdf",
      bytes: makePdf("Pine Hollow Cabins - Booking Confirmation", [
        "Confirmation code: PHC-58214",
        "Guest: Weekend Crew (4 adults)",
        "Check-in: Friday 3:00 PM    Check-out: Sunday 11:00 AM",
        "Cabin 7, Lakeview Road. Wood stove, kayaks included.",
        "Total paid: $640.00",
      ]),
    },
    txt: {
      name: "packing-list.txt",
      mimeType: "text/plain",
      uti: "public.plain-text",
      bytes: Buffer.from(
        "Camping packing list\n- tent + footprint\n- sleeping bags\n- headlamps\n- camp stove and fuel\n- coffee!!\n- bug spray\n- rain jackets\n",
        "utf8",
      ),
    },
    vcf: {
      name: "Priya Raman.vcf",
      mimeType: "text/vcard",
      uti: "public.vcard",
      bytes: makeVCard({
        firstName: "Priya",
        lastName: "Raman",
        organization: "Lakeside Family Dentistry",
        phone: "+1 (555) 010-0190",
        email: "priya.raman@example.com",
      }),
    },
  };
}
