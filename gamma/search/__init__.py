"""Mapping search: the GAMMA genetic algorithm, a random-search baseline and an exact
branch-and-bound mode (:mod:`gamma.search.exhaustive`)."""
