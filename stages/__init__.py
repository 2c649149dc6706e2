"""Steps that transform documents. Never imports `pipelines`."""
