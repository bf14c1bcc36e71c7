"""Importing synthbalance changes no environment variable; runs choose OpenMP waiting."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def _python(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter (no OpenMP variables set) and read its JSON."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, check=True,
                         capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_package_and_its_modules_changes_no_environment_variable():
    """Libraries it uses may (scikit-learn sets ``KMP_*``, MLflow a session id): they are
    imported first, so only synthbalance's own imports are judged."""
    changed = _python(
        "import json, os, sklearn, xgboost, mlflow, torch, kedro\n"
        "before = dict(os.environ)\n"
        "import synthbalance, synthbalance.core.models, synthbalance.core.synthesizer\n"
        "import synthbalance.params, synthbalance.pipeline_registry, synthbalance.compare\n"
        "print(json.dumps(sorted(k for k in set(os.environ) | set(before)"
        " if os.environ.get(k) != before.get(k))))"
    )
    assert changed == []


def test_configure_openmp_sets_the_policy_before_torch_and_warns_after():
    first = _python(
        "import json, os, warnings, synthbalance\n"
        "warnings.simplefilter('error')\n"
        "ok = synthbalance.configure_openmp(spin_count=300000)\n"
        "print(json.dumps([ok, os.environ['OMP_WAIT_POLICY'], os.environ['GOMP_SPINCOUNT']]))"
    )
    assert first == [True, "PASSIVE", "300000"]
    late = _python(
        "import json, os, warnings, torch, synthbalance\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    ok = synthbalance.configure_openmp()\n"
        "print(json.dumps([ok, [str(w.message) for w in seen]]))"
    )
    assert late[0] is False and "after torch was imported" in late[1][0]


def test_a_users_own_setting_wins():
    kept = _python(
        "import json, os, synthbalance\n"
        "synthbalance.configure_openmp()\n"
        "print(json.dumps(os.environ['OMP_WAIT_POLICY']))",
        OMP_WAIT_POLICY="ACTIVE",
    )
    assert kept == "ACTIVE"


def test_bad_arguments_are_refused():
    from synthbalance import configure_openmp

    with pytest.raises(ValueError, match="wait_policy='SPIN'"):
        configure_openmp("SPIN")
    with pytest.raises(ValueError, match="spin_count=-1"):
        configure_openmp(spin_count=-1)
