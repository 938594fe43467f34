/// <reference lib="dom" />
/**
 * The page (web/index.html): its controls, the URL state, and the calls to
 * the Web Worker that holds the data and fits (web/worker.ts). Nothing here
 * computes more than a model's parameter names, so the page never freezes.
 *
 * URL: `?data=<url>&model=<expression or name>&p0=a=1,b=2&autofit=1`, and
 * `backend=cpu|webgpu`, `tol=` (ftol, xtol and gtol; default 1e-14), `x=`,
 * `y=`, `sigma=` (column names or 1-based numbers).
 *
 * @module
 */

import { ModelSyntaxError } from "../model/syntax_error.ts";
import {
  isBuiltinSpec,
  modelFromSpec,
  PAGE_MODELS,
  parseP0,
} from "./_model_spec.ts";
import type { FitSummary, ParamRow, TableInfo } from "./_session.ts";
import type { View } from "./_view.ts";
import { LAYOUT, plotView, xAt } from "./_plot.ts";
import {
  correlationTable,
  escapeHtml,
  parameterRows,
} from "./_results_html.ts";
import { WorkerClient } from "./_worker_client.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) =>
  document.getElementById(id) as T;
const input = (id: string) => $<HTMLInputElement>(id);
const select = (id: string) => $<HTMLSelectElement>(id);

// ---- the worker --------------------------------------------------------

const WORKER_URL = new URL("./worker.js", import.meta.url);
let worker = new WorkerClient(WORKER_URL);

function call<T>(
  type: string,
  args: unknown,
  transfer: Transferable[] = [],
): Promise<T> {
  return worker.call<T>(type, args, transfer);
}

// ---- data --------------------------------------------------------------

let loaded: { name: string; bytes: Uint8Array; info: TableInfo } | undefined;
/** Where the data came from when the URL named it (kept in shared links). */
let dataUrl: string | undefined;
let view: View | undefined;
let summary: FitSummary | undefined;

function setStatus(
  text: string,
  state: "idle" | "running" | "done" | "error",
): void {
  const s = $("status");
  s.textContent = text;
  s.dataset.state = state;
}

function fillColumns(
  info: TableInfo,
  want: { x?: string; y?: string; sigma?: string },
): void {
  const pick = (id: string, value: number, none: boolean) => {
    const el = select(id);
    el.innerHTML = (none ? `<option value="-1">(none)</option>` : "") +
      info.names.map((n, i) => `<option value="${i}">${escapeHtml(n)}</option>`)
        .join("");
    el.value = String(value);
  };
  const find = (w: string | undefined, fallback: number) => {
    if (w === undefined) return fallback;
    const byName = info.names.indexOf(w);
    if (byName >= 0) return byName;
    const k = Number(w) - 1;
    return Number.isInteger(k) && k >= 0 && k < info.names.length
      ? k
      : fallback;
  };
  const sigmaGuess = info.names.findIndex((n) =>
    /^(sigma|err|error|dy|yerr|uncertainty)$/i.test(n)
  );
  pick("col-x", find(want.x, 0), false);
  pick("col-y", find(want.y, 1), false);
  pick(
    "col-sigma",
    want.sigma === undefined ? sigmaGuess : find(want.sigma, -1),
    true,
  );
}

async function loadBytes(
  name: string,
  bytes: Uint8Array,
  want: { x?: string; y?: string; sigma?: string } = {},
): Promise<boolean> {
  $("data-error").textContent = "";
  $("data-info").textContent = `reading ${name}…`;
  setStatus("", "idle");
  summary = undefined;
  clearResults();
  try {
    const copy = bytes.slice();
    const info = await call<TableInfo>("load", { name, bytes: copy.buffer }, [
      copy.buffer,
    ]);
    loaded = { name, bytes, info };
    fillColumns(info, want);
    await selectColumns();
    return true;
  } catch (e) {
    loaded = undefined;
    $("data-info").textContent = "";
    $("data-error").textContent = (e as Error).message;
    setStatus((e as Error).message, "error");
    return false;
  }
}

async function selectColumns(): Promise<void> {
  if (!loaded) return;
  const cols = {
    x: Number(select("col-x").value),
    y: Number(select("col-y").value),
    sigma: Number(select("col-sigma").value),
  };
  try {
    view = await call<View>("select", cols);
    $("data-error").textContent = "";
    const info = loaded.info;
    $("data-info").textContent = `${info.name}: ${
      info.nRows.toLocaleString("en")
    } rows, ${info.names.length} columns (${info.names.join(", ")})`;
    drawPlot();
    checkModel();
  } catch (e) {
    $("data-error").textContent = (e as Error).message;
  }
}

async function loadFile(file: File): Promise<void> {
  dataUrl = undefined;
  await loadBytes(file.name, new Uint8Array(await file.arrayBuffer()));
}

