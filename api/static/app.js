// The grading service's web page: token, upload with progress, live status, results grouped by question,
// and the instructor view (submissions, a student's history, regrades, manual scores, deadlines, exports).
// Plain JavaScript, no framework; every value from the server is inserted with textContent. Times are
// shown in the course's time zone (GET /api/v1/course).
"use strict";

const $ = (id) => document.getElementById(id);
const API = "/api/v1";
let token = localStorage.getItem("grader-token") || "";
let me = null;
let pollTimer = null;
let mineTimer = null;
let courseZone = "UTC";
let assignments = [];
let current = null;          // the submission shown in the result section

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

function fmtTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { timeZone: courseZone, dateStyle: "medium", timeStyle: "short" });
}

// an ISO time as the value of a datetime-local input, in the course's zone ("" for none)
function toLocalInput(iso) {
  if (!iso) return "";
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-CA", { timeZone: courseZone, hourCycle: "h23", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).formatToParts(new Date(iso))) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

function fmtLate(seconds) {
  if (!seconds) return "";
  const h = seconds / 3600;
  return h >= 48 ? `${(h / 24).toFixed(1)} days late` : `${h.toFixed(1)} h late`;
}

async function download(path, filename, errorId) {
  $(errorId).textContent = "";
  const response = await fetch(API + path, { headers: authHeaders() });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    $(errorId).textContent = body.detail || ("HTTP " + response.status);
    return;
  }
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

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
  loadMyDeadlines();
  if (me && me.role === "instructor") { loadAll(); loadExtensions(); }
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
  try { courseZone = (await api("/course")).timezone; } catch (err) { courseZone = "UTC"; }
  for (const el of document.querySelectorAll(".course-tz")) el.textContent = courseZone;
  const list = await api("/assignments");
  assignments = list.items;
  for (const selectId of ["assignment", "filter-assignment", "gradebook-assignment", "policy-assignment"]) {
    const select = $(selectId);
    for (const a of list.items) {
      const opt = document.createElement("option");
      opt.value = a.id;
      opt.textContent = selectId === "assignment" ? `${a.title} (${a.id}, ${a.max_score} points)` : a.id;
      select.appendChild(opt);
    }
  }
  showDue();
  showPolicy();
}

let myDeadlines = {};        // assignment -> the signed-in user's deadlines (their extension applied)

async function loadMyDeadlines() {
  myDeadlines = {};
  if (me) {
    try { for (const d of await api("/me/deadlines")) myDeadlines[d.assignment] = d; } catch (err) { /* shown elsewhere */ }
  }
  showDue();
}

function showDue() {
  const a = assignments.find((x) => x.id === $("assignment").value);
  const p = a && a.policy;
  const mine = a && myDeadlines[a.id];
  const due = mine ? mine.due_at : p && p.due_at;
  const hard = mine ? mine.hard_deadline_at : p && p.hard_deadline_at;
  const parts = [];
  if (due) parts.push(`due ${fmtTime(due)} (${courseZone})` + (mine && mine.extended ? ", your extension" : ""));
  if (p && p.penalty_percent) parts.push(`late: ${p.penalty_percent}% off per ${p.penalty_unit}, at most ${p.penalty_cap_percent}%`);
  if (hard) parts.push(`closes ${fmtTime(hard)}`);
  if (p && p.max_submissions) parts.push(mine ? `${mine.submissions} of ${p.max_submissions} uploads used` : `${p.max_submissions} uploads allowed`);
  $("due-info").textContent = parts.join(" · ");
}
$("assignment").addEventListener("change", showDue);

// ---------------------------------------------------------------- upload (XHR for progress events)
function setProgress(fraction) {
  const pct = Math.round(100 * fraction);
  $("upload-progress").value = pct;
  $("upload-progress").dataset.state = "";
  $("upload-percent").textContent = pct + "%";
}

// the bar does not stay at 100 % when the service refuses the upload
function refused(message) {
  $("upload-progress").value = 0;
  $("upload-progress").dataset.state = "refused";
  $("upload-percent").textContent = "refused";
  $("upload-error").textContent = "upload refused: " + message;
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
      if (me) { loadMine(); loadMyDeadlines(); }
    } else {
      refused(xhr.response && xhr.response.detail ? xhr.response.detail : "HTTP " + xhr.status);
    }
  };
  xhr.onerror = () => { $("upload").disabled = false; refused("the connection was closed (is the file too large?)"); };
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
  current = sub;
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
  const counted = sub.final_score !== null && sub.final_score !== sub.score;
  $("final-line").textContent = counted ? `(counts as ${+sub.final_score.toFixed(2)})` : "";
  $("late-line").hidden = !sub.late_seconds;
  $("late-line").textContent = sub.late_seconds ? `Uploaded ${fmtLate(sub.late_seconds)}: ${sub.penalty_percent}% taken off.` : "";
  $("grading-error").textContent = sub.error || "";
  // the overall output, once, at the top (e.g. why the archive could not be unpacked)
  const out = sub.output || sub.log_tail;
  $("output").hidden = !out;
  $("output").textContent = out || "";

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
  renderManualScores(sub);
  renderTests(sub.tests);
  $("hidden-tests").textContent = sub.hidden_tests ? `${sub.hidden_tests} hidden test(s) are not shown.` : "";
  renderInstructorTools(sub);
}

