"""The LiteLLM names the toolkit relies on (scripts/in_proxy/litellm_contract.RELIED) exist in
the installed LiteLLM with the shape relied on; the checker names symbol and version when
one does not (shown on fake modules); and litellm_surface.py takes no name the contract
does not list."""
import ast
import types

import pytest

from conftest import PROJECT_DIR

from scripts.in_proxy import litellm_contract as contract
from scripts.in_proxy.litellm_contract import Relied

SURFACE = PROJECT_DIR / "scripts" / "in_proxy" / "litellm_surface.py"


def test_every_name_the_toolkit_relies_on_is_in_the_installed_litellm():
    found = contract.problems()
    assert not found, "LiteLLM moved what the toolkit relies on:\n" + "\n".join(found)


def test_the_surface_takes_only_names_the_contract_checks():
    symbols = {entry.symbol for entry in contract.RELIED}
    modules = {entry.module for entry in contract.RELIED}
    unchecked = []
    for node in ast.parse(SURFACE.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module.split(".")[0] == "litellm":
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                checked = name in symbols or name in modules or any(s.startswith(name + ".") for s in symbols)
                if not checked:
                    unchecked.append(name)
    assert not unchecked, "litellm_surface.py imports names litellm_contract.RELIED does not check: " + \
        ", ".join(unchecked)


def test_the_surface_imports_with_the_installed_litellm():
    from scripts.in_proxy import litellm_surface

    assert litellm_surface.proxy_server().__name__ == contract.PROXY_SERVER


# The checker itself, on fake modules: each way a LiteLLM upgrade breaks a name is reported
# with the symbol and the version (the ones 1.109-1.110 brought, issue 21).
def _trigger(ctx, exception):
    return None


class _Store:
    def set_cache(self, key, value):
        return None


class _Cooldowns:
    @property
    def cooldown_store(self) -> _Store:
        return _Store()


FAKE = {"fake.handlers": types.SimpleNamespace(_trigger_cooldown_for_failed_deployment=_trigger),
        "fake.cooldowns": types.SimpleNamespace(CooldownCache=_Cooldowns)}


def _import(name):
    if name not in FAKE:
        raise ModuleNotFoundError(f"No module named {name!r}")
    return FAKE[name]


@pytest.mark.parametrize("entry, said", [
    (Relied("fake.handlers", "_trigger_cooldown_for_failed_deployment", params=("litellm_router", "kwargs")),
     "fake.handlers._trigger_cooldown_for_failed_deployment takes (ctx, exception), no longer litellm_router, kwargs"),
    (Relied("fake.cooldowns", "CooldownCache.get_cooldown_cache_key", params=("model_id",)),
     "fake.cooldowns.CooldownCache.get_cooldown_cache_key is gone"),
    (Relied("fake.cooldowns", "CooldownCache.cooldown_store", returns_attrs=("delete_cache",)),
     "fake.cooldowns.CooldownCache.cooldown_store returns _Store, which has no delete_cache"),
    (Relied("fake.cooldowns", "CooldownCache", attrs=("add_deployment_to_cooldown",)),
     "fake.cooldowns.CooldownCache has no add_deployment_to_cooldown"),
    (Relied("fake.accounting", "metrics"), "fake.accounting.metrics cannot be imported (No module named"),
])
def test_a_moved_name_is_reported_with_the_symbol_and_the_version(entry, said):
    message = contract.problem(entry, import_module=_import, version="9.9.9")
    assert message is not None and message.startswith(said), message
    assert "in litellm 9.9.9" in message and "docs/litellm-boundary.md" in message


def test_a_name_that_holds_is_no_problem():
    entries = [Relied("fake.handlers", "_trigger_cooldown_for_failed_deployment", params=("ctx",)),
               Relied("fake.cooldowns", "CooldownCache.cooldown_store", returns_attrs=("set_cache",))]
    assert contract.problems(entries, import_module=_import, version="9.9.9") == []


def test_the_version_named_is_the_installed_one():
    message = contract.problem(Relied("litellm", "no_such_name_anywhere"))
    assert message == (f"litellm.no_such_name_anywhere is gone in litellm {contract.installed_version()} "
                       "(the toolkit relies on it: see docs/litellm-boundary.md)")
    assert contract.installed_version()[0].isdigit()
