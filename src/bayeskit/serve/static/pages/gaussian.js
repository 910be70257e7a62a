"use strict";
// A 1-D Gaussian with the 68-95-99.7 bands shaded.
BK.page({
  requests: [{ api: "/api/gaussian" }],
  render(d) {
    const curve = BK.rows(d.curves.x, { density: d.curves.density });
    const shades = ["#2f6fb3", "#6d9fd6", "#b6cdea"];
    const areas = [...d.bands].reverse().map((band) =>
      Plot.areaY(curve.filter((r) => r.x >= band.low && r.x <= band.high), { x: "x", y: "y", fill: shades[band.k - 1], fillOpacity: 0.8 }));
    BK.draw("figure", {
      x: { label: "x" },
      y: { label: "density" },
      marks: [
        ...areas,
        Plot.line(curve, { x: "x", y: "y", strokeWidth: 2 }),
        Plot.ruleX(d.bands.flatMap((b) => [b.low, b.high]), { stroke: "#1d2330", strokeOpacity: 0.3 }),
        Plot.text(d.bands.map((b) => ({ x: d.mu, y: d.peak * (0.75 - 0.2 * b.k), t: `within ±${b.k}σ: ${(100 * b.mass).toFixed(2)}%` })),
          { x: "x", y: "y", text: "t", fill: "#1d2330", stroke: "white", strokeWidth: 4, paintOrder: "stroke", fontSize: 13 }),
        Plot.ruleY([0]),
      ],
    });
  },
});
