#!/bin/bash
# A distributed nlsq fit on a Slurm cluster: one MPI rank per node, each rank
# using the cores Slurm gives it.
#
#   sbatch examples/slurm_job.sh
#   sbatch --export=ALL,DATA=/scratch/me/big.npy examples/slurm_job.sh
#
# Needs deno on PATH on every node and an MPI library. srun starts the ranks
# through PMI: --mpi=pmi2 for MPICH / Intel MPI / MVAPICH, --mpi=pmix for
# Open MPI 5 (check `srun --mpi=list`). Set NLSQ_MPI_LIBRARY to the library's
# path when it is not found by name.
#
#SBATCH --job-name=nlsq_distributed
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=32
#SBATCH --time=01:00:00
#SBATCH --output=nlsq_%j.out

set -euo pipefail

# Site specific, for example:
# module load mpich

CHECKPOINTS="nlsq_checkpoints/${SLURM_JOB_ID:-local}"

# Compile and cache once, so the ranks do not all do it at start-up.
deno cache examples/distributed_fit.ts

# --allow-ffi: the MPI library; --allow-env: the launcher's variables and
# NLSQ_MPI_LIBRARY; --allow-read: the MPI library and the data;
# --allow-write: checkpoints (only rank 0 writes them).
ARGS=(--checkpoint-dir "${CHECKPOINTS}" --threads "${SLURM_CPUS_PER_TASK:-1}")
if [[ -n "${DATA:-}" ]]; then ARGS+=(--data "${DATA}"); fi

srun --mpi="${NLSQ_SRUN_MPI:-pmi2}" \
  deno run --allow-ffi --allow-env --allow-read --allow-write="${CHECKPOINTS}" \
  examples/distributed_fit.ts "${ARGS[@]}"
# Or, inside the allocation: mpiexec -n "${SLURM_NTASKS}" deno run ...
