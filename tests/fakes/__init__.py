"""Fake servers shared by test folders (tests/ is on sys.path under pytest: ``from fakes.openai_server import ...``)."""
