// MediaFlow status page: upload, watch jobs live, see every state, results and failure reasons.
// Plain browser JavaScript, no build step. Talks only to the status API (config.apiUrl).
"use strict";

const config = window.MEDIAFLOW_CONFIG || { apiUrl: "/api", local: false, auth: null };
const POLL_MS = 1500;
const $ = (selector) => document.querySelector(selector);
let olderToken = null;
let currentJob = null;
let jobTimer = null;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

// An error name ("UnsupportedMediaType", "States.TaskFailed") may break between its words on a
// narrow screen, never inside one: a <wbr> before each capitalised word and after each dot.
function errorName(name, tag = "span") {
  const words = String(name).split(/(?<=[a-z0-9])(?=[A-Z])|(?<=\.)/);
  return el(tag, { class: "error-name" }, words.flatMap((word, i) => (i ? [el("wbr"), word] : [word])));
}

// SVG elements need their namespace; children are nodes or text, like el()'s.
function svgEl(tag, attributes = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

async function api(path, options = {}) {
  const token = window.mediaflowToken ? await window.mediaflowToken() : null;
  const headers = { "content-type": "application/json", ...(token ? { authorization: token } : {}) };
  const response = await fetch(`${config.apiUrl}${path}`, { ...options, headers });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `${response.status} ${response.statusText}`);
  return body;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

// ---- upload ----------------------------------------------------------------------------

// Above this size a file goes up in parts (S3 multipart): parallel, each part retried on its
// own, and past the 5 GB a single request can carry.
const MULTIPART_THRESHOLD = 32 * 1024 * 1024;
const PARALLEL_PARTS = 4;
const PART_ATTEMPTS = 4;
const URLS_PER_REQUEST = 100;

function uploadFile(file) {
  const progress = el("progress", { max: "100", value: "0", "aria-label": `Upload progress of ${file.name}` });
  const status = el("span", { class: "muted" }, "requesting upload…");
  $("#upload-list").append(el("li", {}, el("strong", {}, file.name), " ", status, progress));
  const contentType = file.type || "application/octet-stream";
  const upload = file.size > MULTIPART_THRESHOLD ? uploadInParts(file, contentType, status, progress) : uploadWhole(file, contentType, status, progress);
  upload
    .then((key) => {
      progress.value = 100;
      status.textContent = "uploaded: processing starts in a moment";
      refreshJobs();
      linkUploadToItsJob(key, status);
    })
    .catch((error) => { status.textContent = `failed: ${error.message}`; status.className = "status FAILED"; });
}

async function uploadWhole(file, contentType, status, progress) {
  const target = await api("/uploads", { method: "POST", body: JSON.stringify({ filename: file.name, contentType }) });
  const form = new FormData();
  for (const [name, value] of Object.entries(target.fields)) form.append(name, value);
  form.append("file", file);
  status.textContent = "uploading…";
  await send("POST", target.url, form, "upload", (loaded, total) => { if (total) progress.value = (100 * loaded) / total; });
  return target.key;
}

// A request straight to S3 (a presigned POST, or a part's PUT), reporting the bytes sent so far
// and the total (0 while unknown); XMLHttpRequest because fetch() reports no upload progress.
function send(method, url, body, what, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    request.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : 0);
    request.onload = () => (request.status < 300 ? resolve() : reject(new Error(`${what} refused (${request.status})`)));
    request.onerror = () => reject(new Error(`${what} failed (network)`));
    request.send(body);
  });
}

