"""Reference solutions of the exercises, one module per notebook (``solutions/nbNN.py``), and
nothing else: no lesson code lives here.

Each module names its answers after the learner's stubs and lists them by exercise number in
``EXERCISES``. The notebooks reach them only through ``utils.checks.Exercises`` (so they are not
in the learner's namespace; ``exercises.show_solution(n)`` prints one on request), and the
tests run every self-check cell with these answers in place of the stubs.
"""
