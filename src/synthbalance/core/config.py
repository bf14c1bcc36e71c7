"""Settings as schemas: the generator's typed config, and the rules every schema follows.

Every setting of synthbalance, from ``training.epochs`` to a column hint's ``bounds``, is a
field of a :class:`Settings` model (pydantic, ``extra="forbid"``, strict types, as
kedro-mlflow validates its own config). An unknown key or a wrong type anywhere, nested
keys included, raises one :class:`~synthbalance.core.errors.ConfigError` that names the
key in full, what was given and what is allowed. No other validator exists beside it, so a
new setting is checked as soon as it is declared.

This module imports no torch: the project's parameters are checked before any model loads.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from synthbalance.core.errors import ConfigError

#: Every generator family ``training.model`` accepts (``core.models`` registers each), with
#: the strategies it supports, its default first: ``conditional`` learns ``p(row | class)``
#: in one model, ``per_class`` one model per minority class.
STRATEGIES_BY_MODEL: dict[str, tuple[str, ...]] = {
    "gan": ("per_class",), "cgan": ("conditional",),
    "wgan_gp": ("per_class",), "wcgan_gp": ("conditional",),
    "vae": ("per_class",), "cvae": ("conditional",),
    "ddpm": ("conditional", "per_class"),
}
MODEL_NAMES: tuple[str, ...] = tuple(STRATEGIES_BY_MODEL)
#: Families that can learn ``p(row | class)`` (and then need class indices).
CONDITIONAL_MODELS: frozenset[str] = frozenset(
    m for m, strategies in STRATEGIES_BY_MODEL.items() if "conditional" in strategies)
DEVICES = ("auto", "cpu", "cuda")


def _number_from_text(value: Any) -> Any:
    """PyYAML reads ``1e-3`` (no dot) as text; take it as the number it spells."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def tuple_from_list(value: Any) -> Any:
    """A YAML list as the tuple a schema field declares (other values pass unchanged)."""
    return tuple(value) if isinstance(value, list) else value


#: A real number; numeric text such as ``"2e-4"`` is read as one (never ``true``).
Number = Annotated[float, BeforeValidator(_number_from_text)]
PositiveInt = Annotated[int, Field(gt=0)]
#: A list (or tuple) of layer widths, each >= 1.
Widths = Annotated[tuple[PositiveInt, ...], BeforeValidator(tuple_from_list),
                   Field(min_length=1)]


class Settings(BaseModel):
    """Base of every settings schema: unknown keys and wrong types are refused.

    Subclasses set ``where`` (their dotted place among the parameters, e.g. ``training``)
    and ``noun`` (how messages call a key: ``parameter``, ``generator setting``), and may
    override :meth:`fix_for` (where a user fixes a key).

    Checks across fields raise :class:`ConfigError` with a complete message; checks of one
    field raise ``ValueError`` with a message that reads on from the key's name ("is
    [5, 1]: low > high").
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    where: ClassVar[str] = ""
    noun: ClassVar[str] = "parameter"

    @classmethod
    def fix_for(cls, section: str) -> str:
        """A sentence, with a leading space, saying where to fix a key of top-level
        ``section`` (empty: no advice)."""
        return ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None = None, where: str | None = None) -> Any:
        """Validate plain data (a parameters section, ``None`` for the defaults).

        ``where`` overrides the dotted name messages give these settings.

        Raises:
            ConfigError: an unknown key, a wrong type or a bad value; every problem named.
        """
        where = cls.where if where is None else where
        if data is not None and not isinstance(data, Mapping):
            raise ConfigError(
                f"{cls.noun.capitalize()} '{where}' must be a mapping of keys to values, got "
                f"{data!r}.{cls.fix_for(where.split('.', 1)[0])}"
            )
        try:
            return cls.model_validate(dict(data or {}))
        except ValidationError as exc:
            raise config_error(exc, cls, where) from None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists, not tuples), the inverse of :meth:`from_dict`."""
        return self.model_dump(mode="json")


def config_error(
    exc: ValidationError, model: type[Settings], where: str | None = None
) -> ConfigError:
    """One :class:`ConfigError` naming each problem of ``exc``, found validating ``model``
    (whose settings sit at ``where`` among the parameters; default ``model.where``)."""
    where = model.where if where is None else where
    by_key: dict[tuple, list[dict[str, Any]]] = {}
    for error in exc.errors():  # a union's members each report: one message per key
        loc = _without_union_tags(model, error["loc"])
        by_key.setdefault(loc, []).append({**error, "loc": loc})
    # a value of a union's mapping member whose entries are wrong: the entries speak, not
    # the other members that refused the mapping itself ("it must be a number")
    inner = [loc for loc in by_key if any(o[: len(loc)] == loc and o != loc for o in by_key)]
    lines = [_describe(errors[0], model, where) if len(errors) == 1
             else _describe_union(errors, model, where)
             for loc, errors in by_key.items() if loc not in inner]
    return ConfigError("\n".join(dict.fromkeys(lines)))


