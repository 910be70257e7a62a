"use strict";
// MLE vs MAP vs posterior mean as flips arrive; ridge and lasso paths of a small regression.
BK.page({
  requests: [
    { api: "/api/mle-map", params: ["prior_strength", "prior_mean", "num_flips"] },
    { api: "/api/regularization", params: ["log10_penalty"] },
  ],
  render(d, r) {
    const c = d.curves;
    const band = c.n.map((n, i) => ({ n, low: c.low[i], high: c.high[i] }));
    BK.draw("figure", {
      x: { label: "flips so far" },
      y: { label: "P(heads) estimate", domain: [0, 1] },
      color: { domain: ["mle", "map", "mean"], range: ["#e08a2c", "#b3261e", "#2f6fb3"], legend: true },
      marks: [
        Plot.areaY(band, { x: "n", y1: "low", y2: "high", fill: "#2f6fb3", fillOpacity: 0.12 }),
        Plot.line(BK.rows(c.n, { mle: c.mle, map: c.map, mean: c.mean }), { x: "x", y: "y", stroke: "series", strokeWidth: 1.8 }),
        Plot.ruleY([d.p_true], { strokeDasharray: "4,3" }),
        Plot.text(["shaded: 95% credible interval · dashed: the true 0.7"], { frameAnchor: "top-right", dy: 4, dx: -4 }),
      ],
    });
    for (const kind of ["ridge", "lasso"]) {
      const paths = r.paths[kind].flatMap((weights, j) => r.paths.log10_penalty.map((p, i) => ({ p, w: weights[i], feature: `w${j + 1}` })));
      BK.draw(`figure-${kind}`, {
        height: 260,
        x: { label: `log₁₀ λ (${kind}: ${kind === "ridge" ? "Gaussian" : "Laplace"} prior)` },
        y: { label: "MAP weight" },
        color: { legend: false, scheme: "tableau10" },
        marks: [
          Plot.line(paths, { x: "p", y: "w", stroke: "feature", z: "feature" }),
          Plot.ruleX([Math.log10(r.penalty)], { stroke: "#1d2330" }),
          Plot.dot(r[kind].map((w, j) => ({ p: Math.log10(r.penalty), w, feature: `w${j + 1}` })), { x: "p", y: "w", fill: "feature" }),
          Plot.ruleY([0]),
        ],
      });
    }
  },
});
