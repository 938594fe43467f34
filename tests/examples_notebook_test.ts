// examples/fitting.ipynb runs: its code cells, in order, as one module in a
// Deno subprocess (the scope a kernel keeps across cells), with each cell's
// last expression displayed the way Deno's Jupyter kernel does it (an
// object's [Symbol.for("Jupyter.display")]() bundle, else Deno.inspect).
// `deno jupyter` itself is not needed.
import assert from "node:assert";
import { ROOT } from "./_cli.ts";

interface Cell {
  cell_type: string;
  source: string[] | string;
}

const MARK = "__NOTEBOOK_DISPLAY__";

/** The prelude: how a displayed value becomes a MIME bundle. */
const PRELUDE = `
const __show = (cell: number, v: unknown) => {
  if (v === undefined) return;
  const f = (v as Record<symbol, unknown> | null)?.[Symbol.for("Jupyter.display")];
  const bundle = typeof f === "function"
    ? f.call(v)
    : { "text/plain": Deno.inspect(v, { colors: false }) };
  console.log("${MARK}" + JSON.stringify({ cell, bundle }));
};
`;

/**
 * A cell whose last statement is an expression displays its value, as the
 * kernel does (with or without the semicolon `deno fmt` adds). The last
 * statement starts on the last line that is not indented and does not
 * close a bracket.
 */
function cellCode(source: string, index: number): string {
  const lines = source.trimEnd().split("\n");
  let start = lines.length - 1;
  while (start > 0 && /^[\s)}\]]/.test(lines[start])) start--;
  if (
    /^(const|let|var|import|export|function|class|\/\/)\b/.test(lines[start])
  ) {
    return lines.join("\n");
  }
  const expr = lines.slice(start).join("\n").replace(/;\s*$/, "");
  return [...lines.slice(0, start), `__show(${index}, (${expr}));`].join("\n");
}

async function runNotebook(path: string) {
  const nb = JSON.parse(await Deno.readTextFile(path));
  assert.strictEqual(nb.nbformat, 4);
  assert.strictEqual(nb.metadata.kernelspec.name, "deno");
  const code = (nb.cells as Cell[])
    .filter((c) => c.cell_type === "code")
    .map((c, i) =>
      cellCode(Array.isArray(c.source) ? c.source.join("") : c.source, i)
    );
  const module = PRELUDE + code.map((c, i) => `// cell ${i}\n${c}`).join("\n");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(180_000),
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(module));
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  const stdout = dec.decode(out.stdout);
  assert.ok(
    out.success,
    `the notebook failed:\n${dec.decode(out.stderr)}\n${module}`,
  );
  const shown = new Map<number, Record<string, string>>();
  for (const line of stdout.split("\n")) {
    if (!line.startsWith(MARK)) continue;
    const { cell, bundle } = JSON.parse(line.slice(MARK.length));
    shown.set(cell, bundle);
  }
  return { nCells: code.length, shown };
}

Deno.test("examples/fitting.ipynb: every code cell runs in order; results display as HTML tables, bands, a restored result and a global fit as values", async () => {
  const { nCells, shown } = await runNotebook(`${ROOT}/examples/fitting.ipynb`);
  assert.strictEqual(nCells, 7);
  // Cell 1: the decay fit, as the result's own HTML table.
  const fitHtml = shown.get(1)?.["text/html"] ?? "";
  assert.match(fitHtml, /<table class="nlsq-params">/);
  const b =
    /<tr data-param="b"><td>b<\/td><td class="value">([^<]+)<\/td><td class="stderr">([^<]+)</
      .exec(fitHtml);
  assert.ok(b, fitHtml);
  assert.ok(
    Math.abs(Number(b[1]) - 1.2) < 5 * Number(b[2]),
    `b = ${b[1]} +/- ${b[2]}`,
  );
  assert.match(shown.get(1)!["text/plain"], /\[\[Variables\]\]/);
  // With its plot: data with error bars and the 95% confidence band.
  assert.match(fitHtml, /<svg [\s\S]*95% confidence band[\s\S]*<\/svg>/);
  // Cell 2: the bands, prediction wider than confidence everywhere.
  const rows = [
    ...shown.get(2)!["text/plain"].matchAll(
      /confidence: "± ([\d.]+)", prediction: "± ([\d.]+)"/g,
    ),
  ];
  assert.strictEqual(rows.length, 5);
  for (const [, c, p] of rows) {
    assert.ok(Number(p) > Number(c) && Number(c) > 0);
  }
  // Cell 3: the composite with its tie.
  const peaks = shown.get(3)?.["text/html"] ?? "";
  assert.match(peaks, /<tr data-param="g2_sigma">.*== g1_sigma/);
  assert.match(peaks, /<table class="nlsq-derived">/);
  // Each component drawn (the Gaussians and the line, dashed).
  assert.match(peaks, /<svg [\s\S]*g1 \(gaussian\)[\s\S]*<\/svg>/);
  // Cells 4 and 5: diagnostics, and a restored result that predicts the same.
  assert.match(shown.get(4)!["text/plain"], /rank: 7, warnings: \[\]/);
  assert.match(shown.get(5)!["text/plain"], /samePrediction: true/);
  // Cell 6: a global fit sharing k, and a dataset's band.
  const global = shown.get(6)!["text/plain"];
  const k = Number(/ k: ([\d.e-]+)/.exec(global)?.[1]);
  const kError = Number(/kError: ([\d.e-]+)/.exec(global)?.[1]);
  assert.ok(
    Math.abs(k - 0.8) < 5 * kError && kError > 0 && kError < 0.01,
    global,
  );
  assert.ok(Number(/halfWidth: ([\d.e-]+)/.exec(global)?.[1]) > 0, global);
  assert.match(
    shown.get(5)!["text/plain"],
    /Model\(gaussian, prefix='g1_'\) \+ Model\(gaussian, prefix='g2_'\) \+ Model\(linear\)/,
  );
});
