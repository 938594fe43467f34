/**
 * The progress bar of `nlsq fit`: on stderr, only when stderr is a terminal,
 * and only once a fit has run for about a second (short fits stay quiet).
 * Drawn with `cli-progress`, which redraws in place and throttles.
 *
 * In streaming mode the bar shows the current pass over the data, the
 * solver's iterations and evaluations so far (carried over from the last
 * iteration), and an estimate of the time left in the whole fit (see
 * {@linkcode FitProgressTracker}).
 *
 * @module
 */

import cliProgress from "cli-progress";
import type { FitProgress } from "../workflow/fit.ts";
import type { FitBatchProgress } from "../batch/fit_batch_options.ts";

/** Where the bar is drawn: the subset of a Node stream `cli-progress` uses. */
export interface ProgressStream {
  /** Whether it is a terminal (escape codes are written only then). */
  readonly isTTY: boolean;
  /** Width in characters. */
  readonly columns?: number;
  /** Writes text. */
  write(text: string): boolean;
}

/** Options of {@linkcode FitProgressBar}. */
export interface FitProgressBarOptions {
  /** The fit's `maxNfev`, when given: it bounds the number of passes. */
  maxNfev?: number;
  /** Draw at all (default: `Deno.stderr.isTerminal()`). */
  enabled?: boolean;
  /** Quiet period before the bar appears, in ms (default 1000). */
  delayMs?: number;
  /** Where to draw (default: stderr). */
  stream?: ProgressStream;
  /** Redraws per second at most (default 10). */
  fps?: number;
}

const encoder = new TextEncoder();

/** stderr as a `ProgressStream`. */
function stderrStream(): ProgressStream {
  return {
    isTTY: true,
    get columns() {
      try {
        return Deno.consoleSize().columns;
      } catch {
        return 80;
      }
    },
    write(text: string) {
      Deno.stderr.writeSync(encoder.encode(text));
      return true;
    },
  };
}

/**
 * Passes over the data a streaming fit is assumed to make in all: a warm
 * start on a sample leaves typically 3 to 8 full passes (one per function
 * evaluation), and the estimate takes the upper end.
 */
export const TYPICAL_PASSES = 8;

/**
 * Turns `fit`'s progress events into what the bar shows.
 *
 * - Pass events (streaming) carry no solver counters: they get the
 *   iterations, evaluations and cost of the last iteration event.
 * - Their `etaSeconds` (the time left in the current pass) becomes an
 *   estimate for the whole fit: the rest of this pass, plus the passes still
 *   expected, each as long as this one. The fit is assumed to take
 *   {@linkcode TYPICAL_PASSES} passes (at most `maxNfev + 2`: one per
 *   evaluation, plus the start and a warm start's check); past that, the
 *   current pass is taken to be the last. Convergence is not predictable, so
 *   this is an estimate (shown with "~"), not a bound.
 *
 * A pass's duration is projected from the time since it began (the end of
 * the previous pass) and the fraction of the points done. The first pass's
 * start is unknown (the fit's setup and a warm start come before it): it is
 * taken to have begun with the fit, unless its batches come slower than
 * that, which errs long rather than short until the second pass. Without
 * a total number of points, the last complete pass's duration is used. Time
 * is read from the events' `elapsedMs`, so the estimate depends on the
 * events alone.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const t = new FitProgressTracker();
 * const pass = (pass: number, points: number, elapsedMs: number) => ({
 *   phase: "pass" as const, start: 0, nit: 0, nfev: 0, cost: NaN, pass,
 *   batch: 1, pointsProcessed: points, totalPoints: 100, elapsedMs,
 *   etaSeconds: (100 - points) / 100 * 8,
 * });
 * // Pass 1, half done 8 s into the fit: as if it had taken all 8 s.
 * t.update(pass(1, 25, 6_000));
 * assert.strictEqual(t.update(pass(1, 50, 8_000)).etaSeconds, 8 + 7 * 16);
 * t.update(pass(1, 100, 12_000));
 * t.update({ phase: "iteration", start: 0, nit: 1, nfev: 2, cost: 3, elapsedMs: 12_000 });
 * // Pass 2, half done after 4 s: 4 s left in it, six passes of 8 s after it.
 * const p = t.update(pass(2, 50, 16_000));
 * assert.strictEqual(p.nit, 1);
 * assert.strictEqual(p.nfev, 2);
 * assert.strictEqual(p.cost, 3);
 * assert.strictEqual(p.etaSeconds, 4 + 6 * 8);
 * ```
 */
