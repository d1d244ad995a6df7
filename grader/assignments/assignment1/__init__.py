"""Assignment 1: k-nearest neighbours, linear SVM and softmax classifiers, a two-layer net, image features."""
