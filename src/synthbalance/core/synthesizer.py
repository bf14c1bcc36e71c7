"""A trained generator bundled with its transformer and schema: ask for rows, get rows.

:func:`train_synthesizer` fits one family either on one minority class (``per_class``) or
on all training rows conditioned on the label (``conditional``), choosing the checkpoint
whose quick check (Wasserstein mean plus detection accuracy against the class's validation
rows, on which it never trains) is best. A :class:`Synthesizer` samples decoded rows in the
original schema and is saved as plain data plus tensors (``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import io
import logging
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import torch

from synthbalance.core.config import BUDGET_MIN, STRATEGIES_BY_MODEL
from synthbalance.core.errors import ConfigError, DataValidationError, ModelFileError
from synthbalance.core.metrics import detection, fidelity
from synthbalance.core.models import (
    SAMPLE_BATCH,
    BaseGenerator,
    GeneratorConfig,
    load_generator,
    make_generator,
)
from synthbalance.core.models.callbacks import (
    BestCheckpoint,
    Callback,
    EarlyStopping,
    PeriodicCheck,
)
from synthbalance.core.postprocess import PostprocessStats, fit_postprocess, postprocess
from synthbalance.core.reweight import abiding_draws
from synthbalance.core.schema import Schema
from synthbalance.core.split import inner_split, validation_mask
from synthbalance.core.tables import find_label, label_mask, missing_columns, rows_of
from synthbalance.core.transformer import TabularTransformer
from synthbalance.core.unlearned import fill_unlearned

logger = logging.getLogger(__name__)

FORMAT = "synthbalance.synthesizer"
FORMAT_VERSION = 1
#: Rows a check compares at least (fewer validation rows make detection too noisy).
CHECK_MIN_ROWS = 200


class Synthesizer:
    """A fitted generator that returns rows of the original table's schema.

    ``classes`` are the class values the generator's class indices stand for (conditional
    families: every class of the target), or the single class a per-class generator learned.
    ``origin`` says where it was loaded from, for messages; ``version`` the saved version it
    was loaded as (``None``: not loaded from a versioned file). A loader sets both.
    """

    origin: str = "the generator"
    version: str | None = None

    def __init__(
        self,
        generator: BaseGenerator,
        transformer: TabularTransformer,
        schema: Schema,
        classes: tuple[Any, ...],
        cleaning: PostprocessStats | None = None,
    ):
        if generator.layout != transformer.layout:
            raise ModelFileError(
                "The generator's span layout does not match the transformer's; they were not "
                "trained together. Re-run the training pipeline."
            )
        self.generator = generator
        self.transformer = transformer
        self.schema = schema
        self.classes = tuple(classes)
        self.cleaning = cleaning

    @property
    def conditional(self) -> bool:
        return self.generator.conditional

    def sample(
        self,
        n: int,
        label: Any = None,
        seed: int = 0,
        batch_size: int = SAMPLE_BATCH,
        clean: bool = False,
        precision: str = "auto",
        id_offset: int = 0,
    ) -> pd.DataFrame:
        """``n`` decoded rows of class ``label`` (default: the first class it can make).

        Generated ``batch_size`` rows at a time as codes (scalars and level indices, see
        :class:`~synthbalance.core.layout.CodedRows`), then decoded in one pass per column;
        one ``seed`` gives the same rows for the same ``batch_size`` (each batch draws from
        its own seeded stream), other rows of the same distribution for another.
        The target column holds ``label``; identifier and constant columns are filled in
        (the constant's value; fresh ids numbered from the first row, after the first
        ``id_offset`` fresh ids: pass the number of rows made before to append these rows
        to them without repeating an id); ``rows.attrs[MADE_BY]``
        says what the generator was trained as (:func:`trained_as`). With ``clean=True``
        the cleaning rules fitted at training time (clip, round, snap, missing values) are
        applied too, and draws that break an order rule between date columns are replaced
        by fresh ones (:func:`~synthbalance.core.reweight.abiding_draws`); the pipelines
        clean in their own stage, to count every fix. ``precision`` is that of the
        generator's forward pass (``"auto"``, ``"float32"`` or ``"bfloat16"``, see
        :func:`~synthbalance.core.models.base.sampling_dtype`).
        """
        label = self.classes[0] if label is None else self._known_label(label)
        if clean and self.cleaning is not None and self.cleaning.orders:
            rows, _ = abiding_draws(self, n, label, seed, batch_size=batch_size,
                                    precision=precision)
        else:
            y = self.classes.index(label) if self.conditional else None
            coded = self.generator.sample_coded(
                n, y=y, seed=seed, batch_size=batch_size, precision=precision
            )
            rows = fill_unlearned(self.transformer.decode(
                coded, extra={self.schema.target: np.repeat(label, n)}), self.schema)
        if clean and self.cleaning is not None:  # ids blanked at their share, renumbered
            rows, _ = postprocess(rows, self.cleaning, self.schema, seed=seed)
        if id_offset:
            rows = fill_unlearned(rows, self.schema, skip=id_offset)
        rows.attrs[MADE_BY] = trained_as(self)  # later stages check it (pipelines' hooks)
        return rows

    def _known_label(self, label: Any) -> Any:
        found = find_label(label, self.classes)
        if found is not None:
            return found
        raise ConfigError(
            f"This synthesizer makes rows of class(es) {list(self.classes)}, not {label!r}."
        )

    # -------------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "generator": self.generator.state_dict(),
            "transformer": self.transformer.to_state(),
            "schema": self.schema.to_dict(),
            "classes": list(self.classes),
            "cleaning": None if self.cleaning is None else self.cleaning.to_dict(),
        }

    @classmethod
    def from_state(cls, state: Any, device: str | None = None) -> Synthesizer:
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ModelFileError(
                "Not a synthbalance model file (no synthesizer header); re-run training "
                "(kedro run --pipelines=training)."
            )
        if state.get("format_version", 0) > FORMAT_VERSION:
            raise ModelFileError(
                f"Model file format {state['format_version']} is newer than this synthbalance "
                f"reads ({FORMAT_VERSION}); upgrade synthbalance."
            )
        try:
            return cls(
                load_generator(state["generator"], device=device),
                TabularTransformer.from_state(state["transformer"]),
                Schema.from_dict(state["schema"]),
                tuple(state["classes"]),
                _cleaning(state.get("cleaning")),
            )
        except KeyError as exc:
            raise ModelFileError(f"Model file lacks {exc}; re-run training.") from exc

    def save(self, target: str | Path | BinaryIO) -> None:
        """Write plain data and tensors with ``torch.save`` (no pickled objects)."""
        torch.save(self.to_state(), target)

    @classmethod
    def load(cls, source: str | Path | BinaryIO | bytes, device: str | None = None,
             name: str | None = None) -> Synthesizer:
        """Read a file written by :meth:`save` with ``weights_only=True``.

        ``name``: how messages call the file (default: ``source`` if it is a path).

        Raises:
            ModelFileError: the file is missing, corrupt, or holds more than plain data and
                tensors (then it is refused, not run).
        """
        name = name or (str(source) if isinstance(source, str | Path) else "the model file")
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        try:
            state = torch.load(source, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise ModelFileError(f"{name} does not exist; run training first.") from None
        except pickle.UnpicklingError as exc:
            raise ModelFileError(_refusal(name, exc)) from None
        except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
            raise ModelFileError(
                f"{name} is corrupt or not a synthbalance model file ({type(exc).__name__}: "
                f"{str(exc)[:200]}); re-run training to write it again."
            ) from None
        return cls.from_state(state, device=device)


def _refusal(name: str, exc: pickle.UnpicklingError) -> str:
    """Why a model file was refused; torch's own advice (weights_only=False) unsafely alone."""
    if "Unsupported global" not in str(exc):  # torch names the class it would not build
        return (f"{name} is corrupt or not a synthbalance model file (UnpicklingError: "
                f"{str(exc)[:200]}); re-run training to write it again.")
    return (
        f"{name} was refused: it holds pickled Python objects, not only the plain data and "
        "tensors synthbalance writes, so it was not made by this version of synthbalance or "
        "was changed since. Loading it with torch.load(weights_only=False), as torch "
        "suggests, would run code from the file: do that only with a file you made "
        "yourself. The fix is to train again: kedro run --pipelines=training."
    )


