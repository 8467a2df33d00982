# 10 lines 3 code 7 comments 0 blanks
def f():
    r"""A raw docstring: \d+ (a comment)."""
    return 1  # a trailing comment ending in (
    u"""A unicode docstring after it: still a comment."""
x = 2  # a trailing comment ending in ,
rb"""Raw bytes: a comment."""
Br'''
also a comment
'''
