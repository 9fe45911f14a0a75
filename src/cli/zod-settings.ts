// How zod runs in this process; program.ts imports this first, before the SDK builds its schemas.
//
// jitless: zod compiles a parser for each object schema with `new Function` the first time it parses one, and
// V8 runs freshly compiled code unoptimised. A server parses a few small objects per call (the request, its
// arguments, the answer's envelope, each more than once in the SDK), and for a server's first calls zod's plain
// parsers cost less than its compiled ones: a contact's newest 50 at 1M, calls 2-6 of a new server, 9.1M
// instructions per call with the compiled parsers, 8.5M without (callgrind); start-up is unchanged. A schema
// reads the setting when it is built, so this must run before any schema is.
import { z } from "zod";

z.config({ jitless: true });
