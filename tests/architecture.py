"""The package's architecture, read from its source: modules, imports, and the installed layout.

``agents/`` installs as ``cartgym.agents`` and ``benchmarks/harness/`` as ``cartgym.harness``
(setup.cfg's ``package_dir``), so the import graph is built over the installed names.
Every import counts: at module level or inside a function, and modules named in strings
(``importlib.import_module("...")``, Gymnasium entry points ``"module:attr"``).

    python tests/architecture.py lint    # import-linter's contracts (.importlinter)
"""

from __future__ import annotations

import ast
import configparser
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULE_NAME = __import__("re").compile(r"^cartgym(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def package_dirs() -> dict[str, Path]:
    """Installed package name -> source folder, from setup.cfg (``cartgym`` and its maps)."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    dirs = {"cartgym": ROOT / "cartgym"}
    for line in config["options"]["package_dir"].strip().splitlines():
        name, _, folder = (part.strip() for part in line.partition("="))
        dirs[name] = ROOT / folder
    return dirs


def modules() -> dict[str, Path]:
    """Every module of the installed package, by name (packages by their ``__init__``)."""
    out: dict[str, Path] = {}
    for package, folder in package_dirs().items():
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(folder).with_suffix("")
            parts = [p for p in relative.parts if p != "__init__"]
            out[".".join([package, *parts])] = path
    return out


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The longest known module that ``name`` names or lies in."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, known: dict[str, Path]) -> set[str]:
    """The cartgym modules ``module`` imports anywhere in its source (see module docstring)."""
    path = known[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
            targets.append(base)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.split(":")[0]
            if MODULE_NAME.match(text) and "." in text:
                targets = [text]
        for target in targets:
            if target.startswith("cartgym"):
                resolved = _resolve(target, known)
                if resolved and resolved != module:
                    found.add(resolved)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph = {name: imports_of(name, known) for name in known}
    # ``from pkg import name`` also names pkg itself; a package's own submodules importing
    # their package's __init__ would be a cycle, which is what we look for. Parents are
    # not added implicitly: importing a.b.c runs a/__init__ too, but that is no dependency.
    for name, targets in graph.items():
        for target in list(targets):
            if name.startswith(target + ".") and known[target].name == "__init__.py":
                targets.discard(target)  # the executing parent package, not a dependency
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def stage(dest: Path) -> Path:
    """The installed layout under ``dest``: the top package's files copied, its folders and
    the mapped packages linked (tools that resolve links find the layout from the copied
    ``__init__.py``)."""
    dirs = package_dirs()
    top = dest / "cartgym"
    top.mkdir(parents=True)
    for entry in dirs["cartgym"].iterdir():
        if entry.is_dir() and entry.name != "__pycache__":
            (top / entry.name).symlink_to(entry)
        elif entry.suffix == ".py":
            shutil.copyfile(entry, top / entry.name)
    for name, folder in dirs.items():
        if name != "cartgym":
            (top / name.split(".", 1)[1]).symlink_to(folder)
    return dest


# Run import-linter on the staged layout: the editable install's finder (which maps
# cartgym to the source folder, without the mapped subpackages) must not answer first.
LINT = """
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in
                    getattr(f, "__module__", "") + type(f).__module__]
sys.path.insert(0, sys.argv[1])
from importlinter.cli import lint_imports
sys.exit(lint_imports(config_filename=sys.argv[2], no_cache=True))
"""


def lint() -> int:
    """import-linter's contracts (``.importlinter``) on the installed layout; its exit status."""
    with tempfile.TemporaryDirectory() as tmp:
        staged = stage(Path(tmp))
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        command = [sys.executable, "-c", LINT, str(staged), str(ROOT / ".importlinter")]
        return subprocess.run(command, cwd=tmp, env=env).returncode


if __name__ == "__main__":
    if sys.argv[1:] != ["lint"]:
        sys.exit("usage: python tests/architecture.py lint")
    sys.exit(lint())
