"""Text analysis per language, as small Whoosh pipelines, plus query-language detection.

    en: words | lowercase | stop words | Snowball English stem | fold accents
    ru: words | lowercase | stop words | Snowball Russian stem  | fold ё->е
    uk: words | lowercase | stop words | pymorphy3 Ukrainian lemma | fold ё->е

Within every language, a Latin-script token is stemmed as English, so "invoices" in a Russian
article still matches "invoice". Folding runs after stemming, where the stemmer and the
morphological dictionary still see correctly spelt words.
"""
from __future__ import annotations

import functools
import re
import unicodedata

import pymorphy3
import Stemmer
from whoosh.analysis import CompositeAnalyzer, Filter, LowercaseFilter, RegexTokenizer, StopFilter, Token
from whoosh.lang.stopwords import stoplists

from indexer.languages import LANGUAGES

# A word may hold apostrophes between its letters (ASCII ' or the typographic ’; Ukrainian's ʼ
# is a letter already): "can't", "user's", "пам'ять" are one token each, as Lucene's standard
# tokenizer (UAX #29) keeps them. Inside the analyzers every apostrophe becomes ASCII ', the one
# the Snowball English stemmer ("user's" -> "user") and pymorphy3's dictionaries know.
WORD_PATTERN = r"\w+(?:['\u2019]\w+)*"
WORD_RE = re.compile(WORD_PATTERN)
APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'"})
# Bump when the analyzers turn some text into other index terms: an index built by another
# version is rebuilt in full (``indexer.index``), never mixed with terms of this one.
ANALYSIS_VERSION = 2
WORD_CACHE_SIZE = 200_000   # analyzed words remembered per analyzer
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
UK_ONLY = set("іїєґ")
RU_ONLY = set("ыэъё")

# Words that carry no meaning in a help-center query or article: greetings and politeness
# ("здравствуйте, подскажите, пожалуйста...") must not steer ranking.
POLITENESS = {
    "hello", "hi", "hey", "please", "thanks", "thank", "regards",
    "здравствуйте", "привет", "добрый", "день", "вечер", "утро", "подскажите", "пожалуйста",
    "спасибо", "скажите", "помогите", "вітаю", "привіт", "добрий", "доброго", "дня",
    "підкажіть", "будь", "ласка", "дякую", "допоможіть",
}
UK_STOP_WORDS = {
    "і", "й", "та", "в", "у", "на", "з", "із", "зі", "до", "по", "за", "від", "для", "про", "що",
    "як", "це", "ця", "цей", "ці", "не", "так", "але", "або", "чи", "ж", "же", "би", "б", "мені",
    "мене", "мій", "моє", "моя", "мої", "ви", "вас", "ваш", "ваша", "ваше", "ваші", "я", "ми", "він",
    "вона", "воно", "вони", "його", "її", "їх", "там", "тут", "коли", "якщо", "щоб", "який", "яка",
    "яке", "які", "можна", "треба", "є", "був", "була", "було", "бути", "під", "при", "через",
}
EN_CLITICS = ("s", "d", "ll", "re", "ve", "m", "t")     # it's, I'd, you'll, we're, I've, I'm, can't


def _with_contractions(stop_words: set[str]) -> set[str]:
    """``stop_words`` and their contractions: a contraction of a stop word ("I'd", "it's",
    "don't", "isn't") is one too, rather than leaving its clitic ("d", "s", "t") as a term."""
    return (stop_words | {f"{word}'{clitic}" for word in stop_words for clitic in EN_CLITICS}
            | {f"{word}n't" for word in stop_words})


EN_STOP_WORDS = _with_contractions(
    set(stoplists["en"]) | {"i", "my", "me", "do", "does", "how", "what", "why", "get"})
# Latin-script tokens are treated as English in every language (stemmed as English), so English
# stop words apply to them too; the scripts do not overlap, so no Cyrillic word is affected.
STOP_WORDS = {
    "en": EN_STOP_WORDS | POLITENESS,
    "ru": set(stoplists["ru"]) | {"мне", "мой", "моя", "моё", "мои", "это", "как"} | EN_STOP_WORDS | POLITENESS,
    "uk": UK_STOP_WORDS | EN_STOP_WORDS | POLITENESS,
}

