"""`make update-models` / `make show-models` against the simulated Anthropic API and
Bedrock control plane: discovery, region prefixes, the user's hand edits surviving
byte for byte, dry runs, and each partial failure keeping the side that failed.

Writing runs LiteLLM's own check (about 8 s of CPU); the failure tests start from an
already updated config, so most of them have nothing to write and stay cheap.
"""
import json
import re

import pytest
from models_workspace import (
    ANTHROPIC_IDS,
    API_KEY,
    BEDROCK_IDS,
    NEW_BEDROCK,
    NEW_MODEL,
    SIM_OPTIONS,
    Workspace,
    outside_managed,
)

from scripts.catalog import discovery, managed_config
from scripts.core import configfile
from scripts.core.errors import ToolkitError
from scripts.core.paths import PROJECT_DIR
from scripts.core.procs import free_port
from scripts.core.settings import Settings
from scripts.sim.faults import SimControl
from scripts.sim.server import SimulatorThread

pytestmark = pytest.mark.e2e

HAND_EDITS = [  # (anchor in the shipped config.yaml, text put right after it)
    ("# edit anything outside them freely: your entries and comments are kept.\n",
     "# my note: the team's gateway, ask Jo before changing   \n"),
    ("  # <<< managed by make update-models: models <<<\n",
     "  # my own model and my own settings for Sonnet 4.6\n"
     "  - model_name: my-local-llm\n    litellm_params:\n      model: openai/my-local-llm\n"
     "      api_base: http://127.0.0.1:9/v1\n      api_key: \"none\"\n"
     "  - model_name: claude-sonnet-4-6\n    litellm_params:\n      model: anthropic/claude-sonnet-4-6\n"
     "      api_key: os.environ/GATEWAY_ANTHROPIC_CREDENTIAL\n      max_tokens: 1000\n"),
    ("  cooldown_time: 60\n", "  retry_after: 7    # mine\n"),
    ("    # <<< managed by make update-models: fallbacks <<<\n",
     "    - my-local-llm: [claude-haiku-4-5]\n    - claude-opus-4-8: [claude-opus-4-8-bedrock, claude-opus-4-7]\n"),
]


def hand_edited_config() -> str:
    text = (PROJECT_DIR / "config.yaml").read_text()
    for anchor, addition in HAND_EDITS:
        assert text.count(anchor) == 1, anchor
        text = text.replace(anchor, anchor + addition)
    return text


@pytest.fixture(scope="module")
def sims():
    """Anthropic and Bedrock both offering a new model, claude-opus-5-20261101; us-east-1
    offers only global. inference profiles."""
    with SimulatorThread(anthropic_models=",".join(ANTHROPIC_IDS), bedrock_models=",".join(BEDROCK_IDS),
                         bedrock_profile_prefixes="us-east-1=global", **SIM_OPTIONS) as running:
        yield running


@pytest.fixture(scope="module")
def old_sims():
    """Upstreams without the new model, and a Bedrock whose IAM policy lacks ListFoundationModels."""
    with SimulatorThread(bedrock_deny_action="ListFoundationModels", **SIM_OPTIONS) as denied, \
            SimulatorThread(**SIM_OPTIONS) as plain:
        yield plain, denied


@pytest.fixture(scope="module")
def updated(sims, tmp_path_factory):
    """One real update of a hand-edited config.yaml: (workspace, text before, result)."""
    work = Workspace(tmp_path_factory.mktemp("models-updated"), hand_edited_config())
    work.config.chmod(0o640)
    work.write_env(sims.anthropic_url, sims.bedrock_url)
    before = work.config.read_text()
    return work, before, work.run("update")


def settings_for(sims, **values) -> Settings:
    base = {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_API_BASE": sims.anthropic_url, "AWS_REGION": "us-west-2",
            "AWS_ACCESS_KEY_ID": SIM_OPTIONS["bedrock_access_key"],
            "AWS_SECRET_ACCESS_KEY": SIM_OPTIONS["bedrock_secret_key"], "AWS_ENDPOINT_URL_BEDROCK": sims.bedrock_url}
    return Settings({k: v for k, v in {**base, **values}.items() if v is not None})