async function uploadInParts(file, contentType, status, progress) {
  const started = await api("/uploads/multipart", { method: "POST", body: JSON.stringify({ filename: file.name, contentType, size: file.size }) });
  const { key, uploadId, partSize, partCount } = started;
  const sent = new Array(partCount + 1).fill(0); // bytes of each part on the wire: one bar for the file
  const showProgress = () => { progress.value = (100 * sent.reduce((a, b) => a + b, 0)) / file.size; };
  const urls = {};
  const urlFor = async (number) => {
    if (!urls[number]) {
      const numbers = [];
      for (let n = number; n <= partCount && numbers.length < URLS_PER_REQUEST; n += 1) numbers.push(n);
      Object.assign(urls, (await api("/uploads/multipart/parts", { method: "POST", body: JSON.stringify({ key, uploadId, partNumbers: numbers }) })).urls);
    }
    return urls[number];
  };
  const sendPart = async (number) => {
    const blob = file.slice((number - 1) * partSize, Math.min(file.size, number * partSize));
    for (let attempt = 1; ; attempt += 1) {
      try {
        await send("PUT", await urlFor(number), blob, "part", (loaded) => { sent[number] = loaded; showProgress(); });
        sent[number] = blob.size;
        showProgress();
        return;
      } catch (error) {
        sent[number] = 0;
        if (attempt >= PART_ATTEMPTS) throw new Error(`part ${number} of ${partCount}: ${error.message}`);
        status.textContent = `uploading ${partCount} parts… (retrying part ${number})`;
        await new Promise((resume) => setTimeout(resume, 500 * 2 ** attempt));
      }
    }
  };
  status.textContent = `uploading ${partCount} parts…`;
  let next = 1;
  const worker = async () => { while (next <= partCount) await sendPart(next++); };
  try {
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, partCount) }, worker));
    await api("/uploads/multipart/complete", { method: "POST", body: JSON.stringify({ key, uploadId, partCount }) });
  } catch (error) {
    api("/uploads/multipart/abort", { method: "POST", body: JSON.stringify({ key, uploadId }) }).catch(() => {});
    throw error;
  }
  return key;
}

// The job id is derived from the upload (bucket/key/etag): find it in the job list once it is recorded.
async function linkUploadToItsJob(key, status, attempt = 0) {
  try {
    const job = (await api("/jobs?limit=50")).jobs.find((candidate) => candidate.key === key);
    if (job) {
      status.replaceChildren("uploaded: ", el("a", { href: `#job=${encodeURIComponent(job.jobId)}`, class: "job-link" }, "open its job"));
      return;
    }
  } catch (error) { /* the list is refreshed below; try again */ }
  if (attempt < 40) setTimeout(() => linkUploadToItsJob(key, status, attempt + 1), POLL_MS);
  else status.textContent = "uploaded, but no job has started for it yet: see the job list";
}

function setUpUpload() {
  const zone = $("#dropzone");
  const input = $("#file-input");
  input.addEventListener("change", () => { [...input.files].forEach(uploadFile); input.value = ""; });
  zone.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); } });
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    [...event.dataTransfer.files].forEach(uploadFile);
  });
}

// ---- jobs list -------------------------------------------------------------------------

// uploads/<uuid>/<name>: the uuid only keeps uploads apart; people know their file by its name.
const fileName = (key) => (key ? key.split("/").pop() : "");

function jobRow(job) {
  const open = () => showJob(job.jobId);
  return el("tr", { tabindex: "0", "data-job": job.jobId, onclick: open, onkeydown: (e) => { if (e.key === "Enter") open(); } },
    el("td", { title: job.key || job.jobId }, fileName(job.key) || job.jobId),
    el("td", {}, job.kind && job.kind !== "unknown" ? job.kind : "–"), // unknown: it failed before Validate told
    el("td", {}, el("span", { class: `status ${job.status}` }, job.status), job.error ? " " : "", job.error ? errorName(job.error) : ""),
    el("td", {}, when(job.startedAt)));
}

async function refreshJobs() {
  try {
    const page = await api("/jobs?limit=20");
    $("#job-rows").replaceChildren(...page.jobs.map(jobRow));
    olderToken = page.nextToken;
    $("#more-jobs").hidden = !olderToken;
  } catch (error) {
    $("#job-rows").replaceChildren(el("tr", {}, el("td", { colspan: "4" }, `Cannot load jobs: ${error.message}`)));
  }
}

async function loadOlder() {
  const page = await api(`/jobs?limit=20&nextToken=${encodeURIComponent(olderToken)}`);
  $("#job-rows").append(...page.jobs.map(jobRow));
  olderToken = page.nextToken;
  $("#more-jobs").hidden = !olderToken;
}

// ---- job view --------------------------------------------------------------------------

// Laid out top to bottom like the Step Functions console: each state one row below the
// longest path to it, a Parallel's or Map's nested states between it and its Next, Choice
// targets side by side, and the failure path (reached only through Catch) in its own column.
function isInside(name, ancestor, parentOf) {
  for (let p = parentOf[name]; p; p = parentOf[p]) if (p === ancestor) return true;
  return false;
}

