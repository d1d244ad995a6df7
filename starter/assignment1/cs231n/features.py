"""Image features for the linear classifiers and the two-layer net: a histogram of oriented gradients
(HOG) and a colour histogram of the hue, computed with NumPy only."""
import numpy as np


def extract_features(imgs, feature_fns, verbose=False):
    """Given pixel data for images and several feature functions that can operate on single images,
    apply all feature functions to all images, concatenating the feature vectors for each image and
    storing the features for all images in a single matrix.

    Inputs:
    - imgs: N x H X W X C array of pixel data for N images.
    - feature_fns: List of k feature functions. The ith feature function should take as input an
      H x W x D array and return a (one-dimensional) array of length F_i.
    - verbose: Boolean; if true, print progress.

    Returns:
    An array of shape (N, F_1 + ... + F_k) where each column is the concatenation of all features
    for a single image.
    """
    num_images = imgs.shape[0]
    if num_images == 0:
        return np.array([])

    # Use the first image to determine feature dimensions
    feature_dims = []
    first_image_features = []
    for feature_fn in feature_fns:
        feats = feature_fn(imgs[0].squeeze())
        assert len(feats.shape) == 1, "Feature functions must be one-dimensional"
        feature_dims.append(feats.size)
        first_image_features.append(feats)

    # Now that we know the dimensions of the features, we can allocate a single big array to store
    # all features as columns.
    total_feature_dim = sum(feature_dims)
    imgs_features = np.zeros((num_images, total_feature_dim))
    imgs_features[0] = np.hstack(first_image_features).T

    # Extract features for the rest of the images.
    for i in range(1, num_images):
        idx = 0
        for feature_fn, feature_dim in zip(feature_fns, feature_dims):
            next_idx = idx + feature_dim
            imgs_features[i, idx:next_idx] = feature_fn(imgs[i].squeeze())
            idx = next_idx
        if verbose and i % 1000 == 999:
            print("Done extracting features for %d / %d images" % (i + 1, num_images))

    return imgs_features


def rgb2gray(rgb):
    """Convert RGB image to grayscale

    Parameters:
      rgb : RGB image, of shape (H, W, 3)

    Returns:
      gray : grayscale image, of shape (H, W)
    """
    return np.dot(rgb[..., :3], [0.299, 0.587, 0.144])


def rgb_to_hue(rgb):
    """The hue of an RGB image with values in [0, 1], in [0, 1) (0 where the pixel is grey), as in
    the H channel of matplotlib.colors.rgb_to_hsv.

    Inputs:
    - rgb: Array of shape (H, W, 3)

    Returns:
    - hue: Array of shape (H, W)
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    maxc = np.max(rgb, axis=-1)
    delta = maxc - np.min(rgb, axis=-1)
    safe = np.where(delta > 0, delta, 1.0)
    hue = np.zeros(maxc.shape)
    # the later cases win where two channels share the maximum (blue over green over red)
    hue = np.where(r == maxc, (g - b) / safe, hue)
    hue = np.where(g == maxc, 2.0 + (b - r) / safe, hue)
    hue = np.where(b == maxc, 4.0 + (r - g) / safe, hue)
    hue = np.where(delta > 0, hue, 0.0)
    return (hue / 6.0) % 1.0


def hog_feature(im):
    """Compute Histogram of Gradient (HOG) feature for an image

    Modified from skimage.feature.hog
    http://pydoc.net/Python/scikits-image/0.4.2/skimage.feature.hog

    Reference:
      Histograms of Oriented Gradients for Human Detection
      Navneet Dalal and Bill Triggs, CVPR 2005

    Parameters:
      im : an input grayscale or rgb image, of shape (H, W) or (H, W, 3)

    Returns:
      feat: Histogram of Gradient (HOG) feature, of shape (n_cellsy * n_cellsx * 9,) with
      n_cellsx = floor(H / 8) and n_cellsy = floor(W / 8): the 9 orientation bins of every 8x8
      cell, the cells column by column (entry [p, q, o] of the histogram is the cell in column p
      and row q).
    """
    # convert rgb to grayscale if needed
    if im.ndim == 3:
        image = rgb2gray(im)
    else:
        image = np.atleast_2d(im)

    sx, sy = image.shape  # image size
    orientations = 9  # number of gradient bins
    cx, cy = (8, 8)  # pixels per cell

    gx = np.zeros(image.shape)
    gy = np.zeros(image.shape)
    gx[:, :-1] = np.diff(image, n=1, axis=1)  # compute gradient on x-direction
    gy[:-1, :] = np.diff(image, n=1, axis=0)  # compute gradient on y-direction
    grad_mag = np.sqrt(gx ** 2 + gy ** 2)  # gradient magnitude
    grad_ori = np.arctan2(gy, (gx + 1e-15)) * (180 / np.pi) + 90  # gradient orientation

    n_cellsx = int(np.floor(sx / cx))  # number of cells in x
    n_cellsy = int(np.floor(sy / cy))  # number of cells in y
    orientation_histogram = np.zeros((n_cellsy, n_cellsx, orientations))
    ###########################################################################
    # TODO: Fill orientation_histogram: for bin o, the mean over the pixels   #
    # of each cell of grad_mag where 20*o <= grad_ori < 20*(o+1) and          #
    # grad_ori > 0 (0 elsewhere). Cells are the full 8x8 blocks from the top  #
    # left; entry [p, q, o] is the cell in column p and row q.                #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    return orientation_histogram.ravel()


def color_histogram_hsv(im, nbin=10, xmin=0, xmax=255, normalized=True):
    """Compute color histogram for an image using hue.

    Inputs:
    - im: H x W x C array of pixel data for an RGB image.
    - nbin: Number of histogram bins. (default: 10)
    - xmin: Minimum pixel value (default: 0)
    - xmax: Maximum pixel value (default: 255)
    - normalized: Whether to normalize the histogram (default: True)

    Returns:
      1D vector of length nbin giving the color histogram over the hue of the input image: the
      hue (scaled to [xmin, xmax]) is binned in nbin equal bins; normalized, the bins sum to 1.
    """
    bins = np.linspace(xmin, xmax, nbin + 1)
    imhist = np.zeros(nbin)
    ###########################################################################
    # TODO: Compute the hue of im / xmax (rgb_to_hue), scale it by xmax, and  #
    # count it in the bins (np.histogram); normalized, divide by the number   #
    # of pixels.                                                              #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    # return histogram
    return imhist
