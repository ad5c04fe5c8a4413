"""A model's own tokenizer.json, read with the tokenizers library: token ids → the exact bytes they stand for,
for byte-level BPE (GPT-2, Llama 3, Qwen) and SentencePiece-style vocabularies (Llama 2, Mistral, Gemma)."""

from __future__ import annotations

import pytest

tokenizers = pytest.importorskip("tokenizers", reason="the hf extra (tokenizers) is not installed")

from harness_plugins.providers.openai.labels import LabelMatcher, TopToken  # noqa: E402
from harness_plugins.providers.openai.local_tokenizer import LocalTokenizer, TokenizerUnavailable  # noqa: E402

WORDS = ["False France hockey baseball", "is it False or True", "France is big", "café naïve"] * 20


def _save(tok, tmp_path, name="tokenizer.json"):
    path = tmp_path / name
    tok.save(str(path))
    return path


def byte_level(tmp_path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(WORDS, trainers.BpeTrainer(vocab_size=300, special_tokens=["<|eot|>"], show_progress=False,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return LocalTokenizer(_save(tok, tmp_path))


def sentencepiece_style(tmp_path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first")
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    pieces = [f"<0x{b:02X}>" for b in range(256)]
    tok.train_from_iterator(WORDS, trainers.BpeTrainer(vocab_size=600, special_tokens=["<unk>", *pieces],
                                                       show_progress=False))
    return LocalTokenizer(_save(tok, tmp_path))


def test_byte_level_tokens_are_their_bytes(tmp_path) -> None:
    tok = byte_level(tmp_path)
    assert tok.first_token(" False") == b" False" and tok.first_token("False") == b"False"
    ids = tok.encode("café")
    assert b"".join(tok.token_bytes(i) for i in ids) == "café".encode()
    assert b"<|eot|>" in tok.vocab() and b" France" in tok.vocab()
    matcher = LabelMatcher(("False", "France"), tok)
    assert matcher.match(TopToken(" France", -1.0)) == "France" and matcher.match("F") is None


def test_sentencepiece_pieces_carry_their_space_and_byte_pieces_their_byte(tmp_path) -> None:
    tok = sentencepiece_style(tmp_path)
    assert tok.space_prefixed_pieces
    assert tok.first_token("False") == b" False"  # "▁False": the prefix space of the first word
    assert tok.token_bytes(tok._tok.token_to_id("<0x0A>")) == b"\n"
    matcher = LabelMatcher(("False", "France"), tok)
    # a server printing the piece without its space (vLLM decodes a lone "▁False" as "False") still counts
    assert matcher.match("False") == "False" and matcher.match(" False") == "False"


def test_unusable_tokenizer_paths_say_why(tmp_path) -> None:
    with pytest.raises(TokenizerUnavailable, match="no such file"):
        LocalTokenizer(tmp_path / "missing.json")
    (tmp_path / "folder").mkdir()
    with pytest.raises(TokenizerUnavailable, match="has no tokenizer.json"):
        LocalTokenizer(tmp_path / "folder")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(TokenizerUnavailable, match="not a readable tokenizer.json"):
        LocalTokenizer(tmp_path / "bad.json")