_english = Stemmer.Stemmer("english")
_russian = Stemmer.Stemmer("russian")


@functools.lru_cache(maxsize=1)
def _ukrainian_morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="uk")


@functools.lru_cache(maxsize=1)
def _russian_morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


@functools.lru_cache(maxsize=20_000)
def in_dictionary(word: str, language: str | None = None) -> bool:
    """Whether ``word`` is a real word, not a typo, even when the knowledge base never uses it
    ("weather" must not become "whether"). A Cyrillic word: a word form of the query's
    ``language`` (pymorphy3; ru or uk, any other: either), since only the query's own language
    counts ("акаунт" is Ukrainian, but in a Russian question a typo of "аккаунт"). A Latin word:
    in pyspellchecker's English word-frequency list (``ENGLISH_MIN_COUNT`` times or more)."""
    if not CYRILLIC.search(word):
        return english_count(word) >= ENGLISH_MIN_COUNT
    if language in ("ru", "uk"):
        return _known(word, language)
    return _known(word, "ru") or _known(word, "uk")


@functools.lru_cache(maxsize=200_000)
def stem_en(word: str) -> str:
    return _english.stemWord(word)


@functools.lru_cache(maxsize=200_000)
def stem_ru(word: str) -> str:
    return _russian.stemWord(word)


@functools.lru_cache(maxsize=200_000)
def lemma_uk(word: str) -> str:
    """Ukrainian dictionary form (pymorphy3); Whoosh has no Ukrainian stemmer.

    A word the Ukrainian dictionary does not know but the Russian one does gets its Russian
    dictionary form: Ukrainian fields are searched with Russian questions too, and a guessed
    Ukrainian lemma of a Russian word ("доступа", "документов", "после" -> "посол") misses the
    translation's cognates that the Russian one meets ("доступ", "документ")."""
    if not _ukrainian_morph().word_is_known(word) and _russian_morph().word_is_known(word):
        return _russian_morph().parse(word)[0].normal_form
    return _ukrainian_morph().parse(word)[0].normal_form


def fold(word: str) -> str:
    """ё -> е, and accents off Latin letters (é -> e); Cyrillic letters are left intact."""
    word = word.replace("ё", "е")
    if word.isascii() or CYRILLIC.search(word):
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


class ScriptStemFilter(Filter):
    """Stems each token by its script: Cyrillic with the language's stemmer, Latin as English."""

    def __init__(self, cyrillic_fn):
        self.cyrillic_fn = cyrillic_fn

    def __eq__(self, other):
        return type(self) is type(other) and self.cyrillic_fn is other.cyrillic_fn

    def __call__(self, tokens):
        for token in tokens:
            if not token.stopped:
                text = token.text
                token.text = self.cyrillic_fn(text) if CYRILLIC.search(text) else stem_en(text)
            yield token


def normalize_apostrophes(text: str) -> str:
    """Every apostrophe of ``text`` (’, ʼ) as ASCII '."""
    return text.translate(APOSTROPHES)


class ApostropheFilter(Filter):
    def __call__(self, tokens):
        for token in tokens:
            token.text = normalize_apostrophes(token.text)
            yield token


class FoldFilter(Filter):
    def __call__(self, tokens):
        for token in tokens:
            token.text = fold(token.text)
            yield token


STEMMERS = {"en": stem_en, "ru": stem_ru, "uk": lemma_uk}
_MISSING = object()


