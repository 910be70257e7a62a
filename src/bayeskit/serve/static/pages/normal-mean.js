"use strict";
// Normal mean, known noise variance: prior, likelihood of the mean, posterior.
BK.page({
  requests: [{ api: "/api/normal-mean" }],
  render(d) {
    const data = BK.rows(d.curves.x, { prior: d.curves.prior, likelihood: d.curves.likelihood, posterior: d.curves.posterior });
    BK.draw("figure", {
      x: { label: "the unknown mean μ" },
      y: { label: "density" },
      color: { domain: ["prior", "likelihood", "posterior"], range: ["#8c96a8", "#e08a2c", "#2f6fb3"], legend: true },
      marks: [
        Plot.line(data, { x: "x", y: "y", stroke: "series", strokeWidth: 2 }),
        Plot.ruleX([d.posterior_mean], { stroke: "#2f6fb3", strokeDasharray: "4,3" }),
        Plot.ruleY([0]),
        Plot.text([`weight on the data ${BK.format(d.data_weight)}`], { frameAnchor: "top-right", dy: 4, dx: -4 }),
      ],
    });
  },
});
