"""Which upstreams the proxy will use: derived from .env and config.yaml only."""
from typing import List, Optional

from scripts.core.configfile import ProxyConfig
from scripts.core.model_specs import PROVIDER_KEY_VARS, ModelSpec
from scripts.core.settings import ANTHROPIC_DEFAULT_BASE, Settings, mask

LOGIN_PROVIDERS = {"chatgpt": "login-chatgpt", "github_copilot": "login-copilot"}

# The geography prefix of Bedrock cross-region inference profiles by region.
REGION_PREFIXES = (("us-gov-", "us-gov."), ("us-", "us."), ("ca-", "us."), ("eu-", "eu."),
                   ("ap-", "apac."), ("sa-", "us."))


def profile_prefix(region: Optional[str]) -> Optional[str]:
    for start, prefix in REGION_PREFIXES:
        if region and region.startswith(start):
            return prefix
    return None


def bedrock_model_ids(config: ProxyConfig) -> List[str]:
    return [m.split("/", 1)[1] for models in config.deployments.values()
            for m in models if m.startswith("bedrock/")]


def region_mismatch(config: ProxyConfig, region: Optional[str]) -> Optional[str]:
    """A warning when config.yaml's inference profiles belong to another geography."""
    want = profile_prefix(region)
    if not want:
        return None
    foreign = sorted({i.split(".", 1)[0] + "." for i in bedrock_model_ids(config)
                      if "." in i and not i.startswith(("anthropic.", "global.", want))})
    if foreign:
        return (f"config.yaml uses {', '.join(foreign)} Bedrock inference profiles but AWS_REGION={region} "
                f"needs {want}: run `make update-models`")
    return None


def describe(settings: Settings, config: ProxyConfig) -> List[str]:
    region = settings.get("AWS_REGION")
    bedrock_endpoint = settings.get("AWS_BEDROCK_RUNTIME_ENDPOINT") or (
        f"https://bedrock-runtime.{region}.amazonaws.com" if region else "(AWS_REGION not set)")
    credentials = [f"api-key {mask(settings.api_key)}"] if settings.api_key else []
    if settings.subscription_token:
        credentials.append(f"oauth-token {mask(settings.subscription_token)} (Claude Code's requests only)")
    lines = [
        f"primary  Anthropic  {settings.get('ANTHROPIC_API_BASE') or ANTHROPIC_DEFAULT_BASE}"
        f"  credential: {'; '.join(credentials) or 'none'}",
        f"fallback Bedrock    {bedrock_endpoint}  profile: {settings.get('AWS_PROFILE') or '(default AWS chain)'}"
        f"  region: {region or '(not set)'}",
    ]
    tiers = settings.fallback_tiers
    for spec in settings.model_specs:
        role = f"tier {tiers.index(spec) + 3}" if spec in tiers else "model"
        lines.append(f"{role:<8} {spec.alias}  {spec.upstream_model}  {spec.api_base or '(provider default)'}"
                     f"  credential: {credential_source(settings, spec)}")
    return lines


def credential_source(settings: Settings, spec: ModelSpec) -> str:
    """Where an env-defined model's credential comes from, never the credential itself."""
    if spec.api_key_var:
        return f"{spec.api_key_var} {mask(settings.get(spec.api_key_var))}"
    standard = PROVIDER_KEY_VARS.get(spec.provider)
    if standard:
        return f"{standard} (the provider's variable)"
    if spec.provider in LOGIN_PROVIDERS:
        return f"login (`make {LOGIN_PROVIDERS[spec.provider]}`)"
    return "none configured (LiteLLM's default for the provider)"


def warnings(settings: Settings, config: ProxyConfig) -> List[str]:
    found = []
    if not settings.get("AWS_REGION"):
        found.append("AWS_REGION is not set in .env: the Bedrock fallback cannot work without it")
    mismatch = region_mismatch(config, settings.get("AWS_REGION"))
    if mismatch:
        found.append(mismatch)
    if settings.subscription_token and not settings.api_key:
        found.append("other clients than Claude Code go straight to Bedrock: CLAUDE_CODE_OAUTH_TOKEN carries "
                     "Claude Code's requests only; set ANTHROPIC_API_KEY to give them Anthropic")
    missing = config.without_fallback()
    if missing:
        found.append(f"no Bedrock fallback for: {', '.join(missing)}")
    for pattern in config.wildcards:
        found.append(f"ids matching {pattern} that are not listed go to Anthropic with no Bedrock fallback "
                     "until `make update-models` adds them")
    return found
