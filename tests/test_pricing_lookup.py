"""Price lookup: a model's harness name never picks a bundled price; the suite's batch discount counts."""

from harness.pricing import PriceTable


def test_a_fine_tune_named_like_its_base_is_not_priced_as_the_base():
    table = PriceTable.load()
    price = table.lookup("gpt-4o-mini", "ft:gpt-4o-mini-2024-07-18:org::abc")
    base = table.lookup("base", "gpt-4o-mini")
    assert price is not None and base is not None
    assert price.source.endswith("ft:gpt-4o-mini-2024-07-18") or price.source.endswith("ft:gpt-4o-mini")
    assert (price.input, price.output) != (base.input, base.output)


def test_user_layers_may_price_by_model_name():
    table = PriceTable.load({"mymodel": {"input": 1.0, "output": 2.0}})
    price = table.lookup("mymodel", "some-server-model")
    assert price is not None and (price.input, price.output) == (1.0, 2.0)


def test_the_suite_batch_discount_is_honoured(tmp_path):
    table = PriceTable.load({"batch_discount": 0.9, "x": {"input": 1.0, "output": 1.0}})
    assert table.batch_discount == 0.9
    prices = tmp_path / "p.yaml"
    prices.write_text("batch_discount: 0.7\n")
    assert PriceTable.load({"batch_discount": 0.9}, prices).batch_discount == 0.7  # --prices wins
    assert PriceTable.load().batch_discount == 0.5
