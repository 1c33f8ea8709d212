"""Strings of an exact length that a regular expression matches, built from its parse tree (Python's
own parser, re._parser), so that boundary tests can be generated from a pattern instead of written:
the longest string a pattern accepts, one a character longer, and each bounded quantifier taken at
its edges. Lookarounds and anchors consume nothing and are left out while building; the caller
checks the result against the whole pattern."""

import re
import sys
from functools import lru_cache
from re import _constants as sre
from re import _parser as sre_parse

# The characters a string is built from, in order of preference: plain ones first.
POOL = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.+/ "
REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
ZERO_WIDTH = (sre.ASSERT, sre.ASSERT_NOT, sre.AT)
CATEGORIES = {sre.CATEGORY_DIGIT: str.isdigit, sre.CATEGORY_NOT_DIGIT: lambda c: not c.isdigit(),
              sre.CATEGORY_SPACE: str.isspace, sre.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
              sre.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
              sre.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_")}


def in_class(items, char):
    """Whether `char` is in the character class of an IN node."""
    negate, found = False, False
    for op, av in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            found |= ord(char) == av
        elif op is sre.RANGE:
            found |= av[0] <= ord(char) <= av[1]
        elif op is sre.CATEGORY:
            found |= CATEGORIES[av](char)
        else:
            raise NotImplementedError(op)
    return found != negate


def quantifiers(pattern):
    """The bounded quantifiers of a pattern outside lookarounds, each as its path in the parse tree
    with its (min, max): the limits a boundary test takes on both sides."""
    found = []

    def walk(items, path):
        for at, (op, av) in enumerate(items):
            here = path + (at,)
            if op in REPEATS:
                if av[1] != sre.MAXREPEAT or av[0] > 0:
                    found.append((here, av[0], av[1]))
                walk(av[2], here + (2,))
            elif op is sre.SUBPATTERN:
                walk(av[3], here + (3,))
            elif op is sre.BRANCH:
                for branch_at, branch in enumerate(av[1]):
                    walk(branch, here + (1, branch_at))
    walk(sre_parse.parse(pattern), ())
    return found


class Builder:
    """Builds a string of a given length from a pattern's consuming part. `pinned` ({path: count})
    makes a quantifier repeat exactly `count` times; `slack` lets every bounded quantifier repeat one
    time more than its maximum."""

    def __init__(self, pattern, pinned=None, slack=0):
        self.tree = sre_parse.parse(pattern)
        self.pinned, self.slack = pinned or {}, slack
        self.paths, self.items = {}, {}
        self._index(self.tree, ())
        self.sequence = lru_cache(maxsize=None)(self._sequence)
        self.repeat = lru_cache(maxsize=None)(self._repeat)

    def _index(self, items, path):
        self.paths[id(items)], self.items[id(items)] = path, items
        for at, (op, av) in enumerate(items):
            if op in REPEATS:
                self._index(av[2], path + (at, 2))
            elif op is sre.SUBPATTERN:
                self._index(av[3], path + (at, 3))
            elif op is sre.BRANCH:
                for branch_at, branch in enumerate(av[1]):
                    self._index(branch, path + (at, 1, branch_at))

    def build(self, length):
        """A string of `length` characters, or None when the consuming part has none that long."""
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20 * length + 1000))
        try:
            return self.sequence(id(self.tree), 0, length)
        finally:
            sys.setrecursionlimit(limit)

    def _sequence(self, key, start, length):
        items = self.items[key]
        if start == len(items):
            return "" if length == 0 else None
        op, av = items[start]
        for size in range(length + 1):
            head = self._node(key, start, op, av, size)
            if head is not None:
                tail = self.sequence(key, start + 1, length - size)
                if tail is not None:
                    return head + tail
        return None

    def _node(self, key, at, op, av, size):
        if op in ZERO_WIDTH:
            return "" if size == 0 else None
        if op is sre.LITERAL:
            return chr(av) if size == 1 else None
        if op is sre.NOT_LITERAL:
            return next(c for c in POOL if ord(c) != av) if size == 1 else None
        if op is sre.ANY:
            return POOL[0] if size == 1 else None
        if op is sre.IN:
            return next((c for c in POOL if in_class(av, c)), None) if size == 1 else None
        if op is sre.SUBPATTERN:
            return self.sequence(id(av[3]), 0, size)
        path = self.paths[key] + (at,)
        if op is sre.BRANCH:  # the branch that holds a pinned quantifier, else any
            branches = [branch for branch_at, branch in enumerate(av[1]) if self._holds_pin(path + (1, branch_at))]
            return next((found for branch in branches or av[1]
                         if (found := self.sequence(id(branch), 0, size)) is not None), None)
        if op in REPEATS:
            low, high, sub = av
            if path in self.pinned:
                low = high = self.pinned[path]
            else:
                if self._holds_pin(path):  # a pinned quantifier inside counts only if this one repeats
                    low = max(low, 1)
                if high != sre.MAXREPEAT:
                    high += self.slack
            return self.repeat(id(sub), low, high, size)
        raise NotImplementedError(op)

    def _holds_pin(self, path):
        return any(pinned[:len(path)] == path for pinned in self.pinned)

    def _repeat(self, key, low, high, length):
        if length == 0 and low == 0:
            return ""
        if high == 0:
            return None
        rest_high = high if high == sre.MAXREPEAT else high - 1
        for size in range(0 if low else 1, length + 1):
            head = self.sequence(key, 0, size)
            if head is not None:
                tail = self.repeat(key, max(low - 1, 0), rest_high, length - size)
                if tail is not None:
                    return head + tail
        return None


def matches(pattern, text):
    return re.fullmatch(pattern, text) is not None


def shortest(pattern, builder, longest=600):
    """The shortest string `builder` makes that the whole pattern matches, or None up to `longest`."""
    return next((text for length in range(longest + 1)
                 if (text := builder.build(length)) is not None and matches(pattern, text)), None)


def width_bound(tree):
    """The most characters a match can have, as far as the parse tree tells: the consuming part's
    width, or less when a lookahead at the start bounds the whole (`(?=.{1,253}\\Z)`)."""
    bound = tree.getwidth()[1]
    for op, av in tree:
        if op is sre.ASSERT and av[0] == 1:
            bound = min(bound, av[1].getwidth()[1])
    return bound


def length_edge(pattern, longest=600):
    """(the longest string the pattern matches, a string one character longer, which it cannot match
    (width_bound is an upper bound), built to its structure where the pattern allows), or None when
    it matches strings of `longest` characters."""
    strict = Builder(pattern)
    for length in range(min(longest, width_bound(strict.tree)), -1, -1):
        text = strict.build(length)
        if text is not None and matches(pattern, text):
            break
    else:
        raise AssertionError(f"{pattern} matches nothing")
    if length == longest:
        return None
    past = strict.build(length + 1)
    if past is None:
        past = Builder(pattern, slack=1).build(length + 1)
    if past is None:
        past = text + text[-1]
    return text, past
