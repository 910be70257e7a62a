"use strict";
// Beta-Binomial: prior, scaled likelihood and posterior; "flip one more" makes the posterior the prior.
(() => {
  const colors = { domain: ["prior", "likelihood", "posterior"], range: ["#8c96a8", "#e08a2c", "#2f6fb3"] };
  let flips = 0;

  function render(d) {
    const interior = d.curves.x.map((x, i) => (x > 0.01 && x < 0.99 ? Math.max(d.curves.prior[i] || 0, d.curves.posterior[i] || 0, d.curves.likelihood[i] || 0) : 0));
    const top = 1.1 * Math.max(...interior, 1);
    const data = BK.rows(d.curves.x, { prior: d.curves.prior, likelihood: d.curves.likelihood, posterior: d.curves.posterior });
    const hdi = BK.rows(d.curves.x, { posterior: d.curves.posterior }).filter((r) => d.hdi[0] !== null && r.x >= d.hdi[0] && r.x <= d.hdi[1]);
    BK.draw("figure", {
      x: { label: "P(heads)", domain: [0, 1] },
      y: { label: "density", domain: [0, top] },
      color: { ...colors, legend: true },
      marks: [
        Plot.areaY(hdi, { x: "x", y: "y", fill: "#2f6fb3", fillOpacity: 0.15, clip: true }),
        Plot.line(data, { x: "x", y: "y", stroke: "series", strokeWidth: 2, clip: true }),
        Plot.ruleX([d.mean], { stroke: "#2f6fb3", strokeDasharray: "4,3" }),
        ...(d.mle === null ? [] : [Plot.ruleX([d.mle], { stroke: "#e08a2c", strokeDasharray: "2,2" })]),
        Plot.ruleY([0]),
        Plot.text([`posterior Beta(${BK.format(d.posterior.alpha)}, ${BK.format(d.posterior.beta)}); shaded: 95% HDI`], { frameAnchor: "top-right", dy: 4, dx: -4 }),
      ],
    });
  }

  function constrain(name) {
    const s = Number(BK.value("successes")), t = Number(BK.value("trials"));
    if (name === "successes" && s > t) BK.setControl("trials", s);
    if (name === "trials" && t < s) BK.setControl("successes", t);
  }

  BK.page({ requests: [{ api: "/api/beta-binomial" }], render, constrain });

  document.getElementById("flip").addEventListener("click", async () => {
    const params = new URLSearchParams();
    for (const name of ["alpha", "beta", "successes", "trials", "p_true"]) params.set(name, BK.value(name));
    params.set("seed", "0");
    params.set("step", String(flips));
    try {
      const d = await BK.getJSON(`/api/beta-binomial/flip?${params}`);
      flips = d.step;
      for (const name of ["alpha", "beta"]) BK.setControl(name, String(d.prior[name]));
      BK.setControl("successes", String(d.successes));
      BK.setControl("trials", String(d.trials));
      render(d);
      BK.showOutputs(d);
      document.getElementById("flip-log").textContent =
        `flip ${flips}: ${d.flip ? "heads" : "tails"}; the prior is the last posterior, Beta(${BK.format(d.prior.alpha)}, ${BK.format(d.prior.beta)})`;
      BK.status("one flip added: posterior → prior");
      BK.rendered();
    } catch (error) {
      BK.status(error.message, true);
    }
  });
})();