// ---- model and parameters ---------------------------------------------

let paramNames: string[] = [];

/** Checks the model field as it is typed; rebuilds the parameter rows. */
function checkModel(): boolean {
  const spec = input("model").value;
  try {
    const m = modelFromSpec(spec, xColumnName());
    $("model-error").textContent = "";
    $("model-note").textContent = modelNote(m);
    const hints = "paramHints" in m
      ? (m as { paramHints: Record<string, { min?: number; max?: number }> })
        .paramHints
      : {};
    setParamRows(m.params as string[], hints);
    return true;
  } catch (e) {
    $("model-note").textContent = "";
    $("model-error").textContent =
      e instanceof ModelSyntaxError || e instanceof Error
        ? e.message
        : String(e);
    return false;
  }
}

/** What the model is, in a line (a misspelt built-in name is a parameter). */
function modelNote(
  m: {
    name?: string;
    params: readonly string[];
    variables: readonly string[];
    expression?: string;
  },
): string {
  if ("name" in m && m.name !== undefined && m.name !== "expression") {
    return `built-in ${m.name}: ${m.expression}`;
  }
  const v = m.variables[0];
  const usesX = new RegExp(`(^|[^A-Za-z0-9_])${v}([^A-Za-z0-9_(]|$)`).test(
    m.expression ?? "",
  );
  return usesX
    ? `expression in ${v}`
    : `this expression does not use ${v} (not a built-in model's name either)`;
}

function xColumnName(): string {
  return loaded?.info.names[Number(select("col-x").value)] ?? "x";
}

function setParamRows(
  names: string[],
  hints: Record<string, { min?: number; max?: number }> = {},
): void {
  if (names.join() === paramNames.join()) return;
  const old = new Map(readParamRows().map((r) => [r.name, r]));
  paramNames = names;
  const tbody = $("params").querySelector("tbody")!;
  tbody.innerHTML = names.map((n) => {
    const o = old.get(n);
    const v = (x: number | undefined) =>
      x === undefined || !Number.isFinite(x) ? "" : String(x);
    return `<tr data-name="${n}"><td>${n}</td>` +
      `<td><input type="number" step="any" class="start" value="${
        v(o?.value)
      }"></td>` +
      `<td><input type="number" step="any" class="min" value="${
        v(o?.min)
      }" placeholder="${v(hints[n]?.min)}"></td>` +
      `<td><input type="number" step="any" class="max" value="${
        v(o?.max)
      }" placeholder="${v(hints[n]?.max)}"></td>` +
      `<td><input type="checkbox" class="fixed"${
        o?.vary === false ? " checked" : ""
      }></td>` +
      `<td><input class="tie" placeholder="expression" value="${
        escapeHtml(o?.expr ?? "")
      }"></td></tr>`;
  }).join("");
}

function readParamRows(): ParamRow[] {
  const rows = [
    ...$("params").querySelectorAll<HTMLTableRowElement>("tbody tr"),
  ];
  const num = (tr: HTMLTableRowElement, cls: string) => {
    const t = tr.querySelector<HTMLInputElement>(`input.${cls}`)!.value.trim();
    return t === "" ? undefined : Number(t);
  };
  return rows.map((tr) => ({
    name: tr.dataset.name!,
    value: num(tr, "start"),
    min: num(tr, "min"),
    max: num(tr, "max"),
    vary: !tr.querySelector<HTMLInputElement>("input.fixed")!.checked,
    expr: tr.querySelector<HTMLInputElement>("input.tie")!.value.trim() ||
      undefined,
  }));
}

function setStarts(values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) {
    const el = document.querySelector<HTMLInputElement>(
      `#params tr[data-name="${name}"] input.start`,
    );
    if (el) el.value = String(v);
  }
}

async function guess(): Promise<void> {
  const spec = input("model").value;
  if (!loaded) return void ($("guess-note").textContent = "load data first");
  if (!isBuiltinSpec(spec)) {
    $("guess-note").textContent =
      "guesses come with built-in models; give starts for an expression";
    return;
  }
  try {
    setStarts(await call<Record<string, number>>("guess", { model: spec }));
    $("guess-note").textContent = "starts guessed from the data";
  } catch (e) {
    $("guess-note").textContent = (e as Error).message;
  }
}

// ---- fit ----------------------------------------------------------------

let running = false;

