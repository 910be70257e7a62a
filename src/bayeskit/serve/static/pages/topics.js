"use strict";
// LDA on standard-library docstrings: topic sizes with their top words, and how concentrated documents are.
BK.page({
  requests: [{ api: "/api/topics" }],
  render(d) {
    BK.draw("figure", {
      marginLeft: 320,
      height: 40 + 26 * d.topics.length,
      x: { label: "share of the documents' topic proportions" },
      y: { label: null },
      marks: [
        Plot.barX(d.topics, { x: "share", y: (t) => `${t.topic}: ${t.words.split(" ").slice(0, 4).join(" ")}`, fill: "#2f6fb3", sort: { y: "-x" } }),
        Plot.ruleX([0]),
      ],
    });
    const shares = d.main_topic_share.map((share, i) => ({ rank: (i + 1) / d.main_topic_share.length, share }));
    BK.draw("figure-mixing", {
      height: 240,
      x: { label: "documents, sorted", domain: [0, 1] },
      y: { label: "share of its main topic", domain: [0, 1] },
      marks: [
        Plot.line(shares, { x: "rank", y: "share", stroke: "#b3261e", strokeWidth: 2 }),
        Plot.ruleY([1 / d.num_topics], { strokeDasharray: "4,3" }),
        Plot.text([`dashed: 1 / topics · ${BK.format(d.topics_per_document)} topics per document`], { frameAnchor: "bottom-right", dy: -4, dx: -4 }),
      ],
    });
  },
});
