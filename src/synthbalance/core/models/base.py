"""The interface every generator family implements, and the machinery they share.

A family only says how to build its networks and optimisers (``_build``,
``_make_optimizers``), how to train on one batch (``_step``, or a whole epoch from a stream
of batches, ``_train_epoch``) and which network turns noise into rows (``_sampling_net``,
or ``_row_sampler`` for a family that needs many passes). Everything else is written
once, here: input checks, seeding, the epoch loop (its cross-cutting work, from progress
bars to best-checkpoint keeping, is done by :mod:`~synthbalance.core.models.callbacks`),
batched sampling, and state save/load as plain data (loadable with
``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from synthbalance.core.config import GeneratorConfig, planned_epochs
from synthbalance.core.errors import (
    ConfigError,
    DataValidationError,
    ModelFileError,
    NotFittedError,
)
from synthbalance.core.layout import CodedRows, SpanLayout
from synthbalance.core.models.callbacks import Callback, PeriodicCheck, ProgressBar, cpu_copy
from synthbalance.core.models.nn import FusedMLP, SpanPlan, one_hot
from synthbalance.core.sampling import PRECISIONS, SAMPLE_BATCH

#: ``sampler(n, labels, rng) -> (scalars (n_scalar, n), levels (n_blocks, n))``
RowSampler = Callable[
    [int, "torch.Tensor | None", torch.Generator], tuple[torch.Tensor, torch.Tensor]
]

#: Bumped when the layout of :meth:`BaseGenerator.state_dict` changes incompatibly.
FORMAT_VERSION = 1
STATE_KEYS = (
    "format_version",
    "name",
    "config",
    "layout",
    "n_classes",
    "seed",
    "fitted",
    "best_epoch",
    "history",
    "modules",
)

def resolve_device(name: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without CUDA -> ConfigError."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "Generator config device='cuda' but no CUDA device is available; "
            "use device: auto or cpu."
        )
    return torch.device(name)


def sampling_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype of a sampling forward pass.

    ``"auto"`` is bfloat16 on a CPU with native bfloat16 instructions (AVX512-BF16 or AMX,
    where the matrix products ran 1.3-2.3x faster than in float32 here; weights and
    activations are rounded, sums stay float32), and float32 elsewhere (without those
    instructions oneDNN emulates bfloat16, slower than float32). Either way one seed gives
    the same rows run after run on one machine.
    """
    if precision not in PRECISIONS:
        raise ConfigError(f"precision={precision!r}: use one of {', '.join(PRECISIONS)}.")
    if precision == "auto":
        native = device.type == "cpu" and _cpu_has_native_bf16()
        precision = "bfloat16" if native else "float32"
    return torch.bfloat16 if precision == "bfloat16" else torch.float32


@functools.cache
def _cpu_has_native_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:  # not Linux: no cheap, reliable check, so stay with float32
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch's global RNG (weight init, dropout) without leaking the change outside."""
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextmanager
def num_threads(n: int | None) -> Iterator[None]:
    """Use ``n`` torch CPU threads inside the block; ``None`` changes nothing.

    Denormal floats are flushed to zero inside the block as well: the tiny values Adam and
    the penalty gradients produce made CPU epochs up to 20x slower here (measured on a
    2-core x86 machine: 20 s -> 1 s per epoch). torch has no getter for the flag, so it is
    switched off again on the way out.
    """
    old = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(old)


