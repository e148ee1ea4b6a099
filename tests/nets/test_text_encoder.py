"""The frozen MiniLM encoder: loads offline from the pinned wheel, known cosines, masking, cache round trip."""
import pytest
import torch

from core_models.nets.common.text_encoder import TextEncoder, TextEncoderUnavailable, TextFeatureCache, get_text_encoder


@pytest.fixture(scope="module")
def enc():
    return get_text_encoder()


def test_known_cosines_match_sentence_transformers(enc):
    # reference values measured with sentence-transformers (docs RESEARCH §C.1.5)
    v = enc.encode_pooled(["raise your left arm", "lift your left arm", "lower your left arm",
                           "raise your right arm"])
    c = (v @ v.T).numpy()
    assert c[0, 1] == pytest.approx(0.899, abs=2e-3)
    assert c[0, 2] == pytest.approx(0.865, abs=2e-3)
    assert c[0, 3] == pytest.approx(0.973, abs=2e-3)


def test_padding_does_not_change_states(enc):
    a = enc.encode_tokens(["bend your knee"])
    b = enc.encode_tokens(["bend your knee", "a much longer sentence with many more words in it than the other"])
    n = int(a.mask.sum())
    assert b.mask[0].sum() == n and b.states.shape[1] > n
    assert torch.allclose(a.states[0, :n], b.states[0, :n], atol=1e-4)
    assert torch.all(b.states[0, n:] == 0)


def test_empty_and_odd_text(enc):
    tf = enc.encode_tokens(["", "   ", "ññ 🤸 ???", "x" * 5000])
    assert torch.isfinite(tf.states).all()
    assert tf.mask[0].sum() == 2  # [CLS] [SEP]
    assert tf.states.shape[1] <= 64


def test_cache_roundtrip(enc, tmp_path):
    c = TextFeatureCache(enc)
    c.add(["raise your left arm", "bend  your knee"])
    f = c.batch(["bend your knee", "raise your left arm"])
    ref = enc.encode_tokens(["bend your knee"])
    n = int(ref.mask.sum())
    assert torch.allclose(f.states[0, :n], ref.states[0, :n], atol=1e-2)
    c.save(tmp_path / "c.npz")
    c2 = TextFeatureCache(enc)
    c2.load(tmp_path / "c.npz")
    assert set(c2.store) == set(c.store)


def test_corrupt_weights_give_clear_error(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not a model")
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(TextEncoderUnavailable, match="corrupt"):
        TextEncoder(tmp_path)
    with pytest.raises(TextEncoderUnavailable, match="missing"):
        TextEncoder(tmp_path / "nope")
