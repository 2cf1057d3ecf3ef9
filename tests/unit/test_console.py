"""The console command `claude-gateway`: the real launcher `make install` writes, run from a
directory outside the checkout; its completion in real bash, zsh and fish, loaded by the shell
block; Claude Code's statusLine setting; the status line without a proxy."""
import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import MASTER_KEY, PROJECT_DIR

from scripts import claude_shell, install
from scripts.console import commands, completion, launcher
from scripts.core import paths
from scripts.core.procs import free_port

PORT = free_port()  # nothing answers there


@pytest.fixture(autouse=True)
def setup(isolated, env_file, monkeypatch):
    monkeypatch.setenv("GATEWAY_BIN_DIR", str(isolated / "bin"))
    monkeypatch.setenv("SHELL", "/bin/bash")
    for var in ("CLAUDE_CONFIG_DIR", "GATEWAY_USER_CONFIG_DIR"):
        monkeypatch.delenv(var, raising=False)
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, LITELLM_PORT=str(PORT), ANTHROPIC_API_KEY="sk-ant-api03-x")
    return isolated


@pytest.fixture
def elsewhere(isolated) -> Path:
    """A working directory outside the checkout, with a `scripts` package of its own that must not
    shadow the toolkit's."""
    cwd = isolated / "work" / "scripts"
    cwd.mkdir(parents=True)
    (cwd / "__init__.py").write_text("raise SystemExit('the current directory was imported')\n")
    return cwd.parent