def _describe_union(errors: list[dict[str, Any]], model: type[Settings], where: str) -> str:
    """One message for a value that no member of a union (``10`` or ``"auto"``) took: the
    field's ``description`` says what it must be, else each member's complaint."""
    allowed = []
    for error in errors:
        if error["type"] == "literal_error":
            allowed.append(error["ctx"]["expected"])
        else:
            allowed.append(error["msg"].removeprefix("Input should be "))
    key = _dotted(where, errors[0]["loc"])
    must = _description(model, errors[0]["loc"]) or " or ".join(allowed)
    return (f"{model.noun.capitalize()} '{key}' is {errors[0].get('input')!r}; it must be "
            f"{must}.{model.fix_for(key.split('.', 1)[0])}")


def _description(model: type[BaseModel], loc: Any) -> str | None:
    """The ``description`` of the field at ``loc`` (``None`` when it has none)."""
    parent = _field_type(model, loc[:-1]) if loc else None
    if isinstance(parent, type) and issubclass(parent, BaseModel):
        field = parent.model_fields.get(str(loc[-1]))
        return field.description if field is not None else None
    return None


def _without_union_tags(model: type[BaseModel], loc: Any) -> tuple:
    """``loc`` without the member names pydantic puts after a union field."""
    annotation: Any = model
    out: list[Any] = []
    for part in loc:
        members = _members(annotation)
        if len(members) > 1:  # ``part`` names a union member, not a key
            annotation = Any
            continue
        out.append(part)
        annotation = _step(_unwrap(annotation), part)
    return tuple(out)


def _members(annotation: Any) -> list[Any]:
    """The non-``None`` members of a union annotation (one for anything else)."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _describe(error: Mapping[str, Any], model: type[Settings], where: str) -> str:
    loc, given = error["loc"], error.get("input")
    key, noun = _dotted(where, loc), model.noun
    fix = model.fix_for(key.split(".", 1)[0])
    if error["type"] == "value_error":
        cause = error["ctx"]["error"]
        if isinstance(cause, ConfigError):  # a check across fields: its message is complete
            return str(cause)
        return f"{noun.capitalize()} '{key}' {cause}{fix}"
    if error["type"] == "missing":
        return f"{noun.capitalize()} '{key}' is required but missing; set it.{fix}"
    if error["type"] == "extra_forbidden":
        parent = _dotted(where, loc[:-1])
        valid = _keys_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f" Did you mean '{_dotted(parent, close[:1])}'?" if close else ""
        of = f" of '{parent}'" if parent else ""
        return f"Unknown {noun} '{key}'.{hint} Valid keys{of}: {', '.join(sorted(valid))}.{fix}"
    if error["type"] == "literal_error":
        expected = [a for a in typing.get_args(_field_type(model, loc)) if a is not None]
        close = difflib.get_close_matches(str(given), [str(a) for a in expected], n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return (f"{noun.capitalize()} '{key}' is {given!r}.{hint} Use one of "
                f"{', '.join(str(a) for a in expected)}.{fix}")
    message = error["msg"]
    if error["type"] in ("bool_parsing", "bool_type"):  # strict: YAML's true / false only
        return f"{noun.capitalize()} '{key}' is {given!r}; it must be true or false.{fix}"
    if error["type"] in ("model_type", "dict_type"):
        message = "Input should be a mapping of keys to values"
    if message.startswith("Input should be "):
        return f"{noun.capitalize()} '{key}' is {given!r}; it must be {message[16:]}.{fix}"
    return f"{noun.capitalize()} '{key}' is {given!r}; {message[0].lower()}{message[1:]}.{fix}"


def _dotted(where: str, loc: Any) -> str:
    parts = [where] if where else []
    for part in loc:
        if isinstance(part, int) and parts:
            parts[-1] += f"[{part}]"
        else:
            parts.append(str(part))
    return ".".join(parts)


def _field_type(model: type[BaseModel], loc: Any) -> Any:
    """The annotation found at ``loc`` (field names, dict keys, list positions)."""
    annotation: Any = model
    for part in loc:
        annotation = _step(_unwrap(annotation), part)
    return _unwrap(annotation)


def _step(annotation: Any, part: Any) -> Any:
    """The annotation one ``part`` (a field name, dict key or list position) further in."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field is not None else Any
    args = typing.get_args(annotation)  # a dict's value or a sequence's item
    return args[-1] if args else Any


