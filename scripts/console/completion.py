"""Tab completion of `claude-gateway` for bash, zsh and fish, generated from the command
tree (scripts/console/commands.py), so a new subcommand or flag completes without an edit
here. configure-claude writes the scripts under the user's config directory and the shell
block loads them; remove-claude deletes them. Words only: subcommands, their flags, the
choices of a positional or of --shells; a free value (--model NAME) completes nothing.
"""
from typing import Dict, List

from scripts.console.commands import COMMANDS, PROG, Command, Option

SHELLS = ("bash", "zsh", "fish")
FUNCTION = "_claude_gateway"
HEADER = f"# Completion of `{PROG}` (generated from its command tree by configure-claude; remove-claude deletes it).\n"
VALUE_CHOICES = {"--shells": ("bash", "zsh", "fish")}


def _words(command: Command) -> List[str]:
    words = [w for o in command.options if o.positional for w in o.choices]
    words += [o.flag for o in command.options if not o.positional]
    return words + ["--help"]


def _plain(text: str) -> str:
    """A description safe inside zsh's single quotes and its spec syntax (: and [] are syntax there)."""
    return text.replace("'", "").replace(":", " -").replace("[", "(").replace("]", ")").replace("`", "")


def _fish_text(text: str) -> str:
    """A description inside fish single quotes, where only \\ and \' are escapes."""
    return text.replace("\\", "\\\\").replace("'", "\\'")


def bash() -> str:
    cases = "\n".join(f"    {c.name}) words={_quote_words(_words(c))} ;;" for c in COMMANDS)
    values = "\n".join(f"    {flag}) COMPREPLY=($(compgen -W '{' '.join(v)}' -- \"$cur\")); return ;;"
                       for flag, v in VALUE_CHOICES.items())
    value_flags = " ".join(sorted({o.flag for c in COMMANDS for o in c.options if o.value}))
    names = " ".join(c.name for c in COMMANDS)
    return HEADER + f"""{FUNCTION}() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}} words=
  if [ "$COMP_CWORD" -le 1 ]; then
    COMPREPLY=($(compgen -W '{names} --help' -- "$cur"))
    return
  fi
  case $prev in
{values}
  esac
  case " {value_flags} " in *" $prev "*) COMPREPLY=(); return ;; esac
  case ${{COMP_WORDS[1]}} in
{cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
complete -F {FUNCTION} {PROG}
"""


def _quote_words(words: List[str]) -> str:
    return "'" + " ".join(words) + "'"


def _zsh_spec(option: Option) -> str:
    if option.positional:
        choices = f"({' '.join(option.choices)})" if option.choices else " "
        return f"'{'::' if option.optional else ':'}{option.flag}:{choices}'"
    if option.value:
        choices = VALUE_CHOICES.get(option.flag)
        action = f"({' '.join(choices)})" if choices else " "
        return f"'{option.flag}[{_plain(option.help)}]:{option.value}:{action}'"
    return f"'{option.flag}[{_plain(option.help)}]'"


def zsh() -> str:
    described = "\n".join(f"    '{c.name}:{_plain(c.help)}'" for c in COMMANDS)
    cases = "\n".join(f"    {c.name}) _arguments {' '.join(_zsh_spec(o) for o in c.options)} "
                      f"'--help[show the options]' ;;" if not c.passthrough else
                      f"    {c.name}) _arguments '--help[show its own options]' '*::argument: ' ;;" for c in COMMANDS)
    return f"#compdef {PROG}\n" + HEADER + f"""{FUNCTION}() {{
  local -a commands
  commands=(
{described}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands '{PROG} command' commands
    return
  fi
  shift words
  (( CURRENT-- ))
  case $words[1] in
{cases}
  esac
}}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  {FUNCTION} "$@"
elif (( $+functions[compdef] )); then
  compdef {FUNCTION} {PROG}
fi
"""


def _fish_lines(command: Command) -> List[str]:
    when = f"-n '__fish_seen_subcommand_from {command.name}'"
    lines = [f"complete -c {PROG} -n __fish_use_subcommand -a {command.name} -d '{_fish_text(command.help)}'"]
    for option in command.options:
        if option.positional:
            if option.choices:
                words = " ".join(option.choices)
                lines.append(f"complete -c {PROG} {when} -a '{words}' -d '{_fish_text(option.help)}'")
            continue
        value = ""
        if option.value:
            choices = VALUE_CHOICES.get(option.flag)
            value = " -x" + (f" -a '{' '.join(choices)}'" if choices else "")
        lines.append(f"complete -c {PROG} {when} -l {option.flag[2:]}{value} -d '{_fish_text(option.help)}'")
    return lines


def fish() -> str:
    lines = [f"complete -c {PROG} -f"]
    for command in COMMANDS:
        lines += _fish_lines(command)
    return HEADER + "\n".join(lines) + "\n"


GENERATORS: Dict[str, object] = {"bash": bash, "zsh": zsh, "fish": fish}


def script(shell: str) -> str:
    return GENERATORS[shell]()  # type: ignore[operator]


def file_name(shell: str) -> str:
    """zsh's compinit finds a completion function by its file name on fpath."""
    return {"bash": f"{PROG}.bash", "zsh": FUNCTION, "fish": f"{PROG}.fish"}[shell]
