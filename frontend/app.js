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

function uploadFile(file) {
  const progress = el("progress", { max: "100", value: "0", "aria-label": `Upload progress of ${file.name}` });
  const status = el("span", { class: "muted" }, "requesting upload…");
  $("#upload-list").append(el("li", {}, el("strong", {}, file.name), " ", status, progress));
  api("/uploads", { method: "POST", body: JSON.stringify({ filename: file.name, contentType: file.type || "application/octet-stream" }) })
    .then((target) => new Promise((resolve, reject) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(target.fields)) form.append(name, value);
      form.append("file", file);
      const request = new XMLHttpRequest();
      request.open("POST", target.url);
      request.upload.onprogress = (event) => { if (event.lengthComputable) progress.value = (100 * event.loaded) / event.total; };
      request.onload = () => (request.status < 300 ? resolve(target) : reject(new Error(`upload refused (${request.status})`)));
      request.onerror = () => reject(new Error("upload failed (network)"));
      status.textContent = "uploading…";
      request.send(form);
    }))
    .then(() => { progress.value = 100; status.textContent = "uploaded: processing starts in a moment"; refreshJobs(); })
    .catch((error) => { status.textContent = `failed: ${error.message}`; status.className = "status FAILED"; });
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

function jobRow(job) {
  const open = () => showJob(job.jobId);
  return el("tr", { tabindex: "0", "data-job": job.jobId, onclick: open, onkeydown: (e) => { if (e.key === "Enter") open(); } },
    el("td", {}, job.key || job.jobId),
    el("td", {}, job.kind || ""),
    el("td", {}, el("span", { class: `status ${job.status}` }, job.status), job.error ? ` ${job.error}` : ""),
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

function layout(graph) {
  // Rows by distance from StartAt along next/choice edges; nested states below their parent.
  const depth = { [graph.startAt]: 0 };
  const queue = [graph.startAt];
  while (queue.length) {
    const name = queue.shift();
    for (const edge of graph.edges) {
      if (edge.from === name && depth[edge.to] === undefined) {
        depth[edge.to] = depth[name] + (edge.kind === "catch" ? 2 : 1);
        queue.push(edge.to);
      }
    }
  }
  const rows = {};
  for (const node of graph.nodes) (rows[depth[node.name] ?? 0] ||= []).push(node.name);
  const position = {};
  for (const [row, names] of Object.entries(rows)) names.forEach((name, i) => (position[name] = { row: Number(row), col: i, count: names.length }));
  return position;
}

function drawGraph(graph, states) {
  const status = {};
  for (const state of states) status[state.name] = state.status === "failed" ? "failed" : status[state.name] === "failed" ? "failed" : state.status;
  const position = layout(graph);
  const rowCount = Math.max(...Object.values(position).map((p) => p.row)) + 1;
  const width = 900, rowHeight = 56, boxW = 150, boxH = 30;
  const centre = (name) => {
    const p = position[name];
    return { x: ((p.col + 0.5) * width) / p.count, y: p.row * rowHeight + 24 };
  };
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${rowCount * rowHeight + 10}`);
  for (const edge of graph.edges) {
    if (!position[edge.from] || !position[edge.to]) continue;
    const a = centre(edge.from), b = centre(edge.to);
    const line = document.createElementNS(svgNS, "line");
    Object.entries({ x1: a.x, y1: a.y + boxH / 2, x2: b.x, y2: b.y - boxH / 2 }).forEach(([k, v]) => line.setAttribute(k, v));
    if (edge.kind === "catch") line.setAttribute("class", "catch");
    svg.append(line);
  }
  for (const node of graph.nodes) {
    const { x, y } = centre(node.name);
    const group = document.createElementNS(svgNS, "g");
    const state = status[node.name] || "idle";
    group.setAttribute("class", `node ${state}`);
    group.setAttribute("data-state", node.name);
    group.setAttribute("data-status", state);
    const rect = document.createElementNS(svgNS, "rect");
    Object.entries({ x: x - boxW / 2, y: y - boxH / 2, width: boxW, height: boxH }).forEach(([k, v]) => rect.setAttribute(k, v));
    const title = document.createElementNS(svgNS, "title");
    title.textContent = `${node.name} (${node.type}): ${state}`;
    const text = document.createElementNS(svgNS, "text");
    text.setAttribute("x", x); text.setAttribute("y", y + 4); text.setAttribute("text-anchor", "middle");
    text.textContent = node.name.length > 22 ? `${node.name.slice(0, 21)}…` : node.name;
    group.append(title, rect, text);
    svg.append(group);
  }
  $("#graph").replaceChildren(svg);
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

function renderDetections(job) {
  const results = job.results;
  $("#detections-block").hidden = !results;
  if (!results) return;
  const parts = [];
  const labels = results.labels.map((l) => `${l.label} × ${l.count} (best ${(l.bestConfidence * 100).toFixed(0)}%)`);
  parts.push(el("p", {}, labels.length ? labels.join(", ") : "Nothing detected."));
  if (job.kind === "image" && job.renditions.length) {
    const largest = job.renditions.filter((r) => r.format === "jpeg").sort((a, b) => b.width - a.width)[0];
    const frame = results.framesWithDetections[0];
    if (largest) parts.push(boxesOver(largest.url, frame ? frame.detections : [], "Detections on the image"));
  } else {
    for (const annotated of results.annotated) parts.push(el("figure", { class: "annotated" }, el("img", { src: annotated.url, alt: `${annotated.label} at ${annotated.time} s` }), el("figcaption", {}, `${annotated.label} at ${annotated.time} s`)));
    if (results.timeline.length) parts.push(el("ul", {}, results.timeline.map((s) => el("li", {}, `${s.label}: ${s.start} s – ${s.end} s`))));
    if (results.contactSheet) parts.push(el("figure", { class: "annotated" }, el("img", { src: results.contactSheet, alt: "Contact sheet of sampled frames" }), el("figcaption", {}, "Contact sheet")));
  }
  $("#detections").replaceChildren(...parts);
}

async function renderEmails(jobId) {
  if (!config.local) return;
  const { emails } = await api(`/local/emails?jobId=${encodeURIComponent(jobId)}`);
  $("#emails-block").hidden = emails.length === 0;
  $("#emails").replaceChildren(...emails.map((m) => el("div", { class: "email" },
    el("strong", {}, m.subject), el("div", { class: "muted" }, `to ${m.to}, ${m.date}`), el("pre", {}, m.body))));
}

function renderJob(job) {
  $("#job-title").textContent = job.key || job.jobId;
  const facts = [el("span", { class: `status ${job.status}`, id: "job-status" }, job.status), ` · ${job.kind}`];
  if (job.media && job.media.width) facts.push(` · ${job.media.width}×${job.media.height} ${job.media.format}`);
  if (job.consoleUrl) facts.push(" · ", el("a", { href: job.consoleUrl, target: "_blank", rel: "noopener" }, "execution in the Step Functions console"));
  $("#job-summary").replaceChildren(el("p", {}, ...facts));
  const failure = $("#failure");
  failure.hidden = !job.failure;
  if (job.failure) {
    failure.replaceChildren(el("strong", { id: "failure-error" }, job.failure.error), ": ", job.failure.reason, el("br"), el("span", { class: "muted" }, job.failure.message));
  }
  drawGraph(job.graph, job.states);
  $("#timeline").replaceChildren(...job.states.map((s) => el("li", { class: s.status },
    `${s.name}: ${s.status}`, s.error ? ` (${s.error})` : "", s.attempts > 1 ? `, ${s.attempts} attempts` : "",
    el("span", { class: "muted" }, ` ${when(s.enteredAt)}`))));
  $("#renditions-block").hidden = job.renditions.length === 0;
  $("#renditions").replaceChildren(...job.renditions.map((r) => el("figure", {},
    el("a", { href: r.url, download: "" }, el("img", { src: r.url, alt: `${r.width} pixels wide ${r.format}`, loading: "lazy" })),
    el("figcaption", {}, `${r.width}×${r.height} ${r.format.toUpperCase()}, ${(r.bytes / 1024).toFixed(0)} KB`))));
  $("#outputs").replaceChildren(...job.outputs.map((o) => el("li", {}, el("a", { href: o.url }, o.name), ` (${(o.bytes / 1024).toFixed(0)} KB)`)));
  renderDetections(job);
}

async function showJob(jobId) {
  currentJob = jobId;
  $("#job").hidden = false;
  history.replaceState(null, "", `#job=${encodeURIComponent(jobId)}`);
  clearTimeout(jobTimer);
  const poll = async () => {
    if (currentJob !== jobId) return;
    try {
      const job = await api(`/jobs/${encodeURIComponent(jobId)}`);
      renderJob(job);
      if (job.status === "RUNNING") jobTimer = setTimeout(poll, POLL_MS);
      else renderEmails(jobId).catch(() => {});
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
  const match = location.hash.match(/job=([^&]+)/);
  if (match) showJob(decodeURIComponent(match[1]));
}

start();
