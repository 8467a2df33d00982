# 6 lines 3 code 2 comments 1 blanks
label start:
    "hello"
# a line comment

    e '# not a comment'