async function runFit(): Promise<void> {
  if (running) return;
  if (!loaded) return setStatus("load data first", "error");
  if (!checkModel()) {
    return setStatus($("model-error").textContent ?? "model error", "error");
  }
  running = true;
  $<HTMLButtonElement>("fit").disabled = true;
  $<HTMLButtonElement>("cancel").disabled = false;
  setStatus("running", "running");
  const progress = $<HTMLProgressElement>("progress");
  progress.removeAttribute("value");
  worker.onProgress = (p) => {
    $("progress-text").textContent =
      `iteration ${p.nit}, ${p.nfev} evaluations, cost ${
        p.cost.toPrecision(6)
      }, ${(p.elapsedMs / 1000).toFixed(1)} s`;
  };
  const req = fitRequest();
  try {
    const out = await call<{ summary: FitSummary; view: View }>("fit", req);
    summary = out.summary;
    view = out.view;
    showResults(out.summary);
    drawPlot();
    shareState();
    progress.value = 1;
    setStatus(
      out.summary.success ? "success" : out.summary.message,
      out.summary.success ? "done" : "error",
    );
  } catch (e) {
    progress.value = 0;
    if (running) setStatus((e as Error).message, "error");
  } finally {
    running = false;
    worker.onProgress = undefined;
    $<HTMLButtonElement>("fit").disabled = false;
    $<HTMLButtonElement>("cancel").disabled = true;
  }
}

/** Ends the worker mid-fit and starts another with the same data. */
async function cancel(): Promise<void> {
  if (!running) return;
  running = false;
  worker.terminate("cancelled");
  setStatus("cancelled", "error");
  worker = new WorkerClient(WORKER_URL);
  if (loaded) {
    const cols = {
      x: select("col-x").value,
      y: select("col-y").value,
      sigma: select("col-sigma").value,
    };
    const { name, bytes } = loaded;
    await loadBytes(name, bytes);
    select("col-x").value = cols.x,
      select("col-y").value = cols.y,
      select("col-sigma").value = cols.sigma;
    await selectColumns();
  }
  setStatus("cancelled", "error");
}

function fitRequest() {
  const t = input("tol").value.trim();
  return {
    model: input("model").value,
    params: readParamRows(),
    backend: select("backend").value,
    tol: t === "" ? undefined : Number(t),
  };
}

/** Puts the fit's inputs in the address bar (a link that fits again). */
function shareState(): void {
  const q = new URLSearchParams();
  if (dataUrl !== undefined) q.set("data", dataUrl);
  q.set("model", input("model").value);
  const p0 = readParamRows()
    .filter((r) => r.value !== undefined && Number.isFinite(r.value))
    .map((r) => `${r.name}=${r.value}`).join(",");
  if (p0 !== "") q.set("p0", p0);
  q.set("backend", select("backend").value);
  const tol = input("tol").value.trim();
  if (tol !== "" && tol !== "1e-14") q.set("tol", tol);
  if (loaded) {
    const names = loaded.info.names;
    q.set("x", names[Number(select("col-x").value)]);
    q.set("y", names[Number(select("col-y").value)]);
    const s = Number(select("col-sigma").value);
    if (s >= 0) q.set("sigma", names[s]);
  }
  if (dataUrl !== undefined) q.set("autofit", "1");
  history.replaceState(null, "", `?${q}`);
}

// ---- results -------------------------------------------------------------

function clearResults(): void {
  $("results-section").classList.remove("fitted");
  $("results").querySelector("tbody")!.innerHTML = "";
  $("correlation").innerHTML = "";
  $("report").textContent = "";
  for (const b of ["json", "csv", "svg", "script"]) {
    $<HTMLButtonElement>(`export-${b}`).disabled = true;
  }
}

function showResults(s: FitSummary): void {
  $("results-section").classList.add("fitted");
  $("results").querySelector("tbody")!.innerHTML = parameterRows(s);
  $("correlation").innerHTML = correlationTable(s.names, s.correlation);
  $("report").textContent = s.report;
  $("progress-text").textContent =
    `${s.nit} iterations, ${s.nfev} evaluations, ${
      (s.elapsedMs / 1000).toFixed(2)
    } s on ${s.backend} (${s.strategy})`;
  for (const b of ["json", "csv", "svg", "script"]) {
    $<HTMLButtonElement>(`export-${b}`).disabled = false;
  }
}

function drawPlot(): void {
  if (!view || !loaded) return void ($("plot").innerHTML = "");
  const names = loaded.info.names;
  $("plot").innerHTML = plotView(
    view,
    names[Number(select("col-x").value)],
    names[Number(select("col-y").value)],
  );
}

async function zoom(range?: [number, number]): Promise<void> {
  if (!loaded) return;
  view = await call<View>("view", { range });
  drawPlot();
}

function plotX(ev: MouseEvent): number {
  const svg = $("plot").querySelector("svg")!;
  const box = svg.getBoundingClientRect();
  return (ev.clientX - box.left) * LAYOUT.width / box.width;
}

