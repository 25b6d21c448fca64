"""Interoperability with other tools: OpenLineage in (a Marquez-compatible receiver's storage
side) and out (an emitter registered as a runner hook)."""