function longestPathRows(edges, seeds) {
  const row = { ...seeds };
  for (let pass = 0; pass < 200; pass++) { // a DAG settles in (states) passes; the cap guards loops
    let changed = false;
    for (const { from, to } of edges) {
      if (row[from] !== undefined && !(row[to] >= row[from] + 1)) { row[to] = row[from] + 1; changed = true; }
    }
    if (!changed) break;
  }
  return row;
}

function layout(graph, spacing) {
  const parentOf = Object.fromEntries(graph.nodes.map((n) => [n.name, n.parent]));
  const flow = graph.edges.filter((e) => e.kind !== "catch");
  const catches = graph.edges.filter((e) => e.kind === "catch");
  // The shared failure handler (a Catch target of more than one state) and what follows it
  // form the failure column; a Catch with its own target (a duplicate event) is a branch.
  const catchers = {};
  for (const e of catches) (catchers[e.to] ||= new Set()).add(e.from);
  const failure = new Set(Object.keys(catchers).filter((name) => catchers[name].size > 1));
  for (let grew = true; grew;) {
    grew = false;
    for (const e of flow) if (failure.has(e.from) && !failure.has(e.to)) { failure.add(e.to); grew = true; }
  }
  const main = [...flow, ...catches].filter((e) => !failure.has(e.from) && !failure.has(e.to));
  // What follows a Parallel or Map goes below everything nested in it.
  const below = main.filter((e) => e.kind !== "contains").flatMap((e) =>
    graph.nodes.filter((n) => isInside(n.name, e.from, parentOf)).map((n) => ({ from: n.name, to: e.to })));
  const row = longestPathRows([...main, ...below], { [graph.startAt]: 0 });
  const seeds = {};
  for (const e of graph.edges) {
    if (failure.has(e.to) && !failure.has(e.from) && row[e.from] !== undefined) seeds[e.to] = Math.min(seeds[e.to] ?? Infinity, row[e.from] + 1);
  }
  const failureRow = longestPathRows(flow.filter((e) => failure.has(e.from)), seeds);
  for (const name of failure) row[name] = failureRow[name] ?? 0;

  const leadsToFailure = (name) => Number(flow.some((e) => e.from === name && failure.has(e.to)));
  // x: under the states that lead to it (a Choice's or Parallel's targets fanned out around
  // it), then pushed apart within the row so boxes never overlap.
  const x = {};
  const rows = [];
  for (const node of graph.nodes) if (!failure.has(node.name) && row[node.name] !== undefined) (rows[row[node.name]] ||= []).push(node.name);
  rows.forEach((names = []) => {
    const desired = {};
    for (const name of names) {
      const wanted = main.filter((e) => e.to === name && x[e.from] !== undefined).map((e) => {
        const siblings = [...new Set(main.filter((f) => f.from === e.from && names.includes(f.to)).map((f) => f.to))]
          .sort((a, b) => leadsToFailure(a) - leadsToFailure(b)); // nearest the failure column
        return x[e.from] + (siblings.indexOf(name) - (siblings.length - 1) / 2) * spacing;
      });
      desired[name] = wanted.length ? wanted.reduce((a, b) => a + b, 0) / wanted.length : 0;
    }
    names.sort((a, b) => desired[a] - desired[b]);
    names.forEach((name, i) => (x[name] = i ? Math.max(desired[name], x[names[i - 1]] + spacing) : desired[name]));
    const drift = names.reduce((sum, n) => sum + x[n] - desired[n], 0) / names.length;
    names.forEach((name) => (x[name] -= drift)); // keep the row centred on where it wants to be
  });
  return { row, x, failure };
}

