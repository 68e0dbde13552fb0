"""The ground floor: taxa and their names, photos opened safely, preprocessing, probabilities, the tree roll-up,
the record a prediction becomes, one-line errors and the project's folders. Knows nothing of models."""
