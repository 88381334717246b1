"""Request class and priority suggested from a ticket's text (en/ru/uk), with a confidence and
the reason.

The classes are ``classes.yml`` beside this module, or the YAML file ``TICKET_CLASSES`` names: a
list in order of precedence, each ``{name, priority, kinds?, description?, rules?, keywords?,
examples?}`` (``description``: {language: text}; ``rules``, ``keywords``, ``examples``:
{language: [text, ...]}; ``kinds`` absent = every ticket kind). A ticket is classed among the
classes that apply to its kind:

1. **rules**: the first class with a matching rule phrase wins ("502", "упало"): explicit
   words outrank any guess, unless the request also says one of the class's ``unless`` phrases
   outside a question ("everything else works": a pasted 500 of one function); then ``outage``'s ``signin`` words with one of its ``people``
   phrases and nothing narrow (``Scope.locked_out``: sign-in down for many); a contact with no
   scope phrase, keyword or known content word ("hello??", "алло") gets the default, confidence 0;
2. **examples** (contacts, when an embedder is loaded): the class the multilingual embedder's
   vectors of the descriptions and example requests (and ``TICKET_EXAMPLES``' labelled requests,
   by default the bundled sets in ``labelled/``)
   point to (``TICKET_CLASSIFIER``: ``logreg:C``, a logistic regression on them; ``knn:K``, a
   similarity-weighted vote of the K nearest; ``centroid``), weighed against the request's
   **scope** (``scope``: ``outage``'s phrases saying many are affected, "nobody", "502",
   "лежит"; ``people``: its quantifiers of people, "у всех", "всією командою", "half my team",
   not in how/where questions; ``narrow``: its phrases saying only one person, one feature or
   slowness, "only me", "the rest works", "медленно", not in questions; its ``unless`` phrases,
   said, keep it from winning at all): with scope and nothing narrow ``outage`` wins when it is within
   ``TICKET_OUTAGE_MARGIN`` of the best; with something narrow and no scope it does not win at
   all (only a rule makes such a request an outage); the confidence is the winner's probability
   or share; the reason, the scope phrases and the three nearest examples; in a request of
   several sentences, one that says many are affected and is ``outage`` by itself (from
   ``SENTENCE_LEAST``) makes the request one;
3. **words** (contacts in keyword-only mode): a logistic regression on the same examples' word
   stems and keyword matches (``WordModel``), weighed against the scope alike (no margin);
   **keywords** (failed searches, which are a few words): the first class with a matching
   keyword phrase;
4. else the **default**: the last class that applies.

Phrases match whole words by their stem or lemma in the phrase's language (the analyzers of
``indexer.analysis``), so "упало" matches "упал", "лежить" matches "лежать"'s forms, "crashed"
matches "crash"; a word ending in ``*`` matches any ending of its letters ("взлом*").
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from flask import current_app

from indexer.analysis import STEMMERS, STOP_WORDS, cyrillic_reading, fold, word_stems
from indexer.embeddings import QueryCache

CLASSES_FILE = Path(__file__).with_name("classes.yml")
NEAREST_SHOWN = 3          # nearest examples kept as the reason of a suggestion
RULE, EXAMPLES, KEYWORDS, WORDS, DEFAULT = "rule", "examples", "keywords", "words", "default"
LANGUAGES = ("en", "ru", "uk")   # the languages a request's words are stemmed in without an embedder


@dataclass
class Classification:
    request_class: str
    priority: str
    confidence: float = 0.0
    method: str = DEFAULT                     # rule | examples | words | keywords | default
    matched: list[str] = field(default_factory=list)    # phrases that decided it
    nearest: list[dict] = field(default_factory=list)   # {text, class, similarity}
    scope: dict = field(default_factory=dict)           # {"wide": [...], "narrow": [...]} phrases
    words: list[str] = field(default_factory=list)      # the request's words the word model weighed most

    @property
    def reason(self) -> str:
        """What decided it, for the agent: the rule, the keywords, the words the word model
        weighed most (``WORDS_WEIGHT`` of the mix with the embedder) or the nearest examples."""
        if self.method in (RULE, KEYWORDS):
            return f"{self.method}: " + ", ".join(f'"{p}"' for p in self.matched)
        scope = "".join(f"; {side} scope: " + ", ".join(f'"{p}"' for p in phrases)
                        for side, phrases in self.scope.items() if phrases)
        words = "words weighing most: " + ", ".join(f'"{w}"' for w in self.words)
        if self.method == WORDS:
            return "words of the class's examples" + "".join(
                f', keyword "{p}"' for p in self.matched) + (f"; {words}" if self.words else "") + scope
        if self.method == EXAMPLES:
            return (f"{words} ({WORDS_WEIGHT:g} of the mix); " if self.words else "") + "nearest examples: " + "; ".join(
                f'"{n["text"]}" ({n["class"]}, {n["similarity"]:.2f})' for n in self.nearest) + scope
        return "no rule, keyword or example matched: the default class"

    def to_dict(self) -> dict:
        return {"request_class": self.request_class, "priority": self.priority,
                "confidence": round(self.confidence, 3), "method": self.method,
                "matched": self.matched, "nearest": self.nearest, "scope": self.scope,
                "words": self.words, "reason": self.reason}


# --- phrases -----------------------------------------------------------------------------------
def _language(language: str) -> str:
    return language if language in STEMMERS else "en"


@functools.lru_cache(maxsize=4096)
def phrase_words(phrase: str, language: str) -> tuple[tuple[bool, str], ...]:
    """A phrase as (is_prefix, folded prefix or stem) per word."""
    parts: list[tuple[bool, str]] = []
    for word in phrase.lower().split():
        if word.endswith("*"):
            parts.append((True, fold(word.rstrip("*"))))
        else:
            parts.extend((False, stem) for _, stem in word_stems(word, _language(language)))
    return tuple(parts)


class Text:
    """A request's words, stemmed per language on demand."""

    def __init__(self, text: str):
        self.text = (text or "").replace("\u2019", "'")
        self._stems: dict = {}      # language: (word, stem) pairs; "set:"/"prefixes:" + language: stems, word beginnings

    def stems(self, language: str) -> list[tuple[str, str]]:
        language = _language(language)
        if language not in self._stems:
            self._stems[language] = word_stems(self.text, language)
        return self._stems[language]

    def _stem_set(self, language: str) -> set[str]:
        key = "set:" + _language(language)
        if key not in self._stems:
            self._stems[key] = {stem for _, stem in self.stems(language)}
        return self._stems[key]

    def _prefixes(self, language: str) -> set[str]:
        """Every beginning of every word (a ``word*`` part is there only if one is)."""
        key = "prefixes:" + _language(language)
        if key not in self._stems:
            self._stems[key] = {word[:end] for word, _ in self.stems(language)
                                for end in range(1, len(word) + 1)}
        return self._stems[key]

    def has(self, phrase: str, language: str, unnegated: bool = False) -> bool:
        """Whether the text says ``phrase``; ``unnegated``: somewhere not right after a negation
        ("нормально" in "GET и POST нормально", not in "ніхто не може нормально зайти")."""
        wanted = phrase_words(phrase, language)
        if not wanted or not all(stem in (self._prefixes(language) if is_prefix else self._stem_set(language))
                                 for is_prefix, stem in wanted):
            return False        # the common case, decided without scanning the words
        tokens = self.stems(language)
        return any(all(_word_matches(tokens[start + i], part) for i, part in enumerate(wanted))
                   and not (unnegated and any(word in NEGATIONS for word, _ in tokens[max(start - 2, 0):start]))
                   for start in range(len(tokens) - len(wanted) + 1))


