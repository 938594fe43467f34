/**
 * lmfit for the side-by-side tests of `models`: the first of
 * `NLSQ_LMFIT_PYTHON`, the test Python (`NLSQ_PYTHON`, else `python3`) and
 * `/usr/bin/python3` (Debian's python3-lmfit) that imports it.
 *
 * @module
 */

import { pythonCommand } from "./_tools.ts";

function imports(python: string, modules: string): boolean {
  try {
    return new Deno.Command(python, {
      args: ["-c", `import ${modules}`],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

/**
 * The Python interpreter with lmfit, numpy and scipy, or null (with a
 * warning naming `who`, so a skipped comparison is visible).
 */
export function lmfitPython(who: string): string | null {
  const env = Deno.env.get("NLSQ_LMFIT_PYTHON");
  const candidates = [
    ...(env ? [env] : []),
    pythonCommand(),
    "/usr/bin/python3",
  ];
  for (const p of candidates) {
    if (imports(p, "lmfit, numpy, scipy")) return p;
  }
  console.warn(
    `${who}: lmfit comparisons SKIPPED (no Python with lmfit; tried ${
      candidates.join(", ")
    })`,
  );
  return null;
}
