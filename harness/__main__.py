"""``python -m harness``: the same command line as the ``harness`` script."""

from .cli.main import entry

if __name__ == "__main__":
    entry()