class WordCachedAnalyzer(CompositeAnalyzer):
    """A Whoosh pipeline (``WORD_PATTERN`` tokenizer, then filters) that analyzes each distinct
    word once per process instead of once per occurrence.

    Every filter here acts on one token at a time, so a text's tokens are those of its words
    analyzed one by one: the pipeline's own output for a word is cached (None for a stop word).
    Analysis through generator chains was a fifth of a full build. Calls that want positions,
    characters or stopped tokens run the pipeline itself."""

    def __call__(self, value, positions=False, chars=False, removestops=True, tokenize=True,
                 no_morph=False, **kwargs):
        if positions or chars or not removestops or not tokenize or no_morph:
            return super().__call__(value, positions=positions, chars=chars, removestops=removestops,
                                    tokenize=tokenize, no_morph=no_morph, **kwargs)
        return self._cached_tokens(value, kwargs)

    def _cached_tokens(self, value: str, kwargs: dict):
        cache = self.__dict__.setdefault("_words", {})
        token = Token(**kwargs)   # reused for every word, as Whoosh's tokenizers do
        for word in WORD_RE.findall(value):
            text = cache.get(word, _MISSING)
            if text is _MISSING:
                if len(cache) >= WORD_CACHE_SIZE:
                    cache.clear()
                text = cache[word] = next((t.text for t in super().__call__(word)), None)
            if text is not None:
                token.text = text
                yield token

    def __getstate__(self) -> dict:
        return {"items": self.items}   # the schema is pickled into the index: not the cache


def language_analyzer(language: str):
    """The Whoosh analyzer for article text in ``language``."""
    return WordCachedAnalyzer(RegexTokenizer(WORD_PATTERN), LowercaseFilter(), ApostropheFilter(),
                              StopFilter(stoplist=STOP_WORDS[language], minsize=1),
                              ScriptStemFilter(STEMMERS[language]), FoldFilter())


def plain_analyzer():
    """Lowercased, folded words with no stemming: spelling suggestions and prefix completion."""
    return WordCachedAnalyzer(RegexTokenizer(WORD_PATTERN), LowercaseFilter(), ApostropheFilter(),
                              FoldFilter())


def words(text: str) -> list[str]:
    """Lowercased word tokens of a text, in order (apostrophes as ASCII ')."""
    return WORD_RE.findall(normalize_apostrophes(text.lower()))


def word_stems(text: str, language: str) -> list[tuple[str, str]]:
    """Every word of ``text`` as (folded word, its stem or lemma), stemmed as the ``language``
    analyzer stems (Latin words as English) but keeping stop words: "не работает" is not
    "работает". For phrase rules that must match any inflection ("упал", "упало")."""
    stem = STEMMERS[language]
    return [(fold(word), fold(stem(word) if CYRILLIC.search(word) else stem_en(word)))
            for word in words(text)]


ENGLISH_MIN_COUNT = 10   # the list has counts from subtitles; typos like "pasword" have none


@functools.cache
def _english_words():
    """pyspellchecker's English word frequencies (loaded once, ~0.2 s)."""
    from spellchecker import SpellChecker
    return SpellChecker(language="en", distance=1).word_frequency


def english_count(word: str) -> int:
    """How often ``word`` occurs in pyspellchecker's English word-frequency list (subtitles):
    "the" 76 million times, "fix" 181,678, "youtube" 650, a typo or "trello" never."""
    return _english_words()[word.lower()]


@functools.lru_cache(maxsize=50_000)
def _known(word: str, language: str) -> bool:
    morph = _ukrainian_morph() if language == "uk" else _russian_morph()
    return morph.word_is_known(word)


def detect_language(text: str, default: str = "en") -> str:
    """Language of a query or document: en, ru or uk.

    Script decides Latin vs Cyrillic; letters unique to one language (і, ї, є, ґ vs ы, э, ъ, ё)
    decide most Cyrillic texts; otherwise the dictionary that knows more of the words wins.
    ``default`` breaks ties between Russian and Ukrainian (e.g. the user's UI language).
    """
    tokens = words(text)
    cyrillic = [t for t in tokens if CYRILLIC.search(t)]
    latin = [t for t in tokens if t.isascii() and t.isalpha()]
    if not cyrillic:
        return "en" if latin or default not in LANGUAGES else default
    if len(latin) > 2 * len(cyrillic):
        return "en"
    letters = set("".join(cyrillic))
    uk_marks, ru_marks = len(letters & UK_ONLY), len(letters & RU_ONLY)
    if uk_marks != ru_marks:
        return "uk" if uk_marks > ru_marks else "ru"
    sample = cyrillic[:30]
    uk_known = sum(_known(t, "uk") for t in sample)
    ru_known = sum(_known(t, "ru") for t in sample)
    if uk_known != ru_known:
        return "uk" if uk_known > ru_known else "ru"
    return default if default in ("ru", "uk") else "ru"


