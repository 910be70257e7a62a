"""Approximate inference over NumPyro models, with diagnostics that cannot be ignored.

``nuts``, ``laplace`` and ``advi`` all return a :class:`DrawsPosterior` (posterior
API, ArviZ summary, ``check()`` findings with advice). Checkpoints, SBC, ready
models and model comparison are still to come (issue 4).
"""

from bayeskit.infer.approximate import ADVI_GUIDES, advi, laplace
from bayeskit.infer.diagnostics import THRESHOLDS, Finding, banner, check_inference_data
from bayeskit.infer.draws import DiagnosticsWarning, DrawsPosterior
from bayeskit.infer.nuts import nuts

__all__ = [
    "ADVI_GUIDES",
    "THRESHOLDS",
    "DiagnosticsWarning",
    "DrawsPosterior",
    "Finding",
    "advi",
    "banner",
    "check_inference_data",
    "laplace",
    "nuts",
]
