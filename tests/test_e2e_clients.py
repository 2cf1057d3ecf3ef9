"""End to end with the real clients: the real proxy from the project's config.yaml,
the simulated upstreams, and the anthropic SDK (create, stream, a tool round trip,
count_tokens), the openai SDK (chat create and stream; /v1/responses create, stream and a
tool round trip with tool_choice + parallel_tool_calls), the real Claude Code CLI and the
real Codex CLI (`codex exec`, wire_api "responses").

For each client and each primary fault (e2e_matrix.FAULTS): a complete answer
from Bedrock, one primary call per window, Anthropic again after it. When both
upstreams fail: a well-formed error, fast. Mid-answer faults: a clean error or a
complete answer, never a truncated one presented as complete. The suite's proxy
gets short timeouts (GATEWAY_STREAM_TIMEOUT / GATEWAY_REQUEST_TIMEOUT) so "slow
first byte" fails over in seconds. `pytest -s` prints the fault x client table.
"""
import dataclasses
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import claude_cli
import codex_cli
import pytest
from e2e_clients import CLIENTS, FULL_REPLY, Target
from e2e_matrix import AT_ONCE, BY_NAME, COOLDOWN_TIME, FAULTS, ModelPool, T, W, run_fault, upstream_models
from harness import start_stack

from scripts.core import configfile, paths

pytestmark = pytest.mark.e2e
TABLE: list = []  # (fault, client, outcome, primary calls per phase, seconds)
CELLS = [(f.name, c) for f in FAULTS for c in f.clients]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("e2e-clients"),
                          extra_env={"GATEWAY_STREAM_TIMEOUT": str(T), "GATEWAY_REQUEST_TIMEOUT": str(T)})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def target(stack, tmp_path_factory):
    return Target(stack.base_url, stack.master_key, claude=claude_cli.claude_binary(),
                  codex=codex_cli.codex_binary(), home=tmp_path_factory.mktemp("cli-homes"))


@pytest.fixture(scope="module")
def pool():
    return ModelPool(upstream_models())


@pytest.fixture(scope="module")
def matrix(stack, target, pool):
    done: dict = {}

    def cells_of(fault_name: str) -> dict:
        if fault_name not in done:  # a fault that could not run fails each of its cells, run once
            try:
                done[fault_name] = run_fault(stack, target, pool, BY_NAME[fault_name])
            except Exception as error:  # noqa: BLE001 - re-raised for every cell below
                done[fault_name] = error
        if isinstance(done[fault_name], Exception):
            raise done[fault_name]
        return done[fault_name]
    return cells_of


class TablePrinter:
    """Prints TABLE in pytest's terminal summary (with -s or -v)."""

    @staticmethod
    def pytest_terminal_summary(terminalreporter, config):
        if TABLE and (config.getoption("capture") == "no" or config.getoption("verbose") > 0):
            terminalreporter.section("fault x client (primary calls: faulted, in window, after)")
            for row in TABLE:
                terminalreporter.write_line(" | ".join(str(x) for x in row))


@pytest.fixture(scope="module", autouse=True)
def report(request):
    if not request.config.pluginmanager.has_plugin("e2e-table"):
        request.config.pluginmanager.register(TablePrinter(), "e2e-table")


def test_config_has_the_settings_the_fallback_relies_on():
    """Timeouts the suite (and a user) set through the environment, and Bedrock deployments
    that never cool down: LiteLLM 1.106 can cool Bedrock down for Anthropic's failure
    (openai-stream, overloaded_error before content) and would then answer 429 to everyone."""
    config = configfile.load(paths.config_file())
    data = config.data
    hot = [e["model_name"] for e in data["model_list"] if e["model_name"] in
           {t for targets in config.fallbacks.values() for t in targets}
           and (e.get("model_info") or {}).get("cooldown_time") != 0]
    assert hot == [], f"config.yaml: give these model_info: {{cooldown_time: 0}}: {hot}"
    keeping = [e["model_name"] for e in data["model_list"] if e["litellm_params"]["model"].startswith("bedrock/")
               and e["litellm_params"].get("additional_drop_params") != ["parallel_tool_calls"]]
    assert keeping == [], f"config.yaml: give these additional_drop_params: [parallel_tool_calls]: {keeping}"
    assert data["router_settings"].get("stream_timeout") == "os.environ/GATEWAY_STREAM_TIMEOUT", \
        "config.yaml: add router_settings.stream_timeout: os.environ/GATEWAY_STREAM_TIMEOUT"
    assert data["litellm_settings"].get("request_timeout") == "os.environ/GATEWAY_REQUEST_TIMEOUT", \
        "config.yaml: add litellm_settings.request_timeout: os.environ/GATEWAY_REQUEST_TIMEOUT"


