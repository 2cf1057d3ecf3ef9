"""configure/update/remove/show/toggle-claude against real bash, zsh and fish.

Every shell check starts a real login-less interactive shell (`SHELL -i -c`) with
HOME in tmp, so it reads exactly the startup file the command wrote."""
import os
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import MASTER_KEY, PROJECT_DIR

from scripts import claude_shell
from scripts.claude import rcfile
from scripts.claude.blocks import HAIKU_MODEL
from scripts.core import envfile
from scripts.core.procs import free_port

PORT = free_port()  # nothing answers there: show-claude must say "not running"
URL = f"http://127.0.0.1:{PORT}"
SHELLS = ("bash", "zsh", "fish")
RC = {"bash": ".bashrc", "zsh": ".zshrc", "fish": ".config/fish/config.fish"}
FUNCTION_CHECK = {"bash": "type -t claude-proxy", "zsh": "whence -w claude-proxy",
                  "fish": "functions -q claude-proxy; and echo function"}


@pytest.fixture(autouse=True)
def project(isolated, env_file, monkeypatch):
    """A .env with a key and a non-default port; nothing may reach the real ~/.config."""
    for var in ("XDG_CONFIG_HOME", "ZDOTDIR", "GATEWAY_USER_CONFIG_DIR", "ANTHROPIC_DEFAULT_HAIKU_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SHELL", "/bin/bash")
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, LITELLM_PORT=str(PORT), ANTHROPIC_API_KEY="sk-ant-api03-x")
    return isolated


def home() -> Path:
    return Path(os.environ["HOME"])


def rc(shell: str) -> Path:
    return home() / RC[shell]


def cli(*args: str) -> int:
    return claude_shell.main(list(args))


def interactive(shell: str, script: str, **extra: str) -> subprocess.CompletedProcess:
    """A new interactive, non-login shell of this kind, with a clean environment."""
    env = {"HOME": str(home()), "PATH": os.environ["PATH"], "TERM": "dumb", "LANG": "C.UTF-8", **extra}
    return subprocess.run([shell, "-i", "-c", script], env=env, capture_output=True, text=True, timeout=60)


def exported(shell: str, **extra: str) -> dict:
    """The environment a program started from that shell receives."""
    out = interactive(shell, "env", **extra).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


@pytest.mark.parametrize("shell", SHELLS)
def test_new_shell_gets_the_variables_and_claude_proxy(shell, capsys):
    assert cli("configure", "--shells", shell) == 0
    assert "added the claude-gateway block" in capsys.readouterr().out
    env = exported(shell)
    assert env["ANTHROPIC_BASE_URL"] == URL
    assert env["ANTHROPIC_AUTH_TOKEN"] == MASTER_KEY
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == HAIKU_MODEL
    assert "ANTHROPIC_API_KEY" not in env
    assert "function" in interactive(shell, FUNCTION_CHECK[shell]).stdout
    # The helper variable that briefly held the key is emptied again.
    leftover = interactive(shell, "echo \"[$__claude_gateway_key]\"").stdout
    assert leftover.strip() == "[]"


STRICT_OPTIONS = {"bash": "set -u\nshopt -s extglob nocasematch\n",
                  "zsh": "setopt nounset extendedglob ksharrays shwordsplit\n"}


@pytest.mark.parametrize("shell", STRICT_OPTIONS)
def test_the_block_works_under_the_users_strict_shell_options(shell):
    rc(shell).write_text(STRICT_OPTIONS[shell])
    assert cli("configure", "--shells", shell) == 0
    result = interactive(shell, "env")
    assert f"ANTHROPIC_AUTH_TOKEN={MASTER_KEY}\n" in result.stdout, result.stderr
    assert "unbound" not in result.stderr and "parameter not set" not in result.stderr


