"""The mlp assignment: layer classes, update rules, MLPs, batch norm, dropout ("deep learning from scratch" style)."""
