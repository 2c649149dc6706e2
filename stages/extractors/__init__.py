"""Ways to get a page's article text and metadata out of HTML; the extract stage's `mode` picks one (`modes.py`)."""
