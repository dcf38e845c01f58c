"""The engine: the day loop, the post store, the day's drivers, pairing with the counterfactual."""
