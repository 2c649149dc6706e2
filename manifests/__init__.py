"""Data that ships with curate (demo inputs, specs, recipes, JSON Schemas); found through `curate.resources`."""
