// The page: the model's worker, the audio graph, the controls, and the automation contract.
//
// index.html?file=URL separates that WAV file block by block on load, through the same worker and
// states as the live path but as fast as the model runs; index.html?mic=SECONDS streams the
// microphone for that long. Both then write a JSON summary into #result and set document.title to
// 'done', or to 'error: <message>' when something fails.
import { Resampler } from './resampler.js';
import { downmix, encodeWav, parseWav } from './wav.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const automated = params.has('file') || params.has('mic');
const SAMPLES_IN_SUMMARY = 8000;

let meta, worker, threads, live = null, finished = null;
const stats = { times: [], levels: [], dirty: false };

function show(text, kind = 'info') {
  const box = $('message');
  box.textContent = text;
  box.className = kind;
  box.hidden = !text;
}

function fail(text) {
  show(text, 'error');
  if (automated) document.title = `error: ${text}`;
  setRunning(false);
}

function setRunning(running) {
  $('mic').disabled = running || !worker;
  $('file').disabled = running || !worker;
  $('drop').classList.toggle('disabled', running || !worker);
  $('stop').disabled = !running;
}

const ms = (samples) => (1000 * samples / meta.sample_rate);
const fmt = (x, digits = 1) => x.toFixed(digits);

// numpy's default percentile: linear between the closest ranks
function percentile(sorted, q) {
  if (!sorted.length) return NaN;
  const pos = q * (sorted.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function timing(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const median = percentile(sorted, 0.5);
  return { median, p99: percentile(sorted, 0.99), rtf: median / ms(meta.block) };
}

function rms(x) {
  let sum = 0;
  for (const v of x) sum += v * v;
  return x.length ? Math.sqrt(sum / x.length) : 0;
}

async function loadModel() {
  // revalidated, as the model is: a rebuilt folder must not pair a cached model.json with a new model
  const response = await fetch('model.json', { cache: 'no-cache' });
  if (!response.ok) {
    throw new Error(`model.json is missing (${response.status}): build this folder with \`asteroid-deepmask web\``);
  }
  const info = await response.json();
  meta = info.metadata;
  if (!meta.streaming || (meta.model_args && meta.model_args.causal === false)) {
    throw new Error(`${info.model} is not a causal model's streaming step; build the folder with ` +
                    '`asteroid-deepmask web` from a model made with causal=True');
  }
  $('model').textContent = `${meta.model_name}, ${meta.n_src} sources at ${meta.sample_rate / 1000} kHz, ` +
    `${info.model}${meta.quantization ? ' (int8)' : ' (float32)'}, onnxruntime-web ${info.onnxruntime_web}`;
  worker = new Worker('worker.js', { type: 'module' });
  threads = await new Promise((resolve, reject) => {
    worker.onerror = (e) => reject(
      new Error(`ONNX Runtime failed to start (${e.message || 'its scripts did not load'})`));
    worker.onmessage = (e) => (e.data.type === 'ready' ? resolve(e.data.threads) : reject(new Error(e.data.message)));
    worker.postMessage({ type: 'init', meta, model: info.model });
  });
  worker.onmessage = onWorker;
  worker.onerror = (e) => fail(`the model's worker failed: ${e.message}`);
  $('runtime').textContent = `${threads} thread${threads > 1 ? 's' : ''}`;
  showLatency(0, 0);
  buildSources();
  setRunning(false);
}

// what a listener hears it late by: a block's first sample waits for the block, then the model's lag,
// then, live, the resamplers and the audio device's buffers (0 ms before a stream starts)
function showLatency(resamplingMs, deviceMs) {
  $('latency').textContent = `${fmt(ms(meta.block + meta.latency) + resamplingMs + deviceMs)} ms`;
  $('latency-detail').textContent = `block ${fmt(ms(meta.block))} + model ${fmt(ms(meta.latency))}` +
    (deviceMs ? ` + resampling ${fmt(resamplingMs)} + device ${fmt(deviceMs)}` : '') + ' ms';
}

function buildSources() {
  const choice = $('choice'), meters = $('meters');
  for (let c = 0; c < meta.n_src; c++) {
    choice.add(new Option(`Source ${c + 1}`, String(c)));
    const row = document.createElement('div');
    row.className = 'meter';
    row.innerHTML = `<span class="name">Source ${c + 1}</span><span class="bar"><span class="fill"></span></span>` +
                    '<span class="db">–</span>';
    meters.append(row);
  }
  choice.onchange = () => live && live.node.port.postMessage({ type: 'choose', source: Number(choice.value) });
}

function onWorker(event) {
  const message = event.data;
  if (message.type === 'block') {
    stats.times.push(message.ms);
    stats.levels = message.levels;
    if (!stats.dirty) { stats.dirty = true; requestAnimationFrame(drawStats); }
  } else if (message.type === 'done') {
    finished(message);
  } else if (message.type === 'error') {
    fail(message.message);
  }
}

function drawStats() {
  stats.dirty = false;
  const recent = stats.times.slice(-200);
  const { median, p99, rtf } = timing(recent);
  $('blockms').textContent = `${fmt(median, 2)} ms`;
  $('blockms-detail').textContent = `p99 ${fmt(p99, 2)} ms, per ${fmt(ms(meta.block))} ms block`;
  $('rtf').textContent = fmt(rtf, 3);
  $('rtf').className = rtf < 1 ? 'ok' : 'slow';
  $('rtf-detail').textContent = rtf < 1 ? 'faster than real time' : 'slower than real time: audio will drop';
  document.querySelectorAll('.meter').forEach((row, c) => {
    const db = 20 * Math.log10(Math.max(stats.levels[c] || 0, 1e-6));
    row.querySelector('.fill').style.width = `${Math.max(0, Math.min(100, (db + 60) / 60 * 100))}%`;
    row.querySelector('.db').textContent = db <= -119 ? '–' : `${fmt(db)} dB`;
  });
}

// the end of a stream: {sources, times} once the worker has flushed it
function streamEnd() {
  stats.times = [];
  return new Promise((resolve) => { finished = resolve; });
}

async function readWav(bytes, name) {
  let wav;
  try {
    wav = parseWav(bytes);
  } catch (err) {
    throw new Error(`${name}: ${err.message}`);
  }
  return Resampler.resampleAll(downmix(wav.channels), wav.rate, meta.sample_rate);
}

function summary({ sources, times }, resources) {
  const { median, p99, rtf } = timing(times);
  return {
    block: meta.block, latency: meta.latency, sample_rate: meta.sample_rate, blocks: times.length, rtf,
    median_ms: median, p99_ms: p99, n_src: meta.n_src, threads,
    sources: sources.map((s) => ({
      rms: rms(s), samples: Array.from(s.subarray(0, SAMPLES_IN_SUMMARY), (x) => Math.round(x * 1e6) / 1e6) })),
    resources,
  };
}

// every URL the page and the worker fetched (the worker's are in its `done` message)
function resources(done) {
  return [...performance.getEntriesByType('resource').map((e) => e.name), ...(done.resources || [])];
}

function report(done) {
  $('result').textContent = JSON.stringify(summary(done, resources(done)));
  document.title = 'done';
}

function offerDownloads({ sources }) {
  const list = $('downloads');
  list.replaceChildren(Object.assign(document.createElement('span'), { textContent: 'Download:' }));
  sources.forEach((s, c) => {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(encodeWav(s, meta.sample_rate));
    link.download = `source${c + 1}.wav`;
    link.textContent = `Source ${c + 1} (${fmt(s.length / meta.sample_rate)} s)`;
    list.append(link);
  });
  list.hidden = false;
}

async function separateFileNow(url) {
  const response = await fetch(url).catch((err) => { throw new Error(`cannot fetch ${url}: ${err.message}`); });
  if (!response.ok) throw new Error(`cannot fetch ${url}: ${response.status} ${response.statusText}`);
  const samples = await readWav(await response.arrayBuffer(), url);
  const done = streamEnd();
  const whole = samples.length - samples.length % meta.block;
  for (let at = 0; at < whole; at += meta.block) {
    const block = samples.slice(at, at + meta.block);
    worker.postMessage({ type: 'block', samples: block }, [block.buffer]);
  }
  const rest = samples.slice(whole);
  worker.postMessage({ type: 'end', samples: rest }, [rest.buffer]);
  return done;
}

async function microphone() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error('this page cannot reach a microphone here: open it from http://localhost or an https:// address');
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 } });
  } catch (err) {
    if (err.name === 'NotAllowedError' || err.name === 'SecurityError') {
      throw new Error('microphone permission refused: allow the microphone for this page (the icon in the address ' +
                      'bar) and try again');
    }
    if (err.name === 'NotFoundError' || err.name === 'OverconstrainedError') {
      throw new Error('no microphone found: plug one in, or drop a WAV file instead');
    }
    if (err.name === 'NotReadableError') throw new Error('the microphone is busy in another application');
    throw new Error(`the microphone failed: ${err.message || err.name}`);
  }
}

