// A streaming windowed-sinc resampler, shared by the audio worklet (microphone in, chosen source out)
// and the page (a file at another rate than the model's).
//
// Output sample n sits at input time n * inRate / outRate. It is the input convolved with a low-pass
// at the lower of the two Nyquist frequencies (times ROLLOFF), so that downsampling does not fold
// the band above the new Nyquist back into speech. The kernel is a sinc under a Blackman window,
// ZEROS zero crossings each side, tabulated finely and read with linear interpolation.

const ZEROS = 16;        // zero crossings each side: about 75 dB of stop band with the Blackman window
const ROLLOFF = 0.92;    // the pass band ends at 92 % of the lower Nyquist frequency
const TABLE_STEPS = 128; // table points per input sample of the kernel's argument

export class Resampler {
  constructor(inRate, outRate) {
    this.inRate = inRate;
    this.outRate = outRate;
    this.step = inRate / outRate;              // input samples per output sample
    this.identity = inRate === outRate;
    this.cutoff = ROLLOFF * Math.min(1, outRate / inRate);  // in cycles per input sample, times 2
    this.half = Math.ceil(ZEROS / this.cutoff); // the kernel's half width, in input samples
    const n = this.half * TABLE_STEPS + 2;
    this.table = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = i / TABLE_STEPS;
      const x = Math.PI * this.cutoff * u;
      const sinc = u === 0 ? 1 : Math.sin(x) / x;
      const a = Math.PI * u / this.half;
      const w = u >= this.half ? 0 : 0.42 + 0.5 * Math.cos(a) + 0.08 * Math.cos(2 * a);  // Blackman
      this.table[i] = this.cutoff * sinc * w;
    }
    this.reset();
  }

  reset() {
    // the input before the stream's start is silence
    this.buffer = new Float32Array(this.half);
    this.start = -this.half;  // input index of buffer[0]
    this.next = 0;            // index of the next output sample
  }

  // The output samples the input so far determines (each waits for `half` input samples past it).
  process(input) {
    if (this.identity) return Float32Array.from(input);
    const joined = new Float32Array(this.buffer.length + input.length);
    joined.set(this.buffer);
    joined.set(input, this.buffer.length);
    const end = this.start + joined.length;  // one past the last input index
    const out = [];
    for (;;) {
      const t = this.next * this.step;
      const last = Math.floor(t) + this.half;
      if (last >= end) break;
      let acc = 0;
      for (let k = Math.floor(t) - this.half + 1; k <= last; k++) {
        const pos = Math.abs(t - k) * TABLE_STEPS;
        const i = Math.floor(pos);
        const f = pos - i;
        acc += joined[k - this.start] * (this.table[i] + f * (this.table[i + 1] - this.table[i]));
      }
      out.push(acc);
      this.next++;
    }
    const keep = Math.floor(this.next * this.step) - this.half + 1;  // the oldest input the next output reads
    const drop = Math.max(0, Math.min(keep - this.start, joined.length));
    this.buffer = joined.slice(drop);
    this.start += drop;
    return Float32Array.from(out);
  }

  // A whole signal at the output rate: round(length * outRate / inRate) samples.
  static resampleAll(signal, inRate, outRate) {
    if (inRate === outRate) return Float32Array.from(signal);
    const r = new Resampler(inRate, outRate);
    const length = Math.round(signal.length * outRate / inRate);
    const head = r.process(signal);
    const tail = r.process(new Float32Array(r.half + Math.ceil(r.step) + 1));
    const out = new Float32Array(length);
    out.set(head.subarray(0, length));
    if (head.length < length) out.set(tail.subarray(0, length - head.length), head.length);
    return out;
  }
}
