# 4 lines 2 code 2 comments 0 blanks
q = '"'; h = '#'; e = '\"'
# a comment: `'"'` is a character literal
println("done")
