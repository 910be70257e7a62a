"use strict";
// Live view of the NUTS checkpoints named on the command line, refreshed every two seconds.
(() => {
  async function refresh(run) {
    const root = document.getElementById(`run-${run.index}`);
    const d = await BK.getJSON(`/api/runs/${run.index}`);
    if (d.error) { root.querySelector(".summary").innerHTML = `<span class="banner">${BK.escape(d.error)}</span>`; return; }
    const of = d.total ? ` of ${d.total} (${d.num_warmup} warmup)` : "";
    root.querySelector(".summary").innerHTML = `<span class="done">${d.done}</span> transitions${of}; <span class="draws">${d.draws}</span> draws kept per chain, ` +
      `${d.chains ?? "–"} chains; ${d.divergences} divergences; mean acceptance ${BK.format(d.mean_accept)}`;
    root.querySelector(".diagnostics").innerHTML = d.parameters.length
      ? BK.table(["parameter", "mean", "sd", "R-hat", "bulk ESS", "tail ESS"], d.parameters.map((p) => [p.name, p.mean, p.sd, p.r_hat, p.ess_bulk, p.ess_tail]))
      : "<p>R-hat and ESS appear once each chain has 4 draws.</p>";
    root.querySelector(".note").textContent = d.note;
    if (d.trace.length) {
      const figure = root.querySelector(".trace");
      const names = [...new Set(d.trace.map((t) => t.name))];
      const width = Math.max(320, Math.min(figure.clientWidth - 16 || 640, 1000));
      figure.replaceChildren(...names.map((name) => Plot.plot({
        width, height: 130, marginLeft: 60, x: { label: "draw" }, y: { label: name }, color: { legend: name === names[0], type: "categorical" },
        marks: [Plot.line(d.trace.filter((t) => t.name === name), { x: "draw", y: "value", z: "chain", stroke: (t) => `chain ${t.chain}`, strokeWidth: 1 })],
      })));
    }
  }

  BK.monitor({
    list: "/api/runs",
    key: "runs",
    empty: "No checkpoint was named. Start <code>bayeskit serve --checkpoint FILE</code> (the file of <code>bayeskit fit --checkpoint FILE</code>).",
    section: (r) => `<section class="monitor" id="run-${r.index}"><h2>${BK.escape(r.name)}</h2>
      <p class="summary"></p><div class="diagnostics"></div><div class="trace figure"></div><p class="note"></p></section>`,
    refresh,
  });
})();