function drawGraph(graph, states) {
  const status = {};
  // A state entered more than once (Map iterations) shows failed if any of its runs failed.
  for (const state of states) if (status[state.name] !== "failed") status[state.name] = state.status;
  const boxW = 150, boxH = 30, gap = 20, rowHeight = 56;
  const { row, x, failure } = layout(graph, boxW + gap);
  const mainNames = Object.keys(x);
  const left = Math.min(...mainNames.map((n) => x[n])) - boxW / 2 - gap;
  const mainWidth = Math.max(...mainNames.map((n) => x[n])) + boxW / 2 + gap - left;
  const width = mainWidth + (failure.size ? boxW + 2 * gap : 0);
  const failureX = mainWidth + gap + boxW / 2; // the failure column's centre
  const rowCount = Math.max(...Object.values(row)) + 1;
  const centre = (name) => ({
    x: failure.has(name) ? failureX : x[name] - left,
    y: row[name] * rowHeight + 24,
  });
  // Never scaled below its natural size (the text would shrink to nothing on a phone): the box scrolls.
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${rowCount * rowHeight + 10}`, style: `min-width:${width}px` });
  const visited = (name) => status[name] && status[name] !== "idle";
  for (const edge of graph.edges) {
    if (row[edge.from] === undefined || row[edge.to] === undefined) continue;
    // Every Task can be caught; drawing all of them hides the flow, so only a Catch this job took is drawn.
    if (edge.kind === "catch" && !(status[edge.from] === "failed" && visited(edge.to))) continue;
    const a = centre(edge.from), b = centre(edge.to);
    const upward = b.y <= a.y;
    svg.append(svgEl("line", {
      x1: a.x, y1: a.y + (upward ? 0 : boxH / 2), x2: b.x, y2: b.y - (upward ? 0 : boxH / 2),
      class: edge.kind, "data-edge": `${edge.from}->${edge.to}`,
    }));
  }
  if (failure.size) {
    svg.append(svgEl("text", { class: "column-label", x: failureX, y: 10, "text-anchor": "middle" }, "on any failure (Catch)"));
  }
  for (const node of graph.nodes) {
    const { x, y } = centre(node.name);
    const state = status[node.name] || "idle";
    svg.append(svgEl("g", { class: `node ${state}`, "data-state": node.name, "data-status": state },
      svgEl("title", {}, `${node.name} (${node.type}${node.parent ? ` in ${node.parent}` : ""}): ${state}`),
      svgEl("rect", { x: x - boxW / 2, y: y - boxH / 2, width: boxW, height: boxH }),
      svgEl("text", { x, y: y + 4, "text-anchor": "middle" }, node.name.length > 22 ? `${node.name.slice(0, 21)}…` : node.name)));
  }
  const box = $("#graph");
  const scrolled = box.scrollLeft > 0; // keep where the user scrolled to; first time, show the start
  box.replaceChildren(svg);
  if (!scrolled && box.clientWidth < width) box.scrollLeft = Math.max(0, centre(graph.startAt).x - box.clientWidth / 2);
}

function boxesOver(url, detections, caption) {
  const figure = el("figure", { class: "annotated" }, el("img", { src: url, alt: caption }));
  for (const d of detections) {
    const b = d.box;
    figure.append(el("div", {
      class: "box", title: `${d.label} ${(d.confidence * 100).toFixed(0)}%`,
      style: `left:${b.left * 100}%;top:${b.top * 100}%;width:${b.width * 100}%;height:${b.height * 100}%`,
    }, el("span", {}, `${d.label} ${(d.confidence * 100).toFixed(0)}%`)));
  }
  figure.append(el("figcaption", {}, caption));
  return figure;
}

// One bar per label across the video's length; each segment where the label is in view is a block on it.
function timelineBars(segments, duration) {
  const end = duration || Math.max(...segments.map((s) => s.end));
  const labels = [...new Set(segments.map((s) => s.label))];
  return el("div", { class: "timeline-bars", role: "list", "aria-label": "When each label is in view" },
    labels.map((label) => el("div", { class: "bar-row", role: "listitem" },
      el("span", { class: "bar-label" }, label),
      el("div", { class: "bar-track" }, segments.filter((s) => s.label === label).map((s) => el("span", {
        class: "segment",
        title: `${label}: ${s.start} s – ${s.end} s`,
        "aria-label": `${label}: ${s.start} s – ${s.end} s`,
        style: `left:${(100 * s.start) / end}%;width:${Math.max(0.5, (100 * (s.end - s.start)) / end)}%`,
      }))))),
    el("div", { class: "bar-scale muted" }, el("span", {}, "0 s"), el("span", {}, `${end} s`)));
}

// The video's shots in order, each as its representative frame with its time span and labels.
function sceneStrip(scenes, total) {
  const more = total > scenes.length ? ` (the first ${scenes.length} of ${total})` : "";
  return el("section", { class: "scenes", "aria-label": "Scenes" },
    el("h3", {}, `${total} ${total === 1 ? "scene" : "scenes"}${more}`),
    el("ol", { class: "scene-strip" }, scenes.map((scene) => el("li", { class: "scene", "data-scene": String(scene.scene) },
      el("img", { src: scene.url, alt: `Scene ${scene.scene}, ${scene.start} s – ${scene.end} s`, loading: "lazy" }),
      el("span", { class: "scene-time" }, `${scene.start} s – ${scene.end} s`),
      el("span", { class: "scene-labels muted" }, scene.labels.length ? scene.labels.join(", ") : "no labels")))));
}

// The distinct lines of text read in the image or the video's frames, with a search box.
function textSection(text, kind) {
  const more = text.lineCount > text.lines.length ? ` (the first ${text.lines.length} of ${text.lineCount})` : "";
  const line = (l) => el("li", { class: "text-line", "data-text": l.text.toLowerCase() },
    el("q", {}, l.text),
    el("span", { class: "muted" }, kind === "video"
      ? ` ${l.firstSeen} s – ${l.lastSeen} s, ${l.frames} ${l.frames === 1 ? "frame" : "frames"}, ${l.bestConfidence.toFixed(0)}%`
      : ` ${l.bestConfidence.toFixed(0)}%`));
  const list = el("ul", { class: "text-lines" }, text.lines.map(line));
  const search = el("input", { type: "search", placeholder: "Search the text", "aria-label": "Search the text" });
  search.addEventListener("input", () => {
    const wanted = search.value.trim().toLowerCase();
    for (const item of list.children) item.hidden = wanted !== "" && !item.dataset.text.includes(wanted);
  });
  return el("section", { class: "text", "aria-label": "Text" },
    el("h3", {}, `${text.lineCount} ${text.lineCount === 1 ? "line" : "lines"} of text${more}`), search, list);
}

function renderDetections(job) {
  const results = job.results;
  $("#detections-block").hidden = !results;
  if (!results) return;
  const parts = [];
  const labels = results.labels.map((l) => `${l.label} × ${l.count} (best ${(l.bestConfidence * 100).toFixed(0)}%)`);
  parts.push(el("p", {}, labels.length ? labels.join(", ") : "No objects detected."));
  if (job.kind === "image" && job.renditions.length) {
    const largest = job.renditions.filter((r) => r.format === "jpeg").sort((a, b) => b.width - a.width)[0];
    const frame = results.framesWithDetections[0];
    if (largest) parts.push(boxesOver(largest.url, frame ? frame.detections : [], "Detections on the image"));
  } else {
    for (const annotated of results.annotated) parts.push(el("figure", { class: "annotated" }, el("img", { src: annotated.url, alt: `${annotated.label} at ${annotated.time} s` }), el("figcaption", {}, `${annotated.label} at ${annotated.time} s`)));
    if (results.scenes && results.scenes.length) parts.push(sceneStrip(results.scenes, results.sceneCount));
    if (results.timeline.length) parts.push(timelineBars(results.timeline, job.media && job.media.duration));
    if (results.contactSheet) parts.push(el("figure", { class: "annotated" }, el("img", { src: results.contactSheet, alt: "Contact sheet of sampled frames" }), el("figcaption", {}, "Contact sheet")));
  }
  if (results.text && results.text.lineCount) parts.push(textSection(results.text, job.kind));
  $("#detections").replaceChildren(...parts);
}

async function renderEmails(jobId) {
  if (!config.local) return;
  const { emails } = await api(`/local/emails?jobId=${encodeURIComponent(jobId)}`);
  if (currentJob !== jobId) return; // another job was opened meanwhile: these are not its emails
  $("#emails-block").hidden = emails.length === 0;
  $("#emails").replaceChildren(...emails.map((m) => el("div", { class: "email" },
    el("strong", {}, m.subject), el("div", { class: "muted" }, `to ${m.to}, ${m.date}`), el("pre", {}, m.body))));
}

// ---- execution view: states with their input, output, times and attempts; a Gantt; the events ----

const IO_PREVIEW = 1500; // characters of a state's input or output shown before "Show all"
const ms = (value) => (value === undefined || value === null ? "–" : value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(2)} s`);

