"""Where a final answer sits in a MATH solution or completion: the last `\\boxed{…}`."""
from __future__ import annotations

import re

_BOX_COMMANDS = ("\\boxed", "\\fbox")


def extract_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{…}`` / ``\\fbox{…}`` (nested braces allowed), or of the
    brace-less Hendrycks form ``\\boxed 2`` (up to ``$`` or whitespace). None when there is none
    or its braces never close."""
    start = max(text.rfind(command) for command in _BOX_COMMANDS)
    if start < 0:
        return None
    command = next(command for command in _BOX_COMMANDS if text.startswith(command, start))
    rest = text[start + len(command):]
    body = rest.lstrip()
    if body.startswith("{"):
        depth = 0
        for brace in re.finditer(r"[{}]", body):
            depth += 1 if brace.group() == "{" else -1
            if depth == 0:
                return body[1:brace.start()].strip()
        return None
    if rest[:1].isspace():  # "\\boxed 2$": up to the dollar or the next space
        return re.match(r"[^$\s]*", body).group() or None
    return None  # "\\boxedfoo" is another command, not a box