def test_the_master_key_is_never_written_into_rc_files_or_backups(isolated):
    assert cli("configure", "--shells", "bash zsh fish") == 0
    envfile.set_value(isolated / ".env", "LITELLM_PORT", "48001")
    assert cli("update") == 0  # rewrites the blocks, backing up the files first
    written = [rc(s) for s in SHELLS] + list((home() / ".config/claude-gateway/backups").iterdir())
    assert len(written) == 6
    for path in written:
        assert MASTER_KEY.encode() not in path.read_bytes(), path


ENV_VARIANTS = [
    "LITELLM_MASTER_KEY=sk-plain\n",
    'export LITELLM_MASTER_KEY="sk-double"\n',
    "  LITELLM_MASTER_KEY = 'sk-single'  \n",
    "LITELLM_MASTER_KEY=sk-commented # rotated monthly\n",
    "LITELLM_MASTER_KEY=sk-crlf\r\n",
    "# LITELLM_MASTER_KEY=sk-disabled\nLITELLM_MASTER_KEY_OLD=sk-other\nLITELLM_MASTER_KEY=sk-real\n",
    "LITELLM_MASTER_KEY=sk-first\nLITELLM_MASTER_KEY=sk-last-wins\n",
    "LITELLM_MASTER_KEY=sk-no-final-newline",
    'LITELLM_MASTER_KEY="sk-quoted" # comment\n',
    "LITELLM_MASTER_KEY=sk-$(touch pwned)`touch pwned2`\n",
    "\ufeffLITELLM_MASTER_KEY=sk-after-a-bom\r\n",
]


@pytest.mark.parametrize("text", ENV_VARIANTS)
def test_each_shell_reads_the_key_exactly_as_the_toolkit_does(text, isolated):
    assert cli("configure", "--shells", "bash zsh fish") == 0
    (isolated / ".env").write_text(text)
    expected = envfile.parse(text)["LITELLM_MASTER_KEY"]
    for shell in SHELLS:
        result = interactive(shell, "env")
        assert f"ANTHROPIC_AUTH_TOKEN={expected}\n" in result.stdout, (shell, result.stderr)
    assert not list(home().glob("pwned*")) and not list(PROJECT_DIR.glob("pwned*")), ".env content was executed"


@pytest.mark.parametrize("shell", SHELLS)
def test_without_a_key_the_shell_warns_and_sets_nothing(shell, isolated):
    assert cli("configure", "--shells", shell) == 0
    (isolated / ".env").write_text("LITELLM_MASTER_KEY=\n")
    result = interactive(shell, "env")
    assert "ANTHROPIC_BASE_URL" not in result.stdout and "ANTHROPIC_AUTH_TOKEN" not in result.stdout
    assert "no LITELLM_MASTER_KEY" in result.stderr and "make generate-key" in result.stderr


def test_configure_twice_gives_one_block(capsys):
    rc("bash").write_text("alias ll='ls -l'\n")
    assert cli("configure") == 0
    first = rc("bash").read_bytes()
    assert cli("configure") == 0
    assert "already up to date" in capsys.readouterr().out
    assert rc("bash").read_bytes() == first
    assert first.decode().count(rcfile.BEGIN) == 1 and first.decode().count(rcfile.END) == 1


