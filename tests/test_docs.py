"""The README and `make help` tell the same story."""
import re
import subprocess

from conftest import PROJECT_DIR


def make_help_targets():
    out = subprocess.run(["make", "--no-print-directory", "help"], cwd=PROJECT_DIR, capture_output=True,
                         text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines()[1:] if line.strip()]


def test_every_phony_target_has_one_line_of_help():
    phony = re.findall(r"^\.PHONY: ([a-z-]+)", (PROJECT_DIR / "Makefile").read_text(), re.M)
    assert sorted(make_help_targets()) == sorted(phony)


def test_readme_mentions_every_target_and_starts_with_demo_and_check():
    readme = (PROJECT_DIR / "README.md").read_text()
    missing = [t for t in make_help_targets() if t != "help" and not re.search(rf"make {t}\b", readme)]
    assert missing == []
    first_commands = re.findall(r"^make (\w+)", readme.split("```", 2)[1], re.M)
    assert first_commands == ["demo", "check"]


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
