# 4 lines 2 code 2 comments 0 blanks
"""Module doc."""
def f():
    return "# no"
