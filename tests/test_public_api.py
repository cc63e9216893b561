"""Each subpackage declares its public API in ``__all__``: every name there exists, none twice, and
every public function or class a subpackage exposes at its top level is listed."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import toolkit

SUBPACKAGES = sorted(
    f"toolkit.{info.name}" for info in pkgutil.iter_modules(toolkit.__path__) if info.ispkg
)


def test_the_subpackages_are_found() -> None:
    assert {"toolkit.analysis", "toolkit.exports", "toolkit.instrument", "toolkit.store"} <= set(
        SUBPACKAGES
    )


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_all_names_exist_once(name: str) -> None:
    package = importlib.import_module(name)
    public = getattr(package, "__all__", None)
    assert public is not None, f"{name} has no __all__"
    assert len(public) == len(set(public)), f"{name}.__all__ repeats a name"
    missing = [n for n in public if not hasattr(package, n)]
    assert not missing, f"{name}.__all__ names what it does not have: {missing}"


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_every_public_function_and_class_is_listed(name: str) -> None:
    package = importlib.import_module(name)
    public = set(getattr(package, "__all__", ()))
    exposed = {
        attr
        for attr, value in vars(package).items()
        if not attr.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and getattr(value, "__module__", "").startswith(name)
    }
    assert exposed <= public, f"{name} exposes {sorted(exposed - public)} outside __all__"
