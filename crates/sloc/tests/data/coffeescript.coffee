# 5 lines 1 code 4 comments 0 blanks
###
block comment
###
x = "# no"
