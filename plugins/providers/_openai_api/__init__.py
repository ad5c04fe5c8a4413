"""Reaching an OpenAI(-compatible) or Azure OpenAI server, shared by the built-in providers that call one (``openai/``,
``embeddings/``): SDK clients, keys, error mapping (``connection``) and the Batch API client (``batch``).

Built-in plugins are otherwise independent of each other (an import-linter contract in pyproject.toml); this
package is one of the few shared helpers that contract lists.
"""
