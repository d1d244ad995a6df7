// The grading service's web page: token, upload with progress, live status, results, instructor view.
// Plain JavaScript, no framework; every value from the server is inserted with textContent.
"use strict";

const $ = (id) => document.getElementById(id);
const API = "/api/v1";
let token = localStorage.getItem("grader-token") || "";
let me = null;
let pollTimer = null;

function authHeaders() { return token ? { "Authorization": "Bearer " + token } : {}; }

async function api(path, options = {}) {
  const response = await fetch(API + path, { ...options, headers: { ...authHeaders(), ...(options.headers || {}) } });
  const type = response.headers.get("content-type") || "";
  const body = type.includes("application/json") ? await response.json() : await response.text();
  if (!response.ok) {
    const message = body && body.detail ? body.detail : ("HTTP " + response.status);
    throw new Error(message);
  }
  return body;
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function fmtScore(score, max) {
  if (score === null || score === undefined) return "";
  return max === null || max === undefined ? `${+score.toFixed(2)}` : `${+score.toFixed(2)} / ${+max.toFixed(2)}`;
}

function fmtTime(iso) { return iso ? new Date(iso).toLocaleString() : ""; }

// ---------------------------------------------------------------- token
async function signIn() {
  $("token-error").textContent = "";
  me = null;
  if (!token) { $("whoami").textContent = "not signed in"; showRoleSections(); return; }
  try {
    me = await api("/me");
    $("whoami").textContent = `signed in as ${me.name} (${me.role})`;
    localStorage.setItem("grader-token", token);
  } catch (err) {
    $("whoami").textContent = "not signed in";
    $("token-error").textContent = err.message;
  }
  showRoleSections();
}

function showRoleSections() {
  $("mine-section").hidden = !me;
  $("instructor-section").hidden = !(me && me.role === "instructor");
  if (me) loadMine();
  if (me && me.role === "instructor") loadAll();
}

$("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  signIn();
});
$("token-forget").addEventListener("click", () => {
  token = ""; $("token").value = ""; localStorage.removeItem("grader-token"); signIn();
});

// ---------------------------------------------------------------- assignments
async function loadAssignments() {
  const list = await api("/assignments");
  for (const selectId of ["assignment", "filter-assignment", "gradebook-assignment"]) {
    const select = $(selectId);
    for (const a of list.items) {
      const opt = document.createElement("option");
      opt.value = a.id;
      opt.textContent = selectId === "assignment" ? `${a.title} (${a.id}, ${a.max_score} points)` : a.id;
      select.appendChild(opt);
    }
  }
}

// ---------------------------------------------------------------- upload (XHR for progress events)
function setProgress(fraction) {
  const pct = Math.round(100 * fraction);
  $("upload-progress").value = pct;
  $("upload-percent").textContent = pct + "%";
}

$("upload-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  $("upload-error").textContent = "";
  const file = $("file").files[0];
  if (!token) { $("upload-error").textContent = "paste your token first"; return; }
  if (!file) { $("upload-error").textContent = "choose a .zip file"; return; }
  const form = new FormData();
  form.append("assignment", $("assignment").value);   // before the file: checked before the upload is read
  form.append("file", file, file.name);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", API + "/submissions");
  xhr.setRequestHeader("Authorization", "Bearer " + token);
  xhr.responseType = "json";
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) setProgress(e.loaded / e.total); };
  xhr.onload = () => {
    $("upload").disabled = false;
    if (xhr.status === 202) {
      setProgress(1);
      watch(xhr.response.id);
    } else {
      const detail = xhr.response && xhr.response.detail ? xhr.response.detail : "HTTP " + xhr.status;
      $("upload-error").textContent = "upload refused: " + detail;
    }
  };
  xhr.onerror = () => { $("upload").disabled = false; $("upload-error").textContent = "upload failed (connection closed; is the file too large?)"; };
  $("upload").disabled = true;
  setProgress(0);
  xhr.send(form);
});

// ---------------------------------------------------------------- watching one submission
function watch(id) {
  if (pollTimer) clearTimeout(pollTimer);
  $("result-section").hidden = false;
  $("sub-id").textContent = id;
  const tick = async () => {
    let sub;
    try { sub = await api(`/submissions/${id}`); }
    catch (err) { $("grading-error").textContent = err.message; pollTimer = setTimeout(tick, 2000); return; }
    render(sub);
    if (sub.status === "queued" || sub.status === "running") pollTimer = setTimeout(tick, 1000);
    else { pollTimer = null; if (me) { loadMine(); if (me.role === "instructor") loadAll(); } }
  };
  tick();
}

