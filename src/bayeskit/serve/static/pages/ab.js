"use strict";
// The A/B/n explorer: arms typed in a table; the answer is bayeskit.decide's, drawn and tabulated.
(() => {
  const controls = document.getElementById("controls");
  controls.innerHTML = `
    <label class="control"><span>metric</span><select data-param="metric" id="metric" aria-label="metric">
      <option value="binary">conversions of visitors (binary)</option><option value="count">events per exposure (count)</option></select><span></span></label>
    <label class="control"><span>prior</span><select data-param="prior" id="prior" aria-label="prior">
      <option value="default">default</option><option value="uniform">uniform</option><option value="jeffreys">Jeffreys</option><option value="skeptical">skeptical</option></select><span></span></label>
    <label class="control"><span>credible mass</span><input type="number" data-param="prob" id="prob" min="0.5" max="0.999" step="0.01" value="0.95"><span></span></label>
    <label class="control"><span>ship threshold (exp. loss, fraction of control)</span><input type="number" data-param="threshold" id="threshold" min="0" max="1" step="0.001" value="0.005"><span></span></label>
    <label class="control"><span>ROPE (relative lift)</span><input type="number" data-param="rope" id="rope" min="0" max="1" step="0.005" value="0.01"><span></span></label>`;
  const arms = document.createElement("section");
  arms.className = "arms";
  arms.innerHTML = `<table id="arms"><thead><tr><th>arm</th><th id="size-label">visitors</th><th id="count-label">conversions</th><th></th></tr></thead><tbody></tbody></table>
    <div class="row"><button type="button" id="add-arm" class="secondary">add an arm</button>
    <a id="download-json" href="#" download>download JSON</a> <a id="download-report" href="#" download>download the HTML report</a></div>`;
  controls.after(arms);
  const body = arms.querySelector("tbody");
  let view;

  function addArm(name, size, count) {
    const row = document.createElement("tr");
    row.innerHTML = `<td><input class="arm-name" aria-label="arm name" value="${BK.escape(name)}"></td>
      <td><input class="arm-size" type="number" min="0" step="1" aria-label="visitors of ${BK.escape(name)}" value="${size}"></td>
      <td><input class="arm-count" type="number" min="0" step="1" aria-label="conversions of ${BK.escape(name)}" value="${count}"></td>
      <td><button type="button" class="secondary remove" aria-label="remove arm">×</button></td>`;
    row.querySelectorAll("input").forEach((input) => input.addEventListener("input", () => view.update()));
    row.querySelector(".remove").addEventListener("click", () => { row.remove(); view.update(); });
    body.append(row);
  }

  function armParams() {
    const column = (cls) => [...body.querySelectorAll(`.${cls}`)].map((input) => input.value.trim()).join(",");
    return new URLSearchParams({ names: column("arm-name"), visitors: column("arm-size"), conversions: column("arm-count") });
  }

  function allParams() {
    const params = BK.controlParams();
    for (const [k, v] of armParams()) params.set(k, v);
    return params;
  }

  function render(d) {
    const pct = (x) => (x === null ? "–" : `${(100 * x).toFixed(2)}%`);
    const lift = (a) => (a.lift_interval ? `${pct(a.lift_median)} [${pct(a.lift_interval[0])}, ${pct(a.lift_interval[1])}]` : "control");
    const detail = document.getElementById("detail");
    detail.innerHTML =
      `<h2>Arms</h2><table id="result-arms"><tr><th>arm</th><th>n</th><th>mean [${pct(d.prob)}]</th><th>P(best)</th><th>exp. loss (% of control)</th><th>lift [${pct(d.prob)}]</th><th>P(ROPE)</th></tr>` +
      d.arms.map((a) => `<tr data-arm="${BK.escape(a.name)}"><td>${BK.escape(a.name)}</td><td>${BK.format(a.size)}</td>
        <td>${BK.format(a.mean)} [${BK.format(a.interval[0])}, ${BK.format(a.interval[1])}]</td>
        <td class="prob-best" data-value="${a.prob_best}">${pct(a.prob_best)}</td>
        <td class="loss" data-value="${a.expected_loss_relative}">${pct(a.expected_loss_relative)}</td>
        <td class="lift">${lift(a)}</td><td>${a.prob_in_rope === null ? "–" : pct(a.prob_in_rope)}</td></tr>`).join("") + "</table>" +
      `<h2>Prior sensitivity</h2>` + BK.table(["prior", "decision", "best arm", "P(best)", "changes the conclusion?"],
        d.sensitivity.map((s) => [s.description, s.decision + (s.decision_arm ? ` ${s.decision_arm}` : ""), s.best_arm, s.best_prob, s.changes_conclusion ? "YES" : "no"])) +
      (d.conclusion_depends_on_prior ? `<p class="banner">The conclusion changes under another reasonable prior: collect more data before acting on it.</p>` : "");
    const densities = [];
    for (const [name, ys] of Object.entries(d.densities.arms)) d.densities.x.forEach((x, i) => densities.push({ x, y: ys[i], arm: name }));
    BK.draw("figure", {
      x: { label: d.metric === "binary" ? "conversion rate" : "rate per unit exposure" }, y: { label: "posterior density" },
      color: { legend: true }, marks: [Plot.line(densities, { x: "x", y: "y", stroke: "arm", strokeWidth: 2 }), Plot.ruleY([0])],
    });
    const lifts = d.arms.filter((a) => a.lift_interval).map((a) => ({ arm: a.name, low: a.lift_interval[0], high: a.lift_interval[1], median: a.lift_median }));
    BK.draw("figure-lift", {
      height: 60 + 40 * lifts.length, marginLeft: 70,
      x: { label: `lift over ${d.control} (${pct(d.prob)} interval)`, tickFormat: "+.1%" }, y: { label: null },
      marks: [
        Plot.rectX([{ a: -d.rope, b: d.rope }], { x1: "a", x2: "b", fill: "#eef1f6" }),
        Plot.ruleX([0]),
        Plot.link(lifts, { x1: "low", x2: "high", y1: "arm", y2: "arm", strokeWidth: 3, stroke: "#2f6fb3" }),
        Plot.dot(lifts, { x: "median", y: "arm", fill: "#2f6fb3", r: 4 }),
      ],
    });
    const query = allParams();
    document.getElementById("download-json").href = `/api/ab?${query}&download=1`;
    document.getElementById("download-report").href = `/api/ab/report?${query}`;
  }

  function relabel() {
    const count = document.getElementById("metric").value === "count";
    document.getElementById("size-label").textContent = count ? "exposure" : "visitors";
    document.getElementById("count-label").textContent = count ? "events" : "conversions";
  }

  const start = new URLSearchParams(location.search);
  const names = (start.get("names") || "A,B").split(","), sizes = (start.get("visitors") || "10000,10000").split(","),
    counts = (start.get("conversions") || "1000,1100").split(",");
  names.forEach((name, i) => addArm(name, sizes[i] || "0", counts[i] || "0"));
  view = BK.page({ requests: [{ api: "/api/ab", extra: armParams }], render, constrain: relabel });
  document.getElementById("add-arm").addEventListener("click", () => {
    const taken = new Set([...body.querySelectorAll(".arm-name")].map((input) => input.value));
    const name = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZ"].find((letter) => !taken.has(letter)) || `arm${taken.size + 1}`;
    addArm(name, "10000", "1000");
    view.update();
  });
  relabel();
})();
