"""Approximate inference over NumPyro models, with diagnostics that cannot be ignored.

Implemented so far: ``nuts`` returning a :class:`DrawsPosterior` (posterior API,
ArviZ summary, ``check()`` findings with advice). ADVI, Laplace, checkpoints and SBC
are still to come (issue 4).
"""

from bayeskit.infer.diagnostics import THRESHOLDS, Finding, banner, check_inference_data
from bayeskit.infer.draws import DiagnosticsWarning, DrawsPosterior
from bayeskit.infer.nuts import nuts

__all__ = ["THRESHOLDS", "DiagnosticsWarning", "DrawsPosterior", "Finding", "banner", "check_inference_data", "nuts"]
