"""`make auth-status`: every credential the toolkit uses, its kind, where it comes from
and its expiry where knowable (secrets masked; no provider is called)."""
from typing import List

from scripts.auth import credentials
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, entry_point


def _body(argv: List[str]) -> int:
    if argv:
        raise ToolkitError("auth-status takes no arguments: run `make auth-status`")
    print("\n".join(credentials.all_rows(settings_mod.load(validate=False))))
    return 0


main = entry_point(__name__, _body)
