// Times MPI_Allreduce(MPI_SUM) of p*p + p + 1 doubles (the size of a packed
// linearization: J^T J, J^T r and the cost) between the ranks of
// `mpiexec -n N deno run -A tests/mpi/allreduce_bench.ts [iterations]`.
// Rank 0 prints one JSON line with microseconds per call.
import { runMpi } from "../../cluster/mod.ts";

const iterations = Number(Deno.args[0] ?? 20_000);

await runMpi((comm) => {
  const results: Record<string, unknown>[] = [];
  for (const p of [3, 6, 20]) {
    const n = p * p + p + 1;
    const data = new Float64Array(n);
    for (let i = 0; i < 1000; i++) comm.allreduceSum(data.fill(1));
    // Several batches; the median batch is robust to scheduler hiccups.
    const perCall: number[] = [];
    const batch = Math.max(1, Math.floor(iterations / 10));
    for (let b = 0; b < 10; b++) {
      comm.barrier();
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) comm.allreduceSum(data);
      perCall.push((performance.now() - t0) * 1000 / batch);
      data.fill(1);
    }
    const check = comm.allreduceSum(new Float64Array(n).fill(1));
    perCall.sort((a, b) => a - b);
    results.push({
      p,
      doubles: n,
      medianUs: perCall[5],
      minUs: perCall[0],
      correct: check.every((v) => v === comm.size),
    });
  }
  if (comm.rank === 0) {
    console.log(JSON.stringify({ size: comm.size, iterations, results }));
  }
});