def _word_matches(token: tuple[str, str], part: tuple[bool, str]) -> bool:
    word, stem = token
    is_prefix, value = part
    return word.startswith(value) if is_prefix else stem == value


NEGATIONS = frozenset({"not", "never", "no", "cannot", "can't", "cant", "isn't", "doesn't", "don't", "won't", "nothing",
                       "не", "ни", "ні", "нет", "немає", "ничего", "нічого"})


def matching_phrases(text: Text, ticket_class: dict, key: str) -> list[str]:
    """The phrases of ``ticket_class[key]`` (rules or keywords) that ``text`` has; ``unless``
    phrases only where no negation comes just before them."""
    return [phrase for language, phrases in (ticket_class.get(key) or {}).items()
            for phrase in phrases or () if text.has(phrase, language, unnegated=key == "unless")]


def ruling_phrases(text: Text, ticket_class: dict) -> list[str]:
    """The rule phrases of ``ticket_class`` that ``text`` has, none when it also says one of
    the class's ``unless`` phrases outside a question: "Error 500 on the invoice PDF,
    everything else works" is no outage, whatever its status code."""
    found = matching_phrases(text, ticket_class, "rules")
    if found and ticket_class.get("unless") and matching_phrases(Text(QUESTION.sub(" ", text.text)),
                                                                 ticket_class, "unless"):
        return []
    return found


# words that ask for help without saying what it is about ("help pls", "срочно, вопрос")
ASKING_FOR_HELP = {"help", "pls", "plz", "urgent", "urgently", "asap", "question", "problem", "issue",
                   "алло", "ало", "срочно", "вопрос", "проблема", "терміново", "питання"}


