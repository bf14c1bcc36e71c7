"""What the DP-SGD guarantee of ``training.privacy`` covers, and what it does not.

DP-SGD (:mod:`~synthbalance.core.models.dpsgd`) protects the training rows the private
networks read. The preprocessing also takes statistics from real rows, outside any DP
mechanism; this project does **not** spend ε on them. It names them instead, in
docs/privacy.md and in the MLflow tags of every private run (:func:`privacy_tags`), and
takes public bounds from the user (``ingest.columns.<column>.bounds``) so the clip bounds
of a numeric column need not come from the data.
"""

from __future__ import annotations

from synthbalance.core.schema import ORDERED_KINDS, Schema

#: Statistics and choices taken from real rows that ε does not cover.
NOT_COVERED: tuple[str, ...] = (
    "schema: column kinds, category and level sets, constant and identifier columns",
    "transformer: mixture modes (means, standard deviations), point masses, log scaling, "
    "one-hot level sets, of the whole column and (unless preprocessing.class_modes is "
    "false) of each minority class's own values; which dates are anchored to an earlier "
    "date, and that date's median",
    "postprocessing: clip bounds not declared in ingest.columns.<column>.bounds and whether "
    "many rows hold them, level shares, quantiles, missing-value shares (of all rows and of "
    "each class), decimal places of continuous columns, order rules between date columns "
    "and the quantiles of the days between their dates, which columns are missing in the "
    "same rows or where another column holds given values",
    "class sizes (the per-class sampling rates of a conditional model) and which classes "
    "are minority classes",
    "validation rows: the periodic checks that choose the kept checkpoint read them",
)
#: MLflow's limit on a tag's value is 8,000 characters; lists are cut well below it.
MAX_TAG_CHARS = 4_000


def privacy_tags(schema: Schema, private: bool) -> dict[str, str]:
    """MLflow tags saying what DP covers in this run.

    Always ``privacy.dp``: ``dp-sgd`` or ``off``. With privacy on, also
    ``privacy.not_covered`` (:data:`NOT_COVERED`, ``"; "``-separated),
    ``privacy.bounds_public`` (ordered columns whose both bounds the user declared) and
    ``privacy.bounds_from_data`` (ordered columns with a bound taken from the training
    rows); ``none`` for an empty list.
    """
    if not private:
        return {"privacy.dp": "off"}
    public, from_data = [], []
    for spec in schema.columns:
        if spec.kind in ORDERED_KINDS:
            low, high = spec.bounds or (None, None)
            (public if low is not None and high is not None else from_data).append(spec.name)
    return {
        "privacy.dp": "dp-sgd",
        "privacy.not_covered": "; ".join(NOT_COVERED),
        "privacy.bounds_public": _listed(public),
        "privacy.bounds_from_data": _listed(from_data),
    }


def _listed(names: list[str]) -> str:
    text = ", ".join(names) or "none"
    if len(text) <= MAX_TAG_CHARS:
        return text
    cut = text[:MAX_TAG_CHARS].rsplit(", ", 1)[0]
    return f"{cut}, ... ({len(names) - cut.count(', ') - 1} more)"
