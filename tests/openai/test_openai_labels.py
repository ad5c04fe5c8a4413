"""The label-probability rules of harness_plugins.providers.openai.labels, on known logprobs."""

from __future__ import annotations

import math

import pytest

from harness_plugins.providers.openai.labels import (
    OUTSIDE_TOP_K,
    AmbiguousToken,
    LabelCollision,
    LabelMatcher,
    TopToken,
    label_probabilities,
    token_bytes,
    variants,
)
from harness_plugins.providers.openai.tokenizers import encoding_name_for_model, get_tokenizer, resolve_tokenizer

LABELS = ("baseball", "hockey")


def tops(pairs: dict[str, float]) -> list[TopToken]:
    return [TopToken(tok, math.log(p)) for tok, p in pairs.items()]


@pytest.fixture(scope="module")
def o200k():
    return get_tokenizer("o200k_base")


def test_first_tokens_of_o200k_are_what_the_rules_assume(o200k) -> None:
    # chat answers start without a space ("hockey" = "h" + "ockey"), completions with one (" hockey")
    assert o200k.first_token("hockey") == b"h"
    assert o200k.first_token(" hockey") == b" hockey"
    assert o200k.first_token("baseball") == b"base"
    matcher = LabelMatcher(LABELS, o200k)
    assert matcher.mode == "tokenizer"
    assert matcher.label_tokens() == {"baseball": ["base", " baseball"], "hockey": ["h", " hockey"]}


def test_probabilities_are_exp_logprob_summed_over_variants_and_renormalised(o200k) -> None:
    top = tops({"base": 0.50, " baseball": 0.10, "h": 0.20, " hockey": 0.05, "The": 0.10, "Base": 0.01})
    res = label_probabilities(top, top[0], LabelMatcher(LABELS, o200k))
    assert res.probs["baseball"] == pytest.approx(0.60 / 0.85, abs=1e-12)
    assert res.probs["hockey"] == pytest.approx(0.25 / 0.85, abs=1e-12)
    assert math.fsum(res.probs.values()) == pytest.approx(1.0, abs=1e-12)
    assert res.label == "baseball" and res.generated == "base" and res.generated_label == "baseball"
    assert res.label_mass == pytest.approx(0.85, abs=1e-12)
    assert res.off_label_mass == pytest.approx(0.15, abs=1e-12)
    assert res.flags == () and res.outside_top_k == ()


def test_tokenizer_matching_counts_only_first_tokens_and_respects_case(o200k) -> None:
    # "hock" is a beginning of "hockey" but not its first token under o200k; "Base" differs in case
    top = tops({"base": 0.4, "hock": 0.3, "Base": 0.2, "h": 0.1})
    res = label_probabilities(top, top[0], LabelMatcher(LABELS, o200k))
    assert res.probs == pytest.approx({"baseball": 0.8, "hockey": 0.2})
    ci = label_probabilities(top, top[0], LabelMatcher(LABELS, o200k, case_insensitive=True))
    assert ci.probs == pytest.approx({"baseball": 0.6 / 0.7, "hockey": 0.1 / 0.7})


def test_text_matching_without_a_tokenizer_uses_label_beginnings() -> None:
    matcher = LabelMatcher(LABELS)
    assert matcher.mode == "text"
    assert matcher.match(" hockey") == "hockey"
    assert matcher.match("hock") == "hockey"
    assert matcher.match(" base") == "baseball"
    assert matcher.match("  base") is None  # one leading space is tolerated, not two
    assert matcher.match("Hockey") is None
    assert matcher.match(" ") is None
    assert matcher.match("hockey!") is None
    assert LabelMatcher(LABELS, case_insensitive=True).match(" HOCKEY") == "hockey"
    top = tops({" hock": 0.3, "hockey": 0.2, " baseball": 0.4, "\n": 0.1})
    res = label_probabilities(top, top[2], matcher)
    assert res.probs == pytest.approx({"baseball": 0.4 / 0.9, "hockey": 0.5 / 0.9})
    assert res.label == "hockey"  # argmax of the label probabilities, not the generated token


def test_a_label_outside_the_top_k_gets_the_smallest_returned_probability_and_a_flag(o200k) -> None:
    top = tops({"base": 0.70, "The": 0.10, "I": 0.05, "Baseball": 0.02})
    res = label_probabilities(top, top[0], LabelMatcher(LABELS, o200k))
    assert res.outside_top_k == ("hockey",)
    assert res.flags == (OUTSIDE_TOP_K,)
    assert res.bound == pytest.approx(0.02)
    assert res.probs["hockey"] == pytest.approx(0.02 / 0.72, abs=1e-12)
    assert res.probs["baseball"] == pytest.approx(0.70 / 0.72, abs=1e-12)
    assert res.label_mass == pytest.approx(0.70)  # the bound is not observed mass


def test_no_label_in_the_top_k_at_all_gives_uniform_bounds_and_an_invalid_output(o200k) -> None:
    top = tops({"The": 0.6, "I": 0.3})
    res = label_probabilities(top, top[0], LabelMatcher(LABELS, o200k))
    assert res.outside_top_k == LABELS
    assert res.probs == pytest.approx({"baseball": 0.5, "hockey": 0.5})
    assert res.label is None and res.generated == "The"
    assert res.off_label_mass == pytest.approx(1.0)


def test_a_generated_token_that_matches_no_label_is_an_invalid_output_with_probabilities(o200k) -> None:
    top = tops({"The": 0.5, "h": 0.3, "base": 0.1})
    res = label_probabilities(top, top[0], LabelMatcher(LABELS, o200k))
    assert res.label is None and res.generated_label is None
    assert res.probs == pytest.approx({"baseball": 0.25, "hockey": 0.75})


