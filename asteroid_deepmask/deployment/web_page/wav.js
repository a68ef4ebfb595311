// WAV files read and written here, sample for sample: 16-bit PCM and 32-bit float in, 32-bit float out
// (the browser's own decoder would resample and might re-encode).

const PCM = 1, FLOAT = 3, EXTENSIBLE = 0xfffe;

// {rate, channels: [Float32Array, ...]} of a WAV file's bytes; an Error saying what is wrong otherwise.
export function parseWav(bytes) {
  const view = new DataView(bytes);
  const tag = (at) => String.fromCharCode(...new Uint8Array(bytes, at, 4));
  if (bytes.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') {
    throw new Error('not a WAV file (no RIFF/WAVE header); give a .wav file, 16-bit PCM or 32-bit float');
  }
  let format = null, data = null;
  for (let at = 12; at + 8 <= bytes.byteLength;) {
    const id = tag(at), size = view.getUint32(at + 4, true);
    if (id === 'fmt ') {
      let code = view.getUint16(at + 8, true);
      // WAVE_FORMAT_EXTENSIBLE: the subformat's GUID starts with the format's code
      if (code === EXTENSIBLE && size >= 26) code = view.getUint16(at + 8 + 24, true);
      format = { code, channels: view.getUint16(at + 10, true), rate: view.getUint32(at + 12, true),
                 bits: view.getUint16(at + 22, true) };
    } else if (id === 'data') {
      data = { at: at + 8, size: Math.min(size, bytes.byteLength - at - 8) };
    }
    at += 8 + size + (size & 1);
  }
  if (!format || !data) throw new Error('the WAV file has no ' + (format ? 'data' : 'fmt') + ' chunk');
  const { code, channels, rate, bits } = format;
  const pcm16 = code === PCM && bits === 16, float32 = code === FLOAT && bits === 32;
  if (!pcm16 && !float32) {
    const kind = code === FLOAT ? 'float' : code === PCM ? 'PCM' : `format ${code}`;
    throw new Error(`the WAV file holds ${bits}-bit ${kind} samples; convert it to 16-bit PCM or 32-bit float`);
  }
  if (channels < 1) throw new Error('the WAV file has no channels');
  const width = bits / 8, frames = Math.floor(data.size / (width * channels));
  if (frames === 0) throw new Error('the WAV file has no samples');
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let i = 0, at = data.at; i < frames; i++) {
    for (let c = 0; c < channels; c++, at += width) {
      out[c][i] = pcm16 ? view.getInt16(at, true) / 32768 : view.getFloat32(at, true);
    }
  }
  return { rate, channels: out };
}

// The channels' average: the mixture a mono model separates.
export function downmix(channels) {
  if (channels.length === 1) return channels[0];
  const out = new Float32Array(channels[0].length);
  for (const c of channels) for (let i = 0; i < out.length; i++) out[i] += c[i] / channels.length;
  return out;
}

// A mono 32-bit float WAV file of `samples` at `rate` Hz, as a Blob.
export function encodeWav(samples, rate) {
  const bytes = new ArrayBuffer(44 + 4 * samples.length);
  const view = new DataView(bytes);
  const put = (at, s) => { for (let i = 0; i < 4; i++) view.setUint8(at + i, s.charCodeAt(i)); };
  put(0, 'RIFF'); view.setUint32(4, 36 + 4 * samples.length, true); put(8, 'WAVE');
  put(12, 'fmt '); view.setUint32(16, 16, true); view.setUint16(20, FLOAT, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, 4 * rate, true);  // rate, bytes per second
  view.setUint16(32, 4, true); view.setUint16(34, 32, true);            // bytes per frame, bits per sample
  put(36, 'data'); view.setUint32(40, 4 * samples.length, true);
  new Float32Array(bytes, 44).set(samples);
  return new Blob([bytes], { type: 'audio/wav' });
}
