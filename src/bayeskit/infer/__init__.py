"""Approximate inference over NumPyro models, with diagnostics that cannot be ignored.

``nuts``, ``laplace`` and ``advi`` all return a :class:`DrawsPosterior` (posterior
API, ArviZ summary, ``check()`` findings with advice, ``predictive`` and
``log_likelihood``). ``nuts`` runs can checkpoint and resume; ``sbc`` checks any
engine by simulation-based calibration.
"""

from bayeskit.infer.approximate import ADVI_GUIDES, advi, laplace
from bayeskit.infer.checkpoint import CheckpointError
from bayeskit.infer.checks import plot_predictive_check, predictive_check, prior_predictive
from bayeskit.infer.diagnostics import THRESHOLDS, Finding, banner, check_inference_data
from bayeskit.infer.draws import DiagnosticsWarning, DrawsPosterior, side_by_side
from bayeskit.infer.model_check import ModelError, check_model
from bayeskit.infer.nuts import nuts
from bayeskit.infer.sbc import SBCResult, sbc

__all__ = [
    "ADVI_GUIDES",
    "CheckpointError",
    "THRESHOLDS",
    "DiagnosticsWarning",
    "DrawsPosterior",
    "Finding",
    "ModelError",
    "SBCResult",
    "advi",
    "banner",
    "check_inference_data",
    "check_model",
    "laplace",
    "nuts",
    "plot_predictive_check",
    "predictive_check",
    "prior_predictive",
    "sbc",
    "side_by_side",
]
