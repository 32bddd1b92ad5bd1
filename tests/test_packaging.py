"""How fastdnn is found: `python -m pytest` (which puts the project root first on sys.path)
imports the installed, compiled package, and a fastdnn imported from its source folder,
which has no compiled extension, raises an ImportError that says what to do."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code, cwd, *options):
    return subprocess.run([sys.executable, *options, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_the_project_root_first_on_sys_path_still_imports_the_compiled_package():
    # `python -c`, like `python -m pytest`, puts the working directory first on sys.path.
    completed = run_python("import fastdnn, fastdnn._core; print(fastdnn.get_num_threads() >= 1)", ROOT)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "True"


def test_python_dash_m_pytest_runs_from_the_project_root():
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_utils_numerical.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed" in completed.stdout and "error" not in completed.stdout.lower()


def test_importing_the_source_folder_without_the_extension_says_what_to_do(tmp_path):
    source = tmp_path / "fastdnn"
    shutil.copytree(ROOT / "src" / "fastdnn", source,
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    # -S: no site-packages, so no installed (or editable) fastdnn can answer the import instead.
    completed = run_python("import fastdnn", tmp_path, "-S")
    assert completed.returncode == 1
    last_line = completed.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError: fastdnn's compiled extension (fastdnn._core) is not in "), last_line
    assert str(source) in last_line
    assert "pip install ." in last_line and "python -m pytest" in last_line
    assert "ModuleNotFoundError" not in completed.stderr


def test_a_missing_dependency_of_the_package_is_not_mistaken_for_the_missing_extension(tmp_path):
    # Only fastdnn._core's absence gets the source-folder message; numpy missing stays itself.
    (tmp_path / "numpy").mkdir()
    (tmp_path / "numpy" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'numpy'\", name='numpy')\n")
    completed = run_python(f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import fastdnn", tmp_path)
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines()[-1] == "ModuleNotFoundError: No module named 'numpy'"
