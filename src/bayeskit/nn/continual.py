"""Continual learning: one network trained on a sequence of tasks, each task's posterior the next task's prior.

Methods (``Continual(method=...)``):

- ``"online-laplace"`` (Ritter, Botev & Barber 2018): after each task, a Laplace
  approximation at the trained weights, precision ``previous + strength * GGN``; the
  next task's MAP is trained under it. With a linear model and a Gaussian likelihood
  this recursion is exact Bayesian linear regression.
- ``"ewc"`` (elastic weight consolidation, Kirkpatrick et al. 2017): one quadratic
  penalty per past task, ``strength * Fisher`` anchored at that task's solution (the
  first also holds the prior). Over two tasks it is the online Laplace; from the third
  on the anchors stay put, where online Laplace re-centres (Huszar 2018).
- ``"vcl"`` (variational continual learning, Nguyen et al. 2018): a mean-field Gaussian
  trained by Bayes-by-backprop, whose KL term is to the previous task's posterior.
- ``"finetune"`` and ``"joint"``: the two baselines, training on each task from the last
  weights under the original prior (forgets), and training on every task so far (the
  ceiling a continual method tries to reach).

``heads="shared"`` reads every task from one output layer (the same classes throughout,
e.g. permuted inputs); ``heads="per-task"`` gives each task its own output layer over the
same number of classes (e.g. split classes), chosen at prediction by ``task=``.

The Fisher is the exact generalized Gauss-Newton matrix (no sampled labels), diagonal by
default (``curvature="full"`` for small networks). The predictive of the Laplace-type methods
draws the output layer from its full Gauss-Newton posterior, accumulated over the tasks, with
the prior precision chosen by the marginal likelihood (a diagonal posterior over every weight,
pushed through the linearized network, is far too wide). Inputs are used as given: put every
task on one scale first (e.g. pixels / 16).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bayeskit._estimator import _Estimator, positive_int
from bayeskit._validate import check_choice
from bayeskit.nn import _continual_core as core  # JAX is loaded with bayeskit.nn already (its networks are Equinox)
from bayeskit.nn._weights import WeightPosterior

__all__ = ["METHODS", "Continual", "continual_metrics"]

METHODS = ("online-laplace", "ewc", "vcl", "finetune", "joint")
_FULL_LIMIT = 4096
_HEAD_ROOM = 8  # output layers allocated at once with heads="per-task": the programs compile once for 8 tasks


class Continual(_Estimator):
    """A network trained task by task, each task's weight posterior becoming the next task's prior.

    Parameters
    ----------
    method
        One of :data:`METHODS`: ``"online-laplace"``, ``"ewc"``, ``"vcl"``, or the
        baselines ``"finetune"`` and ``"joint"``.
    hidden
        Hidden layer widths of the ReLU trunk; ``()`` is a linear (or softmax-linear) model.
    head
        ``"categorical"`` (class labels) or ``"gaussian"`` (real targets, noise ``noise_scale``).
    heads
        ``"shared"`` (one output layer for every task) or ``"per-task"``.
    strength
        Multiplies each task's curvature in the next prior (EWC's lambda; 1 is Bayes).
    prior_scale
        Standard deviation of the first task's Gaussian prior on every weight (and of each new head's).
    curvature
        ``"diagonal"`` or ``"full"`` (at most 4,096 weights) for the Laplace and EWC precision.
    noise_scale
        Standard deviation of the Gaussian likelihood (``head="gaussian"``), in target units.
    prior_precision
        The prior precision in the reported Laplace posterior and its predictive (online Laplace,
        EWC and the baselines): ``"evidence"`` chooses it after each task by the Laplace marginal
        likelihood (MacKay 1992; Immer et al. 2021: under ``N(0, 1)`` on thousands of weights the
        linearized predictive is far too wide); ``"fixed"`` keeps ``1 / prior_scale^2``. The
        recursion (each task's prior for the next) always uses ``prior_scale``.
    predictive_weights
        Which weights the Laplace-type predictive draws (online Laplace, EWC, baselines):
        ``"last-layer"`` (default), the output layer from its full Gauss-Newton posterior, accumulated
        over the tasks with the trunk held at its trained weights (Daxberger et al. 2021); or ``"all"``,
        every weight from ``posterior_`` through the network linearized at its trained weights (with a
        diagonal posterior this ignores how the data tie the weights together, and is underconfident).
    epochs, batch_size, learning_rate
        Adam with a cosine-decayed step size, ``epochs`` passes over each task.
    num_samples
        Weight draws in ``predictive`` (linearized Laplace, or mean-field for VCL).
    init_std
        VCL's initial posterior standard deviation of every weight (first task).
    key
        An int seed, a NumPy Generator or a JAX key.

    Attributes
    ----------
    posterior_
        :class:`WeightPosterior` after the latest task (its curvature as it is; the next task trains
        under the same recursion with every task's curvature times ``strength``). ``predictive``
        draws from it.
    posteriors_
        One per task trained.
    weights_
        ``(P,)`` the trained weights after the latest task (the MAP, or VCL's posterior mean), in
        the posterior's order. For EWC the posterior's mean is instead the precision-weighted
        centre of its anchors.
    loss_
        Per task, ``(epochs,)`` mean minibatch losses (negative log posterior, or negative
        ELBO for VCL, per row).
    kl_
        VCL only: per task, ``KL(q_t || q_{t-1})`` at the end of its training.
    prior_precision_
        Laplace-type methods: per task, the prior precision of its reported posterior.
    classes_
        Per task, the class labels its output layer predicts.

    Examples
    --------
    >>> import numpy as np
    >>> from bayeskit.nn import Continual
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 2)); y = (x[:, 0] > 0).astype(int)
    >>> model = Continual("online-laplace", hidden=(8,), epochs=20).fit_task(x, y).fit_task(-x, y)
    >>> model.accuracy_matrix([(x, y), (-x, y)]).shape
    (2, 2)
    """

    def __init__(
        self,
        method: str = "online-laplace",
        hidden: tuple[int, ...] = (100,),
        head: str = "categorical",
        heads: str = "shared",
        strength: float = 1.0,
        prior_scale: float = 1.0,
        curvature: str = "diagonal",
        noise_scale: float = 1.0,
        prior_precision: str = "evidence",
        predictive_weights: str = "last-layer",
        epochs: int = 30,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        num_samples: int = 100,
        init_std: float = 1e-3,
        key: Any = 0,
    ):
        self._store(locals())

    # ---- validation -------------------------------------------------------------------------

    def _check_settings(self) -> None:
        check_choice(self.method, "method", METHODS)
        check_choice(self.head, "head", ("categorical", "gaussian"))
        check_choice(self.heads, "heads", ("shared", "per-task"))
        check_choice(self.curvature, "curvature", ("diagonal", "full"))
        check_choice(self.prior_precision, "prior_precision", ("evidence", "fixed"))
        check_choice(self.predictive_weights, "predictive_weights", ("last-layer", "all"))
        hidden = self.hidden
        if not isinstance(hidden, tuple | list) or not all(
            isinstance(h, int | np.integer) and not isinstance(h, bool) and h >= 1 for h in hidden
        ):
            raise ValueError(f"`hidden` must be a tuple of positive ints (layer widths), e.g. (100,); got {hidden!r}.")
        for name in ("strength", "prior_scale", "noise_scale", "learning_rate", "init_std"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value) or value <= 0:
                raise ValueError(f"`{name}` must be a finite number > 0; got {value!r}.")
        for name in ("epochs", "batch_size", "num_samples"):
            positive_int(getattr(self, name), name)

    def _task_data(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, list[str]]:
        """Validated features, targets (class codes in this task's output layer), the task's classes, column names."""
        from bayeskit.nn._data import classification_data, regression_data

        task = len(self.posteriors_) if hasattr(self, "posteriors_") else 0
        if self.head == "gaussian":
            x, target, names = regression_data(X, y)
            classes = None
        else:
            x, target, names, classes = classification_data(X, y)
        if task:
            first = self._num_features
            if x.shape[1] != first:
                raise ValueError(
                    f"`X` of task {task} has {x.shape[1]} features, but the first task had {first}: every task "
                    "must describe its rows with the same features (pad or select columns to match)."
                )
            if classes is not None:
                target, classes = self._match_classes(task, target, classes)
        return x, target, classes, names

    def _match_classes(self, task: int, codes: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first = self.classes_[0]
        if self.heads == "per-task":
            if classes.size != first.size:
                raise ValueError(
                    f"`y` of task {task} has {classes.size} classes ({list(classes)}), but every output layer has the "
                    f"first task's {first.size}: give each task {first.size} classes, or fit a new Continual."
                )
            return codes, classes
        new = [c for c in classes if c not in set(first.tolist())]
        if new:
            raise ValueError(
                f"`y` of task {task} has classes {new} the first task did not have ({list(first)}); a shared "
                "output layer predicts the first task's classes only. Use heads='per-task' for new classes per task."
            )
        lookup = {c: i for i, c in enumerate(first.tolist())}
        return np.asarray([lookup[c] for c in classes.tolist()])[codes], first

    # ---- training ---------------------------------------------------------------------------

    def fit_task(self, X: Any, y: Any):
        """Train on the next task's rows ``(X, y)`` under the posterior of the tasks before it; returns self.

        A task that fails or is interrupted (Ctrl-C) leaves the model as it was after the last one.
        """
        self._check_settings()
        kept = {name: _copied(value) for name, value in vars(self).items()}
        try:
            return self._fit_task(X, y)
        except BaseException:
            vars(self).clear()
            vars(self).update(kept)
            raise

    def _structure(self) -> dict[str, Any]:
        names = ("method", "hidden", "head", "heads", "curvature", "prior_scale", "noise_scale", "prior_precision")
        names += ("predictive_weights",)
        return {name: tuple(getattr(self, name)) if name == "hidden" else getattr(self, name) for name in names}

    def _fit_task(self, X: Any, y: Any):
        import jax

        if not hasattr(self, "posteriors_"):
            self._reset()
        if self.posteriors_:
            changed = {
                k: (v, self._first_structure[k]) for k, v in self._structure().items() if v != self._first_structure[k]
            }
            if changed:
                name, (now, before) = next(iter(changed.items()))
                raise ValueError(
                    f"`{name}` is {now!r} but was {before!r} for the first task: the tasks of one sequence share "
                    "one model. Set it back, or start a new Continual for the other setting."
                )
        x, target, classes, names = self._task_data(X, y)
        task = len(self.posteriors_)
        if task == 0:
            self._start(x, classes)
            self.feature_names_in_ = names  # what predictive checks a DataFrame's columns against
        elif self.heads == "per-task":
            self._activate_head(task, jax.random.fold_in(self._base_key, 2 * task))
        self.classes_.append(classes)
        head = task if self.heads == "per-task" else 0
        self._data.append((x, target.astype(np.int32 if self.head == "categorical" else np.float32), head))
        key = jax.random.fold_in(self._base_key, 2 * task + 1)
        pool = self._data if self.method == "joint" else self._data[-1:]
        rows = (
            np.concatenate([part[0] for part in pool]),
            np.concatenate([part[1] for part in pool]),
            np.concatenate([np.full(part[0].shape[0], part[2], np.int32) for part in pool]),
        )
        if self.method == "vcl":
            self._fit_vcl(rows, key)
        else:
            self._fit_map(rows, key)
        if self.method != "joint":
            self._data[-1] = (None, None, head)  # only joint training keeps earlier tasks' rows
        return self

    def _reset(self) -> None:
        self.posteriors_, self.loss_, self.kl_, self.classes_, self.prior_precision_ = [], [], [], [], []
        self._states, self._data, self._head_blocks = [], [], {}
        self._base_key = self._jax_key()

    @property
    def _base(self) -> float:
        """The first prior's precision on every weight."""
        return 1.0 / float(self.prior_scale) ** 2

    def _start(self, x: np.ndarray, classes: np.ndarray | None) -> None:
        import jax
        import jax.numpy as jnp
        from jax.flatten_util import ravel_pytree

        self._num_features, self._first_structure = x.shape[1], self._structure()
        outputs = 1 if classes is None else classes.size
        self._config = core.Config(
            (x.shape[1], *map(int, self.hidden)), int(outputs), self.head, float(self.noise_scale) ** 2
        )
        capacity = _HEAD_ROOM if self.heads == "per-task" else 1
        self._params = core.init_params(self._config, jax.random.fold_in(self._base_key, 0), capacity)
        self._heads_used = 1
        size = ravel_pytree(self._params)[0].size
        if self._full and size > _FULL_LIMIT:
            raise ValueError(
                f"`curvature='full'` keeps a {size} x {size} precision matrix, more than the {_FULL_LIMIT}-weight "
                "limit: use curvature='diagonal', or fewer or narrower `hidden` layers."
            )
        # two Gaussians in natural parameters: the posterior (curvature as it is) and the prior the next task
        # trains under (curvature times `strength`); with strength 1 they are the same
        self._gaussians = {"posterior": self._first_prior(size), "penalty": self._first_prior(size)}
        if self.method == "vcl":
            rho = float(np.log(np.expm1(self.init_std)))
            self._q = {"mean": self._params, "rho": jax.tree.map(lambda leaf: jnp.full_like(leaf, rho), self._params)}
            self._prior_mean = jax.tree.map(jnp.zeros_like, self._params)
            self._prior_var = jax.tree.map(lambda leaf: jnp.full_like(leaf, 1.0 / self._base), self._params)

    def _first_prior(self, size: int):
        import jax.numpy as jnp

        if self._full:
            return self._base * jnp.eye(size, dtype=jnp.float32), jnp.zeros(size, jnp.float32)
        return jnp.full(size, self._base, jnp.float32), jnp.zeros(size, jnp.float32)

    @property
    def _full(self) -> bool:
        return self.curvature == "full" and self.method != "vcl"

    def _activate_head(self, index: int, key) -> None:
        """Make room for output layer ``index`` if needed and start it fresh, under the first prior."""
        import jax
        import jax.numpy as jnp

        capacity = int(self._params["head_w"].shape[0])
        if index >= capacity:
            grown = core.grow_heads(self._config, self._params, jax.random.fold_in(key, 1), 2 * capacity)
            if self.method == "vcl":
                rho = float(np.log(np.expm1(self.init_std)))
                self._q = {"mean": grown, "rho": _grow_heads(self._q["rho"], capacity, rho)}
                self._prior_mean = _grow_heads(self._prior_mean, capacity, 0.0)
                self._prior_var = _grow_heads(self._prior_var, capacity, 1.0 / self._base)
            else:
                self._gaussians = {
                    name: core.extend_prior(self._params, grown, *pair, self._base)
                    for name, pair in self._gaussians.items()
                }
            self._params = grown
        weight, bias = core.fresh_head(self._config, key)
        self._params = core.set_head(self._params, index, weight, bias)
        self._heads_used = index + 1
        if self.method == "vcl":
            rho = float(np.log(np.expm1(self.init_std)))
            self._q = {
                "mean": self._params,
                "rho": core.set_head(self._q["rho"], index, jnp.full_like(weight, rho), jnp.full_like(bias, rho)),
            }
            self._prior_mean = core.set_head(self._prior_mean, index, jnp.zeros_like(weight), jnp.zeros_like(bias))
            variance = 1.0 / self._base
            self._prior_var = core.set_head(
                self._prior_var, index, jnp.full_like(weight, variance), jnp.full_like(bias, variance)
            )
            return
        mask = core.head_entries(self._params, index)
        self._gaussians = {name: _reset_entries(*pair, mask, self._base) for name, pair in self._gaussians.items()}

    def _schedule(self, num_rows: int) -> tuple[int, int, float]:
        return int(self.epochs), min(int(self.batch_size), num_rows), float(self.learning_rate)

    def _fit_map(self, rows, key) -> None:
        from jax.flatten_util import ravel_pytree

        baseline = self.method in ("finetune", "joint")
        size = ravel_pytree(self._params)[0].size
        prior = self._first_prior(size) if baseline else self._gaussians["penalty"]
        self._params, losses = core.train(
            self._config, "map", self._params, prior, rows, key, self._schedule(rows[0].shape[0])
        )
        self.loss_.append(losses)
        curvature = core.curvature(self._config, self._params, rows[0], rows[2], self._full)
        if self.predictive_weights == "last-layer":
            self._add_head_blocks(rows, replace=baseline)
        flat = ravel_pytree(self._params)[0]
        if baseline:  # the Laplace at their weights, under the first prior
            laplace = self._first_prior(size)[0] + curvature
            self._gaussians = dict.fromkeys(self._gaussians, (laplace, core.times(laplace, flat)))
        else:
            scales = {"posterior": 1.0, "penalty": float(self.strength)}
            anchored = self.method == "ewc" and bool(self.posteriors_)
            self._gaussians = {
                name: _updated(*pair, scales[name] * curvature, flat, anchored)
                for name, pair in self._gaussians.items()
            }
        self._record()

    def _add_head_blocks(self, rows, replace: bool) -> None:
        """Each output layer's full Gauss-Newton block over these rows, added to the earlier tasks' blocks.

        With ``replace`` (the baselines) the blocks of these rows replace them.
        """
        x, _, heads = rows
        if replace:
            self._head_blocks = {}
        for head in np.unique(heads):
            block = core.head_curvature(self._config, self._params, x[heads == head], int(head))
            previous = self._head_blocks.get(int(head))
            self._head_blocks[int(head)] = block if previous is None else previous + block

    def _last_layer(self) -> dict[int, tuple[Any, Any]]:
        """Per output layer in use: its weights and the Cholesky factor of its Gaussian's precision.

        The prior precision is chosen by the evidence where the layer has seen data.
        """
        import jax.numpy as jnp

        out = {}
        for head in range(self._heads_used):
            mean = core.head_weights(self._params, head)
            block = self._head_blocks.get(head, jnp.zeros((mean.size, mean.size), jnp.float32))
            tau = self._base
            if self.prior_precision == "evidence" and head in self._head_blocks:  # no data: the evidence has no say
                everything = np.ones(mean.size, bool)
                tau = _evidence_prior_precision(
                    np.asarray(block, float) + self._base * np.eye(mean.size), self._base, np.asarray(mean), everything
                )
            out[head] = (mean, jnp.linalg.cholesky(block + tau * jnp.eye(mean.size, dtype=jnp.float32)))
        return out

    def _fit_vcl(self, rows, key) -> None:
        import jax

        prior = (self._prior_mean, self._prior_var)
        self._q, losses = core.train(self._config, "vcl", self._q, prior, rows, key, self._schedule(rows[0].shape[0]))
        self.loss_.append(losses)
        self.kl_.append(float(core.mean_field_kl(self._q, *prior)))
        self._prior_mean = self._q["mean"]
        self._prior_var = jax.tree.map(lambda r: jax.nn.softplus(r) ** 2, self._q["rho"])
        self._params = self._q["mean"]
        self._record()

    def _record(self) -> None:
        """Keep this task's state (for ``predictive(after=...)``) and its weight posterior over the heads in use."""
        import jax
        from jax.flatten_util import ravel_pytree

        flat = ravel_pytree(self._params)[0]
        used = np.asarray(core.used_entries(self._params, self._heads_used))
        if self.method == "vcl":
            precision = 1.0 / ravel_pytree(jax.tree.map(lambda r: jax.nn.softplus(r) ** 2, self._q["rho"]))[0]
            loc, state = flat, {"q": self._q}
        else:
            precision, shift = self._gaussians["posterior"]
            loc = _solve(precision, shift) if self.method == "ewc" else flat
            tuned = self._base
            if self.prior_precision == "evidence":
                tuned = _evidence_prior_precision(np.asarray(precision, float), self._base, np.asarray(flat), used)
                precision = precision + (tuned - self._base) * _identity(precision)
            state = {"params": self._params, "precision": precision}
            if self.predictive_weights == "last-layer":
                state["last_layer"] = self._last_layer()
            self.prior_precision_.append(tuned)
        state["heads"] = self._heads_used
        self._states.append(state)
        precision = np.asarray(precision, dtype=float)
        precision = precision[np.ix_(used, used)] if precision.ndim == 2 else precision[used]
        self.posteriors_.append(
            WeightPosterior(
                np.asarray(loc, dtype=float)[used],
                precision,
                tuple(_weight_names(self._params, self._heads_used)),
                f"continual {self.method}",
            )
        )
        self.posterior_ = self.posteriors_[-1]
        self.weights_ = np.asarray(flat, dtype=float)[used]

    # ---- prediction -------------------------------------------------------------------------

    def predictive(self, X: Any, task: int | None = None, after: int | None = None):
        """The predictive for rows ``X`` of ``task``, from the model as it was after training task ``after``.

        Parameters
        ----------
        X
            Rows with the first task's features (a DataFrame with its column names, or an array).
        task
            Which task's output layer to read (``heads="per-task"``; needed once there are
            two). Ignored for a shared head.
        after
            Index of the training stage (default: the latest).

        Returns
        -------
        CategoricalPredictive or GaussianMixturePredictive
            ``num_samples`` draws: of the output layer from its full Gaussian, or of every
            weight through the linearized network (``predictive_weights``; online Laplace, EWC and
            the baselines), or of whole networks from the mean-field posterior (VCL).
        """
        import jax
        import jax.numpy as jnp

        from bayeskit._design import design_matrix
        from bayeskit.predictive import CategoricalPredictive, GaussianMixturePredictive

        self._check_fitted()
        stage = self._stage(after)
        state = self._states[stage]
        head = self._head_index(task, state["heads"], stage)
        x = design_matrix(X, expected=self.feature_names_in_, owner="this Continual").values
        # rows padded to a power of two: one compiled program serves every size up to it
        bucket = max(64, 1 << (x.shape[0] - 1).bit_length())
        rows = jnp.asarray(np.concatenate([x, np.zeros((bucket - x.shape[0], x.shape[1]))]), jnp.float32)
        heads = jnp.full(bucket, head, jnp.int32)
        key = jax.random.fold_in(self._base_key, 10_000 + stage)
        num = int(self.num_samples)
        if "q" in state:
            draws = core.mean_field_draws(state["q"], rows, heads, key, num)
        elif "last_layer" in state:
            mean, factor = state["last_layer"][head]
            draws = core.last_layer_draws(state["params"], mean, factor, rows, key, num)
        else:
            draws = core.linearized_draws(state["params"], state["precision"], rows, heads, key, num)
        draws = np.asarray(draws, dtype=float)[:, : x.shape[0]]
        method = f"continual {self.method}"
        if self.head == "categorical":
            probs = np.exp(draws - np.max(draws, axis=2, keepdims=True))
            classes = self.classes_[head if self.heads == "per-task" else 0]
            return CategoricalPredictive(probs / probs.sum(axis=2, keepdims=True), classes, method)
        noise = np.full_like(draws[..., 0], float(self.noise_scale) ** 2)
        return GaussianMixturePredictive(draws[..., 0], noise, method)

    def _stage(self, after: int | None) -> int:
        count = len(self._states)
        if after is None:
            return count - 1
        if isinstance(after, bool) or not isinstance(after, int | np.integer) or not -count <= after < count:
            raise ValueError(f"`after` must be a trained task's index in 0..{count - 1}; got {after!r}.")
        return int(after) % count

    def _head_index(self, task: int | None, heads: int, stage: int) -> int:
        if self.heads == "shared":
            return 0
        if task is None:
            if heads == 1:
                return 0
            raise ValueError(
                f"`task` is needed with heads='per-task': pass which task's output layer to read, 0..{heads - 1}."
            )
        if isinstance(task, bool) or not isinstance(task, int | np.integer) or not 0 <= task < heads:
            raise ValueError(f"`task` must be in 0..{heads - 1} (tasks trained by stage {stage}); got {task!r}.")
        return int(task)

    def _check_fitted(self) -> None:
        if not getattr(self, "posteriors_", None):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this Continual has no task yet: call fit_task(X, y) first.")

    def accuracy_matrix(self, tasks: list[tuple[Any, Any]], metric: str = "accuracy") -> pd.DataFrame:
        """``metric`` of every stage on every task's held-out rows: row ``i`` after training task ``i``.

        ``tasks`` is one ``(X, y)`` per task, in training order; entries for a per-task output
        layer not trained yet are NaN. ``metric`` is any key of the predictive's ``evaluate``
        (``"accuracy"``, ``"nll"``, ``"brier"``, ``"rmse"``, ...).
        """
        self._check_fitted()
        if (
            not isinstance(tasks, list | tuple)
            or not tasks
            or not all(isinstance(t, tuple | list) and len(t) == 2 for t in tasks)
        ):
            raise ValueError("`tasks` must be a list of (X, y) pairs, one per task; got " + type(tasks).__name__ + ".")
        stages = len(self._states)
        table = np.full((stages, len(tasks)), np.nan)
        for stage in range(stages):
            for index, (x, y) in enumerate(tasks):
                if self.heads == "per-task" and index >= self._states[stage]["heads"]:
                    continue
                scores = self.predictive(x, task=index if self.heads == "per-task" else None, after=stage).evaluate(y)
                if metric not in scores:
                    raise ValueError(f"`metric` must be one of {sorted(scores)}; got {metric!r}.")
                table[stage, index] = scores[metric]
        return pd.DataFrame(
            table,
            index=pd.Index([f"after task {i}" for i in range(stages)], name="trained"),
            columns=[f"task {j}" for j in range(len(tasks))],
        )


def continual_metrics(matrix: pd.DataFrame) -> dict[str, float]:
    """Average accuracy over the tasks after the last stage, the first task's forgetting, and the mean forgetting.

    Forgetting of task ``j`` is its accuracy right after training it minus its accuracy
    after the last task (Chaudhry et al. 2018 use the best earlier one; right after training
    is the same for the methods here up to noise, and needs no max over stages).
    """
    values = np.asarray(matrix, dtype=float)
    stages = values.shape[0]
    trained = min(stages, values.shape[1])
    final = values[-1, :trained]
    right_after = np.diag(values[:trained, :trained])
    forgetting = right_after - final
    return {
        "average_accuracy": float(np.nanmean(final)),
        "first_task_forgetting": float(forgetting[0]),
        "mean_forgetting": float(np.nanmean(forgetting[:-1])) if trained > 1 else 0.0,
    }


def _copied(value: Any) -> Any:
    """A list or dict copied one level down (what a task appends to or sets), anything else as it is."""
    if isinstance(value, list):
        return list(value)
    return dict(value) if isinstance(value, dict) else value


def _updated(precision, shift, curvature, flat, anchored: bool):
    """The Gaussian after one more task: online Laplace re-centres at ``flat``; EWC (``anchored``) adds one there."""
    precision = precision + curvature
    if anchored:
        return precision, shift + core.times(curvature, flat)
    return precision, core.times(precision, flat)


def _reset_entries(precision, shift, mask, base: float):
    """The Gaussian with the entries in ``mask`` (a new output layer) back at the first prior ``N(0, 1/base)``."""
    import jax.numpy as jnp

    shift = jnp.where(mask, 0.0, shift)
    if precision.ndim == 1:
        return jnp.where(mask, base, precision), shift
    either = mask[:, None] | mask[None, :]
    return jnp.where(either, 0.0, precision) + jnp.diag(jnp.where(mask, base, 0.0)), shift


def _identity(precision):
    """The identity in ``precision``'s form: ones (diagonal) or the identity matrix (full)."""
    import jax.numpy as jnp

    return jnp.ones_like(precision) if precision.ndim == 1 else jnp.eye(precision.shape[0], dtype=precision.dtype)


def _evidence_prior_precision(precision: np.ndarray, base: float, weights: np.ndarray, used: np.ndarray) -> float:
    """The prior precision ``tau`` that maximizes the Laplace marginal likelihood at ``weights``.

    With the data's curvature ``G = precision - base`` held fixed, ``log Z(tau) = const + P/2 log tau -
    tau/2 |w|^2 - 1/2 log det(tau + G)`` over the ``P`` weights in use (MacKay 1992; Immer et al. 2021, whose
    post-hoc choice of the prior precision makes the linearized predictive calibrated).
    """
    from scipy.optimize import minimize_scalar

    if precision.ndim == 1:
        curvature = np.clip(precision[used] - base, 0.0, None)
    else:
        block = precision[np.ix_(used, used)] - base * np.eye(int(used.sum()))
        curvature = np.clip(np.linalg.eigvalsh(0.5 * (block + block.T)), 0.0, None)
    norm, count = float(np.sum(np.asarray(weights, float)[used] ** 2)), curvature.size

    def negative(log_tau):
        tau = np.exp(log_tau)
        return -(0.5 * count * log_tau - 0.5 * tau * norm - 0.5 * np.sum(np.log(tau + curvature)))

    return float(np.exp(minimize_scalar(negative, bounds=(-10.0, 12.0), method="bounded").x))


def _solve(precision, shift):
    import jax.numpy as jnp

    return shift / precision if precision.ndim == 1 else jnp.linalg.solve(precision, shift)


def _grow_heads(tree: dict[str, Any], count: int, value: float) -> dict[str, Any]:
    """``tree`` with ``count`` more heads filled with ``value``."""
    import jax.numpy as jnp

    def grow(leaf):
        return jnp.concatenate([leaf, jnp.full((count, *leaf.shape[1:]), value, leaf.dtype)])

    return {"trunk": tree["trunk"], "head_w": grow(tree["head_w"]), "head_b": grow(tree["head_b"])}


def _weight_names(params: dict[str, Any], heads: int) -> list[str]:
    """A name per flattened weight of the trunk and the first ``heads`` output layers, in ``ravel_pytree``'s order."""
    names = []

    def label(prefix, shape):
        return [f"{prefix}[{','.join(map(str, index))}]" for index in np.ndindex(*shape)]

    names += label("head.bias", (heads, *params["head_b"].shape[1:]))
    names += label("head.weight", (heads, *params["head_w"].shape[1:]))
    for layer, (weight, bias) in enumerate(params["trunk"]):
        names += label(f"trunk.{layer}.weight", weight.shape)
        names += label(f"trunk.{layer}.bias", bias.shape)
    return names
