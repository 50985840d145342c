// nianbao review: keyboard-first review of one report beside its source.
// Report text is untrusted: it is only ever set with textContent or attribute values, never as markup.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf"]').content;

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    const data = await response.json().catch(() => ({ error: "the server answered " + response.status }));
    if (!response.ok) throw new Error(data.error || "the server answered " + response.status);
    return data;
  }

  function say(text, kind) {
    const box = document.getElementById("message");
    if (!box) return;
    box.textContent = text;
    box.className = "message " + (kind || "");
  }

  function typing(event) {
    const target = event.target;
    return target instanceof HTMLInputElement && !target.readOnly;
  }

  // Help -------------------------------------------------------------------------------------------------------
  const help = document.getElementById("help");
  function toggleHelp(show) {
    help.hidden = show === undefined ? !help.hidden : !show;
  }
  document.getElementById("help-button").addEventListener("click", () => toggleHelp());

  // The reviewer's name ----------------------------------------------------------------------------------------
  const reviewerForm = document.getElementById("reviewer-form");
  if (reviewerForm) {
    reviewerForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await post("/reviewer", { name: document.getElementById("reviewer-name").value });
        location.href = "/";
      } catch (error) {
        document.getElementById("reviewer-error").textContent = error.message;
      }
    });
  }

  // The queue --------------------------------------------------------------------------------------------------
  const rows = Array.from(document.querySelectorAll("#queue tr.entry"));
  let selected = 0;
  function select(index) {
    if (!rows.length) return;
    selected = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((row, i) => row.classList.toggle("selected", i === selected));
    rows[selected].focus();
  }
  if (rows.length) select(0);

  // The report -------------------------------------------------------------------------------------------------
  const holder = document.getElementById("state");
  const reportId = holder ? holder.dataset.id : null;
  const cells = Array.from(document.querySelectorAll("input.cell"));
  const byKey = new Map(cells.map((input) => [input.dataset.key, input]));
  let state = holder ? JSON.parse(holder.dataset.state) : null;
  let focused = null;
  let offered = null;

  function numberSpans() {
    return new Map(Array.from(document.querySelectorAll("#text .n")).map((span) => [span.dataset.start, span]));
  }
  const spans = holder ? numberSpans() : new Map();

  function show(newState) {
    state = newState;
    for (const [key, cell] of Object.entries(state.cells)) {
      const input = byKey.get(key);
      if (!input) continue;
      if (input.readOnly) input.value = cell.value;
      input.className = "cell " + cell.state + (cell.corrected ? " corrected" : "");
      input.parentElement.className = cell.state;
      input.title = cell.label + " (" + key + "): " + cell.state;
    }
    spans.forEach((span) => span.classList.remove("cell-span"));
    for (const cell of Object.values(state.cells)) {
      const span = cell.start === null ? null : spans.get(String(cell.start));
      if (span) span.classList.add("cell-span");
    }
    showStatus();
    showRelations();
    showFindings();
    drawBoxes();
  }

  function showStatus() {
    const status = document.getElementById("status");
    const reviewed = state.stored === "reviewed" ? " · reviewed" : state.stored === "rejected" ? " · rejected" : "";
    status.textContent = state.status + " · " + state.errors + " errors" + reviewed;
    status.className = "status " + state.status + (reviewed ? " done" : "");
  }

  function item(text, className) {
    const li = document.createElement("li");
    li.className = className;
    li.textContent = text;
    return li;
  }

  function showRelations() {
    const list = document.getElementById("relations");
    list.replaceChildren();
    if (!state.relations.length) list.append(item("every relation holds", "passing"));
    for (const relation of state.relations) {
      const li = item(relation.id + ": " + relation.state, "relation " + relation.state);
      li.dataset.relation = relation.id;
      if (relation.en) li.title = relation.en;
      if (relation.state !== "passing") {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = relation.state === "marked" ? "unmark" : "the source's own";
        button.title = "the report prints numbers that do not add up: keep them as printed";
        button.addEventListener("click", () => markInconsistency(relation.id, relation.state !== "marked"));
        li.append(" ", button);
      }
      list.append(li);
    }
  }

  function showFindings() {
    const list = document.getElementById("findings");
    list.replaceChildren();
    if (!state.findings.length) list.append(item("no findings", "info"));
    for (const finding of state.findings) {
      const li = item(finding.severity + " " + finding.rule + " (" + finding.blame + "): " + finding.zh, finding.severity);
      li.title = finding.en;
      if (finding.cells.length) li.addEventListener("click", () => focusCell(byKey.get(finding.cells[0])));
      list.append(li);
    }
  }

  // PDF pages: a box at each cell's position, where the result records one (PDF points, top-left origin).
  function drawBoxes() {
    document.querySelectorAll(".page .box").forEach((box) => box.remove());
    for (const [key, cell] of Object.entries(state.cells)) {
      if (!cell.bbox || !cell.page) continue;
      const page = document.querySelector('.page[data-page="' + cell.page + '"]');
      if (!page) continue;
      const width = Number(page.dataset.width);
      const height = Number(page.dataset.height);
      const [x0, top, x1, bottom] = cell.bbox;
      const box = document.createElement("div");
      box.className = "box " + cell.state;
      box.dataset.key = key;
      box.style.left = (100 * x0) / width + "%";
      box.style.top = (100 * top) / height + "%";
      box.style.width = (100 * (x1 - x0)) / width + "%";
      box.style.height = (100 * (bottom - top)) / height + "%";
      page.append(box);
    }
  }

  function focusCell(input) {
    if (!input) return;
    input.focus();
  }

  function revealSource(key) {
    const cell = state.cells[key];
    document.querySelectorAll(".current").forEach((element) => element.classList.remove("current"));
    if (!cell || cell.start === null) return;
    const box = document.querySelector('.box[data-key="' + key + '"]');
    const span = spans.get(String(cell.start));
    const target = box && !document.getElementById("pages").hidden ? box : span;
    if (span) span.classList.add("current");
    if (box) box.classList.add("current");
    if (!target && cell.page) {
      const page = document.querySelector('.page[data-page="' + cell.page + '"]');
      if (page) page.scrollIntoView({ block: "start" });
      return;
    }
    if (target) target.scrollIntoView({ block: "center" });
  }

  function startEditing(input, text) {
    input.readOnly = false;
    input.dataset.before = input.value;
    if (text !== undefined) input.value = text;
    input.classList.add("editing");
    if (text === undefined) input.select();
  }

  function stopEditing(input, keep) {
    if (!keep) input.value = input.dataset.before;
    input.readOnly = true;
    input.classList.remove("editing");
  }

  async function save(input) {
    const value = input.value.trim();
    stopEditing(input, true);
    if (value === input.dataset.before) return;
    try {
      say("re-verifying…");
      show(await post("/report/" + reportId + "/cell", { key: input.dataset.key, value: value }));
      say(input.dataset.key + " = " + (value || "blank") + " saved; " + state.errors + " errors left", "ok");
    } catch (error) {
      input.value = input.dataset.before;
      say(error.message, "error");
    }
  }

  async function markInconsistency(relation, marked) {
    try {
      show(await post("/report/" + reportId + "/inconsistency", { relation: relation, marked: marked }));
      say(relation + (marked ? " kept as the source prints it" : " unmarked"), "ok");
    } catch (error) {
      say(error.message, "error");
    }
  }

  async function decide(decision) {
    let note = null;
    if (decision === "reject") {
      note = prompt("Why is this not a report?");
      if (note === null) return;
    }
    try {
      const answer = await post("/report/" + reportId + "/decision", { decision: decision, note: note });
      if (decision === "skip") {
        location.href = answer.next;
        return;
      }
      show(await (await fetch("/report/" + reportId + "/state")).json());
      say(decision === "accept" ? "accepted: exports now use these values (j: next report)" : "rejected", "ok");
    } catch (error) {
      say(error.message, "error");
    }
  }

  async function promote() {
    try {
      const answer = await post("/report/" + reportId + "/promote", {});
      say("gold written to " + answer.gold, "ok");
    } catch (error) {
      say(error.message, "error");
    }
  }

  function neighbour(cell, rowStep, colStep) {
    const grid = cell.closest("table");
    const row = Number(cell.dataset.row) + rowStep;
    const col = Number(cell.dataset.col);
    if (colStep) {
      const index = cells.indexOf(cell) + colStep;
      return cells[index] || null;
    }
    return grid.querySelector('input.cell[data-row="' + row + '"][data-col="' + col + '"]');
  }

  function offer(span) {
    if (!focused) {
      say("focus a cell first, then click a number to put it there");
      return;
    }
    offered = span.textContent;
    document.getElementById("offer-text").textContent =
      "Put " + offered + " in " + state.cells[focused.dataset.key].label + "?";
    document.getElementById("offer").hidden = false;
  }

  function closeOffer(accept) {
    const box = document.getElementById("offer");
    if (box.hidden) return false;
    box.hidden = true;
    if (accept && focused && offered !== null) {
      focused.dataset.before = focused.value;
      focused.value = offered;
      const target = focused;
      target.readOnly = false;
      save(target).then(() => target.focus());
    }
    offered = null;
    return true;
  }

  if (holder) {
    cells.forEach((input) => {
      input.addEventListener("focus", () => {
        focused = input;
        revealSource(input.dataset.key);
      });
      input.addEventListener("click", () => revealSource(input.dataset.key));
      input.addEventListener("blur", () => {
        if (!input.readOnly) save(input);
      });
    });
    spans.forEach((span) => span.addEventListener("click", () => offer(span)));
    document.getElementById("offer-yes").addEventListener("click", () => closeOffer(true));
    document.getElementById("offer-no").addEventListener("click", () => closeOffer(false));
    document.getElementById("accept").addEventListener("click", () => decide("accept"));
    document.getElementById("skip").addEventListener("click", () => decide("skip"));
    document.getElementById("reject").addEventListener("click", () => decide("reject"));
    document.getElementById("promote").addEventListener("click", promote);
    document.querySelectorAll(".views button").forEach((button) =>
      button.addEventListener("click", () => {
        document.querySelectorAll(".views button").forEach((other) => other.classList.toggle("on", other === button));
        document.getElementById("pages").hidden = button.dataset.view !== "pages";
        document.getElementById("text").hidden = button.dataset.view !== "text";
      }),
    );
    // Each page keeps its shape before its image loads, so scrolling to a cell's page lands on it.
    document.querySelectorAll(".page").forEach((page) => {
      page.style.aspectRatio = page.dataset.width + " / " + page.dataset.height;
    });
    show(state);
    const worst = (state) => cells.find((input) => input.classList.contains(state));
    focusCell(worst("ungrounded") || worst("failing") || cells[0]);
  }

  // Keys -------------------------------------------------------------------------------------------------------
  const MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };

  function cellKeys(event, input) {
    if (!input.readOnly) {
      if (event.key === "Enter") {
        event.preventDefault();
        save(input);
      } else if (event.key === "Escape") {
        stopEditing(input, false);
      }
      return true;
    }
    if (event.key === "Enter") {
      event.preventDefault();
      startEditing(input);
      return true;
    }
    if (/^[0-9.,]$/.test(event.key) || event.key === "Backspace" || event.key === "Delete") {
      event.preventDefault();
      startEditing(input, /^[0-9.,]$/.test(event.key) ? event.key : "");
      return true;
    }
    if (MOVES[event.key]) {
      event.preventDefault();
      focusCell(neighbour(input, MOVES[event.key][0], MOVES[event.key][1]));
      return true;
    }
    return false;
  }

  function go(id) {
    const link = document.getElementById(id);
    if (link && link.getAttribute("href")) location.href = link.getAttribute("href");
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && (closeOffer(false) || !help.hidden)) {
      toggleHelp(false);
      return;
    }
    if (holder && event.key === "Enter" && closeOffer(true)) {
      event.preventDefault();
      return;
    }
    if (holder && event.target instanceof HTMLInputElement && event.target.classList.contains("cell")) {
      if (cellKeys(event, event.target)) return;
    } else if (typing(event)) {
      return;
    }
    if (event.key === "?") toggleHelp();
    else if (holder && event.key === "j") go("next");
    else if (holder && event.key === "k") go("previous");
    else if (holder && event.key === "a") decide("accept");
    else if (holder && event.key === "s") decide("skip");
    else if (rows.length && (event.key === "j" || event.key === "ArrowDown")) select(selected + 1);
    else if (rows.length && (event.key === "k" || event.key === "ArrowUp")) select(selected - 1);
    else if (rows.length && event.key === "Enter") location.href = rows[selected].dataset.href;
    else return;
    event.preventDefault();
  });
})();
