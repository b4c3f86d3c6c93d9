"""Course tooling, apart from what the notebooks import: run notebooks and record their results
(``runner``), execute one notebook with parameters and count its checks (``execute``), list and
strip notebooks and know their structure (``notebooks``), and presenter slides (``slides``).
``course.py`` is the command line for all of them."""
