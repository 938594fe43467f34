/**
 * `deno task build:web`: bundles the page (web/app.ts), its worker
 * (web/worker.ts) and the library for other pages (web/mod.ts, as
 * web/dist/nlsq.js) for browsers into web/dist/, from the library's own
 * sources, with `deno bundle`. Fails when a bundle imports a `node:` module
 * (the browser has none: the fit path reaches them only at run time,
 * through runtime/host.ts).
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);

/** The bundle files, relative to the repository. */
export const BUNDLES = {
  "web/mod.ts": "web/dist/nlsq.js",
  "web/app.ts": "web/dist/app.js",
  "web/worker.ts": "web/dist/worker.js",
} as const;

/** The `node:` modules a bundle imports (it should be none). */
export function nodeImports(code: string): string[] {
  const found = new Set<string>();
  for (
    const m of code.matchAll(/^\s*import\b[^"'\n]*["'](node:[a-z_/]+)["']/gm)
  ) found.add(m[1]);
  for (const m of code.matchAll(/\bimport\(\s*["'](node:[a-z_/]+)["']\s*\)/g)) {
    found.add(m[1]);
  }
  return [...found];
}

/** Builds both bundles; returns their sizes in bytes. */
export async function buildWeb(): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const [entry, out] of Object.entries(BUNDLES)) {
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--format",
        "esm",
        "-o",
        out,
        entry,
      ],
      cwd: new URL(".", ROOT),
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!r.success) {
      throw new Error(
        `deno bundle ${entry} failed:\n${new TextDecoder().decode(r.stderr)}`,
      );
    }
    const code = await Deno.readTextFile(new URL(out, ROOT));
    const bad = nodeImports(code);
    if (bad.length > 0) {
      throw new Error(`${out} imports ${bad.join(", ")}: a browser has none`);
    }
    sizes[out] = code.length;
  }
  return sizes;
}

if (import.meta.main) {
  const sizes = await buildWeb();
  for (const [f, n] of Object.entries(sizes)) {
    console.log(`${f}  ${(n / 1024).toFixed(0)} KiB`);
  }
}
