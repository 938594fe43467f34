// Departure notices: how a rank waiting in a collective learns that another
// rank has left the job (finalized MPI because its program ended) and will
// never join, so that it ends the job instead of waiting forever.
//
// Every collective on the world is numbered in call order, the same order on
// every rank. A rank that leaves first sends [rank, collectives made] on the
// private control communicator: a rank other than 0 to rank 0, rank 0 to
// every rank. (Rank 0 hears of everyone; the others need to hear
// of rank 0 only: a rank stuck waiting for a departed rank either shares the
// collective with rank 0, which then knows, or waits for rank 0 itself.) A
// rank waiting in collective k that holds a notice of fewer than k
// collectives fails. On leaving, rank 0 collects every other rank's notice
// and the others collect rank 0's: the counts must agree, and every message
// is matched before MPI_Finalize, as MPI requires.

import { type MpiCalls, newRequest } from "./_mpi_library.ts";
import { pollUntil } from "./_mpi_wait.ts";
import { MpiJobError } from "./mpi_errors.ts";

/** The tag of departure notices on the control communicator. */
const DEPART_TAG = 0x4e4c;

/** Reports a failed MPI call or an out-of-step job; never returns. */
export type Fail = (error: Error) => never;

interface Departure {
  rank: number;
  collectives: number;
}

/** One rank's view of who has left the job. */
export class Departures {
  readonly #calls: MpiCalls;
  readonly #rank: number;
  readonly #size: number;
  readonly #check: (call: string, code: number) => void;
  readonly #fail: Fail;
  readonly #known = new Map<number, Departure>();
  readonly #flag = new Int32Array(1);
  #sending: Float64Array | null = null;

  constructor(
    calls: MpiCalls,
    rank: number,
    size: number,
    check: (call: string, code: number) => void,
    fail: Fail,
  ) {
    this.#calls = calls;
    this.#rank = rank;
    this.#size = size;
    this.#check = check;
    this.#fail = fail;
  }

  /**
   * Receives the notices that have arrived, then fails if a rank left before
   * collective `k` (named `call`), which it will therefore never join.
   */
  poll(k: number, call: string): void {
    if (this.#size === 1) return;
    this.#receiveArrived();
    for (const d of this.#known.values()) {
      if (d.collectives < k) {
        this.#fail(
          new MpiJobError(
            d.rank,
            `rank ${d.rank} left the job (finalized MPI, as its program ended) after ${d.collectives} collective call(s), while rank ${this.#rank} waits for it in collective call ${k} (${call}), which it will never join`,
          ),
        );
      }
    }
  }

  /**
   * Sends this rank's notice and waits for the notices it must receive (rank
   * 0: everyone's; the others: rank 0's), failing if any rank made a
   * different number of collective calls. Then MPI may be finalized.
   */
  leave(collectives: number): void {
    if (this.#size === 1) return;
    const notice = new Float64Array([this.#rank, collectives]);
    // MPI reads it until the sends complete: keep it reachable.
    this.#sending = notice;
    const peers = this.#rank === 0
      ? Array.from({ length: this.#size - 1 }, (_, i) => i + 1)
      : [0];
    // One buffer for all the sends: MPI-3 allows concurrent sends from it.
    const requests = peers.map((peer) => {
      const req = newRequest();
      this.#check(
        "MPI_Isend",
        this.#calls.isendControl(notice, peer, DEPART_TAG, req),
      );
      return req;
    });
    pollUntil(() => {
      this.#receiveArrived();
      this.#compare(collectives);
      return this.#known.size >= peers.length;
    }, () => {});
    for (const req of requests) this.#check("MPI_Wait", this.#calls.wait(req));
    this.#sending = null;
  }

  #compare(collectives: number): void {
    for (const d of this.#known.values()) {
      if (d.collectives !== collectives) {
        this.#fail(
          new MpiJobError(
            d.rank,
            `rank ${d.rank} left the job after ${d.collectives} collective call(s) but rank ${this.#rank} made ${collectives}: the ranks did not make the same MPI calls`,
          ),
        );
      }
    }
  }

  /** Receives every notice already waiting (rank 0: from anyone). */
  #receiveArrived(): void {
    const source = this.#rank === 0 ? -1 : 0;
    for (;;) {
      this.#check(
        "MPI_Iprobe",
        this.#calls.iprobeControl(source, DEPART_TAG, this.#flag),
      );
      if (this.#flag[0] === 0) return;
      const buf = new Float64Array(2);
      this.#check(
        "MPI_Recv",
        this.#calls.recvControl(buf, source, DEPART_TAG),
      );
      this.#known.set(buf[0], { rank: buf[0], collectives: buf[1] });
    }
  }
}
