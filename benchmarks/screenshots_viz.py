"""Screenshots of kedro-viz's main screens for ``docs/screens-viz.md`` (issue 17).

Run in the project root after a ``kedro run`` (the previews show that run's files)::

    kedro run
    python -m benchmarks.screenshots_viz                 # writes docs/img/viz-*.png

It builds kedro-viz's static site with previews (``kedro viz build --include-previews``,
the same pages and API answers as ``kedro viz run``), serves it on 127.0.0.1 and takes each
screen with Debian's headless chromium (``/usr/bin/chromium``). A fresh browser would show
kedro-viz's first-visit hints over the flowchart; the served page turns them off in its
settings (localStorage ``KedroViz.showFeatureHints``) before the app starts. Screens are
selected by kedro-viz's URL parameters: ``pid`` (pipeline), ``sid`` / ``sn`` (the selected
node's id and name, which opens its preview). PNGs over ``--max-kb`` are reduced to 256
colours with Pillow.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image

#: (file name, selected dataset or None for the whole flowchart): the screens a user meets
#: first, the default pipeline with its layers, then the previews of the run's results.
SCREENS = (
    ("viz-flowchart-layers.png", None),
    ("viz-metrics-table.png", "metrics_table"),
    ("viz-transformer.png", "transformer"),
    ("viz-cleaning-rules.png", "cleaning_rules"),
)
#: Turns off the first-visit hints before kedro-viz reads its settings.
_NO_HINTS = ("<script>localStorage.setItem('KedroViz', "
             "JSON.stringify({showFeatureHints: false}));</script>")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        """No line per request."""


def build_site(project: Path, site: Path) -> dict:
    """``kedro viz build --include-previews`` in ``project``, copied to ``site`` without the
    hints; returns the site's ``api/main`` (nodes, layers, pipelines)."""
    kedro = Path(sys.executable).with_name("kedro")
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    subprocess.run([str(kedro), "viz", "build", "--include-previews"], cwd=project, env=env,
                   check=True, capture_output=True, timeout=600)
    shutil.copytree(project / "build", site)
    index = site / "index.html"
    index.write_text(index.read_text().replace("<head>", "<head>" + _NO_HINTS, 1))
    return json.loads((site / "api/main").read_text())


def screenshot(url: str, path: Path, chromium: str, max_kb: int) -> None:
    """One headless-chromium screenshot of ``url`` at 1600 x 1000, at most ``max_kb``."""
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=1600,1000", "--virtual-time-budget=20000", f"--screenshot={path}",
         url],
        check=True, capture_output=True, timeout=180,
    )
    if path.stat().st_size > max_kb * 1024:
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(256)
        small.save(path, optimize=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=Path.cwd())
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--max-kb", type=int, default=300)
    args = parser.parse_args(argv)
    project = args.project.resolve()
    if not (project / "data/08_reporting/metrics.csv").exists():
        raise SystemExit(f"No finished run in {project}: run kedro run there first.")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        ids = {n["name"]: n["id"] for n in build_site(project, site)["nodes"]}
        handler = functools.partial(_QuietHandler, directory=str(site))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            base = f"http://127.0.0.1:{server.server_port}/?pid=__default__"
            for name, node in SCREENS:
                url = base if node is None else f"{base}&sid={ids[node]}&sn={node}"
                screenshot(url, args.out / name, args.chromium, args.max_kb)
                print(f"{args.out / name}: {(args.out / name).stat().st_size // 1024} KB")
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
