// The transcripts browser. Model text is untrusted: it is read from a JSON block
// and put on the page only through createElement and textContent, never as markup.
"use strict";
(function () {
  const byId = (id) => document.getElementById(id);
  const source = byId("ps-data");
  if (!source) return;
  const rows = JSON.parse(source.textContent);
  // Only a page of cards is in the DOM at a time, so runs with thousands of
  // transcripts stay responsive.
  const PAGE = 50;
  const search = byId("ps-search");
  const list = byId("ps-list");
  const count = byId("ps-count");
  const more = byId("ps-more");
  const filters = { step: byId("ps-f-step"), model: byId("ps-f-model"), arm: byId("ps-f-arm") };

  function el(name, cls, text) {
    const node = document.createElement(name);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function show(value) {
    if (value === null || value === undefined) return "n/a";
    if (Array.isArray(value)) return value.map(show).join(", ");
    if (typeof value === "object") return JSON.stringify(value);
    if (typeof value !== "number" || Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 1000 ? value.toFixed(0) : value.toPrecision(3);
  }

  for (const r of rows) {
    const parts = [r.step, r.model, r.arm, r.sample, r.output || ""];
    for (const m of r.messages) parts.push(m.content);
    r.haystack = parts.join("\n").toLowerCase();
  }

  for (const [key, select] of Object.entries(filters)) {
    // First-appearance order: rows come in the run's step order.
    const values = [...new Set(rows.map((r) => r[key]).filter((v) => v))];
    for (const v of values) {
      const option = el("option", "", v);
      option.value = v;
      select.append(option);
    }
    // A filter with one choice only adds noise.
    if (values.length < 2) select.parentElement.hidden = true;
  }

  function message(role, content) {
    const box = el("div", "msg " + role);
    box.append(el("div", "role", role), el("div", "text", content));
    return box;
  }

  function card(r) {
    const box = el("article", "transcript");
    box.dataset.step = r.step;
    box.append(el("div", "meta", [r.step, r.model, r.arm, r.sample].filter(Boolean).join(" · ")));
    for (const m of r.messages) {
      if (m.role === "system") {
        const fold = el("details", "sys");
        fold.append(el("summary", "", "system prompt"), message(m.role, m.content));
        box.append(fold);
      } else {
        box.append(message(m.role, m.content));
      }
    }
    if (r.output) box.append(message("output", r.output));
    const chips = el("div", "chips");
    for (const [k, v] of Object.entries(r.scores || {})) {
      const chip = el("span", "chip");
      chip.append(el("span", "k", k), document.createTextNode(" " + show(v)));
      chips.append(chip);
    }
    const meta = Object.entries(r.meta || {}).filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && !v.length));
    for (const [k, v] of meta) {
      const chip = el("span", "chip muted");
      chip.append(el("span", "k", k), document.createTextNode(" " + show(v)));
      chips.append(chip);
    }
    if (chips.childElementCount) box.append(chips);
    return box;
  }

  let matches = [];
  let shown = 0;

  function showMore() {
    const end = Math.min(shown + PAGE, matches.length);
    const batch = document.createDocumentFragment();
    for (let i = shown; i < end; i++) batch.append(card(matches[i]));
    list.append(batch);
    shown = end;
    count.textContent = matches.length === rows.length
      ? `${rows.length} transcripts`
      : `${matches.length} of ${rows.length} transcripts match`;
    if (shown < matches.length) count.textContent += ` (showing ${shown})`;
    more.hidden = shown >= matches.length;
  }

  function apply() {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const wanted = Object.entries(filters).filter(([, s]) => s.value).map(([k, s]) => [k, s.value]);
    matches = rows.filter((r) => wanted.every(([k, v]) => r[k] === v) && words.every((w) => r.haystack.includes(w)));
    shown = 0;
    list.replaceChildren();
    if (!matches.length) list.append(el("p", "muted", "No transcript matches."));
    showMore();
  }

  let timer = 0;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(apply, 120);
  });
  for (const select of Object.values(filters)) select.addEventListener("change", apply);
  more.addEventListener("click", showMore);

  // "Browse all transcripts of this step" buttons in the sections.
  for (const button of document.querySelectorAll("button.browse[data-step]")) {
    button.addEventListener("click", () => {
      for (const select of Object.values(filters)) select.value = "";
      filters.step.value = button.dataset.step;
      search.value = "";
      apply();
      byId("transcripts").scrollIntoView({ behavior: "smooth" });
    });
  }

  apply();
})();
