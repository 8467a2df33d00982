# 20 lines 10 code 5 comments 5 blanks
"""Module docstring
spanning lines, with # no comment markers."""

import os


def f(x):
    '''Function docstring.'''
    s = "# not a comment"
    t = 'it\'s # fine'
    u = """a code string
    # still code
    """
    return x  # trailing


# comment
class C:
    pass
