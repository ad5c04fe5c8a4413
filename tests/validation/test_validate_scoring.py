"""Label checks follow how a model's provider scores labels (``ModelFacts.scoring``): with first-token scoring the
labels' first tokens must differ; with full-label scoring (the OpenAI providers' ``scoring: full``, the hf
providers) only whole spellings must, and multi-token labels are scored whole. Lengths count the label's tokens
where a request carries them."""

from __future__ import annotations

from validation_kit import SEP

from harness.providers import ModelFacts
from harness.validation import validate
from harness.validation.labels import check_label_tokens

HOCKEY = ("hockey", "hockeyball", "baseball")  # under cl100k_base, " hockey" and " hockeyball" begin with " hockey"


def _rows(labels, n=15, text="x"):
    return [{"prompt": f"{text} {i}{SEP}", "completion": f" {labels[i % len(labels)]}"} for i in range(n)]


def _model(scoring=None, **options):
    opts = dict(options, **({"scoring": scoring} if scoring else {}))
    return {"m": {"provider": "openai-completions", "argument": "babbage-002", "options": opts}}


def test_labels_sharing_a_first_token_are_an_error_only_for_first_token_scoring(write_suite):
    first = validate(write_suite(_rows(HOCKEY), labels=list(HOCKEY), models=_model()))
    f = first.get("label-first-token-collision", "m")
    assert f is not None and f.severity == "error" and f.items == ("hockey", "hockeyball")
    full = validate(write_suite(_rows(HOCKEY), folder="full", labels=list(HOCKEY), models=_model("full")))
    assert full.get("label-first-token-collision") is None and full.get("label-token-collision") is None
    assert full.ok, [x.code for x in full.errors]
    multi = full.get("label-multi-token", "m")
    assert multi is not None and multi.items == ("hockeyball",) and "scored whole" in multi.message
    assert "first token only" in first.get("label-multi-token", "m").message


def test_full_scoring_counts_the_longest_label_in_the_request(write_suite):
    labels = ("yes", "supercalifragilisticexpialidocious")
    rows = _rows(labels, n=10, text="word " * 40)  # about 45 tokens each
    from harness_plugins.providers.openai.tokenizers import get_tokenizer

    tok = get_tokenizer("cl100k_base")
    prompt_tokens = len(tok.encode(rows[0]["prompt"]))
    label_tokens = max(len(tok.encode(form)) for form in (labels[1], " " + labels[1]))  # both spellings are sent
    assert label_tokens > 2
    window = prompt_tokens + 2  # the prompt and the generated token fit; the prompt and the long label do not
    ok = validate(write_suite(rows, labels=list(labels), models=_model(context_window=window)))
    assert ok.get("too-long") is None
    full = validate(write_suite(rows, folder="full", labels=list(labels),
                                models=_model("full", context_window=window)))
    f = full.get("too-long", "m")
    assert f is not None and f.count == 10 and f"{label_tokens + 1} output tokens" in f.message


class _Lower:
    """A tokenizer that lowercases (as some normalisers do) and splits into characters, a space being its own
    token: 'Yes' and 'YES' are the same tokens; ' yes' begins with a lone space."""

    name = "lower"

    def encode(self, text):
        return [ord(c) for c in text.lower()]

    def decode(self, ids):
        return "".join(map(chr, ids))


def test_labels_that_are_the_same_tokens_are_an_error_even_for_full_scoring():
    labels = ("Yes", "YES", "no")
    full = check_label_tokens("m", ModelFacts(tokenizer=_Lower(), scoring="full"), labels, " ")
    codes = {f.code: f for f in full}
    assert set(codes) == {"label-token-collision", "label-multi-token"}
    assert codes["label-token-collision"].severity == "error" and codes["label-token-collision"].items == ("Yes", "YES")
    first = {f.code: f for f in check_label_tokens("m", ModelFacts(tokenizer=_Lower()), labels, " ")}
    assert "label-token-collision" not in first and first["label-first-token-collision"].items == ("Yes", "YES")


def test_a_lone_space_first_token_is_not_a_collision():
    # every spaced label begins with the space token here; the providers never match labels by it
    labels = ("yes", "no")
    found = check_label_tokens("m", ModelFacts(tokenizer=_Lower()), labels, " ")
    assert not [f for f in found if f.code == "label-first-token-collision"]


def test_model_facts_score_first_tokens_unless_told():
    assert ModelFacts().scoring == "first-token"