def message_language(text: str, stated: str, min_words: int = 3) -> str:
    """The language a user's message is written in: ``stated`` (the page's, the widget's)
    unless the message's words confidently say another (``min_words`` words at least; a tie
    between Russian and Ukrainian keeps ``stated``). A Ukrainian message sent from a Russian
    page is Ukrainian; "VPN?" on it stays Russian."""
    if stated not in LANGUAGES:
        return detect_language(text)
    if len(words(text)) < min_words:
        return stated
    return detect_language(text, default=stated)


URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.I)
INVISIBLE_RE = re.compile(r"[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")
SYMBOLS_RE = re.compile(r"[^\w\s\-'\u2019.,?!:/#+@&]")
MAX_QUERY_CHARS = 500


def clean_query(text: str) -> str:
    """What a real query needs before ranking: no URLs, invisible characters or emoji,
    whitespace collapsed, bounded length. Words, numbers and error codes are kept."""
    text = unicodedata.normalize("NFKC", text or "")[:MAX_QUERY_CHARS * 2]
    text = INVISIBLE_RE.sub("", text)
    text = URL_RE.sub(" ", text)
    text = SYMBOLS_RE.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()[:MAX_QUERY_CHARS]


# Latin-letter Russian and Ukrainian ("ne rabotaet nichego", "vse vpalo chy sho?"): people type it
# on a keyboard without Cyrillic. ``transliterate``'s packs read single letters; these digraphs of
# the usual schemes come first (Ukrainian national: "ia", "iu", "ie", "yi"; Russian: "ya", "yu").
TRANSLIT_DIGRAPHS = {
    "ru": (("shch", "щ"), ("ya", "я"), ("yu", "ю"), ("yo", "ё"), ("kh", "х"), ("ts", "ц"),
           ("iy", "ий"), ("ey", "ей"), ("ay", "ай"), ("oy", "ой"), ("ai", "ай"), ("ei", "ей")),
    "uk": (("shch", "щ"), ("ia", "я"), ("iu", "ю"), ("ie", "є"), ("yi", "ї"), ("kh", "х"),
           ("ts", "ц"), ("ai", "ай"), ("ei", "ей"), ("yj", "ий")),
}


def cyrillic_reading(text: str) -> str | None:
    """``text`` read as Russian or Ukrainian written in Latin letters, in Cyrillic (the
    language whose dictionary knows more of its words), or None when it is not such a text:
    most of its words are Latin, most of those are not English, and the reading has real words."""
    tokens = [word for word in words(text) if not word.isdigit()]
    latin = [word for word in tokens if not CYRILLIC.search(word)]
    foreign = [word for word in latin if len(word) > 1 and not in_dictionary(word)]
    if len(latin) < 2 or len(latin) * 2 < len(tokens) or len(foreign) * 2 < len(latin):
        return None
    readings = []
    for language in ("ru", "uk"):
        reading = transliterate(text, language)
        known = sum(in_dictionary(word, language) for word in words(reading) if CYRILLIC.search(word))
        readings.append((known, reading))
    known, reading = max(readings)
    return reading if known >= 2 and known * 2 >= len(foreign) else None


def transliterate(text: str, language: str) -> str:
    """Latin letters of ``text`` as ``language``'s Cyrillic (the digraphs, then ``transliterate``)."""
    from transliterate import translit      # imported when needed
    lowered = text.lower()
    for latin, cyrillic in TRANSLIT_DIGRAPHS[language]:
        lowered = lowered.replace(latin, cyrillic)
    return translit(lowered, language)
