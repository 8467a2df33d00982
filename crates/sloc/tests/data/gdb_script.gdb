# 5 lines 2 code 2 comments 1 blanks
break main

run
# a line comment
