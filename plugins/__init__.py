"""harness's built-in plugins (installed as ``harness_plugins``). Registered exactly like third-party ones."""
