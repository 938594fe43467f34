// Loading an MPI library through Deno FFI and hiding its ABI.
//
// MPICH's ABI (shared by Intel MPI, MVAPICH, Cray MPICH) passes handles as
// 32-bit integer constants; Open MPI passes pointers to predefined global
// objects, which Deno FFI statics of type "pointer" yield as addresses. Both
// are wrapped behind `MpiCalls`, so the binding above needs no casts.

import { isGranted } from "./_env.ts";
import { MpiPermissionError, MpiUnavailableError } from "./mpi_errors.ts";

/**
 * The two MPI ABIs in use.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { MpiFlavor } from "@nlsq/nlsq/cluster";
 * const f: MpiFlavor = "openmpi";
 * assert.ok(["mpich", "openmpi"].includes(f));
 * ```
 */
export type MpiFlavor = "mpich" | "openmpi";

/** Reduction operations exposed. */
export type MpiOp = "sum" | "max";

/**
 * Storage for one `MPI_Request` handle: an `int` in MPICH's ABI, a pointer in
 * Open MPI's; 8 bytes hold either.
 */
export function newRequest(): Uint8Array {
  return new Uint8Array(8);
}

/**
 * The MPI functions the binding uses, with handles already bound.
 *
 * Collectives run on `MPI_COMM_WORLD` and are nonblocking: the caller polls
 * `test` (and the control channel in between), so a rank never sits in a
 * blocking call it cannot leave. Point-to-point notices travel on a private
 * duplicate of the world (`createControl`), which no user message can match.
 */
export interface MpiCalls {
  readonly path: string;
  readonly flavor: MpiFlavor;
  initialized(flag: Int32Array): number;
  finalized(flag: Int32Array): number;
  initThread(required: number, provided: Int32Array): number;
  commRank(out: Int32Array): number;
  commSize(out: Int32Array): number;
  iallreduce(
    send: Float64Array,
    recv: Float64Array,
    count: number,
    op: MpiOp,
    req: Uint8Array,
  ): number;
  ibcast(
    buf: Float64Array,
    count: number,
    root: number,
    req: Uint8Array,
  ): number;
  ibarrier(req: Uint8Array): number;
  test(req: Uint8Array, flag: Int32Array): number;
  wait(req: Uint8Array): number;
  /** `MPI_Comm_dup(MPI_COMM_WORLD)`, kept for the calls below. Collective. */
  createControl(): number;
  /** `MPI_Iprobe` on the control communicator; `source` -1: any. */
  iprobeControl(source: number, tag: number, flag: Int32Array): number;
  isendControl(
    buf: Float64Array,
    dest: number,
    tag: number,
    req: Uint8Array,
  ): number;
  /** `MPI_Recv` on the control communicator; `source` -1: any. */
  recvControl(buf: Float64Array, source: number, tag: number): number;
  abort(code: number): number;
  finalize(): number;
  errorString(code: number): string;
}

/** Libraries tried in order when none is named. */
export const MPI_LIBRARY_CANDIDATES: readonly string[] = [
  "libmpich.so.12",
  "libmpi.so.40",
  // MPICH-ABI builds (Intel MPI, MVAPICH) and unversioned dev links.
  "libmpi.so.12",
  "libmpich.so",
  "libmpi.so",
  "libmpich.dylib",
  "libmpi.dylib",
];

/** MPI_THREAD_FUNNELED has the value 1 in both ABIs. */
export const MPI_THREAD_FUNNELED = 1;

// MPICH handle values, checked against mpich/mpi.h (MPICH 4.x).
const MPICH_COMM_WORLD = 0x44000000;
const MPICH_DOUBLE = 0x4c00080b;
const MPICH_SUM = 0x58000003;
const MPICH_MAX = 0x58000001;
const MPICH_ANY_SOURCE = -2;
const OMPI_ANY_SOURCE = -1;

const PROBE = {
  MPI_Init_thread: {
    parameters: ["pointer", "pointer", "i32", "buffer"],
    result: "i32",
  },
  ompi_mpi_comm_world: { type: "pointer", optional: true },
} as const;

const COMMON = {
  MPI_Initialized: { parameters: ["buffer"], result: "i32" },
  MPI_Finalized: { parameters: ["buffer"], result: "i32" },
  MPI_Init_thread: {
    parameters: ["pointer", "pointer", "i32", "buffer"],
    result: "i32",
  },
  MPI_Finalize: { parameters: [], result: "i32" },
  MPI_Error_string: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  MPI_Test: { parameters: ["buffer", "buffer", "pointer"], result: "i32" },
  MPI_Wait: { parameters: ["buffer", "pointer"], result: "i32" },
} as const;

