"""curate installs as one `curate` package: every folder listed, a wheel that runs the demo from anywhere,
no import cycles."""
import ast
import tomllib
import zipfile
from pathlib import Path

from conftest import ROOT, in_venv

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def package_folders() -> dict[str, Path]:
    """Every package the mapped folders hold (a folder with an __init__.py), by dotted name."""
    found = {}
    for package, folder in SETUPTOOLS["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            if "__pycache__" not in init.parts:
                rel = init.parent.relative_to(ROOT / folder)
                found[".".join((package, *rel.parts))] = init.parent
    return found


def test_every_package_folder_is_in_the_package_list():
    missing = sorted(set(package_folders()) - set(SETUPTOOLS["packages"]))
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"
    assert set(SETUPTOOLS["packages"]) <= set(package_folders()), "a listed package has no folder"


def module_imports(path: Path, module: str, package: bool) -> set[str]:
    """The curate modules `path` imports anywhere in its body (function-level imports too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")[:len(module.split(".")) - node.level + (1 if package else 0)]
                base = ".".join([*parts, *([base] if base else [])])
            out.add(base)
            out |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in out if name.startswith("curate")}


def test_no_import_cycles():
    modules = {}
    for package, folder in package_folders().items():
        for path in folder.glob("*.py"):
            name = package if path.name == "__init__.py" else f"{package}.{path.stem}"
            modules[name] = (path, path.name == "__init__.py")
    graph = {name: {dep for dep in module_imports(path, name, is_pkg) if dep in modules and dep != name}
             for name, (path, is_pkg) in modules.items()}
    # a package's __init__ that only re-exports its own modules is not a cycle with them
    graph = {name: {dep for dep in deps if not (modules[dep][1] and name.startswith(dep + "."))}
             for name, deps in graph.items()}
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_wheel_has_one_top_level_name_and_its_data(wheel_venv):
    with zipfile.ZipFile(wheel_venv["wheel"]) as wheel:
        names = wheel.namelist()
    top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    with zipfile.ZipFile(wheel_venv["wheel"]) as wheel:
        assert wheel.read(top_level).decode().split() == ["curate"]
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"curate"}
    for data in ("curate/manifests/demo/html/bicycle-history.html", "curate/manifests/pipelines/web.yaml",
                 "curate/manifests/mixes/pretrain.yaml", "curate/manifests/schema/pipeline.schema.json",
                 "curate/synth/templates/qa_factual.yaml", "curate/manifests/demo/warc/demo.warc.gz"):
        assert data in names


def test_installed_wheel_runs_from_outside_the_repo(wheel_venv):
    where = in_venv(wheel_venv, "python", "-c", "import curate, curate.pipelines.cli; print(curate.__file__)")
    assert where.returncode == 0, where.stderr
    assert str(wheel_venv["venv"]) in where.stdout and str(ROOT) not in where.stdout
    for old in ("pipelines", "stages", "filters", "synth"):
        assert in_venv(wheel_venv, "python", "-c", f"import {old}").returncode != 0, f"`import {old}` still works"

    spec = in_venv(wheel_venv, "python", "-c",
                   "from curate import resources; print(resources.pipeline_spec('extract'))")
    pages = in_venv(wheel_venv, "python", "-c", "from curate import resources; print(resources.demo_data() / 'html')")
    run = in_venv(wheel_venv, "curate", "run", spec.stdout.strip(), "--input", pages.stdout.strip(), "--output",
                  "run", "--json")
    assert run.returncode == 0, run.stderr[-3000:]


def test_installed_wheel_runs_the_demo(demo):
    assert (demo["path"] / "web" / "manifest.json").exists()
    assert (demo["path"] / "report.html").exists()
