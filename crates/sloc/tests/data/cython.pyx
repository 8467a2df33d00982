# 6 lines 3 code 2 comments 1 blanks
cdef int add(int a, int b):
    return a + b
# a line comment

s = '# not a comment'
