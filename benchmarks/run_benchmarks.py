"""Run the skltsynth benchmark (the script behind ``skltsynth benchmark``).

A thin wrapper: the options are those of ``skltsynth benchmark`` (see
``--help``); the grid runner is :func:`skltsynth.benchmark.run_benchmark`.

Examples::

    # the comparison committed in the documentation (docs/benchmark/):
    # every method, fast engine settings for the diffusion resamplers
    python benchmarks/run_benchmarks.py --datasets demo clinc150 stsb \\
        --seeds 0 1 2 --device auto --fast --out docs/benchmark

    # the same grid at the default engine settings (hours on a CPU)
    python benchmarks/run_benchmarks.py --datasets demo clinc150 stsb \\
        --seeds 0 1 2 --device auto --out benchmark-results

    # quick look, fast settings for the diffusion resamplers
    python benchmarks/run_benchmarks.py --datasets demo --seeds 0 --fast --out /tmp/bench

The shared datasets are found through ``$SKLTSYNTH_DATA`` or a
``shared/datasets`` folder next to (or above) the project.
"""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from skltsynth.cli import main  # noqa: E402


def run(argv=None):
    """Run ``skltsynth benchmark`` with ``argv`` (default: the script's arguments)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] in (["-h"], ["--help"]) or not args or args[0].startswith("-"):
        args = ["benchmark", *args]
    return main(args)


if __name__ == "__main__":
    sys.exit(run())