function prettyJson(text) {
  if (text === null || text === undefined) return "";
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (error) { return text; } // truncated: as it is
}

function ioBlock(label, text, truncated) {
  const full = prettyJson(text) + (truncated ? "\n… (cut at 20,000 characters: the execution history has it all)" : "");
  const pre = el("pre", { class: "io" }, full.length > IO_PREVIEW ? `${full.slice(0, IO_PREVIEW)}…` : full);
  const more = full.length > IO_PREVIEW
    ? el("button", { type: "button", class: "link", onclick: (event) => { pre.textContent = full; event.target.remove(); } }, "Show all")
    : "";
  return el("div", {}, el("strong", {}, label), pre, more);
}

function renderStates(states) {
  $("#state-rows").replaceChildren(...states.map((s, index) => {
    const failures = s.failures || [];
    const attempts = s.attempts > 1 || failures.length
      ? el("div", {}, `${s.attempts} attempt${s.attempts === 1 ? "" : "s"}`,
        el("ul", { class: "failures" }, failures.map((f) => el("li", {}, errorName(f.error || "error"), f.cause ? `: ${f.cause.slice(0, 160)}` : ""))))
      : s.attempts ? "1" : "";
    const details = el("details", { class: "io-details" }, el("summary", {}, "input / output"),
      ioBlock("Input", s.input, s.inputTruncated), s.output !== null ? ioBlock("Output", s.output, s.outputTruncated) : "");
    return el("tr", { class: s.status, "data-state-row": s.name, "data-index": index },
      el("td", {}, el("div", {}, s.name), el("div", { class: "muted" }, when(s.enteredAt)), details),
      el("td", {}, s.status, s.error ? errorName(s.error, "div") : ""),
      el("td", { class: "duration" }, ms(s.durationMs)),
      el("td", {}, attempts));
  }));
  renderGantt(states);
}

