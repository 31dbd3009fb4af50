"""`enclave eval`: how well Enclave finds the right passage, and answers from it, on known questions.

``datasets`` loads questions (and, for the public benchmarks, their corpus),
``scratch`` indexes a benchmark corpus into a data directory of its own,
``runner`` runs an evaluation: ``ranking`` checks where search puts the right
documents, ``answers`` has the LLM answer; ``metrics`` holds the scores and
``report`` writes the result.
"""
