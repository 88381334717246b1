"""Two texts side by side, changed words marked (revisions, and a file changed on disk).

Lines are matched first (stdlib ``difflib.SequenceMatcher``, no junk heuristics), with
``CONTEXT`` unchanged lines around each change and a gap row between changes. A changed line
is paired with its counterpart and compared word by word (words, runs of spaces and single
punctuation marks are the tokens), so a change shows as ``<del>old words</del>`` on the left
and ``<ins>new words</ins>`` on the right rather than as scattered characters. Every piece of
text is escaped; the result is a ``Markup`` table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from markupsafe import Markup, escape

CONTEXT = 3
TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass
class Row:
    kind: str                 # same | change | delete | insert | gap
    old_number: int | None = None
    old: Markup = Markup("")
    new_number: int | None = None
    new: Markup = Markup("")


def _pieces(a: list[str], b: list[str]) -> list[tuple[bool, str, str]]:
    """(changed, old text, new text) runs of two token lists; the spaces between two changed
    words join the change (one mark for "old words" rather than one per word)."""
    opcodes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    runs = [(tag != "equal", "".join(a[i1:i2]), "".join(b[j1:j2])) for tag, i1, i2, j1, j2 in opcodes]
    merged: list[tuple[bool, str, str]] = []
    for n, (changed, old, new) in enumerate(runs):
        between = 0 < n < len(runs) - 1 and runs[n - 1][0] and runs[n + 1][0]
        if not changed and between and not old.strip():
            changed = True
        if merged and changed and merged[-1][0]:
            merged[-1] = (True, merged[-1][1] + old, merged[-1][2] + new)
        else:
            merged.append((changed, old, new))
    return merged


def words(old: str, new: str) -> tuple[Markup, Markup]:
    """One changed line pair, its differing words wrapped in ``<del>`` and ``<ins>``."""
    left, right = [], []
    for changed, removed, added in _pieces(TOKEN.findall(old), TOKEN.findall(new)):
        if not changed:
            left.append(escape(removed))
            right.append(escape(added))
            continue
        if removed:
            left.append(Markup("<del>%s</del>") % removed)
        if added:
            right.append(Markup("<ins>%s</ins>") % added)
    return Markup("").join(left), Markup("").join(right)


def rows(old_text: str, new_text: str, context: int = CONTEXT) -> list[Row]:
    """The rows of the side-by-side view: changes with ``context`` lines around them."""
    a, b = old_text.splitlines(), new_text.splitlines()
    result: list[Row] = []
    for group in SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        if result:
            result.append(Row("gap"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                result += [Row("same", i + 1, escape(a[i]), j + 1, escape(b[j]))
                           for i, j in zip(range(i1, i2), range(j1, j2))]
                continue
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                if i < i2 and j < j2:
                    old, new = words(a[i], b[j])
                    result.append(Row("change", i + 1, old, j + 1, new))
                elif i < i2:
                    result.append(Row("delete", i + 1, Markup("<del>%s</del>") % a[i]))
                else:
                    result.append(Row("insert", new_number=j + 1, new=Markup("<ins>%s</ins>") % b[j]))
    return result


def side_by_side(old_text: str, new_text: str, labels: tuple[str, str],
                 same: str = "no differences") -> Markup:
    """The HTML table of the two texts (``labels``: the columns' headings; ``same``: the text
    shown when they do not differ)."""
    head = Markup('<table class="diff diff-words"><thead><tr><th colspan="2">%s</th>'
                  '<th colspan="2">%s</th></tr></thead><tbody>') % labels
    body = []
    for row in rows(old_text, new_text) or [Row("none")]:
        if row.kind in ("gap", "none"):
            text = "⋯" if row.kind == "gap" else same
            body.append(Markup('<tr class="diff-%s"><td colspan="4">%s</td></tr>') % (row.kind, text))
            continue
        body.append(Markup('<tr class="diff-%s"><td class="diff_header">%s</td><td class="diff-old">%s</td>'
                           '<td class="diff_header">%s</td><td class="diff-new">%s</td></tr>')
                    % (row.kind, row.old_number or "", row.old, row.new_number or "", row.new))
    return head + Markup("").join(body) + Markup("</tbody></table>")
