"""Python-2 names used by old CS231n code, mapped to their Python-3 equivalents."""
xrange = range
unicode = str
basestring = str
long = int
raw_input = input
