"use strict";
// Continual learning: accuracy on each task as later tasks are learnt (forgetting curves), and the accuracy matrix.
BK.page({
  requests: [{ api: "/api/continual" }],
  render(d) {
    const curves = [];
    const methods = { laplace: "online Laplace", finetune: "fine-tuning", joint: "joint training" };
    for (const [key, label] of Object.entries(methods)) {
      d[key].accuracy.forEach((row, stage) => {
        row.forEach((accuracy, task) => {
          if (task <= stage) curves.push({ method: label, task: `task ${task}`, stage, accuracy });
        });
      });
    }
    BK.draw("figure", {
      height: 300,
      x: { label: "after training task", ticks: [...Array(d.num_tasks).keys()], tickFormat: "d" },
      y: { label: "held-out accuracy", domain: [0, 1] },
      color: { legend: true },
      fx: { label: null },
      marks: [
        Plot.line(curves, { x: "stage", y: "accuracy", z: "task", stroke: "task", fx: "method", strokeWidth: 2, marker: "dot" }),
        Plot.ruleY([0.1], { strokeDasharray: "4,3" }),
      ],
    });
    const cells = [];
    d.laplace.accuracy.forEach((row, stage) => row.forEach((accuracy, task) => cells.push({ stage: `after task ${stage}`, task: `task ${task}`, accuracy })));
    BK.draw("figure-matrix", {
      height: 60 + 40 * d.num_tasks,
      marginLeft: 100,
      color: { scheme: "blues", domain: [0, 1], legend: true, label: "accuracy" },
      x: { label: "evaluated on" },
      y: { label: null },
      marks: [
        Plot.cell(cells, { x: "task", y: "stage", fill: "accuracy" }),
        Plot.text(cells, { x: "task", y: "stage", text: (c) => c.accuracy.toFixed(2), fill: (c) => (c.accuracy > 0.6 ? "white" : "black") }),
      ],
    });
  },
});
