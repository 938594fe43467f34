/**
 * The state of a batch engine in one thread: its settings, the inputs
 * shared by every fit, the outputs, a chunk's data, and every fit's solver
 * state in flat typed arrays indexed by its place in the chunk. Created by
 * {@linkcode createEngineState}, which the worker threads run from source
 * too (it uses nothing but its arguments).
 *
 * @module
 */

/** The state of one engine (one model, one batch) in one thread. */
export interface EngineState {
  // The compiled functions of the model (see _kernel_source.ts).
  kernel: {
    (
      X: Float64Array[],
      xo: number,
      y: Float64Array,
      yo: number,
      w: Float64Array | null,
      wo: number,
      n: number,
      P: Float64Array,
      po: number,
      H: Float64Array,
      ho: number,
      G: Float64Array,
      go: number,
    ): number;
    /** Forgets the data a kernel copied (the WebAssembly one). */
    reset?: () => void;
  };
  ssr: (
    X: Float64Array[],
    xo: number,
    y: Float64Array,
    yo: number,
    n: number,
    P: Float64Array,
    po: number,
  ) => number;
  // Sizes.
  p: number;
  q: number;
  n: number;
  nVars: number;
  free: Int32Array;
  // Settings.
  poisson: boolean;
  /** The cost is 0.5 * sum of unweighted squared residuals. */
  plainCost: boolean;
  omit: boolean;
  ftol: number;
  xtol: number;
  gtol: number;
  maxNfev: number;
  // Inputs shared by every fit; p0 and the bounds are the chunk's when per
  // fit (set by runChunk).
  X: Float64Array[];
  xPerFit: boolean;
  wShared: Float64Array | null;
  sigmaPerFit: boolean;
  p0: Float64Array;
  p0PerFit: boolean;
  lower: Float64Array | null;
  upper: Float64Array | null;
  boundsPerFit: boolean;
  // Outputs, by global fit index.
  popt: Float64Array;
  perr: Float64Array;
  cost: Float64Array;
  rsq: Float64Array;
  nfev: Int32Array;
  nit: Int32Array;
  status: Int8Array;
  flags: Uint8Array;
  // The chunk's data: fit `first + k` at `(base + k) * n`.
  Yc: Float64Array;
  Xc: Float64Array[] | null;
  Sc: Float64Array | null;
  base: number;
  // Per-fit state, by place k in the chunk.
  th: Float64Array;
  Hc: Float64Array;
  Gc: Float64Array;
  Dg: Float64Array;
  cst: Float64Array;
  mu: Float64Array;
  nu: Float64Array;
  /** 1 once fit k evaluates with `kernel` (always without startKernel). */
  mode: Uint8Array;
  sst: Float64Array;
  nfv: Int32Array;
  nits: Int32Array;
  npts: Int32Array;
  cmp: Uint8Array;
  // Compacted data (nanPolicy "omit") and per-fit weights, at k * n.
  xS: Float64Array[];
  yS: Float64Array;
  wS: Float64Array;
  /** The kernel of the covariance where it differs from `kernel`, or null. */
  covKernel: EngineState["kernel"] | null;
  /**
   * Poisson: the kernel of the first steps (Fisher scoring, robust far from
   * the minimum) until the relative reduction of the cost falls below
   * `switchBelow`; `kernel` (Newton) then. Null otherwise.
   */
  startKernel: EngineState["kernel"] | null;
  switchBelow: number;
  // The damped solve and the quadratic form, unrolled for q or with loops.
  solveStep: (
    H: Float64Array,
    ho: number,
    G: Float64Array,
    go: number,
    D: Float64Array,
    dO: number,
    mu: number,
    blk: Uint8Array,
    s: Float64Array,
  ) => boolean;
  quadForm: (H: Float64Array, ho: number, s: Float64Array) => number;
  // Scratch of one step.
  blk: Uint8Array;
  tt: Float64Array;
  Ht: Float64Array;
  Gt: Float64Array;
  st: Float64Array;
  A: Float64Array;
  z: Float64Array;
}