function renderManualScores(sub) {
  const rows = (sub.manual || []).filter((m) => m.score !== null);
  $("manual-section").hidden = rows.length === 0;
  const tbody = $("manual-scores").querySelector("tbody");
  tbody.replaceChildren();
  for (const m of rows) {
    const tr = document.createElement("tr");
    cell(tr, m.question); cell(tr, m.title); cell(tr, fmtScore(m.score, m.points), "num"); cell(tr, m.comment);
    tbody.appendChild(tr);
  }
}

// the tests grouped by question (the part of the name before ": "), failed ones first; passed ones are
// collapsed behind a button; a message shown once is not repeated for the tests that share it
function renderTests(list) {
  const tests = $("tests");
  tests.replaceChildren();
  const groups = new Map();
  for (const t of list) {
    const key = t.name.includes(": ") ? t.name.slice(0, t.name.indexOf(": ")) : (t.number || "").split(".")[0];
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(t);
  }
  const shown = new Map();     // output -> number of the test that shows it
  for (const [key, members] of groups) {
    const failed = members.filter((t) => t.status !== "passed");
    const passed = members.filter((t) => t.status === "passed");
    const head = document.createElement("tr");
    head.className = "group" + (failed.length ? " has-failed" : "");
    const td = cell(head, `${key} — ${failed.length} failed, ${passed.length} passed`);
    td.colSpan = 4;
    tests.appendChild(head);
    const passedRows = [];
    for (const t of [...failed, ...passed]) {
      const tr = document.createElement("tr");
      tr.className = "test " + (t.status || "");
      cell(tr, t.number || "");
      cell(tr, t.name.includes(": ") ? t.name.slice(t.name.indexOf(": ") + 2) : t.name);
      cell(tr, t.status || "");
      cell(tr, fmtScore(t.score, t.max_score) + (t.visibility !== "visible" ? ` [${t.visibility}]` : ""), "num");
      tests.appendChild(tr);
      if (t.status === "passed") { tr.hidden = true; passedRows.push(tr); }
      if (!t.output) continue;
      const out = document.createElement("tr");
      out.className = "test-output";
      const cellOut = document.createElement("td");
      cellOut.colSpan = 4;
      if (shown.has(t.output)) {
        cellOut.className = "muted same";
        cellOut.textContent = `same message as test ${shown.get(t.output)}`;
      } else {
        shown.set(t.output, t.number || t.name);
        const pre = document.createElement("pre");
        pre.textContent = t.output;
        cellOut.appendChild(pre);
      }
      out.appendChild(cellOut);
      tests.appendChild(out);
      if (t.status === "passed") { out.hidden = true; passedRows.push(out); }
    }
    if (passed.length) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary toggle-passed";
      button.textContent = `show ${passed.length} passed`;
      button.addEventListener("click", () => {
        const open = passedRows[0].hidden;
        for (const row of passedRows) row.hidden = !open;
        button.textContent = open ? "hide passed" : `show ${passed.length} passed`;
      });
      td.appendChild(button);
    }
  }
}

