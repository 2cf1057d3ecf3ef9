"""Run a function on a module right after Python has executed it, before anyone uses it.

LiteLLM's CLI imports `litellm.proxy.proxy_server` (which builds its FastAPI `app`)
deep inside `run_server`, then hands the app to uvicorn in the same call: there is no
moment between the two where our code runs. A finder on `sys.meta_path` gives one:
it wraps the module's own loader so that `then(module)` runs when the module body
has finished, in whichever process imports it (uvicorn's spawned workers re-run
our entry module's top level, so they install the hook too).
"""
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Callable, Optional, Sequence


class _ThenLoader(importlib.abc.Loader):
    """The module's real loader, plus one call after it executed the module."""

    def __init__(self, inner: importlib.abc.Loader, then: Callable[[ModuleType], None]) -> None:
        self._inner, self._then = inner, then

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        self._then(module)

    def __getattr__(self, name: str):  # get_source, get_code, ... for tracebacks and inspect
        return getattr(self._inner, name)


class _AfterImport(importlib.abc.MetaPathFinder):
    def __init__(self, name: str, then: Callable[[ModuleType], None]) -> None:
        self.name, self.then = name, then

    def find_spec(self, fullname: str, path: Optional[Sequence[str]], target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)  # once; the import below must not find us again
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _ThenLoader(spec.loader, self.then)
        return spec


def after_import(name: str, then: Callable[[ModuleType], None]) -> None:
    """Call `then(module)` once `name` has been imported; at once if it already was."""
    if name in sys.modules:
        then(sys.modules[name])
        return
    sys.meta_path.insert(0, _AfterImport(name, then))
