"""Pytest plugin: a local HTTP server on 127.0.0.1 serving real files in GOV.UK's layout.

(Filled in by the GOV.UK fetching work; kept importable so conftest can load it.)
"""
