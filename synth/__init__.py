"""LLM rewriting of documents into grounded synthetic forms."""
