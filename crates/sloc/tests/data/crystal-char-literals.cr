# 4 lines 2 code 2 comments 0 blanks
q = '"'; h = '#'
# a comment: `'"'` is a character literal
puts "done"
