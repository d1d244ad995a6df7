"""Q1: k-nearest neighbours."""
