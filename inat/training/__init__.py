"""Training and measuring models: datasets, training runs and their records, calibration, evaluation in the
open world, the plots that compare runs."""