@functools.lru_cache(maxsize=len(LANGUAGES))
def _stop_words(language: str) -> frozenset[str]:
    return frozenset(map(fold, STOP_WORDS[language] | ASKING_FOR_HELP))


def content_stems(text: str) -> set[str]:
    """The stems of ``text``'s words in every language but stop words and greetings ("hello",
    "привіт", "please"): what the words could say about a request."""
    return {stem for language in LANGUAGES for word, stem in word_stems(text, language)
            if word not in _stop_words(language)}


# --- nearest examples --------------------------------------------------------------------------
URGENT = "outage"           # the class KB_TICKET_OUTAGE_MARGIN prefers when it is close
DEFAULT_METHOD = "logreg:10"   # chosen by `kb tickets eval --choose` (README, Request classes)
DEFAULT_OUTAGE_MARGIN = 0.1     # likewise: a missed outage costing five other mistakes
SENTENCE_LEAST = 0.6    # a sentence alone is an outage from this probability (chosen leaving one set out)
# With the embedder, a contact's class probabilities are the examples' (e5) and the word model's
# mixed, this share the words': each alone learnt its writers' style, together they carry to
# another writer's requests (chosen leaving one labelled set out: README, Request classes)
WORDS_WEIGHT = 0.7


def example_rows(ticket_classes: list[dict], labelled: list[dict] = ()) -> list[tuple[str, str, str]]:
    """(class, text, language) of every class description and example, and of the labelled
    requests whose label is one of the classes."""
    rows = [(c["name"], text, language) for c in ticket_classes
            for language, text in (c.get("description") or {}).items()]
    rows += [(c["name"], text, language) for c in ticket_classes
             for language, group in (c.get("examples") or {}).items() for text in group or ()]
    names = {c["name"] for c in ticket_classes}
    return rows + [(r["label"], r["text"], r.get("language", "")) for r in labelled if r["label"] in names]


@dataclass
class Examples:
    """The descriptions and example requests of the classes (and labelled requests added as
    examples), embedded once as e5 queries like the request (better than passages when one
    language is left out in ``kb tickets eval --choose``)."""

    classes: list[str]       # class of each row
    texts: list[str]
    languages: list[str]
    vectors: np.ndarray
    _models: dict = field(default_factory=dict, repr=False)

    @classmethod
    def embed(cls, ticket_classes: list[dict], embedder, labelled: list[dict] = ()) -> "Examples":
        rows = example_rows(ticket_classes, labelled)
        if not rows:
            return cls([], [], [], np.zeros((0, 1), dtype=np.float32))
        names, texts, languages = (list(column) for column in zip(*rows))
        return cls(names, texts, languages, embedder.embed_queries(texts))

    def without(self, language: str | None = None, texts: set[str] = frozenset()) -> "Examples":
        """These examples but those of ``language`` and those whose text is in ``texts`` (to
        measure how a language or a labelled set fares unseen)."""
        kept = [i for i, (lang, text) in enumerate(zip(self.languages, self.texts))
                if lang != language and text not in texts]
        return Examples([self.classes[i] for i in kept], [self.texts[i] for i in kept],
                        [self.languages[i] for i in kept], self.vectors[kept])

    def scores(self, vector: np.ndarray, allowed: set[str], method: str):
        """({class: score}, nearest rows) for a request's unit ``vector``, or None. The score is
        the cosine to the class centroid (``centroid``), its share of the K nearest rows'
        similarity (``knn:K``) or its probability (``logreg:C``)."""
        rows = [i for i, name in enumerate(self.classes) if name in allowed]
        if not rows:
            return None
        similarities = self.vectors[rows] @ vector
        order = np.argsort(-similarities, kind="stable")
        kind, param = parse_method(method)
        if kind == "centroid":
            scores = {}
            for name in {self.classes[i] for i in rows}:
                centroid = self.vectors[[i for i in rows if self.classes[i] == name]].mean(axis=0)
                scores[name] = float(centroid @ vector / max(np.linalg.norm(centroid), 1e-12))
        elif kind == "knn":
            scores = {}
            for j in order[:int(param)]:
                scores[self.classes[rows[j]]] = scores.get(self.classes[rows[j]], 0.0) + float(similarities[j])
            total = sum(scores.values()) or 1.0
            scores = {name: score / total for name, score in scores.items()}
        elif len({self.classes[i] for i in rows}) == 1:           # nothing to tell apart
            scores = {self.classes[rows[0]]: 1.0}
        else:
            model = self._model(tuple(rows), param)
            scores = dict(zip(model.classes_, map(float, model.predict_proba(vector[None, :])[0])))
        nearest = [{"text": self.texts[rows[j]], "class": self.classes[rows[j]],
                    "similarity": round(float(similarities[j]), 3)} for j in order[:NEAREST_SHOWN]]
        return scores, nearest

    def _model(self, rows: tuple[int, ...], inverse_regularisation: float):
        """A logistic regression on the rows' vectors, fitted once per rows and C."""
        key = (rows, inverse_regularisation)
        if key not in self._models:
            from sklearn.linear_model import LogisticRegression    # imported when needed: slow
            self._models[key] = LogisticRegression(C=inverse_regularisation, max_iter=2000,
                                                   class_weight="balanced").fit(
                self.vectors[list(rows)], [self.classes[i] for i in rows])
        return self._models[key]