// ---------------------------------------------------------------- instructor tools of one submission
function renderInstructorTools(sub) {
  const instructor = me && me.role === "instructor";
  $("instructor-tools").hidden = !instructor;
  if (!instructor) return;
  $("duplicates").textContent = sub.duplicate_of && sub.duplicate_of.length
    ? `Same graded files as other students' submission(s): ${sub.duplicate_of.join(", ")}` : "";
  const tbody = $("regrade-history").querySelector("tbody");
  tbody.replaceChildren();
  for (const r of sub.regrades || []) {
    const tr = document.createElement("tr");
    cell(tr, fmtTime(r.requested_at)); cell(tr, r.requested_by); cell(tr, r.reason || "");
    cell(tr, r.old_score === null ? "" : r.old_score, "num");
    cell(tr, r.outcome === null ? "pending" : (r.new_score === null ? r.outcome : r.new_score), "num");
    tbody.appendChild(tr);
  }
  const box = $("manual-grading");
  if (box.dataset.sub === String(sub.id) && box.dataset.status === sub.status) return;  // keep what is typed
  box.dataset.sub = String(sub.id);
  box.dataset.status = sub.status;
  box.replaceChildren();
  for (const m of sub.manual || []) {
    const item = document.createElement("div");
    item.className = "manual-item";
    item.dataset.question = m.question;
    const title = document.createElement("strong");
    title.textContent = `${m.question} ${m.title} (${m.points} points)`;
    item.appendChild(title);
    const answer = document.createElement("pre");
    answer.className = "answer";
    answer.textContent = m.answer === null ? "(no written answer found)" : m.answer;
    item.appendChild(answer);
    const form = document.createElement("form");
    const score = document.createElement("input");
    Object.assign(score, { type: "number", min: "0", max: String(m.points), step: "any", className: "manual-score" });
    score.value = m.score === null ? "" : m.score;
    const comment = document.createElement("textarea");
    comment.className = "manual-comment";
    comment.rows = 2;
    comment.value = m.comment || "";
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "manual-save";
    save.textContent = "Save score";
    const message = document.createElement("span");
    message.className = "muted manual-message";
    form.append(score, comment, save, message);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await api(`/submissions/${sub.id}/manual/${encodeURIComponent(m.question)}`, {
          method: "PUT", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ score: Number(score.value), comment: comment.value }) });
        message.textContent = "saved";
        box.dataset.status = "";
        watch(sub.id);
      } catch (err) { message.textContent = err.message; }
    });
    item.appendChild(form);
    box.appendChild(item);
  }
}

async function regrade(body, messageId) {
  try {
    const r = await api("/regrades", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    $(messageId).textContent = `${r.queued.length} submission(s) queued for regrading` + (r.skipped.length ? `, ${r.skipped.length} already in the queue` : "");
    return r;
  } catch (err) { $(messageId).textContent = err.message; return null; }
}

$("regrade-one").addEventListener("click", async () => {
  if (!current) return;
  if (await regrade({ submission_id: current.id, reason: $("regrade-reason").value || null }, "regrade-message")) watch(current.id);
});
$("regrade-student").addEventListener("click", async () => {
  if (!current) return;
  if (await regrade({ assignment: current.assignment, student: current.student, reason: $("regrade-reason").value || null }, "regrade-message")) { watch(current.id); loadAll(); }
});
$("regrade-assignment").addEventListener("click", async () => {
  const assignment = $("filter-assignment").value;
  if (!assignment) { $("all-message").textContent = "choose the assignment to regrade first"; return; }
  if (await regrade({ assignment, reason: "whole assignment" }, "all-message")) loadAll();
});

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
    if (s.late_seconds) tr.classList.add("late");
    tbody.appendChild(tr);
  }
}

async function loadMine() {
  try {
    const list = await api("/submissions?limit=20" + (me && me.role === "instructor" ? "&student=" + encodeURIComponent(me.name) : ""));
    fillTable("mine", list.items, (s) => [[s.id], [s.assignment], [s.filename], [fmtTime(s.created_at)], [s.status], [fmtScore(s.score, s.max_score), "num"]]);
    clearTimeout(mineTimer);
    if (list.items.some((s) => s.status === "queued" || s.status === "running")) mineTimer = setTimeout(loadMine, 2000);
  } catch (err) { /* shown by the token section */ }
}

async function loadAll() {
  const params = new URLSearchParams({ limit: "200" });
  if ($("filter-student").value.trim()) params.set("student", $("filter-student").value.trim());
  if ($("filter-assignment").value) params.set("assignment", $("filter-assignment").value);
  if ($("filter-status").value) params.set("status", $("filter-status").value);
  try {
    const list = await api("/submissions?" + params);
    const items = $("filter-late").checked ? list.items.filter((s) => s.late_seconds) : list.items;
    fillTable("all-submissions", items, (s) => [[s.id], [s.student], [s.assignment], [s.filename], [fmtTime(s.created_at)], [s.status], [fmtScore(s.score, s.max_score), "num"], [s.attempts], [s.late_seconds ? `${fmtLate(s.late_seconds)} (−${s.penalty_percent}%)` : ""]]);
    // a student's history: click their name
    for (const tr of $("all-submissions").querySelectorAll("tbody tr")) {
      const name = tr.children[1];
      name.classList.add("student-link");
      name.addEventListener("click", (ev) => { ev.stopPropagation(); $("filter-student").value = name.textContent; loadAll(); });
    }
  } catch (err) { $("gradebook-error").textContent = err.message; }
}