def run(cwd: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(paths.launcher_file()), *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


def test_make_install_writes_the_launcher_and_warns_once_when_its_directory_is_not_on_path(capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert "wrote" in launcher.install()
    mode = stat.S_IMODE(paths.launcher_file().stat().st_mode)
    assert mode == 0o755 and MASTER_KEY not in paths.launcher_file().read_text()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not on your PATH" in err[0], err
    monkeypatch.setenv("PATH", f"{paths.bin_dir()}:/usr/bin:/bin")
    assert "up to date" in launcher.install()
    assert "PATH" not in capsys.readouterr().err


def test_someone_elses_program_is_never_overwritten_or_removed(capsys):
    paths.bin_dir().mkdir(parents=True)
    paths.launcher_file().write_text("#!/bin/sh\necho mine\n")
    with pytest.raises(Exception, match="is not claude-gateway's launcher: move it away, or set GATEWAY_BIN_DIR"):
        launcher.install()
    assert install.main(["--remove-launcher"]) == 0
    assert "left as it is" in capsys.readouterr().out
    assert paths.launcher_file().read_text() == "#!/bin/sh\necho mine\n"


def test_a_launcher_whose_venv_is_gone_names_the_fix(elsewhere, monkeypatch):
    monkeypatch.setenv("GATEWAY_VENV", str(elsewhere / "no-venv"))
    launcher.install()
    done = run(elsewhere, "status")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (f"error: claude-gateway's Python {elsewhere}/no-venv/bin/python is missing: run `make install` "
                           f"in {PROJECT_DIR}\n")


def test_uninstall_removes_our_launcher(capsys):
    launcher.install()
    assert install.main(["--remove-launcher"]) == 0
    assert not paths.launcher_file().exists() and "removed" in capsys.readouterr().out


def test_help_from_another_directory_has_an_example_for_each_subcommand(elsewhere):
    launcher.install()
    done = run(elsewhere, "--help")
    assert done.returncode == 0, done.stderr
    for command in commands.COMMANDS:
        assert command.example in done.stdout, command.name
        assert command.example.startswith(f"claude-gateway {command.name}") or command.name == "statusline"
    sub = run(elsewhere, "test", "--help")
    assert "--model" in sub.stdout and "example: claude-gateway test --model" in sub.stdout


def test_status_from_another_directory_runs_what_make_status_runs(elsewhere):
    launcher.install()
    done = run(elsewhere, "status")
    assert done.returncode == 0, done.stderr
    assert re.search(rf"^proxy +not answering at http://127.0.0.1:{PORT}", done.stdout, re.M), done.stdout


def test_bad_flags_and_arguments_are_one_line_naming_the_fix(elsewhere):
    launcher.install()
    done = run(elsewhere, "up", "--bogus")
    assert done.returncode == 2 and "unrecognized arguments: --bogus (see `claude-gateway up --help`)" in done.stderr
    done = run(elsewhere, "logout")
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1] == \
        "claude-gateway logout: error: the following arguments are required: provider"
    done = run(elsewhere, "statusline", "extra")
    assert done.returncode == 1 and done.stderr.strip() == \
        "error: statusline takes no arguments (Claude Code passes the session on stdin)"


def test_passthrough_commands_hand_their_options_to_the_entry_point(elsewhere):
    launcher.install()
    done = run(elsewhere, "bench", "--help")
    assert done.returncode == 0 and "--side-requests" in done.stdout  # bench's own parser answered
    assert commands.parse(["bench", "--json", "--no-side"])[2] == ["--json", "--no-side"]
    assert commands.parse(["configure-claude", "--shells", "zsh bash", "--dry-run"])[2] == \
        ["--shells", "zsh bash", "--dry-run"]
    assert commands.parse(["toggle-claude"])[2] == []


def _make_recipes() -> dict:
    recipes, target = {}, None
    for line in (PROJECT_DIR / "Makefile").read_text().splitlines():
        match = re.match(r"^([a-z-]+):", line)
        if match:
            target = match.group(1)
        elif line.startswith("\t") and target:
            recipes.setdefault(target, []).append(line.strip())
    return recipes


def test_each_subcommand_runs_the_entry_point_its_make_target_runs():
    recipes = _make_recipes()
    checked = 0
    for command in commands.COMMANDS:
        for step in command.steps:
            module = PROJECT_DIR / "scripts" / f"{step.module}.py"
            assert "main = entry_point(__name__, " in module.read_text(), step.module
        make_name = {"login": None, "logout": "logout"}.get(command.name, command.name)
        if make_name not in recipes:
            continue
        text = " ".join(recipes[make_name])
        for step in command.steps:
            invocation = " ".join([f"scripts.{step.module}", *step.argv])
            assert invocation in text or (command.name == "start" and step.module == "proxy"), \
                f"make {make_name} does not run {invocation}: {text}"
        checked += 1
    assert checked >= 30, checked


def test_the_completion_scripts_parse_in_their_shells(isolated):
    for shell, check in (("bash", ["bash", "-n"]), ("zsh", ["zsh", "-n"]), ("fish", ["fish", "--no-execute"])):
        path = isolated / f"completion.{shell}"
        path.write_text(completion.script(shell))
        done = subprocess.run([*check, str(path)], capture_output=True, text=True)
        assert done.returncode == 0, (shell, done.stderr)


def interactive(shell: str, script: str) -> subprocess.CompletedProcess:
    env = {"HOME": os.environ["HOME"], "PATH": os.environ["PATH"], "TERM": "dumb", "LANG": "C.UTF-8"}
    return subprocess.run([shell, "-i", "-c", script], env=env, capture_output=True, text=True, timeout=60)


# Drives a real interactive zsh (reading the ~/.zshrc configure-claude wrote) in a pseudo-terminal:
# compinit after the block, then TAB after a partial word; ^U clears the line again.
ZSH_TYPING = r"""
zmodload zsh/zpty
zpty z 'TERM=dumb zsh -i'
zpty -w z 'autoload -Uz compinit; compinit -u -d $HOME/.zcompdump'
for typed in 'claude-gateway toggle-claude d' 'claude-gateway configure-claude --sh' 'claude-gateway print-c'; do
  zpty -w -n z "$typed"$'\t'
  sleep 2
  zpty -w z $'\x15'
done
zpty -w z exit
out=
while zpty -r -t z chunk; do out+=$chunk; done
print -r -- "$out"
"""


def test_configure_claude_installs_completion_that_loads_in_real_shells_and_remove_takes_it_out(capsys):
    assert claude_shell.main(["configure", "--shells", "bash zsh fish"]) == 0
    bash = interactive("bash", 'complete -p claude-gateway; COMP_WORDS=(claude-gateway st); COMP_CWORD=1; '
                               '_claude_gateway; echo "${COMPREPLY[*]}"; COMP_WORDS=(claude-gateway login ""); '
                               'COMP_CWORD=2; _claude_gateway; echo "${COMPREPLY[*]}"; '
                               'COMP_WORDS=(claude-gateway configure-claude --shells ""); COMP_CWORD=3; '
                               '_claude_gateway; echo "${COMPREPLY[*]}"')
    lines = bash.stdout.splitlines()
    assert lines[0] == "complete -F _claude_gateway claude-gateway", bash.stderr
    assert lines[1:] == ["start status statusline", "chatgpt copilot --help", "bash zsh fish"]
    zsh = interactive("zsh", "autoload -Uz compinit; compinit -u -d $HOME/.zcompdump; "
                             "print -r -- $_comps[claude-gateway]")
    assert zsh.stdout.strip() == "_claude_gateway", zsh.stderr
    env = {"HOME": os.environ["HOME"], "PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    typed = subprocess.run(["zsh", "-f", "-c", ZSH_TYPING], env=env, capture_output=True, text=True, timeout=60)
    completed = typed.stdout.replace("\r", "")
    for word in ("toggle-claude direct", "configure-claude --shells", "print-config"):
        assert word in completed, (word, completed[-2000:])
    fish = interactive("fish", 'complete -C "claude-gateway st"; complete -C "claude-gateway toggle-claude "; '
                               'complete -C "claude-gateway test --"')
    words = [line.split("\t")[0] for line in fish.stdout.splitlines()]
    assert words == ["start", "status", "statusline", "direct", "proxy", "--model", "--timeout"], fish.stdout
    assert claude_shell.main(["remove"]) == 0
    assert not paths.completion_dir().exists()
    assert "_claude_gateway" not in interactive("bash", "complete -p claude-gateway 2>&1; true").stdout.replace(
        "complete: claude-gateway: no completion specification", "")


def settings_file() -> Path:
    return Path(os.environ["HOME"]) / ".claude" / "settings.json"


def given_settings(text: str) -> None:
    """A launcher on disk and the user's Claude Code settings.json holding text."""
    launcher.install()
    settings_file().parent.mkdir()
    settings_file().write_text(text)


def test_configure_adds_our_status_line_keeping_every_other_setting_and_remove_takes_only_ours(capsys):
    theirs = {"model": "opus", "env": {"FOO": "1"}, "permissions": {"allow": ["Bash(ls)"]}}
    given_settings(json.dumps(theirs, indent=4))
    os.chmod(settings_file(), 0o600)
    assert claude_shell.main(["configure"]) == 0
    data = json.loads(settings_file().read_text())
    assert list(data) == [*theirs, "statusLine"] and {k: data[k] for k in theirs} == theirs
    assert data["statusLine"] == {"type": "command", "command": f"{paths.launcher_file()} statusline", "padding": 0}
    assert stat.S_IMODE(settings_file().stat().st_mode) == 0o600
    assert claude_shell.main(["configure"]) == 0
    assert "already set" in capsys.readouterr().out
    assert claude_shell.main(["show"]) == 0
    assert f"status line   claude-gateway's (~/.claude/settings.json: {paths.launcher_file()} statusline)" in \
        capsys.readouterr().out
    assert claude_shell.main(["remove"]) == 0
    assert json.loads(settings_file().read_text()) == theirs


def test_a_status_line_of_the_users_own_is_kept_on_configure_and_on_remove(capsys):
    own = {"statusLine": {"type": "command", "command": "~/.claude/statusline.sh"}, "theme": "dark"}
    given_settings(json.dumps(own))
    assert claude_shell.main(["configure"]) == 0
    assert "you have a status line of your own: kept" in capsys.readouterr().out
    assert claude_shell.main(["show"]) == 0
    assert "status line   your own (~/.claude/settings.json)" in capsys.readouterr().out
    assert claude_shell.main(["remove"]) == 0
    assert json.loads(settings_file().read_text()) == own


def test_a_damaged_settings_file_is_refused_before_anything_is_written(capsys):
    given_settings('{"model": "opus",')
    capsys.readouterr()
    assert claude_shell.main(["configure"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not valid JSON" in err[0] and "nothing was written" in err[0]
    assert settings_file().read_text() == '{"model": "opus",'
    assert not (Path(os.environ["HOME"]) / ".bashrc").exists() and not paths.completion_dir().exists()


def test_dry_run_writes_no_setting(capsys):
    launcher.install()
    assert claude_shell.main(["configure", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"Would write ~/.claude/settings.json (statusLine: {paths.launcher_file()} statusline)" in out
    assert not settings_file().exists() and not paths.completion_dir().exists()


def test_without_a_launcher_no_status_line_is_set(capsys):
    assert claude_shell.main(["configure"]) == 0
    assert "no status line set" in capsys.readouterr().out and not settings_file().exists()


def test_statusline_without_a_proxy_says_not_running_and_loads_no_litellm(elsewhere):
    launcher.install()
    proxied = {"ANTHROPIC_BASE_URL": f"http://127.0.0.1:{PORT}"}  # what the shell block gives Claude Code
    done = run(elsewhere, "statusline", stdin='{"model": {"display_name": "Opus"}, "workspace": {}}', **proxied)
    assert done.returncode == 0 and done.stdout == "Opus · gateway: not running\n", done
    assert run(elsewhere, "statusline", stdin="not json", **proxied).stdout == "gateway: not running\n"
    direct = run(elsewhere, "statusline", stdin="{}")
    assert direct.stdout == "Claude Code direct to Anthropic · gateway: not running\n"
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import scripts.statusline as s; s.main([]); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('litellm', 'yaml', 'argparse', 'boto3')))")
    loaded = subprocess.run([str(paths.venv_bin("python")), "-I", "-S", "-c", probe, str(PROJECT_DIR)],
                            cwd=elsewhere, input="{}", capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.splitlines()[-1] == "[]"
