// One rank of `mpiexec -n N deno run -A tests/mpi/collectives.ts`: runs the
// collectives and prints one JSON line that cluster_mpi_test.ts checks.
import { runMpi } from "../../cluster/mod.ts";

await runMpi((comm) => {
  const { rank, size } = comm;
  const k = rank + 1;
  // Sums over ranks: n(n+1)/2, n(n+1)(2n+1)/6, n/2; plus exact fractions.
  const sum = comm.allreduceSum(new Float64Array([k, k * k, 0.5, 1 / 3]));
  const max = comm.allreduceMax(new Float64Array([rank, -rank]));
  const root = size - 1;
  const bcast = comm.broadcast(
    rank === root
      ? new Float64Array([3.25, -1e300, rank])
      : new Float64Array(3),
    root,
  );
  // Sub-array views are sent from their own offset, not the buffer's start.
  const backing = new Float64Array([99, k, 99]);
  const view = comm.allreduceSum(backing.subarray(1, 2));
  comm.barrier();
  console.log(JSON.stringify({
    rank,
    size,
    flavor: comm.flavor,
    sum: [...sum],
    max: [...max],
    bcast: [...bcast],
    view: [...view],
    backing: [...backing],
  }));
});
