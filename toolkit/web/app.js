// The page of `vox serve`: microphone -> AudioWorklet (16 kHz PCM16, 80 ms chunks) -> WS /v1/realtime
// (the vLLM protocol: session.update, commit, base64 appends, final commit) -> live text. The newest
// text is marked until the transcription is final. A dropped file goes to POST /v1/audio/transcriptions.
const $ = (id) => document.getElementById(id);
const FRESH_DELTAS = 6; // the last this many pieces of text stay marked until more (or the end) arrive

const state = {
  ws: null,
  ctx: null,
  stream: null,
  node: null,
  model: null,
  sentSamples: 0,
  latencies: [],
  deltas: [],
  done: null,
};
window.voxPage = state; // for tests and the console

function key() {
  return $("key").value.trim() || sessionStorage.getItem("vox-key") || "";
}

function setStatus(text) {
  $("status").textContent = text;
}

async function loadModel() {
  const headers = key() ? { authorization: `Bearer ${key()}` } : {};
  const res = await fetch("/v1/models", { headers });
  if (res.status === 401) {
    document.querySelector(".key").hidden = false;
    setStatus("this server needs its API key");
    return null;
  }
  const body = await res.json();
  state.model = body.data[0].id;
  $("model").textContent = `model: ${state.model}`;
  return state.model;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
}

function showDelta(ev) {
  const t = $("transcript");
  t.querySelector(".placeholder")?.remove();
  const span = document.createElement("span");
  span.className = "fresh";
  span.textContent = ev.delta;
  t.appendChild(span);
  const fresh = t.querySelectorAll(".fresh");
  for (let i = 0; i < fresh.length - FRESH_DELTAS; i++) fresh[i].classList.remove("fresh");
  state.deltas.push(ev.delta);
  if (typeof ev.latency_ms === "number") {
    state.latencies.push(ev.latency_ms);
    $("lat-last").textContent = `${ev.latency_ms} ms`;
    $("lat-median").textContent = `${median(state.latencies)} ms`;
  }
  $("n-deltas").textContent = String(state.deltas.length);
}

function finalize(ev) {
  for (const s of $("transcript").querySelectorAll(".fresh")) s.classList.remove("fresh");
  state.done = ev;
  setStatus(`final: ${ev.usage ? ev.usage.completion_tokens : 0} tokens`);
}

function connect() {
  return new Promise((resolve, reject) => {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/realtime`;
    const ws = key() ? new WebSocket(url, [`openai-insecure-api-key.${key()}`]) : new WebSocket(url);
    ws.onmessage = (m) => {
      const ev = JSON.parse(m.data);
      if (ev.type === "session.created") {
        setStatus(`session ${ev.id.slice(0, 13)}…`);
        ws.send(JSON.stringify({ type: "session.update", model: state.model }));
        ws.send(JSON.stringify({ type: "input_audio_buffer.commit" }));
        resolve(ws);
      } else if (ev.type === "transcription.delta") showDelta(ev);
      else if (ev.type === "transcription.done") finalize(ev);
      else if (ev.type === "error") setStatus(`error: ${ev.error}`);
    };
    ws.onerror = () => reject(new Error("the WebSocket could not connect"));
    ws.onclose = () => {
      if (state.ws === ws) state.ws = null;
    };
  });
}

function toBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function start() {
  $("start").disabled = true;
  try {
    if (key()) sessionStorage.setItem("vox-key", key());
    if (!state.model && !(await loadModel())) throw new Error("no model (API key?)");
    state.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    state.ws = await connect();
    state.ctx = new AudioContext();
    await state.ctx.audioWorklet.addModule("/worklet.js");
    const src = state.ctx.createMediaStreamSource(state.stream);
    state.node = new AudioWorkletNode(state.ctx, "pcm16-resampler");
    state.node.port.onmessage = (m) => {
      const pcm = new Uint8Array(m.data);
      if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return;
      state.ws.send(JSON.stringify({ type: "input_audio_buffer.append", audio: toBase64(pcm) }));
      state.sentSamples += pcm.length / 2;
      $("sent").textContent = `${(state.sentSamples / 16000).toFixed(1)} s`;
    };
    src.connect(state.node);
    $("stop").disabled = false;
    setStatus("listening…");
  } catch (e) {
    setStatus(`could not start: ${e.message}`);
    $("start").disabled = false;
  }
}

async function stop() {
  $("stop").disabled = true;
  // No audio may follow the final commit: messages the worklet already queued are dropped here.
  if (state.node) state.node.port.onmessage = null;
  state.node?.disconnect();
  for (const t of state.stream?.getTracks() ?? []) t.stop();
  await state.ctx?.close();
  state.ctx = null;
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify({ type: "input_audio_buffer.commit", final: true }));
    setStatus("finishing…");
  }
  $("start").disabled = false;
}

async function sendFile(file) {
  const out = $("file-result");
  out.hidden = false;
  out.textContent = `transcribing ${file.name}…`;
  if (!state.model && !(await loadModel())) return;
  const form = new FormData();
  form.set("file", file, file.name);
  form.set("model", state.model);
  form.set("response_format", "verbose_json");
  const headers = key() ? { authorization: `Bearer ${key()}` } : {};
  const res = await fetch("/v1/audio/transcriptions", { method: "POST", body: form, headers });
  const body = await res.json();
  out.textContent = res.ok
    ? `${file.name} (${body.duration} s):\n${body.text}\n\n${body.segments.map((s) => `[${s.start.toFixed(2)}–${s.end.toFixed(2)}] ${s.text}`).join("\n")}`
    : `error ${res.status}: ${body.error.message}`;
}

$("start").addEventListener("click", start);
$("stop").addEventListener("click", stop);
$("file").addEventListener("change", (e) => e.target.files[0] && sendFile(e.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files[0]) sendFile(e.dataTransfer.files[0]);
});
loadModel().catch((e) => setStatus(`server not reachable: ${e.message}`));