def copy_of(updated, tmp_path) -> Workspace:
    work, _, result = updated
    assert result.returncode == 0, result.stderr
    return Workspace(tmp_path / "ws", work.config.read_text())


# --- discovery ---------------------------------------------------------------------------

def test_anthropic_listing_follows_every_page(sims):
    control = SimControl(sims.anthropic_url)
    control.reset()
    ids = discovery.anthropic_model_ids(settings_for(sims), page_size=5)
    assert ids == ANTHROPIC_IDS
    assert len([r for r in control.requests() if r["path"] == "/v1/models"]) == 3  # 12 ids, 5 a page


def test_anthropic_listing_with_an_oauth_token(sims):
    control = SimControl(sims.anthropic_url)
    control.reset()
    settings = settings_for(sims, ANTHROPIC_API_KEY=None, CLAUDE_CODE_OAUTH_TOKEN="sk-ant-oat01-models-test")
    assert discovery.anthropic_model_ids(settings) == ANTHROPIC_IDS
    (call,) = control.requests()
    assert call["auth_kind"] == "oauth" and "oauth-2025-04-20" in call["anthropic_beta"]


@pytest.mark.parametrize("region, prefix", [("us-west-2", "us."), ("eu-central-1", "eu."),
                                            ("ap-southeast-2", "apac."), ("us-east-1", "global.")])
def test_bedrock_uses_the_inference_profile_of_the_region(sims, region, prefix):
    listing = discovery.bedrock_listing(settings_for(sims, AWS_REGION=region))
    chosen = {o.name: o.upstream_id for o in listing.offers}
    assert chosen[NEW_MODEL] == prefix + NEW_BEDROCK
    assert chosen["claude-opus-4-6"] == prefix + "anthropic.claude-opus-4-6-v1"
    assert all(i.startswith(prefix) for i in chosen.values()), chosen
    assert listing.unusable["claude-sonnet-4-20250514"] == "legacy on Bedrock"
    if prefix == "global.":  # Opus 4.1 has no global profile: unusable from this region
        assert listing.unusable["claude-opus-4-1-20250805"] == f"no inference profile for it in {region}"


# --- writing config.yaml -----------------------------------------------------------------

def test_update_rewrites_only_the_managed_parts(updated):
    work, before, result = updated
    assert result.returncode == 0, result.stderr
    after = work.config.read_text()
    assert outside_managed(after) == outside_managed(before)  # comments, own models, settings: byte for byte
    assert (work.config.stat().st_mode & 0o777) == 0o640
    assert work.root.joinpath("config.yaml.bak").read_text() == before
    config = configfile.load(work.config)
    assert config.deployments[NEW_MODEL] == [f"anthropic/{NEW_MODEL}"]
    assert config.fallbacks[NEW_MODEL] == [f"{NEW_MODEL}-bedrock"]
    assert config.deployments[f"{NEW_MODEL}-bedrock"] == [f"bedrock/us.{NEW_BEDROCK}"]
    assert config.deployments["claude-opus"] == [f"anthropic/{NEW_MODEL}"]
    assert config.deployments["claude-opus-5"] == [f"anthropic/{NEW_MODEL}"]  # the undated alias
    # the user's own claude-sonnet-4-6 wins: no managed duplicate, no managed fallback for it
    assert config.deployments["claude-sonnet-4-6"] == ["anthropic/claude-sonnet-4-6"]
    assert "claude-sonnet-4-6" not in config.fallbacks
    assert config.fallbacks["my-local-llm"] == ["claude-haiku-4-5"]
    # the user's own fallback for a managed model replaces the managed one
    assert config.deployments["claude-opus-4-8-bedrock"] == ["bedrock/us.anthropic.claude-opus-4-8"]
    assert after.count("- claude-opus-4-8: [") == 1
    assert "# claude-sonnet-4-20250514: Anthropic only (legacy on Bedrock): no Bedrock fallback" in after
    assert f">> wrote {work.config}" in result.stdout and "config.yaml.bak" in result.stdout
    seen = json.loads((work.root / "state" / "models-seen.json").read_text())
    assert NEW_MODEL in seen["anthropic"]["seen"] and f"us.{NEW_BEDROCK}" in seen["bedrock"]["seen"]


