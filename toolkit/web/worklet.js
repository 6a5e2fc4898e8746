// AudioWorklet: the microphone at the context's rate -> 16 kHz mono PCM16 in 80 ms chunks (1280
// samples), posted to the page. Resampling is a windowed-sinc interpolator (Blackman window, 16 taps
// a side) with its cutoff at the lower Nyquist frequency, so downsampling does not alias.
const TARGET = 16000;
const CHUNK = 1280;
const HALF = 16;

class Pcm16Resampler extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / TARGET; // input samples per output sample
    this.cutoff = Math.min(1, 1 / this.ratio);
    this.buf = new Float32Array(0); // input not yet consumed (with HALF*ratio of history)
    this.pos = 0; // position of the next output sample in buf, in input samples
    this.out = new Int16Array(CHUNK);
    this.n = 0;
  }

  sinc(x) {
    if (x === 0) return 1;
    const px = Math.PI * x;
    return Math.sin(px) / px;
  }

  process(inputs) {
    const ch = inputs[0];
    if (!ch || ch.length === 0 || !ch[0]) return true;
    const frames = ch[0].length;
    const mono = new Float32Array(frames);
    for (const c of ch) for (let i = 0; i < frames; i++) mono[i] += c[i] / ch.length;
    const merged = new Float32Array(this.buf.length + frames);
    merged.set(this.buf);
    merged.set(mono, this.buf.length);
    this.buf = merged;
    const reach = Math.ceil(HALF / this.cutoff);
    while (this.pos + reach < this.buf.length) {
      const center = Math.floor(this.pos);
      const frac = this.pos - center;
      let acc = 0;
      let wsum = 0;
      for (let k = -reach + 1; k <= reach; k++) {
        const idx = center + k;
        if (idx < 0) continue;
        const x = (k - frac) * this.cutoff;
        const w =
          0.42 + 0.5 * Math.cos((Math.PI * (k - frac)) / reach) + 0.08 * Math.cos((2 * Math.PI * (k - frac)) / reach);
        const h = this.sinc(x) * w;
        acc += this.buf[idx] * h;
        wsum += h;
      }
      const y = wsum !== 0 ? acc / wsum : 0;
      this.out[this.n++] = Math.max(-32768, Math.min(32767, Math.round(y * 32768)));
      if (this.n === CHUNK) {
        this.port.postMessage(this.out.buffer, [this.out.buffer]);
        this.out = new Int16Array(CHUNK);
        this.n = 0;
      }
      this.pos += this.ratio;
    }
    const drop = Math.max(0, Math.floor(this.pos) - reach);
    if (drop > 0) {
      this.buf = this.buf.slice(drop);
      this.pos -= drop;
    }
    return true;
  }
}

registerProcessor("pcm16-resampler", Pcm16Resampler);
