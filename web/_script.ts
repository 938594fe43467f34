// The Deno script the page exports: it reproduces the page's fit with the
// public API (the same model, parameters and data).

import { modelSource } from "./_model_spec.ts";
import { type ParamRow, paramsOption, tolerances } from "./_session.ts";

/** What the script needs to know about the page's data. */
export interface ScriptData {
  /** The x column's name (an expression's variable when it uses it). */
  readonly xName?: string;
  /** The file's name (read with `openSource` when the data are not inlined). */
  readonly file: string;
  readonly names: readonly string[];
  readonly x: number;
  readonly y: number;
  readonly sigma: number;
  /** The columns themselves, inlined for small data. */
  readonly columns?: { x: number[]; y: number[]; sigma?: number[] };
}

/**
 * A Deno script that fits like the page did.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { denoScript } from "./_script.ts";
 * const s = denoScript("a*x", [{ name: "a", value: 2 }], "cpu", 1e-12, {
 *   file: "d.csv", names: ["x", "y"], x: 0, y: 1, sigma: -1,
 *   columns: { x: [0, 1], y: [0, 2] },
 * });
 * assert.match(s, /fit\(m, x, y, \{/);
 * assert.match(s, /"a": \{\s*"value": 2\s*\}/);
 * ```
 */
export function denoScript(
  spec: string,
  rows: readonly ParamRow[],
  backend: string,
  tol: number | undefined,
  data: ScriptData,
): string {
  const usesModels = modelSource(spec).includes("models.");
  const imports = usesModels ? "fit, model, models" : "fit, model";
  const head = [
    `// Reproduces the fit made on the nlsq page (deno add jsr:@nlsq/nlsq; deno run -A fit.ts)`,
    `import { ${imports}${
      data.columns ? "" : ", openSource"
    } } from "@nlsq/nlsq";`,
    ``,
    `const m = ${modelSource(spec, data.xName)};`,
  ];
  const body = data.columns
    ? [
      `const x = ${JSON.stringify(data.columns.x)};`,
      `const y = ${JSON.stringify(data.columns.y)};`,
      data.columns.sigma
        ? `const sigma = ${JSON.stringify(data.columns.sigma)};`
        : `const sigma = undefined;`,
    ]
    : [
      `// ${JSON.stringify(data.file)} next to this script; columns by name.`,
      `const source = await openSource(${JSON.stringify(data.file)}, { x: ${
        JSON.stringify(data.names[data.x])
      }, y: ${JSON.stringify(data.names[data.y])}${
        data.sigma >= 0
          ? `, sigma: ${JSON.stringify(data.names[data.sigma])}`
          : ""
      } });`,
    ];
  const params = JSON.stringify(paramsOption(rows), null, 2);
  const tolLines = Object.entries(tolerances(tol)).map(([k, v]) =>
    `  ${k}: ${v},\n`
  )
    .join("");
  const rest = `${tolLines}  backend: ${JSON.stringify(backend)},\n});`;
  const call = data.columns
    ? `const r = await fit(m, x, y, {\n  params: ${
      indent(params)
    },\n  sigma,\n${rest}`
    : `const r = await fit(m, source, {\n  params: ${indent(params)},\n${rest}`;
  return [
    ...head,
    ...body,
    call,
    `console.log(JSON.stringify({ params: r.params, stderr: r.stderr, success: r.success }, null, 2));`,
    ``,
  ].join("\n");
}

function indent(s: string): string {
  return s.split("\n").join("\n  ");
}
