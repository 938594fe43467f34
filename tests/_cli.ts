// Helpers of the CLI tests: run cli.ts as a real subprocess, find a pty
// (util-linux script), and check that an SVG file is well-formed XML.

import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));
/** The shipped example data. */
export const DATA: string = join(ROOT, "examples", "data");

/** What a CLI run produced. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run <permissions> cli.ts ...args` from the repository root
 * (stdin closed, so nothing can prompt).
 */
export async function runCli(
  args: string[],
  permissions: string[] = ["-A"],
): Promise<CliRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, join(ROOT, "cli.ts"), ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    // A hung child must fail the test, not stall the whole run.
    signal: AbortSignal.timeout(120_000),
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** Runs the CLI and parses its stdout as JSON (failing loudly if it is not). */
export async function runCliJson(
  args: string[],
): Promise<{ run: CliRun; json: Record<string, unknown> }> {
  const run = await runCli([...args, "--json"]);
  try {
    return { run, json: JSON.parse(run.stdout) };
  } catch {
    throw new Error(
      `stdout is not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`,
    );
  }
}

/** Whether util-linux `script` is there, to run the CLI on a pty. */
export async function hasScript(): Promise<boolean> {
  try {
    const r = await new Deno.Command("script", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false;
  }
}

/**
 * Checks that `text` is well-formed XML (balanced, properly nested tags,
 * quoted attributes, escaped text) and returns the element names in document
 * order. Throws with the offending position otherwise.
 */
export function wellFormedXml(text: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const token = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<[^<>]*>|[^<]+|</g;
  const attrs = /^(\s+[A-Za-z_:][\w:.-]*\s*=\s*("[^"<]*"|'[^'<]*'))*\s*$/;
  let m: RegExpExecArray | null;
  let seenRoot = false;
  while ((m = token.exec(text)) !== null) {
    const t = m[0];
    const at = m.index;
    if (t.startsWith("<!--") || t.startsWith("<?")) continue;
    if (t === "<") throw new Error(`stray "<" at ${at}`);
    if (!t.startsWith("<")) {
      if (stack.length === 0 && t.trim() !== "") {
        throw new Error(`text outside the root element at ${at}`);
      }
      const bad = /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.exec(t);
      if (bad) throw new Error(`unescaped "&" at ${at + bad.index}`);
      continue;
    }
    const close = /^<\/([A-Za-z_:][\w:.-]*)\s*>$/.exec(t);
    if (close) {
      const open = stack.pop();
      if (open !== close[1]) {
        throw new Error(`</${close[1]}> at ${at} closes <${open}>`);
      }
      continue;
    }
    const open = /^<([A-Za-z_:][\w:.-]*)([\s\S]*?)(\/?)>$/.exec(t);
    if (!open) throw new Error(`malformed tag at ${at}: ${t.slice(0, 60)}`);
    if (!attrs.test(open[2])) {
      throw new Error(`malformed attributes at ${at}: ${t.slice(0, 80)}`);
    }
    if (stack.length === 0) {
      if (seenRoot) throw new Error(`second root element at ${at}`);
      seenRoot = true;
    }
    names.push(open[1]);
    if (open[3] !== "/") stack.push(open[1]);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.at(-1)}>`);
  if (!seenRoot) throw new Error("no root element");
  return names;
}
