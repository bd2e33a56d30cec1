"""What publishes the book, the package and the reader notebooks, checked as far as it runs here.

The GitHub workflows cannot run in this repository's CI; what can be checked is that they parse,
trigger where they should, run nothing but Makefile targets, and that every target they ask for
(with all its prerequisites) exists (``make -n``). The Binder environment pins the book's
version; the README documents running a chapter and releasing, with the addresses derived from
``_config.yml``'s repository URL.
"""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import reader_notebooks as rn  # noqa: E402


def _version():
    text = (ROOT / "companion" / "lagprop" / "__init__.py").read_text()
    return re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.M).group(1)


def _repo():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    return url, *url.rstrip("/").split("/")[-2:]


def _workflow(name):
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def _steps(data):
    return [s for job in data["jobs"].values() for s in job.get("steps", [])]


def _make_calls(data):
    calls = []
    for step in _steps(data):
        if "run" not in step:
            continue
        for line in step["run"].strip().splitlines():
            words = shlex.split(line.replace("${{ github.ref_name }}", "v" + _version()))
            if words[:1] == ["sudo"]:
                words = words[1:]
            assert words[:1] == ["make"], f"a workflow runs {line!r}: only Makefile targets"
            calls.append(words[1:])
    return calls


def test_there_are_the_two_workflows():
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == ["book.yml", "release.yml"]


def test_book_workflow_tests_then_deploys_html_pdf_and_notebooks_on_push_to_main():
    data = _workflow("book.yml")
    assert data["on"]["push"]["branches"] == ["main"]
    calls = _make_calls(data)
    targets = {t for call in calls for t in call if "=" not in t}
    assert {"test", "site"} <= targets
    uses = [s.get("uses", "") for s in _steps(data)]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    artifact = next(s for s in _steps(data) if s.get("uses", "").startswith("actions/upload-pages"))
    assert artifact["with"]["path"] == "_build/html"
    site = _recipe("site")
    assert "book.pdf" in site and "_build/notebooks" in site


def test_release_workflow_builds_checks_publishes_on_a_version_tag():
    data = _workflow("release.yml")
    assert data["on"]["push"]["tags"] == ["v*"]
    targets = [t for call in _make_calls(data) for t in call if "=" not in t]
    assert targets.index("release-check") < targets.index("notebooks-branch")
    assert "twine check" in _recipe("dist") and "-m build" in _recipe("dist")
    assert "dist" in _prerequisites("release-check")
    uses = [s.get("uses", "") for s in _steps(data)]
    assert any(u.startswith("pypa/gh-action-pypi-publish") for u in uses)
    branch = next(s for s in _steps(data) if "publish_branch" in s.get("with", {}))
    assert branch["with"]["publish_branch"] == rn.DEFAULT_BRANCH
    assert branch["with"]["publish_dir"] == "_build/notebooks-branch"


def _makefile():
    return (ROOT / "Makefile").read_text()


def _rule(target):
    m = re.search(rf"^{re.escape(target)}:([^\n]*)\n((?:\t[^\n]*\n?)*)", _makefile(), re.M)
    assert m, f"no Makefile target {target!r}"
    return m


def _recipe(target):
    return _rule(target).group(2)


def _prerequisites(target):
    return _rule(target).group(1).split()


@pytest.mark.parametrize("workflow", ["book.yml", "release.yml"])
def test_every_make_target_a_workflow_calls_exists(workflow):
    for call in _make_calls(_workflow(workflow)):
        for target in (t for t in call if "=" not in t):
            _rule(target)
        proc = subprocess.run(["make", "-n", "-C", str(ROOT), *call],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and "No rule to make target" not in proc.stderr, proc.stderr


def test_release_check_rejects_a_tag_that_is_not_the_version(tmp_path):
    # the version comparison alone, with the recipe's own shell line
    line = _recipe("release-check").strip().split("\n")
    shell = " ".join(ln.strip().rstrip("\\") for ln in line).lstrip("@")
    shell = shell.replace("$(BIN)/python", sys.executable).replace("$$", "$")
    for tag, ok in ((f"v{_version()}", True), ("v0.0.0-not", False), (_version(), False)):
        proc = subprocess.run(["bash", "-c", shell.replace("$(TAG)", tag)], cwd=ROOT,
                              capture_output=True, text=True)
        assert (proc.returncode == 0) == ok, (tag, proc.stdout, proc.stderr)


def test_make_test_builds_the_book_then_the_notebooks():
    prereqs = _prerequisites("test")
    assert prereqs.index("book") < prereqs.index("notebooks")
    assert "reader_notebooks.py" in _recipe("notebooks")


@pytest.mark.parametrize("built", [True, False])
def test_make_notebooks_reuses_the_book_build(tmp_path, built):
    """With a book build there, `make notebooks` only rewrites the notebooks from what the
    build rendered; with none, it builds the book first."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    if built:
        (tmp_path / "_build" / ".doctrees").mkdir(parents=True)
        (tmp_path / "_build" / ".doctrees" / "reader_notebooks.json").write_text("{}")
    proc = subprocess.run(["make", "-n", "notebooks", "STAMP=", "BOOK_STAMP="], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "reader_notebooks.py _build" in proc.stdout
    assert ("jupyter-book build" in proc.stdout) is not built, proc.stdout


def test_binder_installs_the_books_version_with_the_notebooks_extra_and_jupyterlab_myst():
    reqs = [ln.split("#")[0].strip() for ln in
            (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    reqs = [r for r in reqs if r]
    assert f"lagprop[notebooks]=={_version()}" in reqs
    assert any(r.startswith("jupyterlab-myst") for r in reqs)


def test_extension_is_registered_and_the_pages_url_derives_from_the_repository():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["sphinx"]["local_extensions"].get("reader_notebooks") == "book/_ext"
    assert cfg["html"]["use_download_button"] is True
    url, org, name = _repo()
    assert rn.pages_url(url) == f"https://{org.lower()}.github.io/{name}/"


def test_readme_says_how_to_run_a_chapter_and_how_to_release():
    readme = (ROOT / "README.md").read_text()
    _url, org, name = _repo()
    run = readme.split("## Running a chapter", 1)[1].split("\n## ", 1)[0]
    assert f'pip install "lagprop[notebooks]=={_version()}"' in run
    assert f"https://mybinder.org/v2/gh/{org}/{name}/{rn.DEFAULT_BRANCH}?urlpath=tree/" in run
    assert f"https://colab.research.google.com/github/{org}/{name}/blob/{rn.DEFAULT_BRANCH}/" in run
    assert "make notebooks" in run and "Locally" in run
    release = readme.split("## Releasing", 1)[1].split("\n## ", 1)[0]
    assert f"v{_version()}" in release and "CHANGELOG" in release and "twine check" in release
    assert "git tag" in release
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## {re.escape(_version())}\b", changelog, re.M)