class Batches:
    """An endless stream of training batches ``(x, cond)``, drawn from an explicit generator.

    Without ``balance_labels`` rows come from successive random permutations (each row once
    per pass). With them, every batch draws a class uniformly per row, then a row of that
    class (CTGAN's training-by-sampling), so a rare class is seen as often as a common one.
    """

    def __init__(
        self,
        x: torch.Tensor,
        cond: torch.Tensor | None,
        batch_size: int,
        generator: torch.Generator,
        balance_labels: torch.Tensor | None = None,
    ):
        self.x, self.cond, self.batch_size, self._gen = x, cond, batch_size, generator
        self.n = x.shape[0]
        self.steps_per_epoch = max(1, self.n // batch_size)
        self._perm, self._pos = torch.empty(0, dtype=torch.long), self.n
        self._order = None
        if balance_labels is not None:
            self._order = torch.argsort(balance_labels, stable=True)
            _, self._counts = torch.unique(balance_labels, return_counts=True)
            self._offsets = torch.cumsum(self._counts, 0) - self._counts

    def _indices(self) -> torch.Tensor:
        b, device = self.batch_size, self.x.device
        if self._order is not None:
            k = torch.randint(len(self._counts), (b,), generator=self._gen, device=device)
            u = torch.rand(b, generator=self._gen, device=device, dtype=torch.float64)
            within = torch.minimum((u * self._counts[k]).long(), self._counts[k] - 1)
            return self._order[self._offsets[k] + within]
        if self._pos + b > self.n:
            self._perm = torch.randperm(self.n, generator=self._gen, device=device)
            self._pos = 0
        self._pos += b
        return self._perm[self._pos - b : self._pos]

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The next batch of rows and their condition vectors (``None`` if unconditional)."""
        idx = self._indices()
        return self.x[idx], None if self.cond is None else self.cond[idx]


@dataclass
class LossSums:
    """Sums of per-step losses as tensors, turned into floats once per epoch (no syncs)."""

    sums: dict[str, torch.Tensor] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, values: Mapping[str, torch.Tensor]) -> None:
        for key, tensor in values.items():
            value = tensor.detach()
            self.sums[key] = self.sums[key] + value if key in self.sums else value
            self.counts[key] = self.counts.get(key, 0) + 1

    def means(self) -> dict[str, float]:
        return {k: float(v) / self.counts[k] for k, v in self.sums.items()}


class BaseGenerator:
    """A tabular generator with an sklearn-like interface over a :class:`SpanLayout`.

    ``fit(X, y)`` trains on encoded rows; ``sample(n, y)`` returns encoded rows whose one-hot
    blocks are exactly one-hot and whose scalars lie in [-1, 1]. Conditional families need
    class indices ``y`` in both; unconditional ones refuse them.
    """

    name: ClassVar[str] = ""
    conditional: ClassVar[bool] = False
    #: Network sizes used where the config leaves ``hidden_dims`` / ``latent_dim`` unset.
    default_hidden_dims: ClassVar[tuple[int, ...]] = (256, 256)
    default_latent_dim: ClassVar[int] = 128
    #: The networks that read real rows, trained by DP-SGD when ``config.privacy`` is set,
    #: and the attribute holding their one optimiser (:mod:`~.dpsgd`).
    private_nets: ClassVar[tuple[str, ...]] = ()
    private_optimizer: ClassVar[str] = "_opt"
    #: What the training log and progress bar call this generator when not its family's
    #: name alone: a per-class fit adds its class (``vae (class 'died')``).
    log_name: str | None = None

    def __init__(
        self,
        layout: SpanLayout,
        n_classes: int | None = None,
        config: GeneratorConfig | Mapping[str, Any] | None = None,
        seed: int = 0,
    ):
        self.layout = layout if isinstance(layout, SpanLayout) else SpanLayout.from_list(layout)
        self.n_classes = self._check_n_classes(n_classes)
        if not isinstance(config, GeneratorConfig):
            config = GeneratorConfig.from_dict(config)
        config = config.model_copy(update={
            "hidden_dims": config.hidden_dims or self.default_hidden_dims,
            "latent_dim": config.latent_dim or self.default_latent_dim,
        })
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise ConfigError(f"seed={seed!r} is not an integer; pass an int such as 0.")
        self.config, self.seed = config, int(seed)
        self._device = resolve_device(config.device)
        self.plan = SpanPlan(self.layout, self._device)
        self.cond_dim = self.n_classes if self.conditional else 0
        self._modules = self._build_modules()
        self._history: dict[str, list[float]] = {}
        self.best_epoch: int | None = None
        #: Set by a callback to end ``fit`` after the current epoch.
        self.stop_training = False
        #: The epochs and check interval of the current (or last) fit: the config's, or
        #: resolved from ``auto`` (:func:`~synthbalance.core.config.planned_epochs`).
        self.epochs, self.check_every = 0, 1
        self._fitted = False
        self._sample_rng: np.random.Generator | None = None
        #: The DP-SGD of the current (or last) fit with ``config.privacy``, else ``None``.
        self._dp: Any = None

    # -- what a family implements -------------------------------------------------------

    def _build(self) -> dict[str, nn.Module]:
        """The family's networks by name (weights drawn from torch's seeded global RNG)."""
        raise NotImplementedError

    def _make_optimizers(self) -> None:
        """Create the optimisers of the freshly built networks."""
        raise NotImplementedError

    def _train_epoch(self, batches: Batches, rng: torch.Generator) -> dict[str, float]:
        """Train one epoch (``batches.steps_per_epoch`` batches); return mean losses.

        By default one :meth:`_step` per batch; a family whose networks take turns (a GAN)
        overrides it.
        """
        losses = LossSums()
        for _ in range(batches.steps_per_epoch):
            x, cond = batches.next()
            losses.add(self._step(x, cond, rng))
        return losses.means()

    def _step(
        self, x: torch.Tensor, cond: torch.Tensor | None, rng: torch.Generator
    ) -> dict[str, torch.Tensor]:
        """One gradient step on a batch ``x`` (with its condition); the losses to log."""
        raise NotImplementedError

    def _sampling_net(self) -> nn.Sequential:
        """The :func:`~synthbalance.core.models.nn.mlp` from noise (+ condition) to raw rows."""
        raise NotImplementedError

    def _finish_scalars(self, scalars: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """Last touch on sampled ``tanh`` scalars, (n_scalar, batch) (a VAE adds its
        likelihood's noise)."""
        return scalars

    # -- public interface ---------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-epoch losses, plus ``check.<key>`` values, one per callback check."""
        return {k: list(v) for k, v in self._history.items()}

    @property
    def is_fitted(self) -> bool:
        return self._fitted

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray | None = None,
        callbacks: Sequence[Callback] = (),
        progress: bool = True,
    ) -> BaseGenerator:
        """Train from fresh seeded weights on encoded rows ``X`` (and class indices ``y``).

        Parameters
        ----------
        X : float array, shape ``(n_rows, layout.width)``
            Encoded rows (:meth:`TabularTransformer.transform
            <synthbalance.core.transformer.TabularTransformer.transform>`).
        y : int array, shape ``(n_rows,)``, optional
            Class indices ``0..n_classes-1``; required by conditional families, refused by
            the others.
        callbacks : sequence of :class:`~synthbalance.core.models.callbacks.Callback`
            Called around every epoch, in this order (e.g. ``[PeriodicCheck(check),
            BestCheckpoint()]`` keeps the best-checked weights).
        progress : bool
            Show a progress bar over the epochs (a :class:`ProgressBar` after the others).

        Raises
        ------
        DataValidationError
            ``X`` or ``y`` has the wrong shape, values or labels.
        ConfigError
            ``y`` given to an unconditional family, or missing for a conditional one.
        """
        x, labels = self._check_data(X, y, min_rows=max(2, self.config.pac))
        callbacks = [*callbacks, *([ProgressBar()] if progress else [])]
        with num_threads(self.config.num_threads), seeded(self.seed, self._device):
            self._modules = self._build_modules()
            self._make_optimizers()
            rng = torch.Generator(self._device).manual_seed(self.seed)
            batches = self._batches(x, labels, rng)
            self._history, self.best_epoch, self._fitted = {}, None, True
            self.stop_training = False
            try:
                callbacks = self._plan(batches, callbacks)
                self._loop(batches, rng, callbacks)
            except BaseException:
                self._fitted = False
                raise
        return self

    def sample(
        self,
        n: int,
        y: int | np.ndarray | None = None,
        seed: int | None = None,
        batch_size: int = SAMPLE_BATCH,
        precision: str = "auto",
    ) -> np.ndarray:
        """``n`` encoded rows (float32, ``(n, layout.width)``), generated ``batch_size`` at a time.

        ``y`` (conditional families only, and required there) is one class index or ``n`` of
        them. The same ``seed`` gives the same rows; ``seed=None`` continues this
        generator's own stream, seeded from its ``seed``, so it is reproducible too.
        ``precision`` is the arithmetic of the network's forward pass (see
        :func:`sampling_dtype`). The same rows as :meth:`sample_coded`, as a matrix.
        """
        return self.sample_coded(n, y, seed, batch_size, precision).to_matrix(self.layout)

    def sample_coded(
        self,
        n: int,
        y: int | np.ndarray | None = None,
        seed: int | None = None,
        batch_size: int = SAMPLE_BATCH,
        precision: str = "auto",
    ) -> CodedRows:
        """:meth:`sample`'s rows as :class:`CodedRows` (scalars and level indices).

        What the decoder reads: no one-hot matrix is built, so this is the fast path.
        Every batch draws from its own generator, seeded from ``seed`` and the batch's
        index, so on the CPU batches run side by side in ``num_threads`` single-threaded
        workers (torch's random draws are serial; one worker per core keeps every core
        busy) and the rows do not depend on how many workers there are. They do depend on
        ``batch_size``: the same ``seed`` gives the same rows for the same ``batch_size``,
        and other rows, from the same distribution, for another.
        """
        if not self._fitted:
            raise NotFittedError(f"{self.name} generator is not fitted; call fit(X) first.")
        n, batch_size = _count("n", n, 0), _count("batch_size", batch_size, 1)
        dtype = sampling_dtype(precision, self._device)
        labels = self._sample_labels(n, y)
        starts = range(0, n, batch_size)
        seeds = np.random.SeedSequence(self._stream_seed(seed)).generate_state(
            len(starts), dtype=np.uint64
        )
        out = CodedRows.empty(n, self.layout)
        rows = [slice(start, min(n, start + batch_size)) for start in starts]
        workers = min(len(starts), self._sample_workers())
        with num_threads(1 if workers > 1 else self.config.num_threads), torch.inference_mode():
            sampler = self._row_sampler(dtype)

            def batch(i: int) -> None:
                self._sample_batch(sampler, out, rows[i], labels, int(seeds[i]))

            if workers > 1:
                with ThreadPoolExecutor(workers, thread_name_prefix="synthbalance") as pool:
                    list(pool.map(batch, range(len(rows))))
            else:
                for i in range(len(rows)):
                    batch(i)
        return out

    def _row_sampler(self, dtype: torch.dtype) -> RowSampler:
        """``sampler(n, labels, rng) -> (scalars, levels)``: one batch of finished rows,
        ``tanh`` scalars (n_scalar, n) and one level per one-hot block (n_blocks, n).

        Built once per sampling call and then called from worker threads. This default
        runs the sampling network once, compiled into a :class:`FusedMLP`, and draws each
        block's level from its softmax; a family whose rows need many network passes (a
        diffusion) overrides it.
        """
        net = FusedMLP(self._sampling_net(), self.plan.fold_head, dtype, self.cond_dim)

        def sampler(
            n: int, labels: torch.Tensor | None, rng: torch.Generator
        ) -> tuple[torch.Tensor, torch.Tensor]:
            scalars, levels = self.plan.draw(net(self._noise(n, rng), labels), rng)
            return self._finish_scalars(scalars, rng), levels

        return sampler

    def _sample_batch(
        self, sampler: RowSampler, out: CodedRows, rows: slice, labels: torch.Tensor | None,
        seed: int,
    ) -> None:
        """Draw ``out``'s ``rows`` with ``sampler`` and a generator seeded ``seed`` (any
        thread)."""
        torch.set_flush_denormal(True)  # per thread; see num_threads()
        with torch.inference_mode():  # per thread, too
            rng = torch.Generator(self._device).manual_seed(seed)
            batch_labels = None if labels is None else labels[rows]
            scalars, levels = sampler(rows.stop - rows.start, batch_labels, rng)
            out.scalars[rows] = scalars.cpu().numpy().T
            out.levels[rows] = levels.cpu().numpy().T

    def _sample_workers(self) -> int:
        """Batches sampled at once: one per CPU thread on the CPU, one on a GPU."""
        if self._device.type != "cpu":
            return 1
        return self.config.num_threads or torch.get_num_threads()

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild this generator, as plain data and CPU tensors."""
        return {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "config": self.config.to_dict(),
            "layout": self.layout.to_list(),
            "n_classes": self.n_classes,
            "seed": self.seed,
            "fitted": self._fitted,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "modules": self.weights(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], device: str | None = None) -> BaseGenerator:
        """Rebuild a generator from :meth:`state_dict` output; bad state -> ModelFileError.

        ``device`` overrides the saved ``config.device`` (e.g. ``"cpu"`` for a model trained
        on a GPU).
        """
        _check_state(state, cls.name)
        try:
            config = dict(state["config"])
            if device is not None:
                config["device"] = device
            gen = cls(
                SpanLayout.from_list(state["layout"]),
                state["n_classes"],
                GeneratorConfig.from_dict(config),
                seed=state["seed"],
            )
        except (ConfigError, TypeError, ValueError, KeyError) as exc:
            raise ModelFileError(
                f"Saved {cls.name} generator has an invalid config, layout "
                f"or class count ({exc}); re-train and save it again."
            ) from exc
        gen.load_weights(state["modules"])
        gen._history = {str(k): [float(v) for v in vals] for k, vals in state["history"].items()}
        gen.best_epoch, gen._fitted = state["best_epoch"], bool(state["fitted"])
        return gen

    # -- shared machinery ---------------------------------------------------------------

    def _build_modules(self) -> dict[str, nn.Module]:
        with seeded(self.seed, self._device):
            return {k: m.to(self._device) for k, m in self._build().items()}

    def _adam(
        self, names: Sequence[str], lr: float, betas: tuple[float, float] = (0.9, 0.999)
    ) -> torch.optim.Adam:
        """Adam over the parameters of the named networks, with the config's weight decay."""
        params = [p for name in names for p in self._modules[name].parameters()]
        return torch.optim.Adam(
            params, lr=lr, betas=betas, weight_decay=self.config.weight_decay, foreach=True
        )

    def _condition(self, labels: torch.Tensor) -> torch.Tensor:
        return one_hot(labels.to(self._device), self.n_classes)

    def _noise(self, n: int, rng: torch.Generator) -> torch.Tensor:
        return torch.randn(n, self.config.latent_dim, generator=rng, device=self._device)

    def _uniform_condition(self, n: int, rng: torch.Generator) -> torch.Tensor:
        """Conditions of ``n`` classes drawn uniformly (no real row's class)."""
        labels = torch.randint(self.n_classes, (n,), generator=rng, device=self._device)
        return self._condition(labels)

    def _batches(
        self, x: torch.Tensor, labels: torch.Tensor | None, rng: torch.Generator
    ) -> Batches:
        cond = None if labels is None else self._condition(labels)
        pac = self.config.pac
        batch_size = min(self.config.batch_size, x.shape[0]) // pac * pac
        balance = labels if labels is not None and self.config.balance_classes else None
        if self.config.privacy is not None:
            # Poisson sampling, as DP-SGD's accounting assumes, balanced by per-class rates
            from synthbalance.core.models.dpsgd import PoissonBatches, stream_seed

            return PoissonBatches(x, cond, batch_size, stream_seed(self.seed, "batches"),
                                  balance)
        return Batches(x, cond, batch_size, rng, balance)

    def _plan(self, batches: Batches, callbacks: Sequence[Callback]) -> list[Callback]:
        """Resolve the epochs (``auto`` without a :class:`~.callbacks.PeriodicCheck`: the
        minimum budget); with ``config.privacy``, put the private networks under DP-SGD
        and a :class:`~.dpsgd.PrivacyBudget` first among the callbacks."""
        checked = any(isinstance(c, PeriodicCheck) for c in callbacks)
        self.epochs, self.check_every = planned_epochs(
            self.config, batches.n, self.layout.width, batches.steps_per_epoch, checked)
        self._dp = None
        if self.config.privacy is None:
            return list(callbacks)
        # imported here: Opacus loads only for a private fit
        from synthbalance.core.models.dpsgd import DPSGD, PrivacyBudget, stream_seed

        per_epoch = self._private_steps_per_epoch(batches)
        self._dp = DPSGD(
            {name: self._modules[name] for name in self.private_nets},
            getattr(self, self.private_optimizer), batches, self.config.privacy,
            steps=per_epoch * self.epochs, seed=stream_seed(self.seed, "noise"),
            steps_per_epoch=per_epoch, clipping=self._private_clipping())
        return [PrivacyBudget(self._dp), *callbacks]

    def _private_clipping(self) -> str:
        """How DP-SGD clips each row's gradient (:data:`~.dpsgd.CLIPPING`): Opacus' ghost
        clipping unless the family's loss needs another route."""
        return "ghost"

    def _private_steps_per_epoch(self, batches: Batches) -> int:
        """Optimiser steps the private networks take per epoch."""
        return batches.steps_per_epoch

    def _descend(
        self, optimizer: torch.optim.Optimizer, loss: Callable[..., Any],
        rows: tuple[torch.Tensor | None, ...],
    ) -> dict[str, torch.Tensor]:
        """One step of the private networks on ``loss(*rows) -> (per-row losses, logs)``:
        DP-SGD (:meth:`~.dpsgd.DPSGD.step`) when privacy is on, else plain backprop of the
        mean loss with ``optimizer``. Returns the values to log."""
        if self._dp is not None:
            return self._dp.step(loss, rows)
        per_row, logs = loss(*rows)
        optimizer.zero_grad(set_to_none=True)
        per_row.mean().backward()
        optimizer.step()
        return dict(logs)

    def _loop(self, batches: Batches, rng: torch.Generator, callbacks: list[Callback]) -> None:
        """The epochs planned by :meth:`_plan`, with every callback hook around them."""
        for callback in callbacks:
            callback.on_train_begin(self, batches.n)
        epoch = 0
        for epoch in range(1, self.epochs + 1):
            for callback in callbacks:
                callback.on_epoch_begin(self, epoch)
            for module in self._modules.values():
                module.train()
            losses = self._train_epoch(batches, rng)
            self.record(losses)
            for callback in callbacks:
                callback.on_epoch_end(self, epoch, losses)
            if self.stop_training:
                break
        self.best_epoch = epoch  # a BestCheckpoint replaces it with the epoch it keeps
        for callback in callbacks:
            callback.on_train_end(self)

    def record(self, values: Mapping[str, float]) -> None:
        """Append ``values`` (name -> number) to the history (what callbacks log with)."""
        for key, value in values.items():
            self._history.setdefault(key, []).append(float(value))

    def weights(self) -> dict[str, dict[str, torch.Tensor]]:
        """A CPU copy of every network's ``state_dict``, by network name."""
        return {k: cpu_copy(m.state_dict()) for k, m in self._modules.items()}

    def load_weights(self, weights: Mapping[str, Any]) -> None:
        """Load :meth:`weights` output; a mismatch raises :class:`ModelFileError`."""
        if not isinstance(weights, Mapping) or set(weights) != set(self._modules):
            found = sorted(weights) if isinstance(weights, Mapping) else type(weights).__name__
            raise ModelFileError(
                f"Saved {self.name} generator holds networks {found}, expected "
                f"{sorted(self._modules)}; it was saved by another model."
            )
        for key, module in self._modules.items():
            try:
                module.load_state_dict(weights[key])
            except (RuntimeError, TypeError, AttributeError) as exc:
                raise ModelFileError(
                    f"Saved weights of {self.name}.{key} do not fit this layout/config: {exc}"
                ) from exc

    def _stream_seed(self, seed: int | None) -> int:
        """``seed``, or the next seed of this generator's own stream (seeded from its
        ``seed``), so that ``seed=None`` is reproducible too."""
        if seed is not None:
            return _count("seed", seed, 0)
        if self._sample_rng is None:
            self._sample_rng = np.random.default_rng(self.seed)
        return int(self._sample_rng.integers(2**63))

    # -- input checks -------------------------------------------------------------------

    def _check_n_classes(self, n_classes: int | None) -> int:
        if not self.conditional:
            if n_classes not in (None, 0):
                raise ConfigError(
                    f"{self.name} is unconditional, but n_classes={n_classes!r} "
                    "was given; pass none, or pick a conditional model "
                    "(cgan, wcgan_gp, cvae)."
                )
            return 0
        if (
            isinstance(n_classes, bool)
            or not isinstance(n_classes, int | np.integer)
            or n_classes < 2
        ):
            raise ConfigError(
                f"{self.name} is conditional and needs n_classes >= 2, got {n_classes!r}."
            )
        return int(n_classes)

    def _check_y_given(self, y: object, where: str) -> None:
        if self.conditional and y is None:
            raise ConfigError(
                f"{self.name} is conditional: pass class indices y to {where}, "
                "or pick an unconditional model (gan, wgan_gp, vae)."
            )
        if not self.conditional and y is not None:
            raise ConfigError(
                f"{self.name} is unconditional and takes no y in {where}; drop y, "
                "or pick a conditional model (cgan, wcgan_gp, cvae)."
            )

    def _check_data(
        self, X: np.ndarray, y: np.ndarray | None, where: str = "fit", min_rows: int = 2
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``X`` and ``y`` as device tensors, after checking shape, values and labels."""
        self._check_y_given(y, where)
        x = np.asarray(X, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.layout.width:
            raise DataValidationError(
                f"X has shape {x.shape}; the layout expects "
                f"(n_rows, {self.layout.width}). Encode X with the "
                "transformer this layout came from."
            )
        if x.shape[0] < min_rows or not np.isfinite(x).all():
            raise DataValidationError(
                f"X must hold at least {min_rows} rows (2, and at least pac to fit) "
                "and no NaN or infinite values."
            )
        labels = None if y is None else self._check_labels(y, x.shape[0])
        return torch.from_numpy(x).to(self._device), labels

    def _check_labels(self, y: object, n: int) -> torch.Tensor:
        arr = np.asarray(y)
        if arr.ndim != 1 or len(arr) != n or arr.dtype.kind not in "iu":
            raise DataValidationError(
                f"y must be {n} integer class indices, got an array of "
                f"shape {arr.shape} and dtype {arr.dtype}."
            )
        if n and (arr.min() < 0 or arr.max() >= self.n_classes):
            raise DataValidationError(
                f"y holds class indices outside 0..{self.n_classes - 1}; "
                "encode labels as 0..n_classes-1."
            )
        return torch.from_numpy(arr.astype(np.int64)).to(self._device)

    def _sample_labels(self, n: int, y: int | np.ndarray | None) -> torch.Tensor | None:
        self._check_y_given(y, "sample")
        if y is None:
            return None
        if np.ndim(y) == 0:
            y = np.full(n, int(y)) if isinstance(y, int | np.integer) else np.asarray([y])
        return self._check_labels(y, n)


def _count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name}={value!r}: use an integer >= {minimum}.")
    return int(value)


def _check_state(state: object, name: str) -> None:
    """Raise ModelFileError unless ``state`` looks like a current ``state_dict`` of ``name``."""
    if not isinstance(state, Mapping):
        raise ModelFileError(
            f"A saved generator is a dict, got {type(state).__name__}; "
            "load the file written from BaseGenerator.state_dict()."
        )
    missing = [k for k in STATE_KEYS if k not in state]
    if missing:
        raise ModelFileError(
            f"Saved generator lacks {missing}; the file is corrupt or not a synthbalance generator."
        )
    version = state["format_version"]
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise ModelFileError(
            f"Saved generator has format_version {version!r}; this synthbalance "
            f"reads up to {FORMAT_VERSION}. Upgrade synthbalance."
        )
    if state["name"] != name:
        raise ModelFileError(f"Saved generator is a {state['name']!r}, not a {name!r}.")
    if not isinstance(state["history"], Mapping) or not isinstance(state["modules"], Mapping):
        raise ModelFileError("Saved generator's history/modules are not dicts; file is corrupt.")
