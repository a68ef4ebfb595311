// The model: an ONNX Runtime Web session of the streaming step, fed its own states, off the audio thread.
//
// Every name, shape and dtype comes from the file's metadata (model.json): the step maps
// (mixture [1, block], ...states) to (sources [1, n_src, block], ...next states), the states in the
// metadata's order, all zeros at a stream's start. The first `latency` output samples come before
// the stream's start and are left out; it ends with blocks padded with the metadata's end_padding.
//
// Messages: from the page {type: 'init', meta, model} -> {type: 'ready', threads} or {type: 'error'};
// blocks {type: 'block', samples} come from the page or, live, from the audio worklet's port, which
// gets each block's sources back ({type: 'sources', sources}); {type: 'end', samples} ends the stream
// with the rest (fewer than a block) and the page gets {type: 'done', sources, times}.
import * as ort from './ort/ort.wasm.min.mjs';

const ARRAYS = { float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array,
                 int8: Int8Array, uint8: Uint8Array, bool: Uint8Array };

let session, meta, states, toSkip, recorded, times, queue = Promise.resolve();

function zeroStates() {
  return meta.states.map((s) => {
    const dims = s.shape.map((d) => (d === 'batch' ? 1 : d));
    const Array_ = ARRAYS[s.dtype];
    if (!Array_) throw new Error(`state ${s.name} has dtype ${s.dtype}, which this page does not know`);
    return new ort.Tensor(s.dtype, new Array_(dims.reduce((a, b) => a * b, 1)), dims);
  });
}

function reset() {
  states = zeroStates();
  toSkip = meta.latency;
  recorded = Array.from({ length: meta.n_src }, () => []);
  times = [];
}

// sources [n_src][block] of one block; the states move on
async function step(samples) {
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', samples, [1, samples.length]) };
  meta.states.forEach((s, i) => { feeds[s.name] = states[i]; });
  const t0 = performance.now();
  const out = await session.run(feeds);
  times.push(performance.now() - t0);
  states = meta.states.map((s, i) => out[session.outputNames[1 + i]]);
  const sources = out[session.outputNames[0]].data;
  const n = samples.length;
  return Array.from({ length: meta.n_src }, (_, c) => sources.slice(c * n, (c + 1) * n));
}

// keep the sources after the first `latency` samples; each source's level (rms) in this block
function record(sources) {
  const skip = Math.min(toSkip, sources[0].length);
  toSkip -= skip;
  return sources.map((s, c) => {
    if (skip < s.length) recorded[c].push(skip ? s.slice(skip) : s);
    let sum = 0;
    for (const x of s) sum += x * x;
    return Math.sqrt(sum / s.length);
  });
}

async function onBlock(samples, reply) {
  if (samples.length !== meta.block) {
    throw new Error(`a block of ${samples.length} samples; the model takes ${meta.block}`);
  }
  const sources = await step(samples);
  const levels = record(sources);
  if (reply) {  // copies: the recorded sources stay here
    const copies = sources.map((s) => s.slice());
    reply.postMessage({ type: 'sources', sources: copies }, copies.map((s) => s.buffer));
  }
  postMessage({ type: 'block', ms: times[times.length - 1], levels });
}

async function onEnd(rest) {
  // The output so far ends `latency` samples before `rest`: padded blocks (samples that add no frame) give
  // those, projected as the model projects its outputs, since the step itself makes them.
  const wanted = rest.length + meta.latency;
  const n = Math.ceil(wanted / meta.block);
  const padded = new Float32Array(n * meta.block).fill(meta.end_padding === 'nan' ? NaN : 0);
  padded.set(rest);
  const blocks = [];
  for (let i = 0; i < n; i++) blocks.push(await step(padded.slice(i * meta.block, (i + 1) * meta.block)));
  const ends = blocks[0].map((_, c) => {
    const joined = new Float32Array(n * meta.block);
    blocks.forEach((b, i) => joined.set(b[c], i * meta.block));
    return joined.subarray(0, wanted);
  });
  record(ends);
  const sources = recorded.map((chunks) => {
    const out = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
    let at = 0;
    for (const c of chunks) { out.set(c, at); at += c.length; }
    return out;
  });
  const resources = performance.getEntriesByType('resource').map((e) => e.name);  // for the page's summary
  postMessage({ type: 'done', sources, times, resources }, sources.map((s) => s.buffer));
  reset();
}

// one message at a time, in order: a block waits for the previous block's states
function handle(message, reply) {
  queue = queue.then(async () => {
    try {
      if (message.type === 'block') await onBlock(message.samples, reply);
      else if (message.type === 'end') await onEnd(message.samples);
    } catch (err) {
      postMessage({ type: 'error', message: `the model failed on a block: ${err.message || err}` });
    }
  });
}

async function init({ meta: m, model }) {
  meta = m;
  ort.env.logLevel = 'error';
  ort.env.wasm.wasmPaths = new URL('./ort/', import.meta.url).href;
  // threads need SharedArrayBuffer, which a page has only when its server sends the isolation headers
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  try {
    const response = await fetch(model, { cache: 'no-cache' });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  } catch (err) {
    postMessage({ type: 'error', message: `ONNX Runtime could not load ${model}: ${err.message || err}` });
    return;
  }
  const expected = 1 + meta.states.length;
  if (session.inputNames.length !== expected || session.outputNames.length !== expected) {
    postMessage({ type: 'error', message: `${model} has ${session.inputNames.length} inputs, and its metadata ` +
                 `names ${meta.states.length} states: it is not the streaming step model.json describes` });
    return;
  }
  reset();
  postMessage({ type: 'ready', threads: ort.env.wasm.numThreads });
}

onmessage = (event) => {
  const message = event.data;
  if (message.type === 'init') init(message);
  else if (message.type === 'port') {  // the audio worklet's end of a channel
    const port = message.port;
    port.onmessage = (e) => handle(e.data, port);
  } else handle(message, null);
};