def _keys_at(model: type[BaseModel], loc: Any) -> list[str]:
    found = _field_type(model, loc)
    if isinstance(found, type) and issubclass(found, BaseModel):
        return list(found.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> ``X``; ``Annotated[X, ...]`` -> ``X``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


#: The step budget of ``epochs: auto``: ``BUDGET_SCALE * sqrt(rows * width)`` gradient steps,
#: kept within [BUDGET_MIN, BUDGET_MAX]. 1,000 rows of width 30 get 1,000 steps; the demo
#: table's 11,200 fitting rows about 5,850; BRFSS and the credit card 20,000; a run
#: without periodic checks BUDGET_MIN (:func:`planned_epochs`). The default
#: (``conf/base/parameters_training.yml``), chosen by ``python -m benchmarks.tables``.
BUDGET_SCALE, BUDGET_MIN, BUDGET_MAX = 5.0, 1_000, 20_000
#: Periodic checks over a run planned with ``check_every: auto``.
AUTO_CHECKS = 10


def step_budget(rows: int, width: int) -> int:
    """Gradient steps of a run with ``epochs: auto`` on ``rows`` rows of encoded ``width``."""
    return int(min(max(BUDGET_SCALE * math.sqrt(rows * width), BUDGET_MIN), BUDGET_MAX))


def planned_epochs(config: GeneratorConfig, rows: int, width: int, steps_per_epoch: int,
                   checked: bool = True) -> tuple[int, int]:
    """``(epochs, check_every)`` of a run: the config's, or resolved from ``auto``. A run
    without periodic checks (``checked`` False: too few validation rows) cannot stop early
    or choose its checkpoint, so ``auto`` gives it the minimum budget, ``BUDGET_MIN``
    steps: a long run on a handful of minority rows memorises them."""
    budget = step_budget(rows, width) if checked else BUDGET_MIN
    epochs = config.epochs if config.epochs != "auto" else max(
        1, math.ceil(budget / max(steps_per_epoch, 1)))
    every = config.check_every if config.check_every != "auto" else max(
        1, round(epochs / AUTO_CHECKS))
    return epochs, every


class PrivacyConfig(Settings):
    """Differential privacy of training (``training.privacy``): DP-SGD through Opacus.

    ``epsilon``: the privacy budget, > 0 (under 10 is the usual DP-SGD range, low single
    digits conservative). ``delta``: in (0, 1); ``None``: ``1 / (10 n)``, n the rows the
    private networks read (:func:`~synthbalance.core.models.dpsgd.default_delta`).
    ``max_grad_norm``: each row's gradient is clipped to this L2 norm, > 0.
    ``noise_multiplier``: ``None`` (default) calibrates the noise so that the budget lasts
    exactly the planned epochs; a number fixes it, and training stops at the first epoch
    after which one more would spend more than ``epsilon``. See docs/privacy.md.
    """

    noun: ClassVar[str] = "generator setting"

    epsilon: Annotated[Number, Field(gt=0)]
    delta: Annotated[Number, Field(gt=0, lt=1)] | None = None
    max_grad_norm: Annotated[Number, Field(gt=0)] = 1.0
    noise_multiplier: Annotated[Number, Field(gt=0)] | None = None


class GeneratorConfig(Settings):
    """Hyper-parameters of every generator family.

    Shared by all families:
        epochs: passes over the training rows (an epoch is ``max(1, n // batch_size)``
            batches; for WGAN families those are critic batches, see ``n_critic``), or
            ``"auto"``: as many as the step budget of :func:`step_budget` takes, which
            grows with the square root of rows times width, so one default fits 1,000 rows
            and 300,000 alike; a fit without periodic checks trains ``BUDGET_MIN`` steps.
        batch_size: rows per batch; rounded down to a multiple of ``pac`` and capped at n.
        weight_decay: Adam L2 penalty of every network.
        hidden_dims: widths of the hidden layers of every network (the VAE decoder mirrors
            them). ``None``: the family's default, (256, 256) for GANs, (128,) for VAEs.
        latent_dim: size of the generator's noise vector / the VAE's latent code. ``None``:
            the family's default, 128 for GANs, 32 for VAEs.
        check_every: epochs between two periodic checks (best-checkpoint keeping), or
            ``"auto"``: 10 checks over the planned epochs.
        patience: stop training early after this many periodic checks in a row without a
            better score (``None``: never stop early).
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        balance_classes: conditional families draw class-balanced batches (CTGAN's
            training-by-sampling), so a 10 % minority class is learned as well as the majority;
            under ``privacy``, by a Poisson rate per class (docs/privacy.md). Ignored by
            unconditional families.
        num_threads: torch CPU threads during ``fit`` and ``sample``; ``None`` leaves torch's
            setting alone.

    GAN and WGAN families only (ignored by VAEs):
        generator_lr: Adam learning rate of the generator.
        discriminator_lr: Adam learning rate of the discriminator / critic.
        n_critic: WGAN families: critic steps per generator step. GANs always use 1.
        gp_weight: WGAN families: weight of the gradient penalty.
        dropout: dropout after each hidden layer of the discriminator / critic, in [0, 1).
        pac: PacGAN packing: the discriminator judges ``pac`` rows at once, which punishes
            mode collapse. ``batch_size`` is rounded down to a multiple of it.
        gumbel_tau: temperature of the Gumbel-softmax used for one-hot spans in training.

    Diffusion (``ddpm``) only:
        diffusion_steps: timesteps of the forward noising process (T).
        sampling_steps: steps of the reverse process when sampling, a strided subsequence
            of the T timesteps (at most ``diffusion_steps``): fewer is faster.
        diffusion_lr: Adam learning rate of the denoiser.

    Differential privacy (every family; off by default):
        privacy: ``None``, or a :class:`PrivacyConfig` (``{epsilon, delta, max_grad_norm,
            noise_multiplier}``): DP-SGD for every network that reads real rows (see
            :mod:`~synthbalance.core.models.dpsgd` and docs/privacy.md). Needs ``pac: 1``.

    VAE families only (ignored by GANs):
        vae_lr: Adam learning rate of encoder and decoder. Separate from ``generator_lr``
            because a VAE trains well at TVAE's 1e-3 while the GAN defaults follow CTGAN's
            2e-4 (the plain GAN degrades at 1e-3). On a 5,000 x 125 table after 100 epochs
            the VAE's real-vs-synthetic detection AUC was 0.73 at 1e-3 and 0.92 at 2e-4.
        kl_weight: weight of the KL term of the ELBO (beta-VAE).

    Fields a family does not use are accepted and ignored, so one parameters file can
    switch families with a single ``model`` change. Build one from plain data with
    :meth:`from_dict`; an unknown key or a bad value raises ``ConfigError``.
    """

    noun: ClassVar[str] = "generator setting"

    epochs: PositiveInt | Literal["auto"] = 300
    batch_size: PositiveInt = 500
    generator_lr: Annotated[Number, Field(gt=0)] = 2e-4
    discriminator_lr: Annotated[Number, Field(gt=0)] = 2e-4
    weight_decay: Annotated[Number, Field(ge=0)] = 1e-6
    hidden_dims: Widths | None = None
    latent_dim: PositiveInt | None = None
    n_critic: PositiveInt = 5
    gp_weight: Annotated[Number, Field(ge=0)] = 10.0
    vae_lr: Annotated[Number, Field(gt=0)] = 1e-3
    kl_weight: Annotated[Number, Field(ge=0)] = 1.0
    dropout: Annotated[Number, Field(ge=0, lt=1)] = 0.0
    pac: PositiveInt = 1
    gumbel_tau: Annotated[Number, Field(gt=0)] = 0.2
    check_every: PositiveInt | Literal["auto"] = 10
    patience: PositiveInt | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    balance_classes: bool = True
    num_threads: PositiveInt | None = None
    diffusion_steps: PositiveInt = 1000
    sampling_steps: PositiveInt = 100
    diffusion_lr: Annotated[Number, Field(gt=0)] = 1e-3
    privacy: PrivacyConfig | None = None

    @model_validator(mode="after")
    def _one_row_per_privacy_unit(self) -> GeneratorConfig:
        if self.privacy is not None and self.pac != 1:
            key = f"{self.where}." if self.where else ""
            raise ConfigError(
                f"{key}privacy is set with {key}pac={self.pac}: a pack of rows would be one "
                f"privacy unit, and DP protects single rows. Set {key}pac=1 with privacy."
            )
        return self

    @model_validator(mode="after")
    def _sampling_steps_within_the_process(self) -> GeneratorConfig:
        if self.sampling_steps > self.diffusion_steps:
            raise ConfigError(
                f"sampling_steps={self.sampling_steps} exceeds diffusion_steps="
                f"{self.diffusion_steps}; sampling walks a subsequence of the timesteps, so "
                "use at most as many."
            )
        return self
