/**
 * Where the commands write: stdout for results, stderr for messages. An
 * object so that commands can run in-process (tests, doc examples) and
 * capture their output.
 *
 * @module
 */

/** Output of a command. */
export interface CliIo {
  /** Writes to standard output (results: reports, JSON). */
  out(text: string): void;
  /** Writes to standard error (messages, warnings). */
  err(text: string): void;
  /** Whether stderr is a terminal (progress bars); default false. */
  isTerminal?(): boolean;
}

const encoder = new TextEncoder();

function writeAll(w: { writeSync(p: Uint8Array): number }, text: string) {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
}

/**
 * The process's stdout and stderr, written synchronously so that output is
 * complete before `Deno.exit`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * defaultIo.err("");
 * assert.strictEqual(typeof defaultIo.isTerminal?.(), "boolean");
 * ```
 */
export const defaultIo: CliIo = {
  out: (text) => writeAll(Deno.stdout, text),
  err: (text) => writeAll(Deno.stderr, text),
  isTerminal: () => {
    try {
      return Deno.stderr.isTerminal();
    } catch {
      return false;
    }
  },
};
