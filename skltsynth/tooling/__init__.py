"""Tooling: measurement and input/output, used by the benchmark and the CLI.

* :mod:`.metrics` -- shot-group reports for classes and DIR bins;
* :mod:`.class_geometry` -- divergences and class separation of real vs synthetic rows;
* :mod:`.evaluation` -- :func:`~.evaluation.evaluate_synthetic`;
* :mod:`.embedding_plots` -- real vs synthetic rows in 2-D (PCA, t-SNE);
* :mod:`.embedding_files` -- reading and writing embedding files;
* :mod:`._profiling` -- time and peak memory of a call.
"""
