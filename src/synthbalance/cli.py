"""The project's ``kedro run``: Kedro's own, with two changes a user of the README needs.

Kedro loads a ``cli.py`` in the project package and its ``run`` command overrides the
built-in one for both ``kedro run`` and ``python -m synthbalance``
(https://docs.kedro.org/en/stable/extend/common_use_cases/ , "add or modify CLI commands").

1. An error synthbalance raises on purpose (:class:`~synthbalance.core.errors.SynthBalanceError`,
   also when Kedro wraps it in a ``DatasetError``) prints as its message alone, with a
   non-zero exit code: the message already names the file, column or parameter and the
   fix, and a 100-400 line traceback before it hid it. ``--verbose`` / ``-v`` or
   ``SYNTHBALANCE_TRACEBACK=1`` brings the traceback back.
2. ``--params`` reads what the README shows: ``na_values=?`` and ``na_values=[?]`` (YAML
   reads a bare ``?`` as a mapping key, which OmegaConf rejects), lists with several items
   (``[?, n/a]``: no split inside brackets or quotes) and a quoted or escaped comma
   (``decimal=','``, ``decimal=\\,``), which Kedro's comma split cut off.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run
from omegaconf import OmegaConf

from synthbalance.core.errors import ConfigError, SynthBalanceError

TRACEBACK_ENV = "SYNTHBALANCE_TRACEBACK"
_CLOSING = {"[": "]", "{": "}"}


@click.group(name="synthbalance")
def cli() -> None:
    """Commands of the synthbalance project."""


def own_error(exc: BaseException) -> SynthBalanceError | None:
    """The :class:`SynthBalanceError` ``exc`` is or wraps (through ``raise ... from``), as
    Kedro's ``DatasetError`` wraps an error raised while loading a dataset."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, SynthBalanceError):
            return current
        seen.add(id(current))
        current = current.__cause__
    return None


class UserError(click.ClickException):
    """A synthbalance error shown as its class name and message, nothing else."""

    def __init__(self, error: SynthBalanceError):
        super().__init__(str(error))
        self.name = type(error).__name__

    def show(self, file: Any = None) -> None:
        hint = f"(--verbose or {TRACEBACK_ENV}=1 shows the traceback)"
        click.secho(f"\n{self.name}: {self.message}\n{hint}", err=True, fg="red")


def split_items(value: str) -> list[str]:
    """Split ``--params`` on the commas outside brackets and quotes; ``\\,`` is a comma
    (any other backslash stays as it is)."""
    items, current, closing, quote, escaped = [], "", [], None, False
    for char in value:
        if escaped:
            current, escaped = current + ("" if char == "," else "\\") + char, False
        elif char == "\\" and not quote:
            escaped = True
        elif quote:
            current, quote = current + char, None if char == quote else quote
        elif char in "'\"":
            current, quote = current + char, char
        elif char in _CLOSING or (closing and char == closing[-1]):
            current += char
            closing = [*closing, _CLOSING[char]] if char in _CLOSING else closing[:-1]
        elif char == "," and not closing:
            items, current = [*items, current], ""
        else:
            current += char
    return [item.strip() for item in [*items, current + "\\" * escaped] if item.strip()]


def parse_value(text: str) -> Any:
    """A ``--params`` value as YAML reads it; a bare ``?`` (a YAML key marker) stays text."""
    try:
        return OmegaConf.to_container(OmegaConf.from_dotlist([f"value={text}"]))["value"]
    except Exception:  # noqa: BLE001 - any value YAML or OmegaConf refuses is plain text
        if text.startswith("[") and text.endswith("]"):
            return [parse_value(item) for item in split_items(text[1:-1])]
        return text


def params_dict(value: str | None) -> dict[str, Any]:
    """``key=value,key2=value2`` -> a nested dict, as Kedro's ``--params``, read as above
    (``python -m synthbalance.compare --params`` reads the same).

    Raises:
        ConfigError: an item is not ``key=value``.
    """
    conf = OmegaConf.create({})
    for item in split_items(value or ""):
        key, equals, text = item.partition("=")
        if not equals or not key.strip():
            raise ConfigError(f"--params item {item!r} must be key=value.")
        OmegaConf.update(conf, key.strip(), parse_value(text.strip()), merge=True)
    return OmegaConf.to_container(conf)  # type: ignore[return-value]


def params_items(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested ``params`` back to ``--params`` items: ``(dotted key, value as typed)``, lists
    as ``[a,b]`` (the inverse of :func:`params_dict`)."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, Mapping):
            out += params_items(value, f"{prefix}{key}.")
        else:
            shown = f"[{','.join(map(str, value))}]" if isinstance(value, list) else value
            out.append((f"{prefix}{key}", str(shown)))
    return out


def split_params(ctx: click.Context, param: Any, value: Any) -> dict[str, Any]:
    """The ``--params`` option's callback: :func:`params_dict`, a bad item as a usage error."""
    if isinstance(value, dict):
        return value
    try:
        return params_dict(value)
    except ConfigError as exc:
        ctx.fail(str(exc))


@contextmanager
def user_errors(verbose: bool = False) -> Iterator[None]:
    """Inside, a :class:`SynthBalanceError` raised (or wrapped, see :func:`own_error`) leaves
    as :class:`UserError`, its message alone, unless ``verbose`` or ``SYNTHBALANCE_TRACEBACK``
    asks for the traceback."""
    try:
        yield
    except Exception as exc:
        error = own_error(exc)
        if error is None or verbose or os.environ.get(TRACEBACK_ENV, "") not in ("", "0"):
            raise
        raise UserError(error) from None


def _run(verbose: bool, **kwargs: Any) -> Any:
    with user_errors(verbose):
        return kedro_run.callback(**kwargs)


def _params_option(option: click.Parameter) -> click.Parameter:
    if option.name != "params":
        return option
    return click.Option(option.opts, type=click.UNPROCESSED, default="",
                        callback=split_params,
                        help=f"{option.help} Commas inside [...] or quotes do not split; "
                        "\\, is a comma.")


run = click.Command(
    name="run",
    callback=_run,
    params=[
        *[_params_option(p) for p in kedro_run.params],
        click.Option(["--verbose", "-v"], is_flag=True,
                     help=f"Show the traceback of an error (or set {TRACEBACK_ENV}=1)."),
    ],
    help=kedro_run.help,
    short_help=kedro_run.short_help,
)
cli.add_command(run)
