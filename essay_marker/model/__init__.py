"""The trained marker, one module per part.

- `pipeline`: the scikit-learn pipelines (mark, length baseline, sentence roles) and candidates;
- `ordinal`: the ordinal regressor that cuts a regression's output into whole marks;
- `sentence`: the sentence-level factor and role model;
- `metrics`: agreement figures (QWK, exact and adjacent level agreement);
- `trained`: the bundle `check` marks with;
- `persist`: saving and loading with skops and an allow-list of types.
"""