#: ``DataFrame.attrs`` key of synthetic rows: what their generator was trained as (it
#: travels with the rows through ``pd.concat`` and Parquet files).
MADE_BY = "synthbalance.made_by"


def trained_as(synthesizer: Synthesizer) -> dict[str, str]:
    """``{"training.model": ..., "training.strategy": ...}`` of a trained generator."""
    return {"training.model": synthesizer.generator.name,
            "training.strategy": "conditional" if synthesizer.conditional else "per_class"}


def check_trained_for(
    synthesizer: Synthesizer, model: str, strategy: str, schema: Schema | None = None
) -> None:
    """Refuse a generator that is not what a run asks for (another family, strategy, table).

    A stage after training loads the newest saved generator; if the training run it should
    come from was interrupted, or ran with other parameters, that file is someone else's.
    ``schema`` (the run's own, optional) is compared without its class counts.

    Raises:
        ModelFileError: naming ``synthesizer.origin``, what it was trained as, what the run
            asks for, and the training command that makes the right one.
    """
    trained = trained_as(synthesizer)
    found = _differences(trained, model, strategy)
    other_table = schema is not None and _schema_key(synthesizer.schema) != _schema_key(schema)
    if other_table:
        found.append("another table (its columns, kinds or classes differ from this run's)")
    if found:
        keep = "" if other_table else (
            f"To use it, run this pipeline with its settings: {_params(*trained.values())}. ")
        raise ModelFileError(
            f"{synthesizer.origin} was trained with {'; '.join(found)}, so it is not the "
            "generator this run describes (was its training run interrupted, or run with "
            f"other parameters?). {keep}To use the one this run asks for, train it first: "
            f"kedro run --pipelines=training {_params(model, strategy)} (with this run's "
            "other --params and --env), then run this pipeline again."
        )


