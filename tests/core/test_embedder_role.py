"""The embedder role: choosing an embedder, the vector cache in front of it, and the test embedder."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from purpose_agent.embedding_cache import VectorCache, default_cache_path, text_digest
from purpose_agent.errors import ConfigError, PluginError, UnknownComponentError
from purpose_agent.testing import HashingEmbedder, make_kernel, plugin
from purpose_agent_conformance import EmbedderConformance


def embedder_plugin(plugin_id: str, embedder: Any = None) -> Any:
    made = embedder if embedder is not None else HashingEmbedder()
    return plugin(plugin_id, register_embedders=lambda register: register(plugin_id, lambda context: made))


def cache_config(tmp_path: Path, **runtime: Any) -> dict[str, Any]:
    return {"runtime": {"embedding_cache": str(tmp_path / "vectors.sqlite"), **runtime}}


class TestHashingEmbedder(EmbedderConformance):
    plugin = embedder_plugin("hashing")
    embedder_name = "hashing"


def test_a_plugin_written_for_hook_api_1_0_still_loads() -> None:
    obj = embedder_plugin("old")
    obj.PURPOSE_AGENT_HOOK_API = "1.0"
    assert make_kernel(obj).records["old"].status == "ok"
    obj.PURPOSE_AGENT_HOOK_API = "1.1"
    assert make_kernel(obj).records["old"].status == "ok"


def test_without_an_embedder_the_error_names_the_package_to_install() -> None:
    with pytest.raises(UnknownComponentError, match="pip install purpose-agent-minilm"):
        make_kernel().embedder()


def test_the_only_embedder_installed_is_the_default(tmp_path: Path) -> None:
    kernel = make_kernel(embedder_plugin("hashing"), config=cache_config(tmp_path))
    assert kernel.embedder().model_id == "hashing-bow/256"


def test_runtime_embedder_chooses_among_several(tmp_path: Path) -> None:
    plugins = (embedder_plugin("a", HashingEmbedder(salt="a")), embedder_plugin("b", HashingEmbedder(salt="b")))
    with pytest.raises(UnknownComponentError, match=r"several embedders .*\[runtime\] embedder"):
        make_kernel(*plugins, config=cache_config(tmp_path)).embedder()
    chosen = make_kernel(*plugins, config=cache_config(tmp_path, embedder="b")).embedder()
    assert chosen.model_id.endswith("/b")


def test_an_unknown_name_lists_what_is_available(tmp_path: Path) -> None:
    with pytest.raises(UnknownComponentError, match=r"no embedder named 'nope' \(available: hashing\)"):
        make_kernel(embedder_plugin("hashing"), config=cache_config(tmp_path)).embedder("nope")


def test_wrong_embedder_settings_are_sentences(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'runtime.embedding_cache' must be a non-empty path string, or false"):
        make_kernel(embedder_plugin("hashing"), config={"runtime": {"embedding_cache": 3}})
    with pytest.raises(ConfigError, match="'runtime.embedder' must be a non-empty string"):
        make_kernel(embedder_plugin("hashing"), config={"runtime": {"embedder": ["hashing"]}})


def test_the_kernel_builds_an_embedder_once(tmp_path: Path) -> None:
    kernel = make_kernel(embedder_plugin("hashing"), config=cache_config(tmp_path))
    assert kernel.embedder() is kernel.embedder("hashing")


def test_the_default_cache_lives_under_xdg_cache_home(tmp_path: Path) -> None:
    assert default_cache_path({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "purpose-agent" / "embeddings.sqlite"
    assert default_cache_path({"HOME": str(tmp_path)}) == tmp_path / ".cache" / "purpose-agent" / "embeddings.sqlite"


def test_cached_texts_are_not_embedded_again_even_by_a_new_kernel(tmp_path: Path) -> None:
    inner = HashingEmbedder()
    first = make_kernel(embedder_plugin("hashing", inner), config=cache_config(tmp_path)).embedder()
    vectors = first.embed(["alpha beta", "gamma", "alpha beta"])
    assert inner.calls == [2]  # the repeated text was embedded once
    again = make_kernel(embedder_plugin("hashing", inner), config=cache_config(tmp_path)).embedder()
    np.testing.assert_array_equal(
        again.embed(["gamma", "alpha beta", "delta"]), np.vstack([vectors[1], vectors[0], inner.embed(["delta"])[0]])
    )
    assert inner.calls == [2, 1, 1]  # only "delta" was new (the last call is the check above)


def test_a_changed_model_id_re_embeds(tmp_path: Path) -> None:
    old, new = HashingEmbedder(), HashingEmbedder(salt="retrained")
    make_kernel(embedder_plugin("hashing", old), config=cache_config(tmp_path)).embedder().embed(["same text"])
    fresh = make_kernel(embedder_plugin("hashing", new), config=cache_config(tmp_path)).embedder()
    assert not np.allclose(fresh.embed(["same text"]), old.embed(["same text"]))
    assert new.calls == [1] and fresh.misses == 1


def test_the_cache_can_be_turned_off(tmp_path: Path) -> None:
    inner = HashingEmbedder()
    embedder = make_kernel(embedder_plugin("hashing", inner), config={"runtime": {"embedding_cache": False}}).embedder()
    embedder.embed(["x"])
    embedder.embed(["x"])
    assert inner.calls == [1, 1] and embedder.cache is None


def test_a_corrupt_cache_file_is_rebuilt_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "vectors.sqlite"
    path.write_bytes(b"this is not a SQLite database, it is garbage " * 100)
    embedder = make_kernel(embedder_plugin("hashing"), config=cache_config(tmp_path)).embedder()
    with pytest.warns(RuntimeWarning, match="corrupt"):
        embedder.embed(["a lesson"])
    again = make_kernel(embedder_plugin("hashing"), config=cache_config(tmp_path)).embedder()
    again.embed(["a lesson"])
    assert again.hits == 1  # the rebuilt file works
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM vectors").fetchone()[0] == 1


def test_a_cache_corrupted_while_in_use_is_rebuilt(tmp_path: Path) -> None:
    embedder = make_kernel(embedder_plugin("hashing"), config=cache_config(tmp_path)).embedder()
    embedder.embed([f"text {i}" for i in range(200)])
    embedder.cache.close()
    path = tmp_path / "vectors.sqlite"
    data = bytearray(path.read_bytes())
    data[0:100] = b"\xff" * 100  # the header: every later read fails
    path.write_bytes(bytes(data))
    with pytest.warns(RuntimeWarning, match="corrupt"):
        vectors = embedder.embed(["text 1", "text 2"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_an_unwritable_cache_directory_turns_the_cache_off(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    config = {"runtime": {"embedding_cache": str(blocker / "sub" / "vectors.sqlite")}}
    embedder = make_kernel(embedder_plugin("hashing"), config=config).embedder()
    with pytest.warns(RuntimeWarning, match="embedding cache .* is off"):
        vectors = embedder.embed(["still works"])
    assert vectors.shape == (1, 256) and not embedder.cache.enabled


def test_an_embedder_that_breaks_the_shape_contract_is_named(tmp_path: Path) -> None:
    class Broken(HashingEmbedder):
        def embed(self, texts: Any) -> Any:
            return super().embed(texts)[:, :10]

    embedder = make_kernel(embedder_plugin("broken", Broken()), config=cache_config(tmp_path)).embedder()
    with pytest.raises(PluginError, match=r"returned an array of shape \(1, 10\).*EmbedderConformance"):
        embedder.embed(["x"])


def _write_rows(path: str, worker: int) -> None:
    cache = VectorCache(Path(path))
    for batch in range(20):
        rows = [(text_digest(f"{worker}-{batch}-{i}"), np.full(8, worker, np.float32)) for i in range(25)]
        cache.put("m", rows)
        assert len(cache.get("m", [d for d, _ in rows], 8)) == 25
    assert cache.enabled and not cache.problems, cache.problems


def test_concurrent_processes_share_one_cache_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_rows, args=(str(path), n)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM vectors").fetchone()[0] == 4 * 20 * 25


def test_the_hashing_embedder_sees_shared_words_not_meaning() -> None:
    vectors = HashingEmbedder().embed(
        ["pin dependency versions", "pin the dependency versions", "reproducible installs"]
    )
    assert vectors[0] @ vectors[1] > 0.5 > abs(vectors[0] @ vectors[2])
