"""The architecture is enforced: no import cycles, layers kept, small modules, a thin CLI."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import architecture

# Modules allowed over about 400 lines, with why (docs/architecture.md): none today.
LARGE_MODULES: dict[str, str] = {}
MAX_LINES = 400


@pytest.fixture(scope="module")
def graph():
    return architecture.import_graph()


def test_the_graph_covers_the_installed_layout(graph):
    assert {"cartgym.agents.protocol", "cartgym.harness.runner", "cartgym.cli.main"} <= set(graph)
    # imports inside functions and modules named in strings count
    assert "cartgym.cli.bench" in graph["cartgym.cli.main"]  # imported inside a function
    assert "cartgym.envs.cart_env" in graph["cartgym.envs.registration"]  # an entry point


def test_no_import_cycles(graph):
    assert architecture.cycles(graph) == []


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert architecture.cycles(graph) == [["a", "b", "c"]]


def test_no_library_module_imports_the_cli(graph):
    users = [m for m, targets in graph.items() if not m.startswith("cartgym.cli")
             and any(t.startswith("cartgym.cli") for t in targets)]  # fmt: skip
    assert users == []


def test_import_linter_contracts_are_kept():
    assert architecture.lint() == 0


def test_modules_are_small():
    large = {
        name: n
        for name, path in architecture.modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES and name not in LARGE_MODULES
    }
    assert large == {}, f"modules over {MAX_LINES} lines: {large}"


# the references read the simulator by design (they are labelled oracles, not agents)
READS_THE_SIMULATOR = {"cartgym.agents.references", "cartgym.agents.bundles.references"}


def test_agents_never_touch_the_simulator_world():
    """Statically: no agent module reads a ``.world`` attribute or an oracle view (the
    runtime check is tests/agents/test_knowledge.py)."""
    import ast

    readers = {}
    for name, path in architecture.modules().items():
        if not name.startswith("cartgym.agents.") or name in READS_THE_SIMULATOR:
            continue
        tree = ast.parse(path.read_text())
        found = {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in ("world", "oracle_view")
        }
        found |= {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in ("world", "oracle_view")
        }
        if found:
            readers[name] = sorted(found)
    assert readers == {}