// A communicator, datatype or operation handle: "i32" in MPICH's ABI,
// "pointer" in Open MPI's.
const MPICH_SYMBOLS = {
  ...COMMON,
  MPI_Comm_rank: { parameters: ["i32", "buffer"], result: "i32" },
  MPI_Comm_size: { parameters: ["i32", "buffer"], result: "i32" },
  MPI_Comm_dup: { parameters: ["i32", "buffer"], result: "i32" },
  MPI_Iallreduce: {
    parameters: ["buffer", "buffer", "i32", "i32", "i32", "i32", "buffer"],
    result: "i32",
  },
  MPI_Ibcast: {
    parameters: ["buffer", "i32", "i32", "i32", "i32", "buffer"],
    result: "i32",
  },
  MPI_Ibarrier: { parameters: ["i32", "buffer"], result: "i32" },
  MPI_Iprobe: {
    parameters: ["i32", "i32", "i32", "buffer", "pointer"],
    result: "i32",
  },
  MPI_Isend: {
    parameters: ["buffer", "i32", "i32", "i32", "i32", "i32", "buffer"],
    result: "i32",
  },
  MPI_Recv: {
    parameters: ["buffer", "i32", "i32", "i32", "i32", "i32", "pointer"],
    result: "i32",
  },
  MPI_Abort: { parameters: ["i32", "i32"], result: "i32" },
} as const;

const OMPI_SYMBOLS = {
  ...COMMON,
  MPI_Comm_rank: { parameters: ["pointer", "buffer"], result: "i32" },
  MPI_Comm_size: { parameters: ["pointer", "buffer"], result: "i32" },
  MPI_Comm_dup: { parameters: ["pointer", "buffer"], result: "i32" },
  MPI_Iallreduce: {
    parameters: [
      "buffer",
      "buffer",
      "i32",
      "pointer",
      "pointer",
      "pointer",
      "buffer",
    ],
    result: "i32",
  },
  MPI_Ibcast: {
    parameters: ["buffer", "i32", "pointer", "i32", "pointer", "buffer"],
    result: "i32",
  },
  MPI_Ibarrier: { parameters: ["pointer", "buffer"], result: "i32" },
  MPI_Iprobe: {
    parameters: ["i32", "i32", "pointer", "buffer", "pointer"],
    result: "i32",
  },
  MPI_Isend: {
    parameters: ["buffer", "i32", "pointer", "i32", "i32", "pointer", "buffer"],
    result: "i32",
  },
  MPI_Recv: {
    parameters: [
      "buffer",
      "i32",
      "pointer",
      "i32",
      "i32",
      "pointer",
      "pointer",
    ],
    result: "i32",
  },
  MPI_Abort: { parameters: ["pointer", "i32"], result: "i32" },
  ompi_mpi_comm_world: { type: "pointer" },
  ompi_mpi_double: { type: "pointer" },
  ompi_mpi_op_sum: { type: "pointer" },
  ompi_mpi_op_max: { type: "pointer" },
} as const;

type Common = Deno.DynamicLibrary<typeof COMMON>["symbols"];

function commonCalls(
  s: Common,
  statusIgnore: Deno.PointerValue,
): Pick<
  MpiCalls,
  | "initialized"
  | "finalized"
  | "initThread"
  | "finalize"
  | "errorString"
  | "test"
  | "wait"
> {
  return {
    initialized: (flag) => s.MPI_Initialized(flag),
    finalized: (flag) => s.MPI_Finalized(flag),
    initThread: (required, provided) =>
      s.MPI_Init_thread(null, null, required, provided),
    finalize: () => s.MPI_Finalize(),
    test: (req, flag) => s.MPI_Test(req, flag, statusIgnore),
    wait: (req) => s.MPI_Wait(req, statusIgnore),
    errorString: (code) => {
      // MPI_MAX_ERROR_STRING is 1024 in MPICH and 256 in Open MPI.
      const buf = new Uint8Array(1024);
      const len = new Int32Array(1);
      if (s.MPI_Error_string(code, buf, len) !== 0) return `MPI error ${code}`;
      return new TextDecoder().decode(buf.subarray(0, len[0]));
    },
  };
}

