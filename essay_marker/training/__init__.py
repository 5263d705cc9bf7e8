"""Training, one module per part.

- `sets`: what a model is trained on (a teacher's scripts, with or without the bundled corpus);
- `folds`: fold plans and the folds' features, made fast (kernels reused across candidates);
- `crossval`: nested cross-validation of the candidates, the figures a model card reports;
- `fit`: the final fit a teacher uses, and figures on scripts a model has not seen.
"""
