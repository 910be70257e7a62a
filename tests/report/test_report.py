import numpy as np
from matplotlib.figure import Figure

from bayeskit.report import Report, write_atomic
from bayeskit.report.conjugate import bayes_factor_label


def test_report_embeds_figures_and_escapes_text(tmp_path):
    figure = Figure()
    figure.subplots().plot(np.arange(3))
    report = Report("T <1>").heading("Part one").text("a < b & c").figure(figure, "cap")
    page = report.render()
    assert "T &lt;1&gt;" in page and "a &lt; b &amp; c" in page
    assert 'href="#part-one"' in page and "data:image/png;base64," in page
    path = report.save(tmp_path / "sub" / "r.html")
    assert path.read_text() == page


def test_write_atomic_leaves_no_temporary_files(tmp_path):
    write_atomic(tmp_path / "a.txt", "one")
    write_atomic(tmp_path / "a.txt", "two")
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "two"


def test_bayes_factor_wording_follows_kass_raftery():
    assert bayes_factor_label(np.log(2.0)) == "not worth more than a bare mention"
    assert bayes_factor_label(np.log(10.0)) == "positive"
    assert bayes_factor_label(-np.log(50.0)) == "strong"
    assert bayes_factor_label(np.log(500.0)) == "very strong"