// streams the microphone (samples null) or a file's samples, as if live, until Stop, the file's end or
// `seconds`; resolves with the stream's {sources, times}
async function startLive(samples, seconds = null) {
  const mic = samples ? null : await microphone();
  const ctx = new AudioContext({ latencyHint: 'interactive' });
  await ctx.audioWorklet.addModule('worklet.js');
  if (ctx.state !== 'running') {
    show('click anywhere on the page to start the audio');
    await new Promise((resolve) => document.addEventListener('click', resolve, { once: true }));
    await ctx.resume();
    show('');
  }
  const node = new AudioWorkletNode(ctx, 'separator', {
    numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [2],
    processorOptions: { modelRate: meta.sample_rate, block: meta.block } });
  const channel = new MessageChannel();
  worker.postMessage({ type: 'port', port: channel.port1 }, [channel.port1]);
  node.port.postMessage({ type: 'connect', port: channel.port2 }, [channel.port2]);
  const done = streamEnd();
  live = { ctx, node, mic };
  node.port.onmessage = (e) => { if (e.data.type === 'fileEnd') stopLive(); };
  node.port.postMessage({ type: 'choose', source: Number($('choice').value) });
  if (mic) ctx.createMediaStreamSource(mic).connect(node);
  else node.port.postMessage({ type: 'file', samples }, [samples.buffer]);
  node.connect(ctx.destination);
  // the resamplers' kernels reach `half` samples ahead: the microphone's (none for a file) and the output's
  const resampling = (mic ? new Resampler(ctx.sampleRate, meta.sample_rate).half / ctx.sampleRate : 0) +
    new Resampler(meta.sample_rate, ctx.sampleRate).half / meta.sample_rate;
  showLatency(1000 * resampling, 1000 * (ctx.baseLatency + (ctx.outputLatency || 0)));
  setRunning(true);
  if (seconds) setTimeout(stopLive, 1000 * seconds);
  show(mic ? 'listening to the microphone; use headphones to hear a source without feedback'
           : 'separating the file live');
  const result = await done;
  await ctx.close();
  if (mic) mic.getTracks().forEach((t) => t.stop());
  live = null;
  setRunning(false);
  show('');
  offerDownloads(result);
  return result;
}

function stopLive() {
  if (live) live.node.port.postMessage({ type: 'stop' });
}

async function dropped(file) {
  if (!file) return;
  try {
    const samples = await readWav(await file.arrayBuffer(), file.name);
    if ($('choice').value === '-1') $('choice').value = '0';
    await startLive(samples);
  } catch (err) {
    fail(err.message);
  }
}

function wireControls() {
  $('mic').onclick = () => startLive(null).catch((err) => fail(err.message));
  $('stop').onclick = stopLive;
  $('file').onchange = (e) => dropped(e.target.files[0]);
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    dropped(e.dataTransfer.files[0]);
  });
}

async function main() {
  wireControls();
  setRunning(false);
  try {
    await loadModel();
  } catch (err) {
    fail(err.message);
    return;
  }
  try {
    if (params.has('file')) {
      report(await separateFileNow(params.get('file')));
    } else if (params.has('mic')) {
      const seconds = Number(params.get('mic'));
      if (!(seconds > 0)) throw new Error(`mic=${params.get('mic')}: give the seconds to stream, e.g. mic=5`);
      report(await startLive(null, seconds));
    }
  } catch (err) {
    fail(err.message);
  }
}

main();
