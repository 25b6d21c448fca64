"""Thin Typer adapters: parse, call one API function, render (Rich or, with --json, JSON)."""
