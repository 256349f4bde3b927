"""Old import paths of modules that moved into the layer folders.

Before the layout of :mod:`skltsynth.resamplers`, :mod:`skltsynth.heads`,
:mod:`skltsynth.policy`, :mod:`skltsynth.engines` and :mod:`skltsynth.tooling`,
these modules lived at the top of the package (``skltsynth.targets``,
``skltsynth.diffusion.sampling``, ...). :class:`MovedModuleFinder` keeps those
imports working: ``import skltsynth.targets`` returns the very module object
``skltsynth.policy.targets`` (not a copy), so attributes, ``isinstance`` checks
and monkeypatching agree whichever path is used. New code imports the new paths.
"""

import importlib
import importlib.abc
import importlib.util
import sys

#: Old dotted name (under ``skltsynth.``) -> new dotted name. A package entry
#: also covers its submodules (``diffusion.sampling`` -> ``engines.diffusion.sampling``).
MOVED = {
    "base": "resamplers.base",
    "meta": "heads.meta",
    "logit_adjustment": "heads.logit_adjustment",
    "mining": "heads.mining",
    "epistemic": "heads.epistemic",
    "targets": "policy.targets",
    "allocation": "policy.allocation",
    "priority": "policy.priority",
    "quality": "policy.quality",
    "confidence": "policy.confidence",
    "guidance": "policy.guidance",
    "diffusion": "engines.diffusion",
    "vmf": "engines.vmf",
    "neighbour_span": "engines.neighbour_span",
    "memory": "engines.memory",
    "_smoter": "resamplers._smoter",
    "metrics": "tooling.metrics",
    "class_geometry": "tooling.class_geometry",
    "evaluation": "tooling.evaluation",
    "embedding_files": "tooling.embedding_files",
    "_profiling": "tooling._profiling",
}


def new_name(fullname, package="skltsynth"):
    """Return the current dotted name for ``fullname``, or None if it did not move."""
    prefix = package + "."
    if not fullname.startswith(prefix):
        return None
    old = fullname[len(prefix):]
    head, _, rest = old.partition(".")
    if head not in MOVED:
        return None
    return prefix + MOVED[head] + ("." + rest if rest else "")


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):  # the target module is already executed
        pass


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Resolve an old module path to the module at its new path."""

    def find_spec(self, fullname, path=None, target=None):
        target_name = new_name(fullname)
        if target_name is None:
            return None
        spec = importlib.util.find_spec(target_name)
        if spec is None:
            return None
        return importlib.util.spec_from_loader(
            fullname, _AliasLoader(target_name),
            is_package=spec.submodule_search_locations is not None)


def install():
    """Put :class:`MovedModuleFinder` first on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