export class FitProgressTracker {
  readonly #maxPasses: number;
  #iteration: FitProgress | undefined;
  #pass = 0;
  /** When the current pass began (the previous pass's end), if known. */
  #passStartMs: number | undefined;
  /** The first pass's first batch: when, and the fraction done. */
  #first: { ms: number; f: number } | undefined;
  #lastMs = 0;
  #lastPassMs: number | undefined;

  /** @param maxNfev The fit's `maxNfev`, when given. */
  constructor(maxNfev?: number) {
    this.#maxPasses = maxNfev === undefined
      ? TYPICAL_PASSES
      : Math.min(TYPICAL_PASSES, maxNfev + 2);
  }

  /** Records `p` and returns it as the bar shows it. */
  update(p: FitProgress): FitProgress {
    if (p.phase === "iteration") {
      if (p.start === 0) this.#iteration = p;
      this.#lastMs = p.elapsedMs;
      return p;
    }
    const f = p.totalPoints && p.pointsProcessed !== undefined
      ? Math.min(1, p.pointsProcessed / p.totalPoints)
      : undefined;
    const pass = p.pass ?? this.#pass;
    if (pass !== this.#pass) {
      if (this.#pass > 0) {
        this.#lastPassMs = this.#passStartMs === undefined
          ? this.#lastMs
          : this.#lastMs - this.#passStartMs;
        // The next pass starts where this one's last batch ended.
        this.#passStartMs = this.#lastMs;
      } else this.#first = { ms: p.elapsedMs, f: f ?? 0 };
      this.#pass = pass;
    }
    this.#lastMs = p.elapsedMs;
    const it = this.#iteration;
    return {
      ...p,
      nit: Math.max(p.nit, it?.nit ?? 0),
      nfev: Math.max(p.nfev, it?.nfev ?? 0),
      cost: Number.isFinite(p.cost) ? p.cost : it?.cost ?? p.cost,
      etaSeconds: this.#fitEta(p, pass, f),
    };
  }

  /** The projected duration of the current pass, in ms. */
  #passMs(ms: number, f: number | undefined): number | undefined {
    if (!f) return this.#lastPassMs;
    if (this.#passStartMs !== undefined) return (ms - this.#passStartMs) / f;
    const first = this.#first!;
    const rate = f > first.f ? (ms - first.ms) / (f - first.f) : 0;
    return Math.max(rate, ms / f);
  }

