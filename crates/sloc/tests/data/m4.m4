# 6 lines 2 code 3 comments 1 blanks
define(`greet', `hello $1')

greet(`world')
# a line comment
dnl another kind of line comment
