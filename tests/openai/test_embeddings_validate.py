"""``harness validate`` on suites with embeddings models: what the run would refuse (no training split for a
classifier fitted on it) is an error before any request, and OpenAI's embedding models have model facts
(cl100k_base, 8,192 tokens an input) without label-token checks that do not apply to them."""

from __future__ import annotations

from embeddings_testkit import MODEL, ZS, run, split_rows, write_split, write_suite

from harness.cli.main import main


def _validate(suite, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["validate", str(suite)])
    cap = capsys.readouterr()
    return code, " ".join((cap.out + cap.err).split())


def test_validate_reports_the_missing_training_split_as_an_error(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", train=False)  # logistic: fitted on the training split
    code, out = _validate(suite, capsys)
    assert code == 2 and "needs the suite's training split" in out and "harness run will proceed" not in out
    assert not fake.requests


def test_validate_reports_lsa_without_a_training_split_naming_the_provider(tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", train=False, models={
        "zs": {"provider": "embeddings-lsa", "options": {"classifier": "zero-shot"}}})
    code, out = _validate(suite, capsys)
    assert code == 2 and "LSA is fitted on it" in out and "models.zs.provider" in out


def test_validate_passes_zero_shot_without_a_training_split(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", train=False, models={
        "zs": ZS})
    code, out = _validate(suite, capsys)
    assert code == 0 and "no errors" in out and "no-model-facts" not in out


def test_a_text_over_the_input_limit_is_a_warning_and_fails_alone_in_the_run(fake, tmp_path, capsys) -> None:
    from embeddings_testkit import signal_vector

    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s", models={"emb": {"provider": "embeddings", "argument": MODEL,
                                                        "options": {"max_input_tokens": 40}}})
    rows = split_rows(suite, "heldout")
    rows[3] = (rows[3][0], " ".join(["pitcher"] * 60), rows[3][2])
    write_split(suite / "heldout.jsonl", rows)
    code, out = _validate(suite, capsys)
    assert code == 0 and "too-long" in out and "limit of tokens per input (40 tokens" in out
    assert "label-" not in out  # labels are not tokens an embeddings model writes
    assert run(suite, tmp_path / "out") == 0
