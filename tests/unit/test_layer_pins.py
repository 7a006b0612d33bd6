"""Issue 22 item 12: ``sam build`` installs the layer with the same pins the tests use.

SAM installs ``layers/shared/requirements.txt`` with pip and no constraints file, so every package the layer's
requirements pull in (transitively) must be pinned there, to the version installed here (constraints.txt)."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        requirement = Requirement(text)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"{path.name}: {text} is not an exact pin"
        found[canonicalize_name(requirement.name)] = specifiers[0].version
    return found


def closure(roots: list[Requirement]) -> set[str]:
    """Every distribution the requirements need, by the installed packages' own metadata."""
    seen: set[str] = set()
    todo = [(r, tuple(sorted(r.extras))) for r in roots]
    while todo:
        requirement, extras = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(requirement.name) or []:
            child = Requirement(text)
            markers = [{"extra": e} for e in extras] or [{"extra": ""}]
            if child.marker is None or any(child.marker.evaluate(m) for m in markers):
                todo.append((child, tuple(sorted(child.extras))))
    return seen


def test_the_layer_pins_everything_it_installs_to_the_tested_versions() -> None:
    requirements = ROOT / "layers" / "shared" / "requirements.txt"
    layer = pins(requirements)
    lines = (re.sub(r"\s*#.*$", "", line).strip() for line in requirements.read_text().splitlines())
    roots = [Requirement(line) for line in lines if line]
    needed = closure(roots)
    assert needed - set(layer) == set(), "pin these in layers/shared/requirements.txt"
    constraints = pins(ROOT / "constraints.txt")
    for name, version in layer.items():
        assert metadata.version(name) == version, f"{name}: the tests run {metadata.version(name)}, the layer {version}"
        assert constraints.get(name) == version, f"{name}: constraints.txt says {constraints.get(name)}"
