"""Mistakes in .env found at `make up`: a misspelt name, an AWS profile that does not exist."""
import socket
import subprocess
import sys

from conftest import API_KEY, MASTER_KEY, PROJECT_DIR

from scripts.core import env_names
from scripts.services import sso_profile


def up(env_file, **values):
    """`make up` on a port something else holds: every check runs, nothing starts."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        env_file(LITELLM_MASTER_KEY=MASTER_KEY, LITELLM_PORT=str(holder.getsockname()[1]), **values)
        return subprocess.run([sys.executable, "-m", "scripts.proxy", "up"], cwd=PROJECT_DIR,
                              capture_output=True, text=True, timeout=60)


def test_a_misspelt_name_is_named_with_the_known_one_before_the_error_it_causes(env_file):
    result = up(env_file, ANTROPIC_API_KEY=API_KEY)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert lines[0].startswith("warning: ANTROPIC_API_KEY: did you mean ANTHROPIC_API_KEY?")
    assert lines[-1] == "error: no Anthropic credential in .env: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN"
    assert API_KEY not in result.stderr


def test_a_misspelt_region_is_a_warning_at_up(env_file):
    result = up(env_file, ANTHROPIC_API_KEY=API_KEY, AWS_REGON="eu-west-1")
    assert "warning: AWS_REGON: did you mean AWS_REGION?" in result.stderr


def test_names_far_from_every_known_one_pass_silently():
    names = ["OPENAI_API_KEY", "AWS_ACCESS_KEY_ID", "MY_OWN_SETTING", "MODEL_GLM_API_BSE", "DEEPSEEK_API_KEY"]
    assert env_names.misspelt(names, env_names.known_variables()) == []


def test_every_template_variable_is_known():
    template = env_names.template_names((PROJECT_DIR / ".env.template").read_text())
    assert "ANTHROPIC_API_KEY" in template and "OLLAMA_ALLOW_KEYLESS" in template  # set and commented out
    assert set(template) <= set(env_names.known_variables())


def test_a_missing_aws_profile_is_a_warning_at_up(env_file, isolated):
    result = up(env_file, ANTHROPIC_API_KEY=API_KEY, AWS_PROFILE="dev-sso")
    assert ("warning: the Bedrock fallback has no credentials: AWS profile 'dev-sso' (AWS_PROFILE in .env) "
            f"is not in {isolated / 'home' / '.aws' / 'config'}") in result.stderr
    assert "in use by" in result.stderr.strip().splitlines()[-1]  # the checks ran, the start was refused


def test_a_defined_profile_passes(isolated):
    aws = isolated / "home" / ".aws"
    aws.mkdir()
    (aws / "config").write_text("[profile dev-sso]\nsso_start_url = https://x.awsapps.com/start\n"
                                "sso_region = us-east-1\n")
    (aws / "credentials").write_text("[static]\naws_access_key_id = AKIAEXAMPLE\n")
    assert sso_profile.profile_problem("dev-sso") is None
    assert sso_profile.profile_problem("static") is None
    assert sso_profile.profile_problem(None) is None
    assert "'other'" in sso_profile.profile_problem("other")
