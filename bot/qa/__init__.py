"""Answering questions from the course: retrieval, the local model and the Anthropic client."""
