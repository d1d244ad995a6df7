"""Assignment 2: fully-connected nets, update rules, batch/layer norm, dropout, convolutional nets."""
