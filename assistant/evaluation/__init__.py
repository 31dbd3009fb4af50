"""`enclave eval`: how well Enclave finds the right passage, and answers from it, on known questions.

``datasets`` loads questions (and, for the public benchmarks, their corpus),
``scratch`` indexes a benchmark corpus into a data directory of its own,
``runner`` asks the questions, ``metrics`` scores them and ``report`` writes the result.
"""
