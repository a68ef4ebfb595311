// The audio thread: the microphone (or a file, paced as if live) in, the chosen source out.
//
// In: the microphone's channels are averaged, resampled to the model's rate with a windowed-sinc
// low-pass (resampler.js) and cut into the model's blocks, which go to the model's worker through
// a MessagePort, so that this thread never waits for the model. A file comes already at the
// model's rate and is cut into blocks at the pace of the audio clock.
// Out: each block's sources come back from the worker; the one chosen is resampled to the device's
// rate and played from a queue (silence until the first block, and whenever the model falls behind).
import { Resampler } from './resampler.js';

class SeparatorProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { modelRate, block } = options.processorOptions;
    this.modelRate = modelRate;
    this.block = new Float32Array(block);
    this.filled = 0;
    this.down = new Resampler(sampleRate, modelRate);
    this.up = new Resampler(modelRate, sampleRate);
    this.choice = -1;          // the source played; -1: none
    // at most two blocks wait to be played: after a stall (the first blocks, a busy computer) the
    // oldest are dropped, so that the delay heard comes back down
    this.maxQueued = Math.ceil(2 * block * sampleRate / modelRate) + 128;
    this.queue = [];           // device-rate samples to play
    this.queued = 0;
    this.queueAt = 0;          // the next sample of queue[0]
    this.file = null;          // a file's samples at the model's rate, when it is the input
    this.fileAt = 0;
    this.owed = 0;             // model-rate samples of the file due at the audio clock
    this.running = true;
    this.worker = null;
    this.port.onmessage = (e) => this.onMain(e.data);
  }

  onMain(message) {
    if (message.type === 'connect') {
      this.worker = message.port;
      this.worker.onmessage = (e) => this.onSources(e.data.sources);
    } else if (message.type === 'choose') {
      this.choice = message.source;
      this.queue = []; this.queued = 0; this.queueAt = 0; this.up.reset();
    } else if (message.type === 'file') {
      this.file = message.samples;
    } else if (message.type === 'stop') {
      this.stop();
    }
  }

  stop() {
    if (!this.running) return;
    this.running = false;
    const rest = this.block.slice(0, this.filled);
    this.worker.postMessage({ type: 'end', samples: rest }, [rest.buffer]);
    this.port.postMessage({ type: 'stopped' });
  }

  push(samples) {
    for (let i = 0; i < samples.length;) {
      const n = Math.min(samples.length - i, this.block.length - this.filled);
      this.block.set(samples.subarray(i, i + n), this.filled);
      this.filled += n; i += n;
      if (this.filled === this.block.length) {
        const full = this.block.slice();
        this.worker.postMessage({ type: 'block', samples: full }, [full.buffer]);
        this.filled = 0;
      }
    }
  }

  onSources(sources) {
    if (this.choice < 0 || !sources) return;
    const out = this.up.process(sources[this.choice]);
    this.queue.push(out); this.queued += out.length;
    while (this.queued > this.maxQueued) {
      const drop = Math.min(this.queued - this.maxQueued, this.queue[0].length - this.queueAt);
      this.queueAt += drop; this.queued -= drop;
      if (this.queueAt === this.queue[0].length) { this.queue.shift(); this.queueAt = 0; }
    }
  }

  process(inputs, outputs) {
    if (!this.running || !this.worker) return this.running;
    const frames = outputs[0][0].length;
    if (this.file) {
      this.owed += frames * this.modelRate / sampleRate;
      const n = Math.min(Math.floor(this.owed), this.file.length - this.fileAt);
      this.owed -= n;
      this.push(this.file.subarray(this.fileAt, this.fileAt + n));
      this.fileAt += n;
      if (this.fileAt >= this.file.length) { this.port.postMessage({ type: 'fileEnd' }); this.stop(); }
    } else if (inputs[0].length) {
      const channels = inputs[0];
      const mono = new Float32Array(channels[0].length);
      for (const c of channels) for (let i = 0; i < mono.length; i++) mono[i] += c[i] / channels.length;
      this.push(this.down.process(mono));
    }
    // the chosen source, on every output channel
    const out = outputs[0];
    for (let i = 0; i < frames && this.queued; i++) {
      const head = this.queue[0];
      const x = head[this.queueAt++];
      if (this.queueAt === head.length) { this.queue.shift(); this.queueAt = 0; }
      this.queued--;
      for (const channel of out) channel[i] = x;
    }
    return true;
  }
}

registerProcessor('separator', SeparatorProcessor);
