"""Small helpers shared by the rule modules."""

from __future__ import annotations

from collections.abc import Iterator

from spin_audit.loader import YNode
from spin_audit.stack import TRUE_WORDS

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


def truthy(node: YNode | None) -> bool:
    """True for `true`, and for the strings Rancher would also take as true."""
    if node is None or not node.is_scalar:
        return False
    if node.value is True:
        return True
    return isinstance(node.value, str) and node.value.strip().lower() in TRUE_WORDS


def path_text(path: tuple[Any, ...]) -> str:
    """('secrets', 0, 'uid') -> 'secrets[0].uid'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def shown(node: YNode, limit: int = 60) -> str:
    """A short, quoted rendering of what was written."""
    if node.is_map:
        return "a mapping"
    if node.is_seq:
        return "a list"
    if node.value is None:
        return "nothing (null)"
    text = node.raw if node.raw is not None else str(node.value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)


def walk_scalars(node: YNode, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], YNode]]:
    if node.is_map:
        for key, child in node.items():
            yield from walk_scalars(child, path + (key,))
    elif node.is_seq:
        for index, child in enumerate(node.value):
            yield from walk_scalars(child, path + (index,))
    else:
        yield path, node