def check_one_training_run(name: str, synthesizer: Synthesizer, seen: dict[str, str]) -> None:
    """Refuse generators that two training runs saved, used together in one run.

    A training run saves every branch's generator (one per minority class with
    ``per_class``) under one version. A run stopped after it saved some of them leaves the
    others' newest versions from an earlier run, and rows sampled from both would mix two
    runs. ``seen`` maps the generator datasets this run has loaded so far to their versions
    and gets ``name``'s; a generator without a version (not from a versioned file) passes.

    Raises:
        ModelFileError: naming both datasets and versions, and the commands that fix it.
    """
    version = synthesizer.version
    if version is None:
        return
    other = next(((n, v) for n, v in seen.items() if n != name and v != version), None)
    seen[name] = version
    if other is not None:
        raise ModelFileError(
            f"{name} is version {version} but {other[0]} is version {other[1]}: two training "
            "runs saved them (was the newer one stopped before it saved every branch?), and "
            "rows sampled from both would mix the two. Train every branch again: kedro run "
            "--pipelines=training (with this run's --params); or load one version of each: "
            f"--load-versions={name}:<version>,{other[0]}:<version>."
        )


#: The tables of rows a pipeline passes between stages, by their dataset's own name (a
#: namespace may come before it): each holds the columns of the run's schema.
ROW_TABLES = frozenset({"validated_table", "train_rows", "validation_rows", "test_rows",
                        "held_back_rows", "synthetic_raw", "synthetic_rows"})


def check_rows_of_schema(name: str, rows: pd.DataFrame, schema: Schema,
                         params: str | None = None) -> None:
    """Refuse a table of rows (:data:`ROW_TABLES`) that lacks columns of the run's
    ``schema``: a stage run alone after ``ingest`` read another table pairs that table's
    schema with the last run's rows, which would fail deep in a node (a ``KeyError``).
    ``params``: the run's ``ingest.source`` and ``ingest.target`` as ``--params`` text,
    put in the command the message gives.

    Raises:
        DataValidationError: naming the dataset, the missing columns and the fix.
    """
    if name.rsplit(".", 1)[-1] not in ROW_TABLES:
        return
    missing = missing_columns(rows, [*schema.names, schema.target])
    if missing:
        raise DataValidationError(
            f"{name} lacks column(s) {missing} of this run's schema "
            "(data/02_intermediate/schema.json): it was made from another table than the one "
            "ingest read last. Run the stages after ingest again, with the --params of the "
            "table you mean (ingest.source and the rest; a bare kedro run reads the built-in "
            f"table): kedro run --params=\"{params or '...'}\" (or --pipelines="
            "preprocessing, then training, sampling, postprocessing and the stages you need)."
        )


