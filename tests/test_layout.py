"""The folders depend one way: core <- train; core <- host <- overlay; stand-ins -> overlay, host, core.

Every ``import`` in the package's source (function-level ones included) is
resolved and checked against the layer its file belongs to, so an arrow
pointing the wrong way (the board importing training or a stand-in, the core
importing anything above it) fails here, naming the file and line.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# folder -> (its package, the layers it may import besides itself)
LAYERS = {
    "lenet_pynq": ("lenet_pynq", set()),
    "train": ("lenet_pynq.train", {"lenet_pynq"}),
    "host": ("lenet_pynq.host", {"lenet_pynq"}),
    "overlay": ("lenet_pynq.overlay", {"lenet_pynq", "lenet_pynq.host"}),
    "sim": ("lenet_pynq.sim", {"lenet_pynq", "lenet_pynq.host", "lenet_pynq.overlay"}),
    "rtl/tb": ("lenet_pynq.rtl.tb", {"lenet_pynq", "lenet_pynq.host", "lenet_pynq.overlay", "lenet_pynq.sim"}),
}
# The command table names its modules as strings and imports only the one asked for.
TOP = {"lenet_pynq/cli.py", "lenet_pynq/__main__.py"}
PACKAGES = sorted((pkg for pkg, _ in LAYERS.values()), key=len, reverse=True)


def layer_of(module: str) -> str | None:
    return next((p for p in PACKAGES if module == p or module.startswith(p + ".")), None)


def imports(path: Path, package: str):
    """(line, absolute module) of every lenet_pynq import in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            yield from ((node.lineno, f"{mod}.{a.name}") for a in node.names)


def wrong_way_imports(root: Path = ROOT) -> list[str]:
    bad = []
    for folder, (package, allowed) in LAYERS.items():
        for path in sorted((root / folder).glob("*.py")):
            rel = str(path.relative_to(root))
            if rel in TOP:
                continue
            for line, module in imports(path, package):
                target = layer_of(module)
                if module.startswith("lenet_pynq") and target not in allowed | {package}:
                    bad.append(f"{rel}:{line} imports {module} ({target or 'outside every layer'})")
    return bad


def test_every_import_points_down_the_layers():
    assert wrong_way_imports() == []


def test_the_check_sees_an_arrow_pointing_the_wrong_way(tmp_path):
    (tmp_path / "host").mkdir()
    (tmp_path / "host" / "driver.py").write_text(
        "from . import axi_dma\nfrom .. import blob\n\n\ndef f():\n    from ..train import model\n")
    assert wrong_way_imports(tmp_path) == ["host/driver.py:6 imports lenet_pynq.train.model (lenet_pynq.train)"]
