# 5 lines 2 code 3 comments 0 blanks
q = "#{h['"']}"
# a comment
z = 1
# another comment
