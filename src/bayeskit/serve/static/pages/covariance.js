"use strict";
// A 2-D Gaussian: samples, density contours (Mahalanobis radius 1, 2, 3) and the principal axes.
BK.page({
  requests: [{ api: "/api/covariance", extra: () => new URLSearchParams({ num_samples: "300", seed: "0" }) }],
  render(d) {
    const reach = 3.3 * Math.max(Math.sqrt(d.covariance[0][0]), Math.sqrt(d.covariance[1][1]));
    const rings = d.contours.flatMap((c) => c.x.map((x, i) => ({ x, y: c.y[i], ring: `${c.radius} sd: ${(100 * c.mass).toFixed(1)}%` })));
    const samples = d.samples.x.map((x, i) => ({ x, y: d.samples.y[i] }));
    const arrows = d.axes.map((a, i) => ({ x1: 0, y1: 0, x2: a.x, y2: a.y, label: `√λ${i + 1} = ${BK.format(a.length)}` }));
    const figure = document.getElementById("figure");
    const size = Math.max(320, Math.min(figure.clientWidth - 16 || 480, 520));
    figure.replaceChildren(Plot.plot({
      width: size, height: size,
      x: { domain: [-reach, reach], label: "x" }, y: { domain: [-reach, reach], label: "y" },
      color: { legend: true, range: ["#2f6fb3", "#6d9fd6", "#9db8d9"] },
      marks: [
        Plot.dot(samples, { x: "x", y: "y", r: 1.6, fill: "#8c96a8", fillOpacity: 0.6 }),
        Plot.line(rings, { x: "x", y: "y", z: "ring", stroke: "ring", strokeWidth: 2 }),
        Plot.arrow(arrows, { x1: "x1", y1: "y1", x2: "x2", y2: "y2", stroke: "#b3261e", strokeWidth: 2 }),
        Plot.text(arrows, { x: "x2", y: "y2", text: "label", dy: -8, fill: "#b3261e" }),
      ],
    }));
  },
});
