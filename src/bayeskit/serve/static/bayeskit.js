// bayeskit serve: the pages' shared code. It only reads controls, asks the API and draws what it answers;
// every number shown comes from the server (bayeskit), none is computed here.
"use strict";
const BK = (() => {
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
  let version = 0;

  function format(value) {
    if (value === null || value === undefined) return "undefined";
    if (Array.isArray(value)) return "[" + value.map(format).join(", ") + "]";
    if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${k} ${format(v)}`).join(", ");
    if (typeof value === "number") {
      if (Number.isInteger(value)) return String(value);
      const size = Math.abs(value);
      if (size !== 0 && (size < 1e-3 || size >= 1e6)) return value.toExponential(3);
      return String(Number(value.toPrecision(4)));
    }
    return String(value);
  }

  function lookup(data, path) {
    return path.split(".").reduce((node, key) => (node === null || node === undefined ? undefined : node[key]), data);
  }

  function showOutputs(data) {
    for (const element of $$("[data-out]")) {
      const value = lookup(data, element.dataset.out);
      if (value === undefined) continue;
      const note = lookup(data, element.dataset.out + "_note");
      const missing = value === null || (Array.isArray(value) && value.every((v) => v === null));
      element.textContent = missing && note ? `undefined (${note})` : format(value);
      element.dataset.value = JSON.stringify(value);
    }
  }

  function status(text, isError = false) {
    const line = $("#status");
    if (!line) return;
    line.textContent = text;
    line.classList.toggle("error", isError);
  }

  // Range sliders and their number boxes move together; the URL keeps the state, so a view can be shared.
  function linkControls(onChange) {
    const start = new URLSearchParams(location.search);
    for (const slider of $$("input[type=range]")) {
      const box = $(`[data-mirror="${slider.id}"]`);
      if (start.has(slider.id)) setControl(slider.id, start.get(slider.id));
      slider.addEventListener("input", () => { if (box) box.value = slider.value; onChange(slider.id); });
      if (box) box.addEventListener("input", () => {
        if (box.value === "") return;
        if (Number(box.value) > Number(slider.max)) slider.max = box.value;
        slider.value = box.value;
        onChange(slider.id);
      });
    }
    for (const other of $$("select[data-param], input[data-param]:not([type=range])")) {
      if (start.has(other.dataset.param)) other.value = start.get(other.dataset.param);
      other.addEventListener("input", () => onChange(other.dataset.param));
    }
  }

  function setControl(name, value) {
    const slider = $(`#${name}`);
    if (!slider) return;
    if (Number(value) > Number(slider.max)) slider.max = value;
    slider.value = value;
    const box = $(`[data-mirror="${name}"]`);
    if (box) box.value = value;
  }

  function value(name) {
    const element = $(`#${name}`) || $(`[data-param="${name}"]`);
    return element ? element.value : null;
  }

  function controlParams(names) {
    const params = new URLSearchParams();
    for (const element of $$("[data-param]")) {
      const name = element.dataset.param;
      if (!names || names.includes(name)) params.set(name, element.value);
    }
    return params;
  }

  async function getJSON(url, tries = 30) {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(url, { headers: { accept: "application/json" } });
      const body = await response.json();
      if (response.ok) return body;
      if (response.status === 503 && attempt < tries) {  // still computing, or busy: the server said to retry
        status("computing… " + (body.error || ""));
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      const error = new Error(body.error || `${response.status} ${response.statusText}`);
      error.body = body;
      throw error;
    }
  }

  function rendered() {
    version += 1;
    document.body.dataset.version = String(version);
    document.body.dataset.state = "ready";
  }

  // A page: requests [{api, params: [names] | null, extra: () => URLSearchParams}], render(answers).
  // One request at a time; changes made meanwhile are sent when it returns (the newest values win).
  function page({ requests, render, constrain }) {
    let busy = false, dirty = false;
    async function update() {
      if (busy) { dirty = true; return; }
      busy = true;
      dirty = false;
      const started = performance.now();
      try {
        const state = new URLSearchParams();
        const answers = await Promise.all(requests.map((r) => {
          const params = r.params === undefined ? controlParams() : controlParams(r.params);
          if (r.extra) for (const [k, v] of r.extra()) params.set(k, v);
          for (const [k, v] of params) state.set(k, v);
          return getJSON(`${r.api}?${params}`);
        }));
        render(...answers);
        showOutputs(Object.assign({}, ...answers));
        status(`computed by bayeskit in ${Math.round(performance.now() - started)} ms`);
        history.replaceState(null, "", `?${state}`);
        rendered();
      } catch (error) {
        status(error.message, true);
        document.body.dataset.state = "error";
        rendered();
      } finally {
        busy = false;
        if (dirty) update();
      }
    }
    linkControls((name) => { if (constrain) constrain(name); update(); });
    update();
    return { update };
  }

  // A live monitor of the files listed at `list` (under `key`): one section each, refreshed every two seconds.
  async function monitor({ list, key, empty, section, refresh }) {
    const detail = $("#detail");
    const items = (await getJSON(list))[key];
    if (!items.length) {
      detail.innerHTML = `<p class='banner'>${empty}</p>`;
      rendered();
      return;
    }
    detail.innerHTML = items.map(section).join("");
    async function loop() {
      try {
        await Promise.all(items.map(refresh));
        status(`refreshed ${new Date().toLocaleTimeString()}`);
      } catch (error) {
        status(error.message, true);
      }
      rendered();
      setTimeout(loop, 2000);
    }
    loop();
  }

  function draw(id, options) {
    const figure = document.getElementById(id);
    const width = Math.max(320, Math.min(figure.clientWidth - 16 || 640, 1000));
    figure.replaceChildren(Plot.plot({ width, height: 300, style: { fontSize: "12px" }, ...options }));
  }

  // Rows for Plot from the API's column arrays: keep(x, y) drops undefined points.
  function rows(x, columns) {
    const out = [];
    for (const [name, ys] of Object.entries(columns)) {
      if (!ys) continue;
      x.forEach((xi, i) => { if (ys[i] !== null && xi !== null) out.push({ x: xi, y: ys[i], series: name }); });
    }
    return out;
  }

  function table(headers, body) {
    const head = "<tr>" + headers.map((h) => `<th>${escape(h)}</th>`).join("") + "</tr>";
    const lines = body.map((cells) => "<tr>" + cells.map((c) => `<td>${escape(format(c))}</td>`).join("") + "</tr>");
    return `<table>${head}${lines.join("")}</table>`;
  }

  function escape(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  return { $, $$, format, page, monitor, draw, controlParams, rows, table, escape, status, value, setControl, getJSON, rendered, showOutputs };
})();
