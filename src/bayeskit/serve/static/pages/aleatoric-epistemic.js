"use strict";
// A GP's predictive band split into aleatoric (noise) and epistemic (function) parts.
BK.page({
  requests: [{ api: "/api/aleatoric-epistemic" }],
  render(d) {
    const c = d.curves;
    const band = (k, sd) => c.x.map((x, i) => ({ x, low: c.mean[i] - k * sd[i], high: c.mean[i] + k * sd[i] }));
    const points = d.data.x.map((x, i) => ({ x, y: d.data.y[i] }));
    BK.draw("figure", {
      x: { label: "x", domain: [-4, 4] },
      y: { label: "y" },
      marks: [
        Plot.rectX([{ x1: -3, x2: 1 }], { x1: "x1", x2: "x2", fill: "#eef1f6" }),
        Plot.areaY(band(2, c.total_sd), { x: "x", y1: "low", y2: "high", fill: "#e08a2c", fillOpacity: 0.25 }),
        Plot.areaY(band(2, c.epistemic_sd), { x: "x", y1: "low", y2: "high", fill: "#2f6fb3", fillOpacity: 0.35 }),
        Plot.dot(points, { x: "x", y: "y", r: 1.8, fill: "#1d2330", fillOpacity: 0.6 }),
        Plot.line(BK.rows(c.x, { truth: c.truth }), { x: "x", y: "y", stroke: "#1d2330", strokeDasharray: "4,3" }),
        Plot.line(BK.rows(c.x, { mean: c.mean }), { x: "x", y: "y", stroke: "#2f6fb3", strokeWidth: 2 }),
        Plot.text(["blue ±2 epistemic sd · orange ±2 total sd"], { frameAnchor: "bottom-left", dy: -4, dx: 4 }),
      ],
    });
    BK.draw("figure-parts", {
      x: { label: "x", domain: [-4, 4] },
      y: { label: "predictive sd", zero: true },
      color: { domain: ["aleatoric_sd", "epistemic_sd"], range: ["#e08a2c", "#2f6fb3"], legend: true },
      marks: [
        Plot.rectX([{ x1: -3, x2: 1 }], { x1: "x1", x2: "x2", fill: "#eef1f6" }),
        Plot.line(BK.rows(c.x, { aleatoric_sd: c.aleatoric_sd, epistemic_sd: c.epistemic_sd }), { x: "x", y: "y", stroke: "series", strokeWidth: 2 }),
        Plot.ruleY([0]),
      ],
    });
  },
});
