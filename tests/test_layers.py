"""The package's layer order, checked against every import (module level and inside functions).

Layers go in data-flow order (docs/architecture.md). A module may import modules of its own layer or of lower
ones, never of a higher one; no set of modules imports itself round in a circle; only integrations/ and nn/ import
ultralytics; no module imports another module's private (_underscore) name; an import inside a function is only
for an optional heavy extra and says why in a comment on its line.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tinydet.cli import COMMANDS, command_module

PACKAGE = Path(__file__).resolve().parents[1] / "tinydet"

# Lowest first. A module belongs to the first layer with a prefix that names it or a package above it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base: errors, logs, registries, pure ops, nn blocks",
     ("tinydet.errors", "tinydet.version", "tinydet.logs", "tinydet.files", "tinydet.malloc", "tinydet.run_record", "tinydet.registry", "tinydet.ops", "tinydet.nn")),
    ("ultralytics, lower tier: environment, runtime, model building, checkpoints, arguments",
     ("tinydet.integrations.ultralytics.env", "tinydet.integrations.ultralytics.runtime",
      "tinydet.integrations.ultralytics.builder", "tinydet.integrations.ultralytics.checkpoints",
      "tinydet.integrations.ultralytics.arguments", "tinydet.integrations.ultralytics.setup",
      "tinydet.integrations.ultralytics", "tinydet.integrations")),
    ("the currency and the model zoo", ("tinydet.detections", "tinydet.models")),
    ("data", ("tinydet.data",)),
    ("inference", ("tinydet.infer",)),
    ("evaluation", ("tinydet.eval",)),
    ("training parts: options, recipe, losses, assigners, augmentations, sliced validation",
     ("tinydet.train.options", "tinydet.train.recipe", "tinydet.train.losses", "tinydet.train.atss",
      "tinydet.train.distill", "tinydet.train.pipeline", "tinydet.train.augment", "tinydet.train.geometry",
      "tinydet.train.erase", "tinydet.train.ssd", "tinydet.train.scale_jitter", "tinydet.train.syncbn",
      "tinydet.train.albumentations_yaml", "tinydet.train.sliced_val")),
    ("ultralytics, upper tier: criterion, validator, augmentation hook, distillation, trainers",
     ("tinydet.integrations.ultralytics.training",)),
    ("training", ("tinydet.train",)),
    ("tools: export, compression, tuning, auto, demo",
     ("tinydet.export", "tinydet.compress", "tinydet.tune", "tinydet.auto", "tinydet.demo")),
    ("command line", ("tinydet.cli", "tinydet.__main__")),
]

# The package root may import only what `import tinydet` needs (no torch): the environment set-up, the currency.
ROOT_IMPORTS = {"tinydet.integrations.ultralytics.env", "tinydet.detections", "tinydet.errors", "tinydet.version"}

# Imports that happen by name at run time (importlib), declared so that the checks see them. They are part of
# the import graph (circles, direction), except where marked deferred: the hook imports the set-up module once
# ultralytics has been imported, never while env itself is imported, so that edge is checked for direction only.
NAMED_EDGES: dict[tuple[str, str], str] = {
    ("tinydet.integrations.ultralytics.env", "tinydet.integrations.ultralytics.setup"): "deferred",
}
# ... and the command line imports the module that runs the subcommand asked for, by name.
NAMED_EDGES.update({("tinydet.cli", command_module(name)): "named" for name, _ in COMMANDS})

# The few imports of tinydet modules inside functions, each with its reason: a command that usually runs
# without torch loads it only on the path that needs it.
_EXPORT_API = "tinydet.export exposes its API by name (PEP 562) so that `tinydet export --help` reads FORMATS without torch"
LAZY_EDGES: dict[tuple[str, str], str] = {
    ("tinydet", "tinydet.detections"): "`import tinydet` (and so every command's start) stays without numpy",
    ("tinydet.export", "tinydet.export.api"): _EXPORT_API,
    ("tinydet.export", "tinydet.export.artifact"): _EXPORT_API,
    ("tinydet.export", "tinydet.export.bench"): _EXPORT_API,
    ("tinydet.export", "tinydet.export.parity"): _EXPORT_API,
    ("tinydet.eval.runs", "tinydet.eval.run_predictions"):
        "compare and report start without torch; only a run without a valid cached evaluation is predicted",
    ("tinydet.eval.io", "tinydet.eval.load_yolo"): "`tinydet eval` of COCO JSON files starts without cv2 and the readers",
}

# Third-party packages an import inside a function may name (optional extras, or heavy ones a command only
# sometimes needs); the line must say why in a comment.
OPTIONAL = {"openvino", "onnxruntime", "onnx", "onnxslim", "nncf", "ray", "optuna", "psycopg2", "albumentations",
            "sahi", "pycocotools", "tifffile", "faster_coco_eval", "hotcoco", "matplotlib"}
ULTRALYTICS_ALLOWED = ("tinydet.integrations", "tinydet.nn")


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (tinydet.*), or the top-level package name of a third-party import
    names: tuple[str, ...]
    line: int
    in_function: bool
    comment: str


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _known(target: str) -> str:
    while target not in MODULES and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def imports_of(module: str) -> list[Import]:
    path = MODULES[module]
    text = path.read_text()
    lines = text.splitlines()
    found: list[Import] = []

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                comment = lines[child.lineno - 1].partition("#")[2].strip()
                if isinstance(child, ast.Import):
                    pairs = [(a.name, ()) for a in child.names]
                else:
                    base = _resolve(module, child, path.name == "__init__.py")
                    if base == "__future__":
                        continue
                    pairs = []
                    for a in child.names:  # `from pkg import submodule` imports the submodule
                        full = f"{base}.{a.name}"
                        pairs.append((full, ()) if full in MODULES else (base, (a.name,)))
                for target, names in pairs:
                    target = _known(target) if target.startswith("tinydet") else target.split(".")[0]
                    found.append(Import(module, target, names, child.lineno, in_function, comment))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(text), False)
    return found


ALL = [imp for module in sorted(MODULES) for imp in imports_of(module)]
INTERNAL = [imp for imp in ALL if imp.target.startswith("tinydet")]


def layer_of(module: str) -> int:
    best, index = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, index = len(prefix), i
    if index is None:
        raise AssertionError(f"{module} is in no layer of tests/test_layers.py")
    return index


def edges() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in INTERNAL:
        if imp.target != imp.source:
            graph[imp.source].add(imp.target)
    for (source, target), kind in NAMED_EDGES.items():
        if kind != "deferred":
            graph[source].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def _where(imp: Import) -> str:
    return f"{MODULES[imp.source].relative_to(PACKAGE.parent)}:{imp.line} imports {imp.target}"


def test_every_module_has_a_layer():
    for module in MODULES:
        if module != "tinydet":
            layer_of(module)


def test_imports_only_go_down():
    upward = [f"{_where(i)} ({LAYERS[layer_of(i.source)][0]} -> {LAYERS[layer_of(i.target)][0]})"
              for i in INTERNAL if i.source != "tinydet" and i.target != "tinydet"
              and layer_of(i.target) > layer_of(i.source)]
    upward += [f"{s} imports {t} by name" for s, t in NAMED_EDGES if layer_of(t) > layer_of(s)]
    assert not upward, "imports that go up a layer:\n" + "\n".join(upward)


def test_the_package_root_stays_light():
    extra = sorted({i.target for i in INTERNAL if i.source == "tinydet"} - ROOT_IMPORTS)
    assert not extra, f"tinydet/__init__.py imports {extra}; `import tinydet` must stay without torch"


def test_no_import_circles():
    found = circles(edges())
    assert not found, "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_nothing_imports_the_package_root():
    """`from tinydet import X` hides the module X lives in (and would make every module depend on the root)."""
    offenders = [_where(i) for i in INTERNAL if i.target == "tinydet" and i.source != "tinydet"]
    assert not offenders, "\n".join(offenders)


def test_ultralytics_only_behind_its_door():
    offenders = [_where(i) for i in ALL if i.target == "ultralytics" and not i.source.startswith(ULTRALYTICS_ALLOWED)]
    assert not offenders, "ultralytics imported outside integrations/ and nn/:\n" + "\n".join(offenders)


def test_no_private_names_across_modules():
    offenders = [f"{_where(i)}: {', '.join(n for n in i.names if n.startswith('_') and not n.startswith('__'))}"
                 for i in INTERNAL if i.target != i.source and any(n.startswith("_") and not n.startswith("__") for n in i.names)]
    assert not offenders, "private names imported from another module:\n" + "\n".join(offenders)


def _allowed_in_function(imp: Import) -> bool:
    if (imp.source, imp.target) in LAZY_EDGES:
        return bool(imp.comment)
    return imp.target in OPTIONAL and bool(imp.comment)


def test_imports_inside_functions_are_optional_extras_that_say_why():
    offenders = [f"{_where(i)}" + ("" if i.target in OPTIONAL else " (not an optional extra)")
                 for i in ALL if i.in_function and not _allowed_in_function(i)]
    assert not offenders, ("imports inside functions (only optional extras, with a comment saying why):\n"
                           + "\n".join(offenders))


def test_tests_mirror_the_package():
    """One test folder per top-level package folder (a sub-package is tested in its parent's folder)."""
    tests = Path(__file__).resolve().parent
    missing = [p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file() and not (tests / p.name).is_dir()]
    assert not missing, f"package folders without a test folder: {missing}"


def test_every_command_has_a_module_that_runs_it():
    missing = [command_module(name) for name, _ in COMMANDS if command_module(name) not in MODULES]
    assert not missing, f"subcommands without a module that runs them: {missing}"


def test_every_lazy_edge_is_used():
    used = {(i.source, i.target) for i in INTERNAL if i.in_function}
    assert set(LAZY_EDGES) <= used, f"LAZY_EDGES lists imports that no longer exist: {set(LAZY_EDGES) - used}"


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
])
def test_circle_finder(graph, expected):
    assert circles(graph) == expected


def test_layer_of_takes_the_longest_prefix():
    assert layer_of("tinydet.integrations.ultralytics.training.trainer") > layer_of("tinydet.train.recipe")
    assert layer_of("tinydet.train.api") > layer_of("tinydet.integrations.ultralytics.training.trainer")
    assert layer_of("tinydet.integrations.ultralytics.builder") < layer_of("tinydet.models.zoo")