def check_rows_made_for(name: str, rows: pd.DataFrame, model: str, strategy: str) -> None:
    """Refuse synthetic ``rows`` made by another generator than the run asks for.

    ``rows.attrs[MADE_BY]`` is set by the sampling stage; rows without it pass.

    Raises:
        ModelFileError: naming the dataset ``name``, both generators and the command.
    """
    made_by = rows.attrs.get(MADE_BY) or {}
    found = _differences(made_by, model, strategy)
    if found:
        raise ModelFileError(
            f"{name} holds rows made by a generator trained with {'; '.join(found)}, so "
            "they are not this run's (was the sampling for it interrupted, or never run?). "
            "To use them, run this pipeline with their settings: "
            f"{_params(*(made_by.get(k, v) for k, v in _wanted(model, strategy).items()))}. "
            f"To use the model this run asks for, sample again: kedro run --pipelines="
            f"sampling {_params(model, strategy)} (after --pipelines=training if that "
            "generator is missing; with this run's other --params and --env), then run this "
            "pipeline again."
        )


def _wanted(model: str, strategy: str) -> dict[str, str]:
    return {"training.model": model, "training.strategy": strategy}


def _differences(trained: dict[str, str], model: str, strategy: str) -> list[str]:
    wanted = _wanted(model, strategy)
    return [f"{key}={trained[key]} (this run asks for {wanted[key]})"
            for key in wanted if key in trained and trained[key] != wanted[key]]


def _params(model: str, strategy: str) -> str:
    return f'--params="training.model={model},training.strategy={strategy}"'


def _schema_key(schema: Schema) -> dict[str, Any]:
    """What must match: not the class counts, nor the column order (a schema saved before
    it was kept has none; the rows come back in the run's order either way)."""
    return {k: v for k, v in schema.to_dict().items()
            if k not in ("class_counts", "column_order")}


@dataclass(frozen=True)
class TrainingPlan:
    """What :func:`train_synthesizer` trains: which family, on which class, how checked.

    ``strategy``: ``conditional`` (one model of every class) or ``per_class`` (a model of
    ``class_value``, default the first minority class); ``None`` takes the family's default
    (:data:`~synthbalance.core.config.STRATEGIES_BY_MODEL`). ``validation_size``: the share
    of training rows kept for validation when :func:`train_synthesizer` is given no
    validation rows; ``check_max_rows``: the most validation rows a periodic check
    compares with.
    """

    model: str
    config: GeneratorConfig
    class_value: Any = None
    check_max_rows: int = 2_000
    seed: int = 0
    validation_size: float = 0.2
    strategy: str | None = None


def train_synthesizer(
    train_rows: pd.DataFrame,
    encoded: np.ndarray,
    transformer: TabularTransformer,
    schema: Schema,
    plan: TrainingPlan,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
    validation: pd.DataFrame | None = None,
) -> Synthesizer:
    """Fit ``plan.model`` on the training rows and keep its best-checked checkpoint.

    ``encoded`` is ``transformer.transform(train_rows)``, row for row. The generator never
    trains on a validation row: ``validation`` (rows of ``train_rows``, same index; the
    pipeline's ``validation_rows``), else ``plan.validation_size`` of the training rows
    (:func:`~synthbalance.core.split.inner_split`). The periodic checks compare sampled rows
    with the validation rows of the checked class (the branch's class, or the first
    minority class). ``callbacks`` run before the check and the checkpoint keeping (an
    :class:`~synthbalance.core.models.callbacks.EpochTimer` there times training alone).

    Raises:
        DataValidationError: no training row of the class to learn, or validation rows
            that are not training rows.
    """
    if validation is None:
        _, validation = inner_split(train_rows, schema, plan.validation_size, plan.seed)
    # an unknown model fails in make_generator below, with the list of families
    strategy = plan.strategy or STRATEGIES_BY_MODEL.get(plan.model, ("per_class",))[0]
    conditional = strategy == "conditional"
    checked_class = schema.minority_classes[0] if conditional or plan.class_value is None \
        else plan.class_value
    fit = ~validation_mask(train_rows, validation)
    if conditional:
        classes = tuple(schema.classes)
        labels = pd.Categorical(train_rows[schema.target], categories=list(classes))
        y_fit = labels.codes.astype(np.int64)[fit]
    else:
        classes, y_fit = (checked_class,), None
        fit &= label_mask(train_rows[schema.target], checked_class)
    if not fit.any():
        raise DataValidationError(f"No training rows of class {checked_class!r} to learn from.")
    generator = _new_generator(plan, transformer, classes, conditional)
    holdout = _check_rows(validation, schema, checked_class, plan, generator.config)
    x_fit = encoded[fit]
    if len(holdout):
        check = _make_check(holdout, transformer, schema, classes.index(checked_class), plan.seed)
        patience = generator.config.patience  # the config as built (a dict is fine)
        stop = [EarlyStopping(patience)] if patience else []
        callbacks = [*callbacks, PeriodicCheck(check), *stop, BestCheckpoint()]
    generator.fit(x_fit, y_fit, callbacks=callbacks, progress=progress)
    cleaning = fit_postprocess(train_rows, schema)
    return Synthesizer(generator, transformer, schema, classes, cleaning)