_FEATURES: dict = {}        # WordModel features by (phrases digest, text)
_FEATURES_KEPT = 20000


class WordModel:
    """Keyword-only suggestion for contacts: a logistic regression on the words of the class
    examples and descriptions (and labelled requests), each word as its stems in the three
    languages, plus one feature per class whose keywords match. It weighs every word, where
    the first matching keyword would decide on one ("how" in "how come nobody can log in")."""

    DRIVERS_SHOWN = 4       # the words of a request named as the reason of its class
    KEYWORD_WEIGHT = 2      # a keyword or scope match counts as this many words (best on requests.jsonl)
    # the words decide only when the best class is this many times as likely as an even split:
    # "Спасибо" or "thanks", words of every class's requests, say nothing about the request
    LEAST_LEAD = 1.5

    def __init__(self, ticket_classes: list[dict], labelled: list[dict] = (),
                 scope_classes: list[dict] | None = None):
        from sklearn.feature_extraction.text import TfidfVectorizer    # imported when needed: slow
        from sklearn.linear_model import LogisticRegression
        self.classes, self.scope_classes = ticket_classes, scope_classes or ticket_classes
        self.phrases_digest = hashlib.sha256(json.dumps(
            [self.classes, self.scope_classes], sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
        rows = example_rows(ticket_classes, labelled)
        self.vectorizer = TfidfVectorizer(analyzer=self.features, sublinear_tf=True)
        matrix = self.vectorizer.fit_transform([text for _, text, _ in rows])
        self.model = LogisticRegression(C=10, max_iter=3000).fit(matrix, [name for name, _, _ in rows])

    def features(self, text: str) -> list[str]:
        """The stems of ``text``'s words in every language, ``keywords:CLASS`` per class whose
        keywords it has, and its ``Scope``'s features (remembered per classes and text: every
        model learnt from the same classes, each labelled set left out, reads the same texts)."""
        key = (self.phrases_digest, text)
        if key not in _FEATURES:
            if len(_FEATURES) >= _FEATURES_KEPT:
                _FEATURES.clear()
            _FEATURES[key] = self._features(text)
        return _FEATURES[key]

    def _features(self, text: str) -> list[str]:
        words = Text(text)
        stems = {stem for language in LANGUAGES for _, stem in words.stems(language)}
        keywords = [f"keywords:{c['name']}" for c in self.classes if matching_phrases(words, c, "keywords")]
        keywords += Scope.of(words, self.scope_classes).features()
        return [*stems, *keywords * self.KEYWORD_WEIGHT]

    @classmethod
    def kept(cls, folder: Path | None, ticket_classes: list[dict], labelled: list[dict] = (),
             scope_classes: list[dict] | None = None) -> "WordModel":
        """The model learnt from these classes and labelled requests, read from ``folder`` when
        a process learnt it before (a file named by a hash of what it learns from, the code's
        and scikit-learn's versions), else learnt and kept there. Learning takes seconds every
        ``kb serve`` (and every test server) would otherwise spend."""
        if folder is None:
            return cls(ticket_classes, labelled, scope_classes)
        import sklearn
        from indexer import analysis
        source = hashlib.sha256(json.dumps([sklearn.__version__, ticket_classes, list(labelled), scope_classes],
                                           sort_keys=True, ensure_ascii=False).encode("utf-8"))
        for module in (__file__, analysis.__file__):       # the code that reads the words
            source.update(Path(module).read_bytes())
        path = Path(folder) / f"words-{source.hexdigest()[:32]}.pickle"
        try:
            with path.open("rb") as kept:
                model = pickle.load(kept)       # the instance folder's own file, written below
            if isinstance(model, cls):
                return model
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass
        model = cls(ticket_classes, labelled, scope_classes)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(pickle.dumps(model))
            os.replace(partial, path)
            for stale in path.parent.glob("words-*.pickle"):    # learnt from what is no more
                if stale != path:
                    stale.unlink(missing_ok=True)
        except OSError:
            pass                                # a read-only instance learns every time
        return model

    @classmethod
    def usable(cls, ticket_classes: list[dict]) -> bool:
        """Whether every class has a description or examples to learn from (else keywords)."""
        return len(ticket_classes) > 1 and all(c.get("description") or c.get("examples")
                                               for c in ticket_classes)

    def drivers(self, text: str, name: str) -> list[str]:
        """The words or phrases of ``text`` that weigh most for class ``name`` (at most
        ``DRIVERS_SHOWN``, strongest first): its features whose weight for ``name`` is above
        their classes' average, each as the request's own word (stop words, which weigh too,
        are not shown: "our" tells an agent nothing) or the phrase that matched."""
        vector = self.vectorizer.transform([text]).tocoo()
        weights = self.model.coef_ if len(self.model.classes_) > 2 else \
            np.vstack([-self.model.coef_[0], self.model.coef_[0]]) / 2
        row = list(self.model.classes_).index(name)
        lead = {j: value * (weights[row, j] - weights[:, j].mean())
                for j, value in zip(vector.col, vector.data)}
        names = self.vectorizer.get_feature_names_out()
        words, shown = Text(text), []
        for j in sorted((j for j in lead if lead[j] > 0), key=lead.get, reverse=True):
            for said in self._said(words, names[j]):
                if said not in shown:
                    shown.append(said)
            if len(shown) >= self.DRIVERS_SHOWN:
                break
        return shown[:self.DRIVERS_SHOWN]

    def _said(self, words: Text, feature: str) -> list[str]:
        """How the request says ``feature``: the words with that stem, the class's keywords or
        the scope phrases it has."""
        kind, _, value = feature.partition(":")
        if kind == "keywords":
            return matching_phrases(words, next(c for c in self.classes if c["name"] == value), "keywords")
        if kind == "scope":
            scope = Scope.of(words, self.scope_classes)
            return list(scope.wide if value == "wide" else scope.narrow)
        return list(dict.fromkeys(word for language in LANGUAGES for word, stem in words.stems(language)
                                  if stem == feature and not any(word in _stop_words(other)
                                                                 for other in LANGUAGES)))[:1]

    def scores(self, text: str) -> dict[str, float] | None:
        """{class: probability}, or None when no word of ``text`` is in the examples or its
        words lead to no class (``LEAST_LEAD``)."""
        vector = self.vectorizer.transform([text])
        if not vector.nnz:
            return None
        scores = dict(zip(self.model.classes_, map(float, self.model.predict_proba(vector)[0])))
        return scores if max(scores.values()) >= self.LEAST_LEAD / len(scores) else None


def parse_method(method: str) -> tuple[str, float]:
    """``centroid``, ``knn:K`` (K >= 1) or ``logreg:C`` (C > 0) as (kind, K or C); ValueError
    for anything else."""
    if method == "centroid":
        return "centroid", 0.0
    kind, _, value = method.partition(":")
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if (kind == "knn" and value.isdigit() and int(value) >= 1) or (kind == "logreg" and number > 0):
        return kind, number
    raise ValueError(f"classifier method must be 'centroid', 'knn:K' or 'logreg:C', not {method!r}")


SENTENCE = re.compile(r"(?<=[.!?…])\s+|\s*\n+\s*|\s+(?=\d{1,2}[.)]\s)")   # sentences, list items
QUESTION = re.compile(r"[^.!?,;\n]*\?")     # a question clause: "це тільки в мене?", "just me or?"


@dataclass(frozen=True)
class Scope:
    """What a request says of how many are affected: ``URGENT``'s ``scope`` phrases it has
    (nobody, the whole service, 5xx), its ``people`` ones (quantifiers of people: "у всех",
    "всією командою", "half my team") and its ``narrow`` ones (one person, one feature,
    slowness); its ``unless`` ones, outside questions, say the rest of the service works
    ("everything else works", "решта працює": ``spared``)."""

    wide: tuple[str, ...] = ()
    narrow: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    signin: tuple[str, ...] = ()
    spared: tuple[str, ...] = ()

    @classmethod
    def of(cls, text: Text, ticket_classes: list[dict]) -> "Scope":
        """The scope phrases of ``text``. Narrow ones only outside its questions: "це тільки в
        мене?" or "is it just me?" asks whether the problem is narrow, it does not say so.
        People's only outside questions that ask how or where ("how do we enforce SSO for
        everyone?": whom a setting is for, not who is affected)."""
        urgent = next((c for c in ticket_classes if c["name"] == URGENT), {})

        def asks(question: re.Match) -> bool:
            return bool(matching_phrases(Text(question.group()), urgent, "asking"))
        statements = Text(QUESTION.sub(" ", text.text))
        told = Text(QUESTION.sub(lambda question: " " if asks(question) else question.group(), text.text))
        return cls(*(tuple(dict.fromkeys(matching_phrases(source, urgent, side))) for source, side
                     in ((text, "scope"), (statements, "narrow"), (told, "people"), (text, "signin"),
                         (statements, "unless"))))

    @property
    def locked_out(self) -> bool:
        """Whether it says many people cannot sign in ("у всех не получается залогиниться",
        "login broken for all users"), nothing narrow: ``URGENT`` by definition, a rule."""
        return bool(self.people and self.signin and not self.narrow and not self.spared)

    @property
    def many(self) -> bool:
        """Whether it says many are affected or the whole service is down."""
        return bool(self.wide or self.people)

    def margin(self, margin: float) -> float | None:
        """The margin within which ``URGENT`` wins: ``margin`` with scope and nothing narrow,
        0 with neither or both, None (it cannot win) with something narrow and no scope, or
        when the rest of the service works, whatever the scope ("500 on the invoice PDF for
        all of us, the rest works" is a business process)."""
        if self.spared or (self.narrow and not self.many):
            return None
        return margin if self.many and not self.narrow else 0.0

    def features(self) -> list[str]:
        """``scope:wide`` and ``scope:narrow`` for the sides it has (``WordModel``). Not people's:
        their words are features already, and "all users get an error when paying" is a
        business process (as a feature of its own, or as wide, they made the worst left-out
        set no better and more of them outages)."""
        return [f"scope:{side}" for side in ("wide", "narrow") if getattr(self, side)]

    def to_dict(self) -> dict:
        """The phrases found, people's among the wide ones (as the agent reads them)."""
        narrow = list(dict.fromkeys([*self.narrow, *self.spared]))
        return {"wide": [*self.wide, *self.people], "narrow": narrow} if self.many or narrow else {}


def decide(scores: dict[str, float], margin: float, cosines: bool,
           scope: Scope = Scope()) -> tuple[str, float]:
    """The winning class and its confidence (its score, or for ``cosines`` its share of their
    sharp softmax); ``URGENT`` wins when it is within the ``scope``'s margin (``Scope.margin``)
    of the best score, and never when the scope is narrow."""
    urgent_margin = scope.margin(margin)
    candidates = {name: score for name, score in scores.items()
                  if name != URGENT or urgent_margin is not None} or scores
    best = max(candidates, key=candidates.get)
    if URGENT in candidates and candidates[URGENT] >= candidates[best] - (urgent_margin or 0.0):
        best = URGENT
    if not cosines:
        return best, scores[best]
    top = max(scores.values())
    weights = {name: np.exp((score - top) / 0.01) for name, score in scores.items()}
    return best, float(weights[best] / sum(weights.values()))


_LEARNT: dict = {}      # what classifiers learnt, by what they learnt it from (see ``_shared``)
_LEARNT_KEPT = 8


def _shared(key: tuple, learn):
    """What ``learn()`` returns for ``key``, learnt once per process: the embedded examples (a
    thousand texts) and the word model take seconds, and every app, and every classifier with
    the same classes and labelled requests, learns the same."""
    if key not in _LEARNT:
        if len(_LEARNT) >= _LEARNT_KEPT:
            _LEARNT.pop(next(iter(_LEARNT)))
        _LEARNT[key] = learn()
    return _LEARNT[key]


# --- the classifier ----------------------------------------------------------------------------
class Classifier:
    """Rules, then nearest examples (with an embedder), then keywords, then the default."""

    def __init__(self, ticket_classes: list[dict], embedder=None, method: str = DEFAULT_METHOD,
                 outage_margin: float = DEFAULT_OUTAGE_MARGIN, labelled: list[dict] = (),
                 rules: bool = True, cache: Path | None = None):
        parse_method(method)
        self.classes, self.embedder, self.method = ticket_classes, embedder, method
        self.outage_margin, self.labelled, self.rules = outage_margin, list(labelled), rules
        self.cache = cache      # a folder keeping the learnt word model across processes
        self.encode = QueryCache(embedder) if embedder is not None else None
        self._examples: Examples | None = None
        self._words: WordModel | None = None

    @property
    def settings(self) -> tuple:
        return self.classes, self.embedder, self.method, self.outage_margin, self.labelled

    def with_method(self, method: str, outage_margin: float = 0.0,
                    without_language: str | None = None, rules: bool = True,
                    without_texts: set[str] = frozenset()) -> "Classifier":
        """The same classifier with another method and margin, sharing the embedded examples
        and requests; ``without_language``: none of that language's examples;
        ``without_texts``: none of the examples with these texts (a labelled set measured as
        unseen: ``kb tickets eval`` never learns from the requests it measures);
        ``rules=False``: the examples decide every request (to measure them where the rules
        would decide)."""
        labelled = [row for row in self.labelled if row["text"] not in without_texts]
        other = Classifier(self.classes, self.embedder, method, outage_margin, labelled, rules)
        other.encode = self.encode
        if self.embedder is not None:
            other._examples = self.examples.without(without_language, without_texts)
        return other

    @property
    def examples(self) -> Examples:
        if self._examples is None:
            self._examples = _shared(("examples", self.embedder, self.digest),
                                     lambda: Examples.embed(self.classes, self.embedder, self.labelled))
        return self._examples

    @property
    def words(self) -> WordModel | None:
        """The keyword-only model for contacts, or None when the classes have nothing to learn."""
        if self._words is None:
            contacts = [c for c in self.classes if "contact" in c.get("kinds", ("contact",))]
            self._words = _shared(("words", self.digest),
                                  lambda: WordModel.kept(self.cache, contacts, self.labelled, self.classes)) \
                if WordModel.usable(contacts) else False
        return self._words or None

    @property
    def vocabulary(self) -> frozenset[str]:
        """The content stems of the classes' descriptions and examples (and labelled requests)."""
        return _shared(("vocabulary", self.digest), lambda: frozenset().union(
            *(content_stems(text) for _, text, _ in example_rows(self.classes, self.labelled))))

    def says_something(self, words: Text, scope: "Scope", applicable: list[dict]) -> bool:
        """Whether a request has anything to class it by: a scope phrase, a class keyword or a
        word the examples know other than stop words and greetings. "hello??", "алло" or
        "classify me please" have not: the nearest example of nothing is a guess."""
        return bool(scope.many or scope.narrow or content_stems(words.text) & self.vocabulary
                    or any(matching_phrases(words, c, "keywords") for c in applicable))

    @functools.cached_property
    def digest(self) -> str:
        """A hash of the classes and labelled requests this classifier learns from."""
        data = json.dumps([self.classes, self.labelled], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()

    def classify(self, text: str, kind: str) -> Classification:
        """Suggested class and priority of a ``kind`` ticket ("contact" or "gap") with ``text``."""
        applicable = [c for c in self.classes if kind in c.get("kinds", (kind,))]
        reading = cyrillic_reading(text or "")       # "vse lezhit" is read as "все лежит" too
        words = Text(f"{text}\n{reading}" if reading else text)
        for ticket_class in applicable if self.rules else ():
            found = ruling_phrases(words, ticket_class)
            if found:
                return self._suggest(ticket_class, 1.0, RULE, matched=found)
        scope = Scope.of(words, self.classes)
        urgent = next((c for c in applicable if c["name"] == URGENT), None)
        if self.rules and urgent and scope.locked_out:
            return self._suggest(urgent, 1.0, RULE, matched=[*scope.people, *scope.signin])
        if kind == "contact" and not self.says_something(words, scope, applicable):
            return self._suggest(applicable[-1], 0.0, DEFAULT)
        if self.embedder is not None and kind == "contact":
            scored = self.examples.scores(self.encode(words.text),
                                          {c["name"] for c in applicable}, self.method)
            if scored is not None:
                probabilities, mixed = self._with_words(scored[0], words.text)
                name, confidence = decide(probabilities, self.outage_margin,
                                          cosines=self.method == "centroid", scope=scope)
                if name != URGENT and self._urgent_sentence(words, scope, applicable):
                    name, confidence = URGENT, probabilities[URGENT]
                chosen = next(c for c in applicable if c["name"] == name)
                return self._suggest(chosen, confidence, EXAMPLES, nearest=scored[1],
                                     scope=scope.to_dict(),
                                     words=self.words.drivers(words.text, name) if mixed else [])
        scores = self.words.scores(words.text) if kind == "contact" and self.words else None
        if scores:
            name, confidence = decide(scores, 0.0, cosines=False, scope=scope)
            chosen = next(c for c in applicable if c["name"] == name)
            return self._suggest(chosen, confidence, WORDS, scope=scope.to_dict(),
                                 matched=matching_phrases(words, chosen, "keywords"),
                                 words=self.words.drivers(words.text, name))
        for ticket_class in applicable:
            found = matching_phrases(words, ticket_class, "keywords")
            if found:
                return self._suggest(ticket_class, 0.5, KEYWORDS, matched=found)
        return self._suggest(applicable[-1], 0.0, DEFAULT)

    def _with_words(self, probabilities: dict[str, float], text: str) -> tuple[dict[str, float], bool]:
        """The examples' class probabilities mixed with the word model's (``WORDS_WEIGHT``),
        and whether they were; as they are for ``centroid`` (cosines, not probabilities) or
        when the words know nothing of ``text``."""
        known = self.words.scores(text) if self.words and self.method != "centroid" else None
        if not known:
            return probabilities, False
        return {name: (1 - WORDS_WEIGHT) * probability + WORDS_WEIGHT * known.get(name, 0.0)
                for name, probability in probabilities.items()}, True

    def _urgent_sentence(self, words: Text, scope: Scope, applicable: list[dict]) -> str | None:
        """The sentence of a longer request that is an outage by itself: it says many are
        affected and nothing narrow, and the examples put ``URGENT`` first with at least
        ``SENTENCE_LEAST``. A long e-mail whose third point is "nobody here can open anything"
        reports an outage. (With the embedder only: the word model on single sentences raised
        more false alarms than it caught outages.)"""
        sentences = [part for part in SENTENCE.split(words.text) if part.strip()]
        if scope.narrow or scope.spared or not scope.many or len(sentences) < 2:
            return None
        names = {c["name"] for c in applicable}
        for sentence in sentences:
            own = Scope.of(Text(sentence), self.classes)
            if own.many and not own.narrow:
                scores = self.examples.scores(self.encode(sentence), names, self.method)[0]
                if max(scores, key=scores.get) == URGENT and scores[URGENT] >= SENTENCE_LEAST:
                    return sentence
        return None

    @staticmethod
    def _suggest(ticket_class: dict, confidence: float, method: str, **reason) -> Classification:
        return Classification(ticket_class["name"], ticket_class["priority"], confidence,
                              method, **reason)


@functools.lru_cache(maxsize=1)
def builtin_classes() -> list[dict]:
    return yaml.safe_load(CLASSES_FILE.read_text(encoding="utf-8"))


def classes() -> list[dict]:
    return current_app.config.get("TICKET_CLASSES") or builtin_classes()


def _embedder():
    """The search service's embedder, loaded now if it was not yet; None in keyword-only mode
    or while it cannot be loaded (the rules and keywords still class every ticket)."""
    from kb_server import search
    try:
        if search.semantic().state == "disabled":
            return None
        return search.embedder()
    except Exception:  # search service down or not configured
        current_app.logger.exception("ticket classification without the embedder")
        return None


def classifier(examples: bool = True) -> Classifier:
    """This app's classifier for the classes, embedder and method in effect (examples are
    embedded, the word model learned, once per process, again only when one of them changes).
    ``examples=False``: the one without the embedder (a contact's request)."""
    config = current_app.config
    wanted = (classes(), _embedder() if examples else None, config["TICKET_CLASSIFIER"],
              config["TICKET_OUTAGE_MARGIN"], config["TICKET_EXAMPLES"] or [])
    key = "ticket_classifier" if examples else "ticket_classifier_without_examples"
    cached = current_app.extensions.get(key)
    if cached is None or cached.settings != wanted:
        cached = current_app.extensions[key] = Classifier(
            *wanted, cache=Path(config["INSTANCE_DIR"]) / "cache" if config.get("INSTANCE_DIR") else None)
    return cached


def prepare() -> None:
    """Learn the keyword model a contact's request is classed by now, and the examples' words
    (``Classifier.vocabulary``), before ``kb serve`` forks its workers (they inherit them):
    learning them from the labelled requests takes seconds the first contact would otherwise wait."""
    keyword_only = classifier(examples=False)
    keyword_only.words, keyword_only.vocabulary     # learnt and cached per process


def classify(text: str, kind: str, examples: bool = True) -> Classification:
    """Suggested class and priority of a ``kind`` ticket ("contact" or "gap") with ``text``.
    Only contacts need the embedder (loaded on demand); failed searches never wait for it, nor
    does a contact's request (``examples=False``: rules, word model, keywords; a job asks the
    examples afterwards, ``tickets.service.contact_follow_up``)."""
    if kind != "contact":
        return Classifier(classes(), None, current_app.config["TICKET_CLASSIFIER"]).classify(text, kind)
    return classifier(examples).classify(text, kind)


def examples_apply(method: str) -> bool:
    """Whether the nearest examples could change a suggestion made without them by ``method``:
    no rule matched and semantic search is on (checked without loading the model)."""
    from kb_server import search
    return method != RULE and search.semantic().state != "disabled"
