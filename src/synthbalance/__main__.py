"""Entry point: `python -m synthbalance [run] [options]` runs the project like `kedro run`
(the word ``run`` may be given or left out)."""

import sys
from pathlib import Path

from kedro.framework.cli.utils import find_run_command
from kedro.framework.project import configure_project


def main(*args, **kwargs) -> None:
    if sys.argv[1:2] == ["run"]:  # `python -m synthbalance run ...`, as one writes `kedro run`
        del sys.argv[1]
    package_name = Path(__file__).parent.name
    configure_project(package_name)
    run = find_run_command(package_name)
    return run(*args, **kwargs)


if __name__ == "__main__":
    sys.exit(main())