// Where durations matter (a video's Map iterations): each state entered, as a bar on one time axis.
function renderGantt(states) {
  const times = states.flatMap((s) => [s.enteredAt, s.exitedAt]).filter(Boolean).map((t) => new Date(t).getTime());
  if (!times.length) { $("#gantt").replaceChildren(); return; }
  const start = Math.min(...times), end = Math.max(...times, start + 1);
  const span = end - start;
  $("#gantt").replaceChildren(...states.map((s) => {
    const from = new Date(s.enteredAt).getTime() - start;
    const to = (s.exitedAt ? new Date(s.exitedAt).getTime() : end) - start;
    return el("div", { class: "gantt-row", role: "listitem" },
      el("span", { class: "gantt-label", title: s.name }, s.name),
      el("div", { class: "gantt-track" }, el("span", {
        class: `gantt-bar ${s.status}`, title: `${s.name}: ${ms(s.durationMs)}`, "aria-label": `${s.name} ${ms(s.durationMs)}`,
        style: `left:${(100 * from) / span}%;width:${Math.max(0.4, (100 * (to - from)) / span)}%`,
      })));
  }), el("div", { class: "bar-scale muted" }, el("span", {}, "0"), el("span", {}, ms(span))));
}

function renderEvents(events) {
  $("#event-count").textContent = String(events.length);
  $("#event-rows").replaceChildren(...events.map((e) => el("tr", {},
    el("td", {}, String(e.id)), el("td", {}, e.type), el("td", {}, e.previousEventId === undefined || e.previousEventId === null ? "" : String(e.previousEventId)),
    el("td", {}, new Date(e.timestamp).toISOString().replace("T", " ").replace("Z", "")))));
}

