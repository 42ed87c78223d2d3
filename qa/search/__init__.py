"""A question to a cited answer: retrieval, sentence evidence, ranking, choosing, confidence."""