// ---------------------------------------------------------------- deadlines and extensions
function showPolicy() {
  const a = assignments.find((x) => x.id === $("policy-assignment").value);
  const p = (a && a.policy) || {};
  $("policy-due").value = toLocalInput(p.due_at);
  $("policy-hard").value = toLocalInput(p.hard_deadline_at);
  $("policy-penalty").value = p.penalty_percent ?? 0;
  $("policy-unit").value = p.penalty_unit || "day";
  $("policy-cap").value = p.penalty_cap_percent ?? 100;
  $("policy-quota").value = p.max_submissions ?? "";
  $("policy-published").checked = !!p.published;
  if (me && me.role === "instructor") loadExtensions();
}
$("policy-assignment").addEventListener("change", showPolicy);

async function loadExtensions() {
  const assignment = $("policy-assignment").value;
  if (!assignment) return;
  try {
    const list = await api(`/assignments/${encodeURIComponent(assignment)}/extensions`);
    const tbody = $("extensions").querySelector("tbody");
    tbody.replaceChildren();
    for (const e of list) {
      const tr = document.createElement("tr");
      cell(tr, e.student); cell(tr, fmtTime(e.due_at)); cell(tr, e.granted_by);
      tbody.appendChild(tr);
    }
  } catch (err) { $("policy-message").textContent = err.message; }
}

$("policy-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const assignment = $("policy-assignment").value;
  const body = {                       // times without an offset: the service reads them in the course's zone
    due_at: $("policy-due").value || null, hard_deadline_at: $("policy-hard").value || null,
    penalty_percent: Number($("policy-penalty").value || 0), penalty_unit: $("policy-unit").value,
    penalty_cap_percent: Number($("policy-cap").value || 100),
    max_submissions: $("policy-quota").value ? Number($("policy-quota").value) : null,
    published: $("policy-published").checked };
  try {
    const saved = await api(`/assignments/${encodeURIComponent(assignment)}/policy`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const a = assignments.find((x) => x.id === assignment);
    if (a) a.policy = saved;
    $("policy-message").textContent = `saved: due ${saved.due_at ? fmtTime(saved.due_at) : "none"}`;
    showDue();
  } catch (err) { $("policy-message").textContent = err.message; }
});

$("extension-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const assignment = $("policy-assignment").value;
  const student = $("ext-student").value.trim();
  try {
    await api(`/assignments/${encodeURIComponent(assignment)}/extensions/${encodeURIComponent(student)}`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ due_at: $("ext-due").value }) });
    $("policy-message").textContent = `extension granted to ${student}`;
    loadExtensions();
  } catch (err) { $("policy-message").textContent = err.message; }
});

$("filter-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadAll(); });

// downloads need the Authorization header, so fetch them and hand the browser a blob to save
$("gradebook-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const assignment = $("gradebook-assignment").value, policy = $("gradebook-policy").value;
  download(`/gradebook.csv?assignment=${encodeURIComponent(assignment)}&policy=${policy}`, `gradebook-${assignment}-${policy}.csv`, "gradebook-error");
});
$("canvas-download").addEventListener("click", () => {
  const assignment = $("gradebook-assignment").value, policy = $("gradebook-policy").value;
  download(`/gradebook/canvas.csv?assignment=${encodeURIComponent(assignment)}&policy=${policy}`, `canvas-${assignment}-${policy}.csv`, "gradebook-error");
});
$("zip-download").addEventListener("click", () => {
  const assignment = $("gradebook-assignment").value, policy = $("gradebook-policy").value;
  download(`/assignments/${encodeURIComponent(assignment)}/submissions.zip?policy=${policy}`, `${assignment}-${policy}.zip`, "gradebook-error");
});
$("duplicates-check").addEventListener("click", async () => {
  const list = $("duplicates-list");
  list.replaceChildren();
  try {
    const r = await api(`/duplicates?assignment=${encodeURIComponent($("gradebook-assignment").value)}`);
    if (!r.groups.length) { const li = document.createElement("li"); li.textContent = "no duplicates"; list.appendChild(li); }
    for (const g of r.groups) {
      const li = document.createElement("li");
      li.className = "duplicate";
      li.textContent = `same graded files: ${g.students.join(", ")} (submissions ${g.submissions.join(", ")})`;
      list.appendChild(li);
    }
  } catch (err) { $("gradebook-error").textContent = err.message; }
});

// ---------------------------------------------------------------- start
$("token").value = token;
loadAssignments().catch((err) => { $("upload-error").textContent = "cannot load assignments: " + err.message; });
signIn();