def _cleaning(state: dict[str, Any] | None) -> PostprocessStats | None:
    return None if state is None else PostprocessStats.from_dict(state)


def _new_generator(plan: TrainingPlan, transformer: TabularTransformer,
                   classes: tuple[Any, ...], conditional: bool) -> BaseGenerator:
    """``plan``'s untrained generator; a per-class one (of ``classes[0]``) is called by its
    class in the training log."""
    generator = make_generator(plan.model, transformer.layout, len(classes) if conditional
                               else None, plan.config, plan.seed)
    if not conditional:
        generator.log_name = f"{generator.name} (class {classes[0]!r})"
    return generator


def _check_rows(
    validation: pd.DataFrame, schema: Schema, cls: Any, plan: TrainingPlan,
    config: GeneratorConfig,
) -> pd.DataFrame:
    """The validation rows of ``cls`` the checks compare with: at most
    ``plan.check_max_rows`` (a seeded draw), none when fewer than ``CHECK_MIN_ROWS // 4``
    (too few to judge anything: the last epoch is kept; the log says what that changes
    for the generator's ``config``)."""
    rows = rows_of(validation, schema.target, cls)
    if len(rows) < CHECK_MIN_ROWS // 4:
        lost = [*(["no early stop (training.patience)"] if config.patience else []),
                "no choice of checkpoint"]
        budget = (f", and epochs: auto trains its minimum budget ({BUDGET_MIN} steps)"
                  if config.epochs == "auto" else "")
        logger.info("Class %r has %d validation rows, fewer than the %d a check needs: no "
                    "periodic checks, so %s; the last epoch is kept%s. A larger "
                    "preprocessing.validation_size gives the checks more rows, at the cost "
                    "of minority rows to train on, so it need not give better rows.",
                    cls, len(rows), CHECK_MIN_ROWS // 4, " and ".join(lost), budget)
        return rows.iloc[:0]
    if len(rows) > plan.check_max_rows:
        pick = np.random.default_rng(plan.seed).choice(len(rows), plan.check_max_rows,
                                                        replace=False)
        rows = rows.iloc[np.sort(pick)]
    return rows


def _make_check(
    holdout: pd.DataFrame,
    transformer: TabularTransformer,
    schema: Schema,
    class_index: int,
    seed: int,
) -> Callable[[int, BaseGenerator], dict[str, float]]:
    """A check scoring a generator against validation rows of its class."""
    n = max(len(holdout), CHECK_MIN_ROWS)

    def check(epoch: int, generator: BaseGenerator) -> dict[str, float]:
        y = class_index if generator.conditional else None
        rows = transformer.decode(generator.sample_coded(n, y=y, seed=seed + epoch))
        wasserstein = fidelity(holdout, rows, schema)["wasserstein_mean"]
        accuracy = detection(holdout, rows, schema, seed, n_estimators=50, max_depth=4)[
            "accuracy"
        ]
        return {
            "score": wasserstein + accuracy,
            "wasserstein_mean": wasserstein,
            "detection_accuracy": accuracy,
        }

    return check