function renderJob(job) {
  $("#job-title").textContent = fileName(job.key) || job.jobId;
  $("#job-title").title = job.key || job.jobId;
  const facts = [el("span", { class: `status ${job.status}`, id: "job-status" }, job.status)];
  if (job.kind && job.kind !== "unknown") facts.push(` · ${job.kind}`); // unknown: it failed before Validate told
  if (job.media && job.media.width) facts.push(` · ${job.media.width}×${job.media.height} ${job.media.format}`);
  if (job.attempt > 1) facts.push(` · attempt ${job.attempt}`);
  if (job.costSummary) facts.push(el("span", { id: "job-cost", title: "from this job's own execution history (docs/cost-model.md)" }, ` · cost ${job.costSummary.split(" ")[0]}`));
  if (job.consoleUrl) facts.push(" · ", el("a", { href: job.consoleUrl, target: "_blank", rel: "noopener" }, "execution in the Step Functions console"));
  const summary = [el("p", {}, ...facts)];
  if (job.status === "SUCCEEDED" || job.status === "FAILED") {
    summary.push(el("p", {}, el("button", { type: "button", id: "reprocess", onclick: () => reprocessJob(job) }, "Reprocess"),
      el("span", { class: "muted" }, " runs this upload through the workflow again, as a new attempt")));
  }
  $("#job-summary").replaceChildren(...summary);
  const failure = $("#failure");
  failure.hidden = !job.failure;
  if (job.failure) {
    failure.replaceChildren(el("strong", { id: "failure-error" }, job.failure.error), ": ", job.failure.reason, el("br"), el("span", { class: "muted" }, job.failure.message));
  }
  drawGraph(job.graph, job.states);
  renderStates(job.states);
  renderEvents(job.events || []);
  $("#renditions-block").hidden = job.renditions.length === 0;
  $("#renditions").replaceChildren(...job.renditions.map((r) => el("figure", {},
    el("a", { href: r.url, download: "" }, el("img", { src: r.url, alt: `${r.width} pixels wide ${r.format}`, loading: "lazy" })),
    el("figcaption", {}, `${r.width}×${r.height} ${r.format.toUpperCase()}, ${(r.bytes / 1024).toFixed(0)} KB`))));
  $("#outputs").replaceChildren(...job.outputs.map((o) => el("li", {}, el("a", { href: o.url }, o.name), ` (${(o.bytes / 1024).toFixed(0)} KB)`)));
  if (job.outputs.length === 0) {
    const none = job.status === "FAILED" ? "None: a failed job keeps no outputs." : job.status === "RUNNING" ? "None yet." : "None.";
    $("#outputs").replaceChildren(el("li", { class: "muted" }, none));
  }
  renderDetections(job);
}

// A new attempt of the same job: follow it once its record names the new execution.
async function reprocessJob(job) {
  const button = $("#reprocess");
  button.disabled = true;
  button.textContent = "Reprocessing…";
  try {
    const started = await api(`/jobs/${encodeURIComponent(job.jobId)}/reprocess`, { method: "POST", body: "{}" });
    for (let tries = 0; tries < 40; tries++) {
      const current = await api(`/jobs/${encodeURIComponent(job.jobId)}`);
      if (current.executionArn === started.executionArn) { showJob(job.jobId); return; }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS / 3));
    }
    button.textContent = "Reprocess started: see the job list";
  } catch (error) {
    button.textContent = `Reprocess refused: ${error.message}`;
  }
}

async function showJob(jobId) {
  currentJob = jobId;
  $("#job").hidden = false;
  if (location.hash !== `#job=${encodeURIComponent(jobId)}`) history.replaceState(null, "", `#job=${encodeURIComponent(jobId)}`);
  clearTimeout(jobTimer);
  $("#emails-block").hidden = true; // the previous job's emails never show under this one
  $("#emails").replaceChildren();
  const poll = async () => {
    if (currentJob !== jobId) return;
    try {
      const job = await api(`/jobs/${encodeURIComponent(jobId)}`);
      renderJob(job);
      if (job.status === "RUNNING") jobTimer = setTimeout(poll, POLL_MS);
      else {
        refreshJobs(); // the list shows the job's end now, not at its next refresh
        renderEmails(jobId).catch(() => {});
      }
    } catch (error) {
      $("#job-summary").replaceChildren(el("p", { class: "status FAILED" }, error.message));
    }
  };
  await poll();
  $("#job").scrollIntoView({ behavior: "smooth" });
}

function start() {
  $("#env").textContent = config.local ? "local runtime" : "";
  setUpUpload();
  $("#more-jobs").addEventListener("click", loadOlder);
  $("#back").addEventListener("click", () => { currentJob = null; $("#job").hidden = true; history.replaceState(null, "", "#"); });
  refreshJobs();
  setInterval(refreshJobs, POLL_MS * 2);
  window.addEventListener("hashchange", followHash);
  followHash();
}

async function followHash() {
  const job = location.hash.match(/job=([^&]+)/);
  if (job) {
    if (decodeURIComponent(job[1]) !== currentJob) showJob(decodeURIComponent(job[1]));
    return;
  }
  const execution = location.hash.match(/execution=([^&]+)/);
  if (execution) {
    const arn = decodeURIComponent(execution[1]);
    const found = (await api("/jobs?limit=50")).jobs.find((candidate) => candidate.executionArn === arn);
    if (found) showJob(found.jobId);
    else $("#env").textContent = "that execution is not among the 50 newest jobs";
  }
}

start();
