"""Mapping search: the GAMMA genetic algorithm and a random-search baseline."""
