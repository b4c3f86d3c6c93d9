"""Reference solutions of the exercises, one module per notebook (``solutions/nbNN.py``).

The self-checks in the notebooks compare a learner's answer with these; the tests check that
each self-check passes these solutions and fails a wrong answer.
"""
