# 5 lines 2 code 2 comments 1 blanks
s/foo/bar/g

/^$/d
# a line comment
