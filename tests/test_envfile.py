import stat

from scripts.core import envfile


def test_parse_handles_quotes_comments_and_export():
    text = "# comment\nA=1\nexport B='two words'\nC=\"x#y\"\nD=plain # trailing\n  # E=no\nF=\n"
    assert envfile.parse(text) == {"A": "1", "B": "two words", "C": "x#y", "D": "plain", "F": ""}


def test_set_value_replaces_only_that_line_and_keeps_the_rest(tmp_path):
    path = tmp_path / ".env"
    original = "# my notes\nANTHROPIC_API_KEY=sk-ant-api-x\nLITELLM_MASTER_KEY=old\n\nAWS_PROFILE=dev   \n"
    path.write_text(original)
    envfile.set_value(path, "LITELLM_MASTER_KEY", "sk-new")
    assert path.read_text() == original.replace("LITELLM_MASTER_KEY=old", "LITELLM_MASTER_KEY=sk-new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_set_value_appends_when_missing_even_without_final_newline(tmp_path):
    path = tmp_path / ".env"
    path.write_text("A=1")
    envfile.set_value(path, "B", "2")
    assert path.read_text() == "A=1\nB=2\n"


def test_set_value_ignores_commented_key(tmp_path):
    path = tmp_path / ".env"
    path.write_text("# LITELLM_MASTER_KEY=example\n")
    envfile.set_value(path, "LITELLM_MASTER_KEY", "sk-1")
    assert path.read_text() == "# LITELLM_MASTER_KEY=example\nLITELLM_MASTER_KEY=sk-1\n"


def test_set_value_follows_symlink(tmp_path):
    real = tmp_path / "dotfiles" / "env"
    real.parent.mkdir()
    real.write_text("A=1\n")
    link = tmp_path / ".env"
    link.symlink_to(real)
    envfile.set_value(link, "A", "2")
    assert link.is_symlink()
    assert real.read_text() == "A=2\n"
