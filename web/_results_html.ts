// The HTML of the page's result tables, from a fit's summary: the parameter
// rows the tests read (`tr[data-param]` with `td.value`, `td.stderr`) and the
// correlation matrix coloured by sign and size. Pure functions, so Deno tests
// check them without a browser.

import type { FitSummary } from "./_session.ts";

/**
 * `&`, `<`, `>` and `"` as entities.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { escapeHtml } from "./_results_html.ts";
 * assert.strictEqual(escapeHtml('a<b & "c"'), "a&lt;b &amp; &quot;c&quot;");
 * ```
 */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

/**
 * A value as the table shows it: 12 significant digits (rounding 5e-13
 * relative; the exact value is the cell's `data-exact`), nothing for NaN.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { shown } from "./_results_html.ts";
 * assert.strictEqual(shown(238.94212917895177), "238.942129179");
 * assert.strictEqual(shown(NaN), "");
 * assert.strictEqual(shown(Infinity), "Infinity");
 * ```
 */
export function shown(v: number): string {
  if (Number.isNaN(v)) return "";
  return Number.isFinite(v) ? String(Number(v.toPrecision(12))) : String(v);
}

function cell(cls: string, v: number): string {
  return `<td class="${cls}" data-exact="${v}" title="${v}">${shown(v)}</td>`;
}

/**
 * The rows of the parameter table, then the derived quantities.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parameterRows } from "./_results_html.ts";
 * const html = parameterRows({
 *   names: ["a"], values: [2], stderr: [0.1], lower: [1.8], upper: [2.2],
 *   vary: [true], derived: {},
 * });
 * assert.match(html, /<tr data-param="a">.*<td class="value" data-exact="2"/);
 * ```
 */
export function parameterRows(
  s: Pick<
    FitSummary,
    "names" | "values" | "stderr" | "lower" | "upper" | "vary" | "derived"
  >,
): string {
  const params = s.names.map((n, i) =>
    `<tr data-param="${escapeHtml(n)}"><td class="name">${n}</td>` +
    cell("value", s.values[i]) + cell("stderr", s.stderr[i]) +
    cell("lower", s.lower[i]) + cell("upper", s.upper[i]) +
    `<td class="vary">${s.vary[i] ? "" : "fixed/tied"}</td></tr>`
  );
  const derived = Object.entries(s.derived).map(([k, d]) =>
    `<tr data-derived="${escapeHtml(k)}"><td class="name">${k}</td>` +
    cell("value", d.value) + cell("stderr", d.stderr) +
    `<td></td><td></td><td>derived</td></tr>`
  );
  return [...params, ...derived].join("");
}

/**
 * The correlation matrix: red for positive, blue for negative, as strong as
 * |r|; empty cells where a parameter is fixed (NaN).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { correlationTable } from "./_results_html.ts";
 * const html = correlationTable(["a", "b"], [[1, -0.5], [-0.5, 1]]);
 * assert.match(html, /rgba\(31,95,168,0\.5\)[^>]*>-0\.500</);
 * ```
 */
export function correlationTable(
  names: readonly string[],
  correlation: readonly (readonly number[])[],
): string {
  const head = `<tr><th></th>${
    names.map((n) => `<th>${n}</th>`).join("")
  }</tr>`;
  const rows = correlation.map((row, i) =>
    `<tr><th>${names[i]}</th>${
      row.map((v) => {
        const a = Number.isFinite(v) ? Math.abs(v) : 0;
        const bg = v > 0 ? `rgba(209,73,91,${a})` : `rgba(31,95,168,${a})`;
        return `<td style="background:${bg};color:${
          a > 0.6 ? "#fff" : "#222"
        }">${Number.isFinite(v) ? v.toFixed(3) : ""}</td>`;
      }).join("")
    }</tr>`
  );
  return head + rows.join("");
}
