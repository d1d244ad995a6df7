"""Helpers to look at images and learned weights."""
from math import ceil, sqrt

import numpy as np


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Reshape a 4D tensor of image data to a grid for easy visualization.

    Inputs:
    - Xs: Data of shape (N, H, W, C)
    - ubound: Output grid will have values scaled to the range [0, ubound]
    - padding: The number of blank pixels between elements of the grid

    Returns:
    - grid: Array of shape (G*H + (G-1)*padding, G*W + (G-1)*padding, C) with G = ceil(sqrt(N)),
      each image rescaled on its own to [0, ubound] and placed row by row; unused cells are zero.
    """
    N, H, W, C = Xs.shape
    grid_size = int(ceil(sqrt(N)))
    grid_height = H * grid_size + padding * (grid_size - 1)
    grid_width = W * grid_size + padding * (grid_size - 1)
    grid = np.zeros((grid_height, grid_width, C))
    for idx in range(N):
        row, col = divmod(idx, grid_size)
        y0 = row * (H + padding)
        x0 = col * (W + padding)
        img = Xs[idx]
        low, high = np.min(img), np.max(img)
        span = high - low
        grid[y0:y0 + H, x0:x0 + W] = ubound * (img - low) / span if span > 0 else 0.0
    return grid


def vis_grid(Xs):
    """Visualize a grid of images without rescaling them.

    Inputs:
    - Xs: Data of shape (N, H, W, C)

    Returns:
    - grid: Array of shape (A*(H+1)+1, B*(W+1)+1, C) with A*B >= N, images separated by one pixel
      and the background set to the maximum value of Xs.
    """
    N, H, W, C = Xs.shape
    A = int(ceil(sqrt(N)))
    B = int(ceil(N / A))
    G = np.ones((A * H + A + 1, B * W + B + 1, C), Xs.dtype)
    G *= np.max(Xs)
    for n in range(N):
        y, x = divmod(n, B)
        G[y * H + y + 1:(y + 1) * H + y + 1, x * W + x + 1:(x + 1) * W + x + 1, :] = Xs[n]
    return G


def vis_nn(rows):
    """Visualize a grid of images given as rows of equally sized images.

    Inputs:
    - rows: a list of lists of arrays, every array of shape (H, W, C)

    Returns:
    - grid: Array of shape (R*H + R + 1, K*W + K + 1, C) for R rows of K images, images separated by one
      pixel and the background set to the maximum value of all the images.
    """
    R, K = len(rows), len(rows[0])
    H, W, C = rows[0][0].shape
    G = np.ones((R * H + R + 1, K * W + K + 1, C), dtype=rows[0][0].dtype)
    G *= max(np.max(img) for row in rows for img in row)
    for y in range(R):
        for x in range(K):
            G[y * H + y + 1:(y + 1) * H + y + 1, x * W + x + 1:(x + 1) * W + x + 1, :] = rows[y][x]
    return G