  #fitEta(
    p: FitProgress,
    pass: number,
    f: number | undefined,
  ): number | undefined {
    const passMs = this.#passMs(p.elapsedMs, f);
    if (passMs === undefined) return undefined;
    const left = f === undefined
      ? p.etaSeconds
      : this.#passStartMs === undefined
      ? (1 - f) * passMs / 1000
      : p.etaSeconds ?? (1 - f) * passMs / 1000;
    if (left === undefined) return undefined;
    const after = Math.max(this.#maxPasses, pass) - pass;
    return left + after * passMs / 1000;
  }
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "--";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `~${s} s`;
  if (s < 3600) return `~${Math.floor(s / 60)} min ${s % 60} s`;
  return `~${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/**
 * The text of one redraw: a bar while a pass over a source is in progress
 * (points processed of the total in this pass, and the `etaSeconds` given,
 * shown as the whole fit's ETA: {@linkcode FitProgressTracker} makes it
 * one), else a spinner with the iteration count; always the function
 * evaluations and the cost.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const line = progressLine({
 *   phase: "pass", start: 0, nit: 3, nfev: 4, cost: 0.5, pass: 2, batch: 5,
 *   pointsProcessed: 500, totalPoints: 1000, etaSeconds: 12, elapsedMs: 3000,
 * }, 20, 0);
 * assert.strictEqual(
 *   line,
 *   "fit [##########----------]  50% | pass 2 batch 5 | iter 3 | nfev 4 | cost 5.0000e-1 | fit ETA ~12 s",
 * );
 * ```
 */
export function progressLine(
  p: FitProgress,
  barWidth = 24,
  tick = 0,
): string {
  // The cost is unknown (NaN) until the first pass completes.
  const cost = Number.isFinite(p.cost) ? p.cost.toExponential(4) : "--";
  const tail = `iter ${p.nit} | nfev ${p.nfev} | cost ${
    cost.replace(/e\+?/, "e")
  }`;
  const start = p.start > 0 ? ` | start ${p.start + 1}` : "";
  if (
    p.phase === "pass" && p.totalPoints !== undefined && p.totalPoints > 0 &&
    p.pointsProcessed !== undefined
  ) {
    const f = Math.min(1, Math.max(0, p.pointsProcessed / p.totalPoints));
    const filled = Math.round(f * barWidth);
    const bar = "#".repeat(filled) + "-".repeat(barWidth - filled);
    const where = `pass ${p.pass ?? "?"}${
      p.batch !== undefined ? ` batch ${p.batch}` : ""
    }`;
    return `fit [${bar}] ${
      (f * 100).toFixed(0).padStart(3)
    }% | ${where}${start} | ${tail} | fit ETA ${formatEta(p.etaSeconds)}`;
  }
  return `fit ${SPINNER[tick % SPINNER.length]} ${tail}${start} | ${
    (p.elapsedMs / 1000).toFixed(1)
  } s`;
}

/**
 * The text of one redraw during a multi-start fit: how many starts have
 * reported, the best cost among their latest iterates, and the function
 * evaluations of all starts together.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const line = multiStartLine([
 *   { phase: "iteration", start: 0, nit: 3, nfev: 4, cost: 2, elapsedMs: 1000 },
 *   { phase: "iteration", start: 1, nit: 5, nfev: 6, cost: 0.5, elapsedMs: 2000 },
 * ], 0);
 * assert.strictEqual(line, "fit ⠋ 2 starts running | best cost 5.0000e-1 | nfev 10 | 2.0 s");
 * ```
 */
export function multiStartLine(
  states: Iterable<FitProgress>,
  tick = 0,
): string {
  let n = 0, nfev = 0, best = Infinity, elapsed = 0;
  for (const s of states) {
    n++;
    nfev += s.nfev;
    if (s.cost < best) best = s.cost;
    elapsed = Math.max(elapsed, s.elapsedMs);
  }
  return `fit ${
    SPINNER[tick % SPINNER.length]
  } ${n} starts running | best cost ${
    Number.isFinite(best) ? best.toExponential(4).replace(/e\+?/, "e") : "--"
  } | nfev ${nfev} | ${(elapsed / 1000).toFixed(1)} s`;
}

/**
 * A progress bar fed by `fit`'s `onProgress`. Nothing is drawn when disabled
 * (stderr not a terminal) or before `delayMs` has passed; `stop()` erases it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const out: string[] = [];
 * const stream = { isTTY: true, columns: 120, write: (s: string) => out.push(s) > 0 };
 * const bar = new FitProgressBar({ enabled: true, delayMs: 0, stream });
 * bar.update({ phase: "iteration", start: 0, nit: 7, nfev: 9, cost: 2, elapsedMs: 1500 });
 * await new Promise((r) => setTimeout(r, 20));
 * bar.stop();
 * assert.ok(out.some((s) => s.includes("iter 7 | nfev 9")));
 *
 * const quiet = new FitProgressBar({ enabled: false, stream });
 * quiet.update({ phase: "iteration", start: 0, nit: 1, nfev: 1, cost: 1, elapsedMs: 1 });
 * quiet.stop();
 * ```
 */
export class FitProgressBar {
  readonly #bar: DelayedBar;
  #last: FitProgress | undefined;
  readonly #tracker: FitProgressTracker;
  readonly #starts = new Map<number, FitProgress>();
  #tick = 0;

  /** @param options See {@linkcode FitProgressBarOptions}. */
  constructor(options: FitProgressBarOptions = {}) {
    this.#tracker = new FitProgressTracker(options.maxNfev);
    this.#bar = new DelayedBar(options, () => {
      const p = this.#last;
      if (!p) return `fit ${SPINNER[this.#tick++ % SPINNER.length]} starting`;
      if (this.#starts.size > 1 && p.phase === "iteration") {
        return multiStartLine(this.#starts.values(), this.#tick++);
      }
      return progressLine(p, 24, this.#tick++);
    });
  }

  /** Records the latest progress (and redraws when the bar is shown). */
  update(p: FitProgress): void {
    if (!this.#bar.active) return;
    this.#last = this.#tracker.update(p);
    this.#starts.set(p.start, this.#last);
    this.#bar.touch();
  }

  /** Erases the bar and stops drawing; idempotent. */
  stop(): void {
    this.#bar.stop();
  }
}

/**
 * The lifecycle both bars share: drawn on a terminal only, shown after a
 * quiet period, redrawn by `format()`, erased by `stop()`.
 */
class DelayedBar {
  readonly #enabled: boolean;
  readonly #stream: ProgressStream | undefined;
  readonly #fps: number;
  readonly #format: () => string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #bar: cliProgress.SingleBar | undefined;
  #stopped = false;
  #showAt = Infinity;

  constructor(
    options: Omit<FitProgressBarOptions, "maxNfev">,
    format: () => string,
  ) {
    this.#enabled = options.enabled ?? safeIsTerminal();
    this.#fps = options.fps ?? 10;
    this.#format = format;
    if (!this.#enabled) return;
    this.#stream = options.stream ?? stderrStream();
    const delay = options.delayMs ?? 1000;
    this.#showAt = performance.now() + delay;
    const timer = setTimeout(() => this.#show(), delay);
    // The bar must never keep a finished CLI alive.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Whether updates are still wanted (enabled and not stopped). */
  get active(): boolean {
    return this.#enabled && !this.#stopped;
  }

  /** Redraws, or shows the bar once its quiet period is over. */
  touch(): void {
    // A solver that never yields to the event loop starves the timer, so
    // the first update after the quiet period shows the bar too.
    if (!this.#bar && performance.now() >= this.#showAt) this.#show();
    else this.#bar?.update(0, {});
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#bar?.stop();
  }

  #show(): void {
    if (this.#stopped || this.#bar) return;
    this.#bar = startBar(this.#stream!, this.#fps, this.#format);
  }
}

/** A `cli-progress` bar on `stream` whose every redraw is `format()`. */
function startBar(
  stream: ProgressStream,
  fps: number,
  format: () => string,
): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar({
    stream: stream as unknown as NodeJS.WritableStream,
    format,
    fps,
    clearOnComplete: true,
    stopOnComplete: false,
    hideCursor: true,
    gracefulExit: false,
    linewrap: false,
  });
  bar.start(1, 0, {});
  return bar;
}

/**
 * The text of one redraw of `nlsq batch`'s bar: fits done of the total,
 * the rate so far and the time left at that rate.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const line = batchProgressLine({ done: 2500, total: 10000, elapsedMs: 500 }, 20);
 * assert.strictEqual(
 *   line,
 *   "batch [#####---------------]  25% | 2500/10000 fits | 5000 fits/s | ETA ~2 s",
 * );
 * ```
 */
export function batchProgressLine(p: FitBatchProgress, barWidth = 24): string {
  const f = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(f * barWidth);
  const bar = "#".repeat(filled) + "-".repeat(barWidth - filled);
  const rate = p.elapsedMs > 0 ? p.done / (p.elapsedMs / 1000) : 0;
  const eta = rate > 0 ? (p.total - p.done) / rate : undefined;
  return `batch [${bar}] ${
    (f * 100).toFixed(0).padStart(3)
  }% | ${p.done}/${p.total} fits | ${
    rate > 0 ? rate.toFixed(0) : "--"
  } fits/s | ETA ${formatEta(eta)}`;
}

/**
 * The progress bar of `nlsq batch`, fed by `fitBatch`'s `onProgress`: like
 * {@linkcode FitProgressBar}, drawn on stderr only when it is a terminal
 * and only after `delayMs`, erased by `stop()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const out: string[] = [];
 * const stream = { isTTY: true, columns: 120, write: (s: string) => out.push(s) > 0 };
 * const bar = new BatchProgressBar({ enabled: true, delayMs: 0, stream });
 * bar.update({ done: 10, total: 40, elapsedMs: 100 });
 * await new Promise((r) => setTimeout(r, 20));
 * bar.stop();
 * assert.ok(out.some((s) => s.includes("10/40 fits")));
 * ```
 */
export class BatchProgressBar {
  readonly #bar: DelayedBar;
  #last: FitBatchProgress | undefined;

  /** @param options See {@linkcode FitProgressBarOptions} (no maxNfev). */
  constructor(options: Omit<FitProgressBarOptions, "maxNfev"> = {}) {
    this.#bar = new DelayedBar(
      options,
      () =>
        this.#last
          ? batchProgressLine(this.#last)
          : `batch ${SPINNER[0]} starting`,
    );
  }

  /** Records the latest progress (and redraws when the bar is shown). */
  update(p: FitBatchProgress): void {
    if (!this.#bar.active) return;
    this.#last = p;
    this.#bar.touch();
  }

  /** Erases the bar and stops drawing; idempotent. */
  stop(): void {
    this.#bar.stop();
  }
}

/**
 * The quiet period before a progress bar shows: 1 s, or
 * `NLSQ_PROGRESS_DELAY_MS` (read only where `--allow-env` permits; tests set
 * it to 0 to see the bar on short runs).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.ok(progressDelayMs() >= 0);
 * ```
 */
export function progressDelayMs(): number {
  const name = "NLSQ_PROGRESS_DELAY_MS";
  try {
    if (
      Deno.permissions.querySync({ name: "env", variable: name }).state !==
        "granted"
    ) {
      return 1000;
    }
    const v = Number(Deno.env.get(name));
    return Deno.env.get(name) !== undefined && v >= 0 ? v : 1000;
  } catch {
    return 1000;
  }
}

function safeIsTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}
