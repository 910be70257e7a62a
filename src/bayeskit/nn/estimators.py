"""Bayesian neural networks with scikit-learn-style ``fit`` and a predictive that carries its uncertainty.

``DeepEnsemble`` trains M networks at once (one ``vmap``, no Python loop over members);
``MCDropout`` keeps dropout on at prediction and averages T stochastic passes. All
networks standardize inputs (and a regression target) on the training rows,
carried with the model, stop early on a validation split, and predict in the
target's original units. ``head="categorical"`` makes any of them a classifier.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.exceptions import NotFittedError

from bayeskit._estimator import _Estimator, positive_int
from bayeskit._rng import as_generator, raw_key, substream
from bayeskit._validate import check_choice, check_prob
from bayeskit.nn._core import HEADS
from bayeskit.nn._data import classification_data, fit_scalers, regression_data
from bayeskit.nn._footprint import network_estimate
from bayeskit.parallel.devices import batch_sharding, check_divisible, device_count, local_mesh, place
from bayeskit.predictive import CategoricalPredictive, GaussianMixturePredictive
from bayeskit.resources import admit

__all__ = ["MEMBER_METHODS", "DeepEnsemble", "MCDropout"]

MEMBER_METHODS = ("auto", "vectorized", "sharded")


class _NetworkModel(RegressorMixin, _Estimator):
    """Shared training and prediction; subclasses set members, dropout, weight noise and the loss."""

    _method = ""

    # --------------------------------------------------------------- subclass hooks
    def _members(self) -> int:
        raise NotImplementedError

    def _dropout(self) -> float:
        return 0.0

    def _network_options(self) -> dict[str, Any]:
        return {}

    def _loss(self, num_train: int) -> tuple[float, float]:
        """``(kl_weight, adversarial)`` of the training loss."""
        return 0.0, 0.0

    def _after_training(self, train: dict[str, Any]) -> None:
        """Runs once the best parameters are kept (SWAG collects its moments here)."""

    def _prediction_params(self, key) -> tuple[Any, Any, bool]:
        """Stacked parameters to predict with, their keys (or None), and whether keys draw weights."""
        return self.params_, None, False

    def _stochastic_passes(self, key, draw_weights: bool) -> tuple[Any, Any, bool]:
        """The single network repeated ``passes`` times, each pass with its own key (MC dropout, BBB)."""
        import jax

        passes = positive_int(self.passes, "passes")
        replicated = jax.tree.map(lambda leaf: jax.numpy.broadcast_to(leaf, (passes, *leaf.shape[1:])), self.params_)
        return replicated, jax.random.split(key, passes), draw_weights

    # --------------------------------------------------------------- settings
    @property
    def is_classifier(self) -> bool:
        """Whether the head is categorical."""
        return getattr(self, "head", "") == "categorical"

    def _check_settings(self) -> None:
        check_choice(self.head, "head", HEADS)
        check_choice(getattr(self, "member_method", "vectorized"), "member_method", MEMBER_METHODS)
        if self.head == "mixture":
            positive_int(self.components, "components")
        hidden = tuple(self.hidden)
        if any(not isinstance(h, int) or h < 1 for h in hidden):
            raise ValueError(
                f"`hidden` must be a tuple of positive layer widths, e.g. (50,) (or () for a linear model); "
                f"got {self.hidden!r}."
            )
        for name in ("epochs", "batch_size", "patience"):
            positive_int(getattr(self, name), name)
        if not 0.0 <= self.validation_fraction < 0.5:
            raise ValueError(f"`validation_fraction` must be in [0, 0.5); got {self.validation_fraction!r}.")
        if not self.learning_rate > 0:
            raise ValueError(f"`learning_rate` must be > 0; got {self.learning_rate!r}.")

    def _num_outputs(self) -> int:
        if self.is_classifier:
            return len(self.classes_)
        return int(getattr(self, "components", 1)) if self.head == "mixture" else 1

    # --------------------------------------------------------------- fitting
    def _prepare(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
        if self.is_classifier:
            x, labels, names, classes = classification_data(X, y)
            self.classes_ = classes
            return x, labels, names
        return regression_data(X, y)

    def fit(self, X: Any, y: Any):
        """Train on ``(X, y)`` (DataFrame or arrays); returns self."""
        self._check_settings()
        members = self._members()
        x, target, names = self._prepare(X, y)
        data = self._training_data(x, target, names)
        executor, workers = getattr(self, "executor", None), getattr(self, "workers", None)
        apart = not (executor is None and workers in (None, 1))
        admit(lambda calibrate: network_estimate(self, data, members, apart, calibrate))  # refuses, or a dry run stops
        if not apart:
            params, static, history, valid_history, key_train = self._train(data, np.arange(members), self.progress)
        else:
            params, static, history, valid_history = self._train_apart(data, members, executor, workers)
            key_train = None
        self.params_, self._static = params, static
        self.feature_names_in_, self.n_features_in_ = names, x.shape[1]
        self.training_loss_ = history
        self.validation_loss_ = valid_history
        self.epochs_run_ = len(history)
        self._after_training(
            {
                "x": data["xs"][data["train"]],
                "y": data["ys"][data["train"]],
                "batch": data["batch"],
                "key": key_train,
                "members": members,
                "static": static,
            }
        )
        return self

    def _training_data(self, x: np.ndarray, target: np.ndarray, names: list[str]) -> dict[str, Any]:
        """The validation split, the scalers (kept on the model) and the standardized arrays."""
        import jax.numpy as jnp

        rng = as_generator(self.key)
        order = rng.permutation(x.shape[0])
        num_valid = round(self.validation_fraction * x.shape[0])
        valid, train = order[:num_valid], order[num_valid:]
        if train.size < 2:
            raise ValueError(f"need at least 2 training rows after the validation split; got {train.size}.")
        if self.is_classifier:
            self.x_scaler_, self.y_scaler_ = fit_scalers(x[train], None, names)
            ys = jnp.asarray(target, jnp.int32)
        else:
            self.x_scaler_, self.y_scaler_ = fit_scalers(x[train], target[train], names)
            ys = jnp.asarray(self.y_scaler_.forward(target), jnp.float32)
        xs = jnp.asarray(self.x_scaler_.forward(x), jnp.float32)
        return {"xs": xs, "ys": ys, "train": train, "valid": valid, "batch": min(self.batch_size, train.size)}

    def _train(self, data: dict[str, Any], indices: np.ndarray, progress: bool, epochs: int | None = None):
        """Train the members ``indices`` of the ensemble together (one vectorized program), ``epochs`` at most.

        Member ``m`` has the same initial weights and the same shuffles whichever others train
        beside it. Each keeps its best epoch; training stops when no member has improved for
        ``patience`` epochs. Returns the best weights, their static part, the training and
        validation losses ``(epochs, members)`` and the training key after the last epoch.
        """
        import equinox as eqx
        import jax
        import jax.numpy as jnp

        from bayeskit._progress import progress_bar
        from bayeskit.nn._train import make_epoch, make_members, make_optimizer

        members, indices = self._members(), np.asarray(indices)
        xs, ys, train, valid = (jnp.asarray(data[name]) for name in ("xs", "ys", "train", "valid"))
        key_init, key_train = jax.random.split(raw_key(self.key))
        networks = make_members(
            xs.shape[1],
            tuple(self.hidden),
            self._dropout(),
            self.head,
            jax.random.split(key_init, members)[indices],
            num_outputs=self._num_outputs(),
            **self._network_options(),
        )
        params, static = eqx.partition(networks, eqx.is_array)
        optimizer = ("adamw", float(self.learning_rate), float(self.weight_decay))
        opt_state = jax.vmap(make_optimizer(optimizer).init)(params)
        epoch = make_epoch(static, optimizer, data["batch"], train.size, self._loss(train.size))
        x_train, y_train, x_valid, y_valid = xs[train], ys[train], xs[valid], ys[valid]
        count = indices.size
        best, best_loss, stale = params, jnp.full(count, jnp.inf, dtype=jnp.float32), np.zeros(count, dtype=int)
        split, whole = self._member_layout(count)
        if split is not None:  # every member array split over the devices, the data on each: XLA partitions the epoch
            params, opt_state, best, best_loss = place((params, opt_state, best, best_loss), split)
            x_train, y_train, x_valid, y_valid = place((x_train, y_train, x_valid, y_valid), whole)
        history, valid_history = [], []
        epochs = self.epochs if epochs is None else epochs
        with progress_bar(f"training {self._method}", epochs, progress) as advance:
            for _ in range(epochs):
                key_train, key_epoch = jax.random.split(key_train)
                params, opt_state, best, best_loss, losses, loss = epoch(
                    params,
                    opt_state,
                    best,
                    best_loss,
                    x_train,
                    y_train,
                    x_valid,
                    y_valid,
                    place(jax.random.split(key_epoch, members)[indices], split),
                )
                history.append(np.asarray(losses))
                self._record_epoch(params, static)
                advance(1)
                if valid.size == 0:
                    continue
                loss = np.asarray(loss)
                valid_history.append(loss)
                stale = np.where(loss <= np.asarray(best_loss), 0, stale + 1)
                if np.all(stale >= self.patience):
                    break
        valid_losses = np.stack(valid_history) if valid_history else np.empty((0, count))
        return best, static, np.stack(history), valid_losses, key_train

    def _member_layout(self, count: int) -> tuple[Any, Any]:
        """Where ``member_method`` puts the members: (their sharding, the data's), or (None, None) on one device."""
        method = getattr(self, "member_method", "vectorized")  # checked by _check_settings
        devices = device_count()
        if method == "vectorized" or (method == "auto" and (devices == 1 or count % devices)):
            return None, None
        from jax.sharding import NamedSharding
        from jax.sharding import PartitionSpec as P

        check_divisible(count, "members", "member_method='sharded'", devices)
        mesh = local_mesh("members")
        return batch_sharding(mesh, "members"), NamedSharding(mesh, P())

    def _train_apart(self, data: dict[str, Any], members: int, executor: Any, workers: Any):
        """Each member trained alone (stopping on its own), where ``executor`` puts it; losses NaN-padded."""
        import equinox as eqx
        import jax
        import jax.numpy as jnp
        from sklearn.base import clone

        from bayeskit.nn._train import make_members
        from bayeskit.parallel import fan_out

        shipped = {name: np.asarray(value) for name, value in data.items() if name != "batch"}
        settings = clone(self).set_params(executor=None, workers=None, member_method="vectorized")  # one member each
        task = _MemberFit(settings, {**shipped, "batch": data["batch"]})
        label = f"training {self._method} members"
        results = fan_out(task, range(members), executor=executor, workers=workers, progress=self.progress, label=label)
        networks = make_members(  # the structure (layer shapes, activations): cheap to rebuild here
            data["xs"].shape[1],
            tuple(self.hidden),
            self._dropout(),
            self.head,
            jax.random.split(jax.random.key(0), members),
            num_outputs=self._num_outputs(),
            **self._network_options(),
        )
        like, static = eqx.partition(networks, eqx.is_array)
        leaves = [jnp.asarray(np.concatenate(column)) for column in zip(*[r[0] for r in results], strict=True)]
        stacked = jax.tree.unflatten(jax.tree.structure(like), leaves)

        def padded(column: int) -> np.ndarray:
            series = [r[column][:, 0] for r in results]
            table = np.full((max(len(s) for s in series), members), np.nan, dtype=np.float32)
            for m, values in enumerate(series):
                table[: len(values), m] = values
            return table

        return stacked, static, padded(1), padded(2)

    def _record_epoch(self, params, static) -> None:
        """Per-epoch bookkeeping beyond the loss (Bayes-by-backprop records its KL)."""

    # --------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(X, y) first.")

    def _standardized_members(self, xs) -> tuple[np.ndarray, ...]:
        """Head outputs ``(members, n, C)`` on standardized inputs."""
        from bayeskit.nn._train import predict_members

        params, keys, draw = self._prediction_params(substream(self.key, 1))
        return tuple(np.asarray(a, dtype=float) for a in predict_members(params, self._static, xs, keys, draw))

    def predictive(self, X: Any) -> GaussianMixturePredictive | CategoricalPredictive:
        """The posterior predictive at ``X``: a Gaussian mixture in the target's units, or class probabilities."""
        import jax.numpy as jnp

        from bayeskit._design import design_matrix

        self._check_fitted()
        x = design_matrix(X, expected=self.feature_names_in_, owner=type(self).__name__).values
        outputs = self._standardized_members(jnp.asarray(self.x_scaler_.forward(x), jnp.float32))
        if self.is_classifier:
            return CategoricalPredictive(np.exp(outputs[0]), np.asarray(self.classes_), self._method)
        means, variances, log_weights = outputs  # (M, n, C)
        num_members, num_inputs, num_components = means.shape

        def flat(a):
            return np.transpose(a, (0, 2, 1)).reshape(num_members * num_components, num_inputs)

        weights = flat(np.exp(log_weights - np.log(num_members)))
        scale = float(self.y_scaler_.std)
        return GaussianMixturePredictive(
            flat(means) * scale + float(self.y_scaler_.mean),
            flat(variances) * scale**2,
            self._method,
            weights=weights / weights.sum(axis=0),
            groups=np.repeat(np.arange(num_members), num_components),
        )

    def predict(self, X: Any, return_std: bool = False):
        """Regression: predictive mean (and sd, aleatoric plus epistemic) in the target's units.

        Classification: the most probable class (``return_std`` is not defined there).
        """
        predictive = self.predictive(X)
        if self.is_classifier:
            if return_std:
                raise ValueError("`return_std` applies to regression; use predict_proba or predictive().decompose().")
            return predictive.predict()
        return (predictive.mean(), predictive.std()) if return_std else predictive.mean()

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2 of the predictive mean for regression heads, accuracy for ``head="categorical"`` (scikit-learn's)."""
        if self.is_classifier:
            from sklearn.metrics import accuracy_score

            return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))
        return float(super().score(X, y, sample_weight=sample_weight))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Predictive class probabilities ``(n, C)``, columns in the order of ``classes_``."""
        if not self.is_classifier:
            raise ValueError("predict_proba needs head='categorical'; this model is a regressor.")
        return self.predictive(X).mean()

    def predict_interval(self, X: Any, prob: float = 0.95, kind: str = "eti") -> tuple[np.ndarray, np.ndarray]:
        """Predictive interval, equal-tailed or ``kind="hdi"`` (exact quantiles of the mixture); regression only."""
        if self.is_classifier:
            raise ValueError("predict_interval applies to regression; a classifier has predict_proba.")
        return self.predictive(X).interval(check_prob(prob), kind)


class _MemberFit:
    """One ensemble member trained in a worker: a picklable call of :meth:`_NetworkModel._train`."""

    def __init__(self, model: _NetworkModel, data: dict[str, Any]):
        self.model, self.data = model, data

    def __call__(self, member: int):
        """``(the best weights' leaves, training losses, validation losses)`` of ``member``, as NumPy."""
        import jax

        best, _, history, valid_history, _ = self.model._train(self.data, np.array([member]), False)
        return [np.asarray(leaf) for leaf in jax.tree.leaves(best)], history, valid_history


class DeepEnsemble(_NetworkModel):
    """Deep ensemble (Lakshminarayanan, Pritzel & Blundell, 2017): M networks with proper-scoring-rule heads.

    The members differ only in initialization and minibatch order; they are trained
    together in one vectorized program. The predictive is the equal mixture of the
    members' predictives; its variance splits into aleatoric (within members) and
    epistemic (the members' disagreement).

    Parameters
    ----------
    members
        Ensemble size (5 in the paper).
    hidden
        Hidden layer widths; ``()`` gives a linear model.
    head
        ``"heteroscedastic"`` (each member predicts a variance; default), ``"homoscedastic"``,
        ``"mixture"`` (a mixture density network of ``components`` Gaussians) or
        ``"categorical"`` (classification: ``y`` holds class labels).
    components
        Gaussians per member for ``head="mixture"``.
    adversarial
        Fast-gradient-sign step (in standardized input units; the paper uses 1% of
        each input's range, about 0.01-0.04 here) for adversarial training: the loss
        adds the NLL at ``x + adversarial * sign(grad_x NLL)``. 0 turns it off.
    epochs, batch_size, learning_rate, weight_decay
        AdamW training.
    validation_fraction, patience
        Rows held out for early stopping (each member keeps its best epoch; training stops when
        no member has improved for ``patience`` epochs); 0 trains all epochs.
    key
        A JAX key, a ``numpy.random.Generator`` or an int seed, stored as given
        (sub-streams by ``fold_in``) for the split, initialization and shuffles.
    progress
        A progress bar over epochs on stderr (over members when they train apart).
    executor, workers
        Train the members apart, one per task, where :func:`bayeskit.parallel.fan_out` puts
        them: ``workers=4`` in four worker processes, ``executor="ray"`` as Ray tasks (for
        networks too big to train M at once on one machine). The fitted ensemble is identical
        on every executor (``"serial"`` included). A member starts from the same weights and
        sees the same shuffles as in the one vectorized program (the default, fastest on one
        machine), so the two agree to rounding over the first epochs; a single-member
        program rounds differently from a batched one, and long training amplifies that, so
        after many epochs they are two equally good fits, not the same numbers. With early
        stopping a member trained apart stops on its own patience, where the vectorized
        program trains on until the last member stops; ``training_loss_`` and
        ``validation_loss_`` read NaN after a member stopped.
    member_method
        How the members share one machine's devices when they train together: ``"vectorized"``
        (one ``vmap`` on one device), ``"sharded"`` (the stacked members' weights, optimizer
        states and keys split over every local device, ``NamedSharding(mesh, P("members"))``,
        and XLA partitions the vectorized epoch along them; the devices must divide
        ``members``) or ``"auto"`` (default: sharded when there is more than one local device
        and they divide ``members``). Both train the same members from the same keys; they
        agree to float rounding, which long training amplifies. The fitted weights stay
        split over the devices, and so does prediction.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(-2, 2, 200)[:, None]
    >>> y = np.sin(2 * x[:, 0]) + 0.1 * np.random.default_rng(0).normal(size=200)
    >>> model = DeepEnsemble(members=3, epochs=100).fit(x, y)
    >>> model.predictive(np.array([[0.0], [6.0]])).decompose().epistemic.argmax()  # far from the data
    np.int64(1)
    """

    _method = "deep ensemble"

    def __init__(
        self,
        members: int = 5,
        hidden: tuple[int, ...] = (50,),
        head: str = "heteroscedastic",
        components: int = 3,
        adversarial: float = 0.0,
        epochs: int = 500,
        batch_size: int = 32,
        learning_rate: float = 1e-2,
        weight_decay: float = 1e-4,
        validation_fraction: float = 0.1,
        patience: int = 30,
        key: Any = 0,
        progress: bool = False,
        executor: Any = None,
        workers: int | None = None,
        member_method: str = "auto",
    ):
        self._store(locals())

    def _members(self) -> int:
        return positive_int(self.members, "members")

    def _loss(self, num_train: int) -> tuple[float, float]:
        if not (np.isfinite(self.adversarial) and self.adversarial >= 0):
            raise ValueError(f"`adversarial` must be a step >= 0 (0 turns it off); got {self.adversarial!r}.")
        return 0.0, float(self.adversarial)


class MCDropout(_NetworkModel):
    """MC dropout (Gal & Ghahramani, 2016): dropout stays on at prediction; T passes form the predictive.

    Parameters
    ----------
    rate
        Dropout probability before every linear layer (inputs included, as in the paper).
    passes
        Stochastic forward passes T at prediction.
    hidden, head, components, epochs, batch_size, learning_rate, weight_decay, validation_fraction, patience,
    key, progress
        As for :class:`DeepEnsemble` (the default head is homoscedastic, as in the paper). Early
        stopping watches the deterministic network's validation NLL, not the MC predictive's; on the
        UCI benchmark it stopped too soon, and a fixed number of epochs with ``validation_fraction=0``
        (Gal's protocol) gave better held-out likelihoods (benchmarks/uci.py).
    """

    _method = "MC dropout"

    def __init__(
        self,
        rate: float = 0.05,
        passes: int = 100,
        hidden: tuple[int, ...] = (50,),
        head: str = "homoscedastic",
        components: int = 3,
        epochs: int = 500,
        batch_size: int = 32,
        learning_rate: float = 1e-2,
        weight_decay: float = 1e-4,
        validation_fraction: float = 0.1,
        patience: int = 30,
        key: Any = 0,
        progress: bool = False,
    ):
        self._store(locals())

    def _members(self) -> int:
        return 1

    def _dropout(self) -> float:
        if not 0.0 <= self.rate < 1.0:
            raise ValueError(f"`rate` must be in [0, 1); got {self.rate!r}.")
        return float(self.rate)

    def _prediction_params(self, key):
        return self._stochastic_passes(key, draw_weights=False)