def test_update_changes_only_the_block(isolated):
    before, after = "# mine, before\nexport EDITOR=vim\n", "\n# mine, after\nalias gs='git status'\n"
    rc("zsh").write_text(before)
    assert cli("configure", "--shells", "zsh") == 0
    rc("zsh").write_text(rc("zsh").read_text() + after)  # the user keeps editing below the block
    envfile.set_value(isolated / ".env", "LITELLM_PORT", "48123")
    assert cli("update") == 0
    text = rc("zsh").read_text()
    start, end = rcfile.find_block(text, rc("zsh"))
    assert text[:start] == before + "\n" and text[end:] == after
    assert "http://127.0.0.1:48123" in text[start:end] and URL not in text
    assert exported("zsh")["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:48123"


def test_update_without_a_block_names_the_fix(capsys):
    assert cli("update") == 1
    assert "run `make configure-claude` first" in capsys.readouterr().err


ORIGINALS = [b"", b"alias x=1\n", b"no newline at the end", b"latin-1 \xe9\xff bytes\n",
             b"windows\r\nline endings\r\n", b"\n\n\n"]


@pytest.mark.parametrize("original", ORIGINALS)
@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_remove_restores_the_original_bytes(shell, original):
    rc(shell).parent.mkdir(parents=True, exist_ok=True)
    rc(shell).write_bytes(original)
    assert cli("configure", "--shells", shell) == 0
    assert cli("update", "--shells", shell) == 0
    assert rc(shell).read_bytes() != original
    assert cli("remove") == 0
    assert rc(shell).read_bytes() == original


def test_symlinked_rc_keeps_its_link():
    dotfiles = home() / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "bashrc").write_text("set -o vi\n")
    rc("bash").symlink_to(dotfiles / "bashrc")
    assert cli("configure") == 0
    assert rc("bash").is_symlink() and rcfile.BEGIN in (dotfiles / "bashrc").read_text()
    assert exported("bash")["ANTHROPIC_BASE_URL"] == URL
    assert cli("remove") == 0
    assert rc("bash").is_symlink() and (dotfiles / "bashrc").read_text() == "set -o vi\n"


def test_missing_rc_is_created_and_removed_cleanly(capsys):
    assert not (home() / ".config").exists()
    assert cli("configure", "--shells", "fish") == 0
    assert stat.S_IMODE(rc("fish").stat().st_mode) == 0o644
    assert exported("fish")["ANTHROPIC_AUTH_TOKEN"] == MASTER_KEY
    assert cli("remove") == 0
    assert "deleted (claude-gateway had created it)" in capsys.readouterr().out
    assert not (home() / ".config/fish").exists()
    assert not (home() / ".config/claude-gateway/claude-mode").exists()


def test_permissions_are_kept():
    rc("bash").write_text("umask 077\n")
    rc("bash").chmod(0o600)
    assert cli("configure") == 0
    assert stat.S_IMODE(rc("bash").stat().st_mode) == 0o600
    assert cli("remove") == 0
    assert stat.S_IMODE(rc("bash").stat().st_mode) == 0o600


def test_unwritable_places_fail_in_one_line(capsys):
    rc("bash").mkdir()  # a directory where the rc file should be
    assert cli("configure") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and ".bashrc" in err and rc("bash").is_dir()
    (home() / ".config").write_text("not a directory\n")  # fish's config dir cannot be created
    assert cli("configure", "--shells", "fish") == 1
    assert "cannot write" in capsys.readouterr().err
    assert (home() / ".config").read_text() == "not a directory\n"


DAMAGED = {
    "begin without end": f"a=1\n{rcfile.BEGIN}\nexport X=1\n",
    "end without begin": f"a=1\n{rcfile.END}\n",
    "end before begin": f"{rcfile.END}\nb=2\n{rcfile.BEGIN}\n",
    "two blocks": f"{rcfile.BEGIN}\n{rcfile.END}\n{rcfile.BEGIN}\n{rcfile.END}\n",
}


@pytest.mark.parametrize("command", ["configure", "update", "remove"])
@pytest.mark.parametrize("damage", DAMAGED)
def test_damaged_markers_are_refused_without_writing(damage, command, capsys):
    rc("bash").write_text("fine=1\n")  # a healthy file in the same run must stay untouched too
    rc("zsh").write_text(DAMAGED[damage])
    before = {s: (rc(s).read_bytes(), rc(s).stat().st_mtime_ns) for s in ("bash", "zsh")}
    assert cli(command, "--shells", "bash zsh") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and ".zshrc" in err and "line" in err and "by hand" in err
    assert {s: (rc(s).read_bytes(), rc(s).stat().st_mtime_ns) for s in ("bash", "zsh")} == before
    assert not (home() / ".config/claude-gateway/backups").exists()