@pytest.mark.parametrize("client", list(CLIENTS))
def test_normal_path_is_answered_by_anthropic(stack, target, pool, client):
    stack.reset()
    (model,) = pool.lease(1)
    outcome = CLIENTS[client](target, model)
    TABLE.append(("none", client, outcome.summary(), len(stack.primary_calls()), f"{outcome.seconds:.1f}"))
    assert outcome.complete and outcome.answered_by == "anthropic", outcome
    assert len([r for r in stack.primary_calls() if r["path"] == "/v1/messages"]) == outcome.requests
    assert stack.fallback_calls() == []


def test_a_long_stream_is_never_cut_by_the_stream_timeout(stack, target, pool):
    """GATEWAY_STREAM_TIMEOUT counts silence per read, not the whole answer: a stream
    taking several times T, with shorter gaps, comes whole from Anthropic."""
    stack.reset()
    streams = ("sdk-stream", "openai-stream", "claude-cli")
    models = dict(zip(streams, pool.lease(len(streams))))
    stack.sims.anthropic.set_fault("trickle", delay=T * 0.15, models=[pool.upstream[m] for m in models.values()])
    with ThreadPoolExecutor(len(models)) as workers:
        outcomes = dict(zip(models, workers.map(lambda c: CLIENTS[c](target, models[c]), models)))
    stack.reset()
    for client, outcome in outcomes.items():
        TABLE.append(("long stream (trickle)", client, outcome.summary(), outcome.requests, f"{outcome.seconds:.1f}"))
        assert outcome.complete and outcome.answered_by == "anthropic", (client, outcome)
    assert min(o.seconds for o in outcomes.values()) > T + 1, "the stream was not slower than the timeout"


def test_both_upstreams_failing_give_a_well_formed_error_fast(stack, target, pool):
    names = list(CLIENTS)
    quiet = dataclasses.replace(target, cli_retries=0)  # no client-side retries
    outcomes = {}
    for group in (names[:AT_ONCE], names[AT_ONCE:]):  # each client on a model id of its own
        stack.reset()
        models = dict(zip(group, pool.lease(len(group))))
        # every model fails: Claude Code answers a 429 on an older Opus by asking its default Opus
        stack.sims.anthropic.set_fault("429", retry_after=3)
        stack.sims.bedrock.set_fault("throttle")
        try:
            outcomes.update({c: CLIENTS[c](quiet, m) for c, m in models.items()})
        finally:
            stack.reset()
            for m in models.values():
                pool.release(m, 3)
    for client, outcome in outcomes.items():
        TABLE.append(("both upstreams fail", client, outcome.summary(), "-", f"{outcome.seconds:.1f}"))
    for client, outcome in outcomes.items():
        assert outcome.error and not outcome.hung, (client, outcome)
        assert outcome.seconds < 15, (client, outcome.seconds)
        assert "rate" in outcome.error.lower() or "429" in outcome.error, (client, outcome.error)


def test_count_tokens_on_the_primary_and_during_a_cooldown(stack, target, pool):
    """count_tokens goes to Anthropic; while the model cools down LiteLLM answers with a
    local estimate and calls neither upstream (Bedrock's CountTokens is never used)."""
    stack.reset()
    (model,) = pool.lease(1)
    client = target.anthropic()
    counted = client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "hello there"}])
    assert counted.input_tokens > 0 and [r["path"] for r in stack.sims.anthropic.requests()] == [
        "/v1/messages/count_tokens"]
    stack.sims.anthropic.set_fault("429", retry_after=3, models=[pool.upstream[model]])
    client.messages.create(model=model, max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    stack.reset()
    started = time.monotonic()
    estimate = client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "hello there"}])
    pool.release(model, 3)
    assert estimate.input_tokens > 0 and time.monotonic() - started < 5
    assert getattr(estimate, "litellm_count_source", None) == "local_estimate"
    assert stack.sims.anthropic.requests() == [] and stack.sims.bedrock.requests() == []


INET_ADDRESS = re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)'
                          r'|sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, "([^"]+)"')


def inet_peers(strace_log: str) -> set:
    """(address, port) of every IPv4/IPv6 address a traced process connected or sent to."""
    return {(m[2] or m[4], int(m[1] or m[3])) for m in INET_ADDRESS.finditer(strace_log)}