function mpichCalls(path: string): MpiCalls {
  const s = Deno.dlopen(path, MPICH_SYMBOLS).symbols;
  const ops = { sum: MPICH_SUM, max: MPICH_MAX };
  const world = MPICH_COMM_WORLD;
  // MPI_STATUS_IGNORE is (MPI_Status *)1 in MPICH and NULL in Open MPI.
  const ignore = Deno.UnsafePointer.create(1n);
  let control = -1;
  const from = (source: number) => source < 0 ? MPICH_ANY_SOURCE : source;
  return {
    path,
    flavor: "mpich",
    ...commonCalls(s, ignore),
    commRank: (out) => s.MPI_Comm_rank(world, out),
    commSize: (out) => s.MPI_Comm_size(world, out),
    iallreduce: (send, recv, count, op, req) =>
      s.MPI_Iallreduce(send, recv, count, MPICH_DOUBLE, ops[op], world, req),
    ibcast: (buf, count, root, req) =>
      s.MPI_Ibcast(buf, count, MPICH_DOUBLE, root, world, req),
    ibarrier: (req) => s.MPI_Ibarrier(world, req),
    createControl: () => {
      const out = new Int32Array(1);
      const code = s.MPI_Comm_dup(world, out);
      control = out[0];
      return code;
    },
    iprobeControl: (source, tag, flag) =>
      s.MPI_Iprobe(from(source), tag, control, flag, ignore),
    isendControl: (buf, dest, tag, req) =>
      s.MPI_Isend(buf, buf.length, MPICH_DOUBLE, dest, tag, control, req),
    recvControl: (buf, source, tag) =>
      s.MPI_Recv(
        buf,
        buf.length,
        MPICH_DOUBLE,
        from(source),
        tag,
        control,
        ignore,
      ),
    abort: (code) => s.MPI_Abort(world, code),
  };
}

function ompiCalls(path: string): MpiCalls {
  const s = Deno.dlopen(path, OMPI_SYMBOLS).symbols;
  // The handles are the addresses of Open MPI's predefined objects.
  const world = s.ompi_mpi_comm_world;
  const double = s.ompi_mpi_double;
  const ops = { sum: s.ompi_mpi_op_sum, max: s.ompi_mpi_op_max };
  let control: Deno.PointerValue = null;
  const from = (source: number) => source < 0 ? OMPI_ANY_SOURCE : source;
  return {
    path,
    flavor: "openmpi",
    ...commonCalls(s, null),
    commRank: (out) => s.MPI_Comm_rank(world, out),
    commSize: (out) => s.MPI_Comm_size(world, out),
    iallreduce: (send, recv, count, op, req) =>
      s.MPI_Iallreduce(send, recv, count, double, ops[op], world, req),
    ibcast: (buf, count, root, req) =>
      s.MPI_Ibcast(buf, count, double, root, world, req),
    ibarrier: (req) => s.MPI_Ibarrier(world, req),
    createControl: () => {
      const out = new BigUint64Array(1);
      const code = s.MPI_Comm_dup(world, out);
      control = Deno.UnsafePointer.create(out[0]);
      return code;
    },
    iprobeControl: (source, tag, flag) =>
      s.MPI_Iprobe(from(source), tag, control, flag, null),
    isendControl: (buf, dest, tag, req) =>
      s.MPI_Isend(buf, buf.length, double, dest, tag, control, req),
    recvControl: (buf, source, tag) =>
      s.MPI_Recv(buf, buf.length, double, from(source), tag, control, null),
    abort: (code) => s.MPI_Abort(world, code),
  };
}

function ffiAllowed(path: string): boolean {
  return isGranted({ name: "ffi" }) ||
    (path.includes("/") && isGranted({ name: "ffi", path }));
}

/**
 * Opens `explicit` (from options or NLSQ_MPI_LIBRARY) or the first loadable
 * candidate, and tells MPICH from Open MPI by the presence of Open MPI's
 * `ompi_mpi_comm_world`.
 */
export function loadMpiLibrary(explicit: string | undefined): MpiCalls {
  const candidates = explicit !== undefined
    ? [explicit]
    : MPI_LIBRARY_CANDIDATES;
  const allowed = candidates.filter(ffiAllowed);
  if (allowed.length === 0) {
    throw new MpiPermissionError(
      explicit === undefined ? "the MPI library" : explicit,
    );
  }
  const attempts: string[] = [];
  for (const path of allowed) {
    let flavor: MpiFlavor;
    try {
      const probe = Deno.dlopen(path, PROBE);
      flavor = probe.symbols.ompi_mpi_comm_world === null ? "mpich" : "openmpi";
      // Never dlclose: unloading MPI's transports (UCX) and loading them again
      // in one process breaks their symbol resolution.
    } catch (e) {
      attempts.push(`${path}: ${firstLine(e)}`);
      continue;
    }
    try {
      return flavor === "mpich" ? mpichCalls(path) : ompiCalls(path);
    } catch (e) {
      attempts.push(`${path} (${flavor}): ${firstLine(e)}`);
    }
  }
  throw new MpiUnavailableError(attempts);
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split("\n")[0];
}