function wirePlot(): void {
  let from: number | undefined;
  const plot = $("plot");
  plot.addEventListener("mousedown", (ev) => {
    if (plot.querySelector("svg")) from = plotX(ev);
  });
  plot.addEventListener("mouseup", (ev) => {
    if (from === undefined || !view) return;
    const to = plotX(ev);
    const a = from;
    from = undefined;
    if (Math.abs(to - a) < 5) return;
    const r: [number, number] = [
      xAt(Math.min(a, to), view.range),
      xAt(Math.max(a, to), view.range),
    ];
    zoom(r);
  });
  plot.addEventListener("dblclick", () => zoom());
  $("reset-zoom").addEventListener("click", () => zoom());
}

// ---- exports ---------------------------------------------------------------

function download(name: string, text: string, type: string): void {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function wireExports(): void {
  const req = fitRequest;
  $("export-json").addEventListener("click", () => {
    if (summary) {
      download(
        "fit.json",
        JSON.stringify(summary.json, null, 2),
        "application/json",
      );
    }
  });
  $("export-csv").addEventListener("click", async () => {
    download("fit.csv", await call<string>("csv", null), "text/csv");
  });
  // The library's figure (plotSvg), drawn where the data are.
  $("export-svg").addEventListener("click", async () => {
    download("fit.svg", await call<string>("svg", null), "image/svg+xml");
  });
  $("export-script").addEventListener("click", async () => {
    download("fit.ts", await call<string>("script", req()), "text/typescript");
  });
}

// ---- start -----------------------------------------------------------------

async function probeGpu(): Promise<boolean> {
  const gpu =
    (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } })
      .gpu;
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  $("gpu-info").textContent = adapter
    ? "WebGPU available (f32 kernels, f64 polish on the CPU)"
    : "no WebGPU here: fits run on the CPU";
  if (!adapter) select("backend").value = "cpu";
  return adapter !== null;
}

function wire(): void {
  select("builtin").innerHTML = `<option value="">(expression)</option>` +
    PAGE_MODELS.map((n) => `<option>${n}</option>`).join("");
  select("builtin").addEventListener("change", () => {
    if (select("builtin").value !== "") {
      input("model").value = select("builtin").value;
    }
    checkModel();
  });
  $("add-peak").addEventListener("click", () => {
    const kind = select("peak-kind").value;
    const spec = input("model").value.trim();
    input("model").value = isBuiltinSpec(spec) ? `${spec}+${kind}` : kind;
    checkModel();
  });
  input("model").addEventListener("input", () => checkModel());
  $("guess").addEventListener("click", () => guess());
  $("fit").addEventListener("click", () => runFit());
  $("cancel").addEventListener("click", () => cancel());
  for (const id of ["col-x", "col-y", "col-sigma"]) {
    select(id).addEventListener("change", () => selectColumns());
  }
  input("file").addEventListener("change", () => {
    const f = input("file").files?.[0];
    if (f) loadFile(f);
  });
  const drop = $("drop");
  drop.addEventListener(
    "dragover",
    (ev) => (ev.preventDefault(), drop.classList.add("over")),
  );
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    const f = ev.dataTransfer?.files?.[0];
    if (f) loadFile(f);
  });
  $("use-paste").addEventListener("click", () => {
    dataUrl = undefined;
    const text = $<HTMLTextAreaElement>("paste").value;
    loadBytes("pasted", new TextEncoder().encode(text));
  });
  wirePlot();
  wireExports();
}

async function fromUrl(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const m = q.get("model");
  if (m !== null) {
    input("model").value = m;
    if ((PAGE_MODELS as readonly string[]).includes(m)) {
      select("builtin").value = m;
    }
  }
  checkModel();
  const backend = q.get("backend");
  if (backend === "cpu" || backend === "webgpu") {
    select("backend").value = backend;
  }
  const tol = q.get("tol");
  if (tol !== null) input("tol").value = tol;
  const p0 = q.get("p0");
  if (p0 !== null) {
    try {
      setStarts(parseP0(p0));
    } catch (e) {
      return setStatus((e as Error).message, "error");
    }
  }
  const data = q.get("data");
  if (data === null) return;
  try {
    const res = await fetch(data);
    if (!res.ok) {
      throw new Error(`data: ${data}: HTTP ${res.status} ${res.statusText}`);
    }
    const name = decodeURIComponent(
      new URL(data, location.href).pathname.split("/").pop() || "data",
    );
    const ok = await loadBytes(name, new Uint8Array(await res.arrayBuffer()), {
      x: q.get("x") ?? undefined,
      y: q.get("y") ?? undefined,
      sigma: q.get("sigma") ?? undefined,
    });
    if (ok) dataUrl = data;
    if (ok && q.get("autofit") === "1") {
      if (p0 === null && isBuiltinSpec(input("model").value)) await guess();
      await runFit();
    }
  } catch (e) {
    setStatus((e as Error).message, "error");
  }
}

wire();
const gpuReady = probeGpu();
const urlDone = gpuReady.then(() => fromUrl());
(globalThis as { nlsqPageReady?: Promise<void> }).nlsqPageReady = urlDone;
