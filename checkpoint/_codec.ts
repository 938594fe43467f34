// The on-disk form of a checkpoint: one header line with the format, the
// payload's byte length and its SHA-256, then the payload as JSON. The length
// catches truncation cheaply and the hash any other corruption, so a damaged
// file is recognized and never loaded. JSON has no Infinity or NaN (bounds
// are often infinite), so non-finite numbers are written as tagged strings.

const MAGIC = "NLSQ-CHECKPOINT";
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/** Hex SHA-256 of bytes. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

function replacer(_key: string, v: unknown): unknown {
  if (typeof v === "number" && !Number.isFinite(v)) return `#num:${v}`;
  return v;
}

function reviver(_key: string, v: unknown): unknown {
  if (typeof v === "string" && v.startsWith("#num:")) return Number(v.slice(5));
  return v;
}

/** Serializes a payload with its header. */
export async function encodeCheckpoint(
  payload: unknown,
  version: number,
): Promise<Uint8Array> {
  const body = enc.encode(JSON.stringify(payload, replacer, 1));
  const header = enc.encode(
    `${MAGIC} ${version} bytes=${body.length} sha256=${await sha256Hex(
      body,
    )}\n`,
  );
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/** Parses and verifies a file; throws an Error saying what is wrong. */
export async function decodeCheckpoint(
  bytes: Uint8Array,
  version: number,
): Promise<unknown> {
  const nl = bytes.indexOf(10);
  if (nl < 0) throw new Error("no header line (empty or truncated file)");
  let header: string;
  try {
    header = dec.decode(bytes.subarray(0, nl));
  } catch {
    throw new Error("the header is not text");
  }
  const m = /^NLSQ-CHECKPOINT (\d+) bytes=(\d+) sha256=([0-9a-f]{64})$/.exec(
    header,
  );
  if (!m) throw new Error("not a checkpoint file (bad header)");
  if (Number(m[1]) !== version) {
    throw new Error(`format version ${m[1]}, expected ${version}`);
  }
  const body = bytes.subarray(nl + 1);
  if (body.length !== Number(m[2])) {
    throw new Error(
      `truncated or extended: ${body.length} payload bytes, header says ${
        m[2]
      }`,
    );
  }
  if (await sha256Hex(body) !== m[3]) {
    throw new Error("checksum mismatch (the payload is corrupt)");
  }
  return JSON.parse(dec.decode(body), reviver);
}
