"""The bundled eval suites (installed as ``harness_suites``): each folder holds a suite.yaml and its data."""
