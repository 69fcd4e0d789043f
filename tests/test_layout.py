"""The layout the README promises: imports point one way (no module imports a higher layer, no import
cycle), and the README's architecture section names every module under src/."""
import ast
from pathlib import Path

import pytest

from conftest import REPO

SRC = REPO / "src"
# low → high; a module may import its own layer or lower ones. Entry points (src/*.py, src/run) are on top.
LAYERS = [{"utils"}, {"objectives", "theory"}, {"search"}, {"data"}, {"models", "sampling"}, {"evaluation"},
          {"rollouts"}, {"figures"}, {"run", "<entry>"}]


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    parts = module.split(".")
    package = parts[1] if len(parts) > 2 or (SRC / parts[1]).is_dir() else "<entry>"
    return next(i for i, names in enumerate(LAYERS) if package in names)


def src_imports(path: Path) -> set[str]:
    """Every `src.…` module imported anywhere in the file (late imports inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("src"):
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:  # relative: resolve against the package
            base = module_name(path).split(".")[: -node.level + (path.name == "__init__.py") or None]
            found.add(".".join(base + ([node.module] if node.module else [])))
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("src.")}
    return found


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}
GRAPH = {name: {m for m in src_imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_from_a_higher_layer(module):
    higher = sorted(m for m in GRAPH[module] if layer(m) > layer(module))
    assert not higher, f"{module} (layer {layer(module)}) imports higher layers: {higher}"


def test_no_import_cycle():
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(GRAPH[node]):
            assert state.get(nxt) != "open", "import cycle: " + " → ".join(path[path.index(nxt):] + [nxt])
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])


def test_the_readme_architecture_names_every_module():
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Architecture"):]
    section = section.split("\n## ", 1)[0]  # up to the next section, or the end
    missing = [str(path.relative_to(REPO)) for path in sorted(SRC.rglob("*.py"))
               if path.name != "__init__.py" and str(path.relative_to(REPO)) not in section]
    assert not missing, f"README architecture section does not name: {missing}"
