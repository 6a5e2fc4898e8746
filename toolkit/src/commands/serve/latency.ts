// Delta latency, one definition for the server, the page and the live bench: the time from the
// arrival of the last audio sample a delta covers to the moment the delta is sent (or, on a client,
// received). A delta covers the audio up to its token's end_ms (clamped to the audio received so
// far); that sample arrived with some append. The model's own delay (delay_ms) is part of it: the
// token closing at end_ms is only decided once delay_ms more audio has been heard.

/** When each piece of audio arrived: cumulative sample counts with their arrival times. Entries the
 *  decided tokens have passed are dropped, so a session of any length holds only the undecided ones. */
export class ArrivalLog {
  #ends: number[] = []; // cumulative sample count at the end of each append
  #times: number[] = [];
  #head = 0;
  #samples = 0;

  constructor(private readonly sampleRate: number) {}

  get samples(): number {
    return this.#samples;
  }
  get durationMs(): number {
    return (this.#samples * 1000) / this.sampleRate;
  }

  add(samples: number, arrivalMs: number): void {
    this.#samples += samples;
    this.#ends.push(this.#samples);
    this.#times.push(arrivalMs);
  }

  /** ms from the arrival of the sample just before audio time endMs to nowMs (null: no audio). */
  latencyMs(endMs: number, nowMs: number): number | null {
    if (this.#ends.length === this.#head) return null;
    const sample = Math.max(1, Math.min(this.#samples, Math.ceil((endMs * this.sampleRate) / 1000)));
    while (this.#head < this.#ends.length - 1 && this.#ends[this.#head]! < sample) this.#head++;
    const at = this.#times[this.#head]!;
    if (this.#head > 1024) {
      this.#ends = this.#ends.slice(this.#head);
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
    return Math.max(0, Math.round(nowMs - at));
  }

  /** Entries held (for the memory test). */
  get held(): number {
    return this.#ends.length - this.#head;
  }
}