def test_toggle_switches_mode_and_a_new_shell_sees_it(capsys):
    assert cli("configure", "--shells", "bash zsh fish") == 0
    mode_file = home() / ".config/claude-gateway/claude-mode"
    assert mode_file.read_text() == "proxy\n"
    assert cli("toggle") == 0
    out = capsys.readouterr().out
    assert "mode: direct" in out and "new shells" in out
    assert mode_file.read_text() == "direct\n"
    for shell in SHELLS:
        # Even a shell started from a proxy-mode parent drops the proxy's variables...
        env = exported(shell, ANTHROPIC_BASE_URL=URL, ANTHROPIC_AUTH_TOKEN=MASTER_KEY)
        assert "ANTHROPIC_BASE_URL" not in env and "ANTHROPIC_AUTH_TOKEN" not in env, shell
        # ...but leaves a base URL the user set up for something else alone.
        assert exported(shell, ANTHROPIC_BASE_URL="https://corp.example")["ANTHROPIC_BASE_URL"] == "https://corp.example"
        assert "function" in interactive(shell, FUNCTION_CHECK[shell]).stdout  # claude-proxy still there
    assert cli("toggle") == 0 and "mode: proxy" in capsys.readouterr().out
    assert all(exported(s)["ANTHROPIC_BASE_URL"] == URL for s in SHELLS)
    assert cli("toggle", "proxy") == 0 and mode_file.read_text() == "proxy\n"


def test_show_reports_files_mode_and_this_shell(capsys, monkeypatch):
    assert cli("configure", "--shells", "zsh") == 0
    capsys.readouterr()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", URL)
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", MASTER_KEY)
    assert cli("show") == 0
    out = capsys.readouterr().out
    assert "mode          proxy" in out
    assert "~/.zshrc" in out and "up to date" in out and "~/.bashrc" in out and "no such file" in out
    assert "claude goes through this proxy" in out and "(the proxy key from .env)" in out
    assert MASTER_KEY not in out
    assert f"{URL} not running" in out
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "sk-stale")
    assert cli("show") == 0 and "without its key" in capsys.readouterr().out


def test_shell_choice_and_bad_shells(capsys, monkeypatch):
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    assert cli("configure") == 0 and rc("zsh").exists() and not rc("bash").exists()
    monkeypatch.setenv("SHELL", "/bin/tcsh")
    assert cli("configure") == 1
    assert 'SHELLS="zsh bash"' in capsys.readouterr().err
    assert cli("configure", "--shells", "bash,tcsh") == 1
    assert "unsupported shell 'tcsh'" in capsys.readouterr().err
    assert not rc("bash").exists()


def test_configure_needs_a_master_key(env_file, capsys):
    env_file(LITELLM_PORT=str(PORT))
    assert cli("configure") == 1
    assert "make generate-key" in capsys.readouterr().err
    assert not rc("bash").exists()


def test_dry_run_writes_nothing(capsys):
    assert cli("configure", "--shells", "bash fish", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "Would write ~/.bashrc" in out and "Would write ~/.config/fish/config.fish" in out
    assert rcfile.BEGIN in out and MASTER_KEY not in out
    assert not rc("bash").exists() and not (home() / ".config").exists()
    assert cli("toggle", "--dry-run") == 0 and not (home() / ".config").exists()


def test_make_targets_call_the_module(isolated):
    env = {**os.environ, "SHELLS": "bash"}
    for target, expected in [("configure-claude", "added the claude-gateway block"),
                             ("show-claude", "block at line 1, up to date"),
                             ("toggle-claude", "mode: direct"),
                             ("remove-claude", "deleted (claude-gateway had created it)")]:
        result = subprocess.run(["make", "--no-print-directory", target], cwd=PROJECT_DIR, env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and expected in result.stdout, (target, result.stdout, result.stderr)
    assert not rc("bash").exists()


def test_test_claude_without_a_running_proxy_names_the_fix(capsys, env_file):
    from scripts import claude_test
    assert claude_test.main([]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: the proxy is not running at {URL}: run `make up`"
    env_file(LITELLM_PORT=str(PORT))
    assert claude_test.main([]) == 1 and "make generate-key" in capsys.readouterr().err