def test_second_update_changes_nothing_and_show_lists_every_model(updated):
    work, _, _ = updated
    text = work.config.read_text()
    again = work.run("update")
    assert again.returncode == 0 and "is up to date: nothing written" in again.stdout
    assert work.config.read_text() == text
    shown = work.run("show")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split() == ["PUBLIC", "NAME", "ANTHROPIC", "ID", "BEDROCK", "ID", "FALLBACK",
                                "ANTHROPIC", "SEEN", "BEDROCK", "SEEN"]
    rows = {cells[0]: cells for cells in (re.split(r" {2,}", line) for line in lines[1:]) if len(cells) > 3}
    assert rows[NEW_MODEL][1:4] == [NEW_MODEL, f"us.{NEW_BEDROCK}", "yes"]
    assert rows[NEW_MODEL][4].startswith("yes 20") and rows[NEW_MODEL][5].startswith("yes 20")
    assert rows["claude-sonnet-4-20250514"][2:4] == ["-", "none"]  # legacy on Bedrock: no fallback
    assert rows["my-local-llm *"][1:4] == ["-", "-", "claude-haiku-4-5"]
    assert rows["claude-opus"][1] == NEW_MODEL
    assert "Bedrock: listed" in shown.stdout


def test_dry_run_prints_the_diff_and_writes_nothing(sims, tmp_path):
    work = Workspace(tmp_path / "ws")
    work.write_env(sims.anthropic_url, sims.bedrock_url)
    before = work.config.read_bytes()
    result = work.run("update", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"+  - model_name: {NEW_MODEL}\n" in result.stdout
    assert f"+    - {NEW_MODEL}: [{NEW_MODEL}-bedrock]\n" in result.stdout
    assert f"Would write {work.config}" in result.stdout
    assert work.config.read_bytes() == before
    assert not (work.root / "config.yaml.bak").exists() and not (work.root / "state").exists()


def test_markers_removed_is_one_line_error(sims, tmp_path):
    text = (PROJECT_DIR / "config.yaml").read_text()
    work = Workspace(tmp_path / "ws", text.replace("  # <<< managed by make update-models: models <<<\n", ""))
    work.write_env(sims.anthropic_url, sims.bedrock_url)
    result = work.run("update")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "marker" in result.stderr and "git show HEAD:config.yaml" in result.stderr


# --- partial failures --------------------------------------------------------------------

def test_anthropic_unreachable_keeps_its_entries_and_updates_bedrock(updated, old_sims, tmp_path):
    plain, _ = old_sims
    work = copy_of(updated, tmp_path)
    before = work.config.read_text()
    work.write_env(f"http://127.0.0.1:{free_port()}", plain.bedrock_url)  # Bedrock no longer has the new model
    result = work.run("update")
    assert result.returncode == 0, result.stderr
    assert "warning: Anthropic:" in result.stderr and "unreachable" in result.stderr
    assert "ANTHROPIC_API_BASE" in result.stderr and "kept the" in result.stderr
    after = work.config.read_text()
    assert managed_config.managed_ids(after, work.config, "anthropic") == \
        managed_config.managed_ids(before, work.config, "anthropic")
    config = configfile.load(work.config)
    assert NEW_MODEL in config.deployments and NEW_MODEL not in config.fallbacks
    assert f"# {NEW_MODEL}: Anthropic only (Bedrock does not offer it in us-west-2)" in after
    assert outside_managed(after) == outside_managed(before)


@pytest.mark.parametrize("failure", ["expired", "sso-not-signed-in", "access-denied"])
def test_bedrock_failure_keeps_its_entries_and_names_the_fix(updated, old_sims, sims, tmp_path, failure):
    work = copy_of(updated, tmp_path)
    before = work.config.read_text()
    bedrock_url = old_sims[1].bedrock_url if failure == "access-denied" else sims.bedrock_url
    extra = {"expired": {"AWS_SESSION_TOKEN": "expired-token"},
             "sso-not-signed-in": {"AWS_PROFILE": "dev", "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None},
             "access-denied": {}}[failure]
    aws = work.root / "home" / ".aws"
    aws.mkdir()
    (aws / "config").write_text("[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n"
                                "sso_role_name = Dev\n[sso-session corp]\n"
                                "sso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n")
    work.write_env(sims.anthropic_url, bedrock_url, **extra)
    result = work.run("update")
    assert result.returncode == 0, result.stderr
    assert work.config.read_text() == before  # Anthropic unchanged, Bedrock kept: nothing to write
    expected = {"expired": ["ExpiredTokenException", "`make start`"],
                "sso-not-signed-in": ["AWS profile dev", "SSOTokenLoadError", "`make start`"],
                "access-denied": ["AccessDeniedException", "bedrock:ListFoundationModels", "AWS_PROFILE"]}[failure]
    warning = next(line for line in result.stderr.splitlines() if line.startswith("warning: Bedrock:"))
    assert all(word in warning for word in expected), warning
    shown = work.run("show")
    assert "Bedrock: last listing" in shown.stdout and "FAILED" in shown.stdout


def test_anthropic_rejecting_the_key_names_the_variable(updated, sims, tmp_path):
    work = copy_of(updated, tmp_path)
    before = work.config.read_text()
    work.write_env(sims.anthropic_url, sims.bedrock_url, ANTHROPIC_API_KEY="not-a-key")
    result = work.run("update")
    assert result.returncode == 0 and work.config.read_text() == before
    assert "401 authentication_error" in result.stderr and "ANTHROPIC_API_KEY in .env" in result.stderr


def test_nothing_listed_exits_non_zero_and_keeps_the_file(updated, tmp_path):
    work = copy_of(updated, tmp_path)
    before = work.config.read_bytes()
    closed = f"http://127.0.0.1:{free_port()}"
    work.write_env(closed, closed)
    result = work.run("update")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("error: neither Anthropic nor Bedrock could be listed")
    assert work.config.read_bytes() == before and not (work.root / "config.yaml.bak").exists()


def test_result_rejected_by_validation_leaves_the_file(updated, tmp_path):
    """A hand edit that breaks the whole file is caught before anything is replaced."""
    work = copy_of(updated, tmp_path)
    text = work.config.read_text().replace("    - my-local-llm: [claude-haiku-4-5]\n",
                                           "    - my-local-llm: [no-such-model]\n")
    work.config.write_text(text)
    with pytest.raises(ToolkitError, match="no-such-model is not a model_name.*unchanged"):
        managed_config.replace(work.config, text + "\n")
    assert work.config.read_text() == text and not (work.root / "config.yaml.bak").exists()
    assert [p.name for p in work.root.iterdir() if p.name.startswith(".config")] == []  # no temp file left


# --- upstreams that dropped models the user's own entries name ------------------------------

SONNET = "claude-sonnet-4-6"
# fallback-test as config.yaml shipped it before update-models managed it: outside the markers
OLD_FALLBACK_TEST = ("  - model_name: fallback-test\n    litellm_params:\n      model: anthropic/claude-haiku-4-5-20251001\n"
                     "      api_base: http://127.0.0.1:9\n      api_key: os.environ/GATEWAY_ANTHROPIC_CREDENTIAL\n")


@pytest.fixture(scope="module")
def sonnet_sims():
    """Anthropic and Bedrock offering Sonnet 4.6 only: Haiku and Opus are gone."""
    with SimulatorThread(anthropic_models=SONNET, bedrock_models=f"anthropic.{SONNET}", **SIM_OPTIONS) as running:
        yield running


def old_style_config() -> str:
    """The hand-edited config with fallback-test where it used to be: the user's own part."""
    text = hand_edited_config()
    managed = re.search(r"  # fallback-test \(.*\n(    .*\n|  - model_name: fallback-test\n)+", text)
    text = text.replace(managed[0], "").replace("    - fallback-test: [claude-haiku-bedrock]\n", "")
    text = text.replace("  # <<< managed by make update-models: models <<<\n",
                        "  # <<< managed by make update-models: models <<<\n" + OLD_FALLBACK_TEST)
    return text.replace("    # <<< managed by make update-models: fallbacks <<<\n",
                        "    # <<< managed by make update-models: fallbacks <<<\n"
                        "    - fallback-test: [claude-haiku-bedrock]\n")


def test_shipped_config_follows_upstreams_that_offer_sonnet_only(sonnet_sims, tmp_path):
    """fallback-test is managed: it moves to the cheapest model both upstreams still offer."""
    work = Workspace(tmp_path / "ws")
    work.write_env(sonnet_sims.anthropic_url, sonnet_sims.bedrock_url)
    before = work.config.read_text()
    result = work.run("update")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    after = work.config.read_text()
    assert outside_managed(after) == outside_managed(before)
    config = configfile.load(work.config)
    assert config.fallbacks["fallback-test"] == ["claude-sonnet-bedrock"]
    assert config.deployments["fallback-test"] == [f"anthropic/{SONNET}"]
    assert config.deployments["claude-sonnet-bedrock"] == [f"bedrock/us.anthropic.{SONNET}"]
    assert "claude-haiku-bedrock" not in config.deployments and "claude-opus" not in config.deployments
    (test_entry,) = [e for e in config.data["model_list"] if e["model_name"] == "fallback-test"]
    assert test_entry["litellm_params"]["api_base"] == "http://127.0.0.1:9"
    bedrock = [e["litellm_params"] for e in config.data["model_list"] if e["litellm_params"]["model"].startswith("bedrock/")]
    assert bedrock and all(p["additional_drop_params"] == ["parallel_tool_calls"] for p in bedrock)


def test_users_entries_naming_dropped_models_are_named_and_the_rest_is_written(sonnet_sims, tmp_path):
    work = Workspace(tmp_path / "ws", old_style_config())
    work.write_env(sonnet_sims.anthropic_url, sonnet_sims.bedrock_url)
    before = work.config.read_text()
    result = work.run("update")
    assert result.returncode == 0, result.stderr
    after = work.config.read_text()
    assert outside_managed(after) == outside_managed(before)  # the user's entries, untouched
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    lines = before.splitlines()
    by_entry = {}
    for warning in warnings:
        line = int(re.search(r" line (\d+): ", warning)[1])
        by_entry[lines[line - 1].strip()] = warning
    assert set(by_entry) == {"- my-local-llm: [claude-haiku-4-5]", "- fallback-test: [claude-haiku-bedrock]",
                             "- claude-opus-4-8: [claude-opus-4-8-bedrock, claude-opus-4-7]"}, warnings
    assert "replace claude-haiku-4-5 with claude-sonnet in it" in by_entry["- my-local-llm: [claude-haiku-4-5]"]
    assert "delete your own fallback-test" in by_entry["- fallback-test: [claude-haiku-bedrock]"]
    config = configfile.load(work.config)  # valid: the names they use are kept, marked
    assert config.deployments["claude-haiku-4-5"] == ["anthropic/claude-haiku-4-5-20251001"]
    assert config.deployments["claude-haiku-bedrock"] == ["bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0"]
    assert "# claude-haiku-4-5: kept: your own entry" in after
    assert "claude-opus-4-6" not in config.deployments and "claude-sonnet-5" not in config.deployments
    assert config.fallbacks["claude-sonnet"] == ["claude-sonnet-bedrock"]  # everything else is written
    assert after.count("model_name: fallback-test") == 1  # the user's own, not a second one
    again = work.run("update")
    assert again.returncode == 0 and "is up to date: nothing written" in again.stdout
    assert len([line for line in again.stderr.splitlines() if line.startswith("warning:")]) == len(warnings)
