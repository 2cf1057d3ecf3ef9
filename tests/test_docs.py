"""The README, docs/ and `make help` tell the same story."""
import re
import subprocess

from conftest import PROJECT_DIR

# The user's pages: the README links each, and each exists.
USER_PAGES = ("configuration clients subscription tiers services monitoring performance security "
              "development").split()


def make_help_text():
    return subprocess.run(["make", "--no-print-directory", "help"], cwd=PROJECT_DIR, capture_output=True,
                          text=True, check=True).stdout


def make_help_targets():
    return [line.split()[0] for line in make_help_text().splitlines() if line.startswith("  ")]


def pages():
    """The README and every page under docs/."""
    return [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md"))]


def docs_text():
    """README and every page under docs/, as one text."""
    return "\n".join(p.read_text() for p in pages())


def template_variables():
    """Every variable .env.template names, set or commented out."""
    text = (PROJECT_DIR / ".env.template").read_text()
    return sorted(set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.M)) - {"MODEL_GLM_ALIAS",
                  "MODEL_GLM_UPSTREAM_MODEL", "MODEL_GLM_API_KEY"})


def test_every_phony_target_has_one_line_of_help():
    phony = re.findall(r"^\.PHONY: ([a-z-]+)", (PROJECT_DIR / "Makefile").read_text(), re.M)
    assert sorted(make_help_targets()) == sorted(phony)


def test_readme_mentions_every_target_and_starts_with_demo_and_check():
    readme = (PROJECT_DIR / "README.md").read_text()
    missing = [t for t in make_help_targets() if t != "help" and not re.search(rf"make {t}\b", readme)]
    assert missing == []
    first_commands = re.findall(r"^make (\w+)", readme.split("```", 2)[1], re.M)
    assert first_commands == ["demo", "check"]


def test_readme_is_short_and_links_every_user_page():
    readme = (PROJECT_DIR / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    assert [p for p in USER_PAGES if f"(docs/{p}.md)" not in readme] == []
    assert [p for p in USER_PAGES if not (PROJECT_DIR / "docs" / f"{p}.md").is_file()] == []


def test_every_make_target_the_docs_name_exists():
    """A command in backticks or at the start of a code line; prose ("make sure") is neither."""
    named = set(re.findall(r"(?:`|^)make ([a-z][a-z-]*[a-z])\b", docs_text(), re.M))
    assert sorted(named - set(make_help_targets())) == []


def test_every_template_variable_is_documented():
    text = docs_text()
    assert [v for v in template_variables() if v not in text] == []


def test_every_local_link_in_the_docs_points_at_a_file():
    broken = []
    for page in pages():
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            if not (page.parent / target).exists():
                broken.append(f"{page.name}: {target}")
    assert broken == []


def test_make_help_prints_the_makefile_sections():
    sections = re.findall(r"^## ---- (.+?) -*$", (PROJECT_DIR / "Makefile").read_text(), re.M)
    printed = [line[:-1] for line in make_help_text().splitlines() if line.endswith(":")]
    assert printed == sections and len(sections) >= 5


def test_ci_runs_the_readme_test_command():
    ci = (PROJECT_DIR / ".ci" / "run").read_text()
    assert re.search(r"^make check$", ci, re.M)


def test_contract_targets_exist():
    """The make targets the interface contract promises users (the names they know)."""
    contract = ("install-all uninstall-all start up down restart logs health test models monitoring "
                "monitoring-down clean info generate-key update-models show-models install-service "
                "uninstall-service service-status install-sso-refresh uninstall-sso-refresh sso-refresh-status "
                "configure-claude update-claude remove-claude show-claude test-claude check demo status proxy "
                "toggle-claude bench").split()
    assert sorted(set(contract) - set(make_help_targets())) == []