def test_the_generated_token_counts_once_and_duplicates_count_once(o200k) -> None:
    # llama.cpp may return k+1 entries with the sampled token repeated
    top = tops({"h": 0.5, "base": 0.3}) + [TopToken("h", math.log(0.5))]
    res = label_probabilities(top, TopToken("h", math.log(0.5)), LabelMatcher(LABELS, o200k))
    assert res.probs == pytest.approx({"baseball": 0.375, "hockey": 0.625})
    # a generated token missing from the top-k (sampling) is a candidate too
    res = label_probabilities(tops({"base": 0.3}), TopToken("h", math.log(0.1)), LabelMatcher(LABELS, o200k))
    assert res.probs == pytest.approx({"baseball": 0.75, "hockey": 0.25}) and res.flags == ()


def test_ties_go_to_the_first_label_and_underflow_is_uniform(o200k) -> None:
    top = tops({"h": 0.4, "base": 0.4})
    assert label_probabilities(top, top[0], LabelMatcher(LABELS, o200k)).label == "baseball"
    under = [TopToken("h", -1e6), TopToken("base", -1e6)]
    res = label_probabilities(under, under[0], LabelMatcher(LABELS, o200k))
    assert res.probs == {"baseball": 0.5, "hockey": 0.5}


def test_colliding_first_tokens_are_refused_naming_both_labels(o200k) -> None:
    with pytest.raises(LabelCollision) as info:
        LabelMatcher(("hockey", "h"), o200k)
    assert set(info.value.labels) == {"hockey", "h"} and info.value.token == "h"
    # case-insensitive matching adds case variants, which can collide too
    LabelMatcher(("Yes", "yes"), o200k)  # distinct when case matters
    with pytest.raises(LabelCollision):
        LabelMatcher(("Yes", "yes"), o200k, case_insensitive=True)


def test_text_matching_refuses_a_token_that_begins_two_labels() -> None:
    matcher = LabelMatcher(("hockey", "handball"))
    with pytest.raises(AmbiguousToken) as info:
        label_probabilities(tops({"h": 0.9}), TopToken("h", math.log(0.9)), matcher)
    assert info.value.labels == ("hockey", "handball")
    assert matcher.match("ho") == "hockey"


def test_token_bytes_and_variants() -> None:
    assert token_bytes("é", [195, 169]) == b"\xc3\xa9"
    assert token_bytes("bytes:\\xe2\\x80") == b"\xe2\x80"
    assert token_bytes(" x") == b" x"
    assert variants("yes") == ["yes", " yes"]
    assert variants("yes", True) == ["yes", " yes", "YES", " YES", "Yes", " Yes"]
    with pytest.raises(ValueError):
        label_probabilities([], TopToken("x", None), LabelMatcher(LABELS))


def test_partial_utf8_tokens_match_by_bytes(o200k) -> None:
    labels = ("été", "hiver")
    matcher = LabelMatcher(labels, o200k)
    first = o200k.first_token("été")
    tok = TopToken(first.decode("utf-8", errors="replace"), math.log(0.6), first)
    assert matcher.match(tok) == "été"


def test_tokenizer_lookup_by_model_name() -> None:
    assert encoding_name_for_model("gpt-4o-mini") == "o200k_base"
    assert encoding_name_for_model("ft:gpt-4o-mini-2024-07-18:org::abc123") == "o200k_base"
    assert encoding_name_for_model("ft:gpt-4o-mini-2024-07-18:org::abc123:ckpt-step-88") == "o200k_base"
    assert encoding_name_for_model("gpt-4.1-nano") == "o200k_base"
    assert encoding_name_for_model("gpt-3.5-turbo-0125") == "cl100k_base"
    assert encoding_name_for_model("ft:babbage-002:org::x") == "cl100k_base"
    assert encoding_name_for_model("davinci-002") == "cl100k_base"
    assert encoding_name_for_model("meta-llama/Llama-3.1-8B-Instruct") is None
    assert resolve_tokenizer("auto", "llama3") is None
    assert resolve_tokenizer("none", "gpt-4o") is None
    assert resolve_tokenizer("cl100k_base", "llama3").name == "cl100k_base"


def test_chat_token_count_follows_openais_recipe(o200k) -> None:
    msgs = [{"role": "system", "content": "Classify."}, {"role": "user", "content": "hello world"}]
    expected = 3 + sum(3 + len(o200k.encode(m["role"])) + len(o200k.encode(m["content"])) for m in msgs)
    assert o200k.count_chat(msgs) == expected


class _SentencePieceServer:
    """A server tokenizer whose pieces carry their space ("▁False" → b" False") but that prints tokens either way."""

    name = "server (test)"
    space_prefixed_pieces = True

    def first_token(self, text: str) -> bytes:
        word = text.strip()
        return {"False": b" False", "France": b" France"}[word] if text.startswith(" ") else \
            {"False": b"False", "France": b"Fr"}[word]


def test_pieces_printed_without_or_with_their_space_still_count_for_their_label() -> None:
    matcher = LabelMatcher(("False", "France"), _SentencePieceServer())
    assert matcher.match(" False") == "False" and matcher.match("False") == "False"
    assert matcher.match(" Fr") == "France"  # the alias of "Fr"
    assert matcher.match("France") == "France"  # the alias of " France"
    assert matcher.match("F") is None and matcher.match(" F") is None
