"""One name per class across the package (issue 13, item 5): a reader who meets `Core` or
`Session` in a traceback, a grep or a review must know which one it is without opening the
import lines. Nested classes count too: they show up in tracebacks by their own name."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pilotgate

PACKAGE = Path(pilotgate.__file__).parent


def class_definitions(root: Path) -> dict[str, list[str]]:
    """Every class name defined under `root`, with where ("path:line") each is defined."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                found[node.name].append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return found


def test_no_two_classes_in_the_package_share_a_name() -> None:
    duplicates = {
        name: places for name, places in class_definitions(PACKAGE).items() if len(places) > 1
    }
    assert duplicates == {}, "class names defined more than once: " + "; ".join(
        f"{name} at {', '.join(places)}" for name, places in sorted(duplicates.items())
    )


def test_the_check_sees_a_duplicate(tmp_path: Path) -> None:
    # The guard itself must bite: two modules defining the same class name are reported.
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("class Core:\n    pass\n", encoding="utf-8")
    (package / "sub" / "b.py").write_text("class Core:\n    pass\n", encoding="utf-8")
    assert class_definitions(package)["Core"] == ["pkg/a.py:1", "pkg/sub/b.py:1"]