/**
 * A chunk's data: fit `first + k` of `runChunk` at `(base + k) * n` in `y`
 * (and in `x`, `s` when per fit), its start and bounds at `(base + k) * p`
 * in `p0`, `lo`, `up` when per fit (else null: the engine's shared ones).
 */
export interface ChunkData {
  y: Float64Array;
  x: Float64Array[] | null;
  s: Float64Array | null;
  p0: Float64Array | null;
  lo: Float64Array | null;
  up: Float64Array | null;
}

/** The settings and arrays of one batch: what a worker thread receives. */
export type EngineConfig = Pick<
  EngineState,
  | "p"
  | "q"
  | "n"
  | "nVars"
  | "free"
  | "poisson"
  | "plainCost"
  | "omit"
  | "ftol"
  | "xtol"
  | "gtol"
  | "maxNfev"
  | "X"
  | "xPerFit"
  | "wShared"
  | "sigmaPerFit"
  | "p0"
  | "p0PerFit"
  | "lower"
  | "upper"
  | "boundsPerFit"
  | "popt"
  | "perr"
  | "cost"
  | "rsq"
  | "nfev"
  | "nit"
  | "status"
  | "flags"
>;

/** An engine's state for chunks of up to `capacity` fits. */
export function createEngineState(
  kernel: EngineState["kernel"],
  covKernel: EngineState["covKernel"],
  startKernel: EngineState["startKernel"],
  ssr: EngineState["ssr"],
  solveStep: EngineState["solveStep"],
  quadForm: EngineState["quadForm"],
  c: EngineConfig,
  capacity: number,
): EngineState {
  const C = capacity, p = c.p, q = c.q, n = c.n;
  const P2 = (q * (q + 1)) >> 1;
  const xS: Float64Array[] = [];
  // Scratch data only where it can be needed (compaction, per-fit weights).
  const dataScratch = c.omit ? C * n : 0;
  for (let v = 0; v < c.nVars; v++) xS.push(new Float64Array(dataScratch));
  return {
    kernel,
    covKernel,
    startKernel,
    switchBelow: 1e-4,
    ssr,
    solveStep,
    quadForm,
    p,
    q,
    n,
    nVars: c.nVars,
    free: c.free,
    poisson: c.poisson,
    plainCost: c.plainCost,
    omit: c.omit,
    ftol: c.ftol,
    xtol: c.xtol,
    gtol: c.gtol,
    maxNfev: c.maxNfev,
    X: c.X,
    xPerFit: c.xPerFit,
    wShared: c.wShared,
    sigmaPerFit: c.sigmaPerFit,
    p0: c.p0,
    p0PerFit: c.p0PerFit,
    lower: c.lower,
    upper: c.upper,
    boundsPerFit: c.boundsPerFit,
    popt: c.popt,
    perr: c.perr,
    cost: c.cost,
    rsq: c.rsq,
    nfev: c.nfev,
    nit: c.nit,
    status: c.status,
    flags: c.flags,
    Yc: new Float64Array(0),
    Xc: null,
    Sc: null,
    base: 0,
    th: new Float64Array(C * p),
    Hc: new Float64Array(C * P2),
    Gc: new Float64Array(C * q),
    Dg: new Float64Array(C * q),
    cst: new Float64Array(C),
    mu: new Float64Array(C),
    nu: new Float64Array(C),
    mode: new Uint8Array(C),
    sst: new Float64Array(C),
    nfv: new Int32Array(C),
    nits: new Int32Array(C),
    npts: new Int32Array(C),
    cmp: new Uint8Array(C),
    xS,
    yS: new Float64Array(dataScratch),
    wS: new Float64Array(
      c.sigmaPerFit || (c.omit && c.wShared !== null) ? C * n : 0,
    ),
    blk: new Uint8Array(q),
    tt: new Float64Array(p),
    Ht: new Float64Array(P2),
    Gt: new Float64Array(q),
    st: new Float64Array(q),
    A: new Float64Array(q * q),
    z: new Float64Array(q),
  };
}