def test_codex_cli_sends_its_tools_and_reaches_nothing_but_the_proxy(stack, target, pool, tmp_path):
    """The pinned Codex CLI, traced: every connection goes to the proxy (no DNS, no update
    check, no analytics), and what reaches Anthropic carries its tools and tool_choice."""
    strace = shutil.which("strace")
    assert strace, "strace not found: apt-get install strace (.ci/run installs it)"
    stack.reset()
    (model,) = pool.lease(1)
    log = tmp_path / "strace.log"
    result = codex_cli.run(target.codex, target.base_url, target.master_key, model, "Say hello.", tmp_path,
                           wrapper=[strace, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg", "-o", str(log)])
    assert result.completed and not result.error, codex_cli.transcript(result)
    assert result.messages == [f"Hello from simulated Anthropic (model {pool.upstream[model]}). {FULL_REPLY}"]
    assert inet_peers(log.read_text()) == {("127.0.0.1", stack.port)}  # DNS (port 53) would show here
    (call,) = stack.primary_calls()
    assert call["stream"] and call["tool_choice"]["type"] == "auto" and "exec_command" in call["tools"]
    assert stack.fallback_calls() == []


def test_codex_cli_runs_a_tool_bedrock_asked_for_when_anthropic_rate_limits(stack, target, pool):
    """Codex's tool_choice + parallel_tool_calls on the fallback: Bedrock's tool call is run
    by Codex, and the result goes back to Bedrock (Anthropic cools down meanwhile)."""
    stack.reset()
    (model,) = pool.lease(1)
    stack.sims.anthropic.set_fault("429", retry_after=W, models=[pool.upstream[model]])
    try:
        result = codex_cli.run(target.codex, target.base_url, target.master_key, model, "Please use the tool.",
                               target.home)
    finally:
        stack.sims.anthropic.clear_fault()
        pool.release(model, W)
    TABLE.append(("429 (tool call)", "codex-cli", (result.messages or [result.error])[0][:60], "-", "-"))
    assert result.completed and not result.error, codex_cli.transcript(result)
    (command,) = result.commands
    assert command["command"].endswith("sim") and command["exit_code"] == 127  # the simulator's tool input
    (answer,) = result.messages
    assert answer.startswith("Hello from simulated Bedrock") and "Tool result received:" in answer
    assert "sim: command not found" in answer
    assert [r["status"] for r in stack.primary_calls()] == [429]
    bedrock = stack.fallback_calls()
    assert [(r["status"], r["rejected"]) for r in bedrock] == [(200, None), (200, None)]
    assert all(r["tool_choice"] == {"type": "auto"} and "exec_command" in r["tools"] for r in bedrock)


@pytest.mark.parametrize("fault_name,client", CELLS, ids=[f"{f}-{c}" for f, c in CELLS])
def test_client_gets_a_whole_answer_despite_the_fault(matrix, fault_name, client):
    cell = matrix(fault_name)[client]
    fault = BY_NAME[fault_name]
    TABLE.append((fault_name, client, " / ".join(o.summary() for o in cell.outcomes),
                  " / ".join(map(str, cell.primary)), " / ".join(f"{o.seconds:.1f}" for o in cell.outcomes)))
    assert not any(o.hung for o in cell.outcomes), cell.outcomes
    assert not any(o.truncated for o in cell.outcomes), f"answer cut short but not reported: {cell.outcomes}"
    if fault.clean:
        first = cell.outcomes[0]
        assert cell.primary[0] >= 1, "the faulted request never reached Anthropic"
        assert first.complete or fault.clean in first.error.lower(), f"error should say what failed: {first}"
        return
    faulted, in_window, *after = cell.outcomes
    for outcome in (faulted, in_window):
        assert outcome.complete and outcome.answered_by == "bedrock", outcome
    if cell.cooldown is None:  # LiteLLM cools the deployment down for cooldown_time, or not at all
        assert cell.primary[0] == faulted.requests and cell.primary[1] in (0, in_window.requests), cell.primary
    elif cell.cooldown:
        assert cell.primary[:2] == [1, 0], f"one primary call per window, got {cell.primary}"
        assert cell.last_in_window() < cell.window_start + cell.cooldown, "in-window request came too late"
    else:  # LiteLLM does not cool down after a failure inside a 200 stream: every request tries Anthropic
        assert cell.primary[:2] == [faulted.requests, in_window.requests], cell.primary
    if (cell.cooldown or 0) >= COOLDOWN_TIME:
        return  # recovery after cooldown_time (60 s) is not waited for
    (recovered,) = after
    if cell.cooldown is None and recovered.answered_by == "bedrock":
        assert recovered.complete and cell.primary[2] == 0, (recovered, cell.primary)  # cooling down after all
        return
    assert recovered.complete and recovered.answered_by == "anthropic", f"primary serves again: {recovered}"
    assert cell.primary[2] == recovered.requests, cell.primary
