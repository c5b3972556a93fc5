"use strict";
// The case board: polls /api/v1/board (the sign-in cookie authenticates the GET) and
// redraws in place; no page reload, nothing loaded from outside this service.
const refreshMs = parseInt(document.body.dataset.refreshMs, 10) || 5000;

function duration(seconds) {
  const sign = seconds < 0 ? "-" : "";
  let s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60);
  if (d) return `${sign}${d}d ${h}h`;
  if (h) return `${sign}${h}h ${m}m`;
  return `${sign}${m}m`;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function card(c) {
  const cls = ["card"];
  if (c.breached) cls.push("breached"); else if (c.warned) cls.push("warned");
  const clocks = c.clocks.map((k) => {
    const left = !k.breached ? `${duration(k.remaining_s)} left`
      : (k.remaining_s < 0 ? `breached, ${duration(-k.remaining_s)} over` : "breached");
    return `${k.kind}: ${left}${k.state === "paused" ? " (paused)" : ""}`;
  }).join(" · ");
  return el("div", {"class": cls.join(" "), "data-case": c.id},
    el("div", {"class": "title"}, `#${c.id} P${c.priority} ${c.title}`),
    el("div", {"class": "meta"}, `${c.status}${c.assignee ? " · " + c.assignee : ""}` +
       (c.exception_reason ? ` · ${c.exception_reason}` : "")),
    el("div", {"class": "left"}, clocks || "no running clock"));
}

function render(board) {
  const root = document.getElementById("departments");
  const parts = [];
  let open = 0, breached = 0;
  for (const d of board.departments) {
    open += d.open_cases; breached += d.breached;
    const head = el("h2", {}, d.name, el("small", {}, ` ${d.open_cases} open`));
    if (d.breached) head.append(el("span", {"class": "breaches"}, `${d.breached} breached`));
    const stages = el("div", {"class": "stages"});
    for (const s of d.stages) {
      const cards = el("div", {"class": "cards"});
      if (!s.cases.length) cards.append(el("div", {"class": "empty"}, "no cases"));
      for (const c of s.cases) cards.append(card(c));
      stages.append(el("div", {"class": "stage", "data-stage": s.name}, el("h3", {}, s.name), cards));
    }
    parts.push(el("section", {"class": "department", "data-department": d.name}, head, stages));
  }
  root.replaceChildren(...parts);
  const exc = document.getElementById("exceptions");
  if (board.exceptions === null) {
    exc.hidden = true;
  } else {
    exc.hidden = false;
    const cards = document.getElementById("exception-cards");
    cards.replaceChildren(...(board.exceptions.length ? board.exceptions.map(card)
      : [el("div", {"class": "empty"}, "empty")]));
    open += board.exceptions.length;
    breached += board.exceptions.filter((c) => c.breached).length;
  }
  document.getElementById("summary").textContent = `${open} open, ${breached} breached`;
  document.getElementById("updated").textContent =
    "updated " + new Date(board.generated_at).toLocaleTimeString();
  document.body.dataset.generatedAt = board.generated_at;
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const response = await fetch("/api/v1/board", {credentials: "same-origin"});
    if (response.status === 401) { window.location.assign("/login"); return; }
    if (!response.ok) throw new Error(`board: HTTP ${response.status}`);
    render(await response.json());
    status.textContent = ""; status.className = "";
  } catch (e) {
    status.textContent = `refresh failed: ${e.message}`; status.className = "error";
  }
}

refresh();
setInterval(refresh, refreshMs);
