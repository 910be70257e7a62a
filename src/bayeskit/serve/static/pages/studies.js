"use strict";
// Live view of the optimize studies named on the command line, refreshed every two seconds.
(() => {
  async function refresh(study) {
    const root = document.getElementById(`study-${study.index}`);
    const d = await BK.getJSON(`/api/studies/${study.index}`);
    if (d.error) { root.querySelector(".summary").innerHTML = `<span class="banner">${BK.escape(d.error)}</span>`; return; }
    const best = d.best ? `best ${BK.format(d.best.value)} at trial ${d.best.number} (${BK.escape(JSON.stringify(d.best.params))})` : "no trial has completed yet";
    root.querySelector(".summary").innerHTML =
      `<span data-out-study="complete">${d.counts.complete}</span> complete, ${d.counts.running} running, ${d.counts.failed} failed; ${d.direction}; ${best}`;
    if (d.curve.length) {
      const figure = root.querySelector(".curve");
      figure.replaceChildren(Plot.plot({
        width: Math.max(320, Math.min(figure.clientWidth - 16 || 640, 1000)), height: 260,
        x: { label: "trial" }, y: { label: "objective" },
        marks: [Plot.dot(d.curve, { x: "number", y: "value", fill: "#8c96a8" }), Plot.line(d.curve, { x: "number", y: "best", stroke: "#2f6fb3", strokeWidth: 2, curve: "step-after" })],
      }));
    }
    const names = Object.keys(d.space);
    root.querySelector(".trials").innerHTML = BK.table(["trial", "state", "value", "seconds", ...names, "error"],
      [...d.trials].reverse().map((t) => [t.number, t.state, t.value, t.seconds, ...names.map((n) => t.params[n]), t.error || ""]));
    const slices = await BK.getJSON(`/api/studies/${study.index}/slices`);
    const holder = root.querySelector(".slices");
    if (slices.status === "ready") {
      holder.replaceChildren(...slices.slices.map((s) => {
        const band = s.values.map((v, i) => ({ v, low: s.mean[i] - 2 * s.std[i], high: s.mean[i] + 2 * s.std[i], mean: s.mean[i] }));
        const trials = s.trial_values.map((v, i) => ({ v, y: s.trial_objectives[i] }));
        const figure = document.createElement("figure");
        figure.className = "figure";
        figure.append(Plot.plot({
          width: 420, height: 220, x: { label: s.name, type: s.log ? "log" : "linear" }, y: { label: "objective (GP ±2 sd)" },
          marks: [Plot.areaY(band, { x: "v", y1: "low", y2: "high", fill: "#2f6fb3", fillOpacity: 0.2 }), Plot.line(band, { x: "v", y: "mean", stroke: "#2f6fb3" }), Plot.dot(trials, { x: "v", y: "y", r: 2.5 })],
        }));
        return figure;
      }));
      holder.dataset.complete = slices.complete;
    } else {
      holder.textContent = slices.status === "computing" ? "GP slices: computing…" : (slices.error || "");
    }
  }

  BK.monitor({
    list: "/api/studies",
    key: "studies",
    empty: "No study file was named. Start <code>bayeskit serve --study FILE</code> (the file of <code>bayeskit optimize --study FILE</code>).",
    section: (s) => `<section class="monitor" id="study-${s.index}"><h2>${BK.escape(s.name)}</h2>
      <p class="summary"></p><div class="curve figure"></div><div class="slices"></div><div class="scroll trials"></div></section>`,
    refresh,
  });
})();
