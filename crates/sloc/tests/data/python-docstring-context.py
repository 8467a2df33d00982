# 11 lines 7 code 4 comments 0 blanks
cases = [
    """first
    """,
    """second: an item, after a line ending in a string's close and a comma"""
    """third: concatenated with the second, so an item too"""
]
def f():
    """Doc."""
    """Another statement string: a comment too."""
    # a comment