function render(sub) {
  $("status").textContent = sub.status;
  $("status").dataset.status = sub.status;
  const timing = [];
  if (sub.queue_seconds !== null) timing.push(`waited ${sub.queue_seconds.toFixed(1)} s`);
  if (sub.grading_seconds !== null) timing.push(`graded in ${sub.grading_seconds.toFixed(1)} s`);
  if (sub.attempts > 1) timing.push(`${sub.attempts} attempts`);
  $("timing").textContent = timing.length ? "(" + timing.join(", ") + ")" : "";
  $("score-line").hidden = sub.score === null;
  $("score").textContent = sub.score === null ? "" : +sub.score.toFixed(2);
  $("max-score").textContent = sub.max_score === null ? "" : +sub.max_score.toFixed(2);
  $("grading-error").textContent = sub.error || "";

  const tbody = $("questions").querySelector("tbody");
  tbody.replaceChildren();
  for (const q of sub.questions) {
    const tr = document.createElement("tr");
    tr.dataset.question = q.id;
    cell(tr, q.id); cell(tr, q.title);
    cell(tr, q.score === null ? "" : +q.score.toFixed(2), "num q-score");
    cell(tr, +q.max_score.toFixed(2), "num");
    tbody.appendChild(tr);
  }

  // feedback: one row per visible test (failed ones first), its output underneath when there is any
  const tests = $("tests");
  tests.replaceChildren();
  const ordered = [...sub.tests].sort((a, b) => (a.status === "failed") === (b.status === "failed") ? 0 : (a.status === "failed" ? -1 : 1));
  for (const t of ordered) {
    const tr = document.createElement("tr");
    tr.className = "test " + (t.status || "");
    cell(tr, t.number || "");
    cell(tr, t.name);
    cell(tr, t.status || "");
    cell(tr, fmtScore(t.score, t.max_score) + (t.visibility !== "visible" ? ` [${t.visibility}]` : ""), "num");
    tests.appendChild(tr);
    if (t.output) {
      const out = document.createElement("tr");
      out.className = "test-output";
      const td = document.createElement("td");
      td.colSpan = 4;
      const pre = document.createElement("pre");
      pre.textContent = t.output;
      td.appendChild(pre);
      out.appendChild(td);
      tests.appendChild(out);
    }
  }
  $("hidden-tests").textContent = sub.hidden_tests ? `${sub.hidden_tests} hidden test(s) are not shown.` : "";
  const out = sub.output || sub.log_tail;
  $("output").hidden = !out;
  $("output").textContent = out || "";
}

// ---------------------------------------------------------------- lists
function fillTable(tableId, items, columns) {
  const tbody = $(tableId).querySelector("tbody");
  tbody.replaceChildren();
  for (const s of items) {
    const tr = document.createElement("tr");
    tr.className = "clickable";
    tr.dataset.id = s.id;
    for (const [value, cls] of columns(s)) cell(tr, value, cls);
    tr.addEventListener("click", () => watch(s.id));
    tbody.appendChild(tr);
  }
}

async function loadMine() {
  try {
    const list = await api("/submissions?limit=20" + (me && me.role === "instructor" ? "&student=" + encodeURIComponent(me.name) : ""));
    fillTable("mine", list.items, (s) => [[s.id], [s.assignment], [s.filename], [fmtTime(s.created_at)], [s.status], [fmtScore(s.score, s.max_score), "num"]]);
  } catch (err) { /* shown by the token section */ }
}

async function loadAll() {
  const params = new URLSearchParams({ limit: "200" });
  if ($("filter-student").value.trim()) params.set("student", $("filter-student").value.trim());
  if ($("filter-assignment").value) params.set("assignment", $("filter-assignment").value);
  try {
    const list = await api("/submissions?" + params);
    fillTable("all-submissions", list.items, (s) => [[s.id], [s.student], [s.assignment], [s.filename], [fmtTime(s.created_at)], [s.status], [fmtScore(s.score, s.max_score), "num"], [s.attempts]]);
  } catch (err) { $("gradebook-error").textContent = err.message; }
}

$("filter-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadAll(); });

// the gradebook needs the Authorization header, so fetch it and hand the browser a blob to save
$("gradebook-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("gradebook-error").textContent = "";
  const assignment = $("gradebook-assignment").value;
  const policy = $("gradebook-policy").value;
  const response = await fetch(`${API}/gradebook.csv?assignment=${encodeURIComponent(assignment)}&policy=${policy}`, { headers: authHeaders() });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    $("gradebook-error").textContent = body.detail || ("HTTP " + response.status);
    return;
  }
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `gradebook-${assignment}-${policy}.csv`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
});

// ---------------------------------------------------------------- start
$("token").value = token;
loadAssignments().catch((err) => { $("upload-error").textContent = "cannot load assignments: " + err.message; });
signIn();
