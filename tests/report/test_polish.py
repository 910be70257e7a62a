"""Report polish that screenshots found: nothing clipped, covered, grey or NaN."""

import re

import numpy as np


def test_reliability_counts_have_headroom_above_a_full_bar():
    from bayeskit.report.calibration import _reliability_figure

    rng = np.random.default_rng(0)
    probs = np.clip(rng.uniform(0.9, 1.0, 500), 0, 1)
    labels = np.ones(500, dtype=int)  # every bar at accuracy 1.0: its count label sits above it
    p = np.stack([1 - probs, probs], axis=1)
    axis = _reliability_figure({"model": (p, labels)}, n_bins=10).axes[0]
    tops = [text.get_position()[1] for text in axis.texts]
    assert max(tops) < axis.get_ylim()[1] and axis.get_ylim()[1] > 1.1


def test_the_track_report_has_no_nan_cell_and_readable_panels():
    from bayeskit.cli.track import run_track
    from bayeskit.report import Report
    from bayeskit.report.sequential import add_track_sections, track_figure

    result = run_track(None, None, None, None, None, None)
    page = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", add_track_sections(Report("t"), result).render())
    assert not re.search(r">\s*nan\s*<", page.lower())  # no NaN table cell
    figure = track_figure(result)
    assert figure.get_figwidth() <= 11 and len(figure.axes) == 3  # the plane and one panel per coordinate
    panel = figure.axes[1]
    filled = [c for c in panel.collections if c.get_label().startswith("smoothed")]
    assert len(filled) == 1  # one filled band; the filtered band is drawn as edges, so no colours mix
